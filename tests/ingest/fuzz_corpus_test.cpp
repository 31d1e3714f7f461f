// Replays the seed corpora of the ingest fuzz targets (tests/fuzz/corpus/ingest_*) through the
// same entry points the libFuzzer programs call, so every input that once crashed stays fixed.
#include "ingest_fuzz.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

size_t replay(const std::string & target, int (*entry)(const uint8_t *, size_t)) {
    const fs::path dir = fs::path(SB_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus" / target;
    size_t n = 0;
    for (const auto & e : fs::directory_iterator(dir)) {
        auto bytes = core::read_file(e.path());
        REQUIRE(bytes.ok());
        INFO(e.path().filename().string());
        CHECK(entry(reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size()) == 0);
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("every file of the log parser fuzz corpus extracts or fails cleanly with sound provenance") {
    const size_t n = replay("ingest_log", &ingest::fuzz::log_file);
    MESSAGE(n << " log corpus files replayed");
    CHECK(n >= 10);
}

TEST_CASE("every file of the PDF fuzz corpus extracts or fails cleanly with sound provenance") {
    const size_t n = replay("ingest_pdf", &ingest::fuzz::pdf_file);
    MESSAGE(n << " PDF corpus files replayed");
    CHECK(n >= 8);
}
