// libFuzzer target for the GGUF reader: any byte string must either parse into a consistent
// GgufFile (every tensor's bytes inside the buffer) or fail with an error naming the input.
// Seed corpus: tests/data/inference/gguf-corpus/.
#include "strongbox/inference/gguf.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    using strongbox::inference::GgufFile;
    auto f = GgufFile::from_bytes(std::string(reinterpret_cast<const char *>(data), size), "fuzz.gguf");
    if (!f.ok()) {
        if (f.error().message().rfind("fuzz.gguf: ", 0) != 0) {
            std::abort();
        }
        return 0;
    }
    for (const auto & t : f->tensors()) {
        if (t.offset + t.n_bytes > f->file_size() - f->data_offset()) {
            std::abort();
        }
        volatile uint8_t sink = t.n_bytes > 0 ? t.data[t.n_bytes - 1] : 0;
        (void)sink;
    }
    for (const auto & kv : f->metadata()) {
        (void)kv.second.describe();
    }
    return 0;
}
