// libFuzzer target for the log parser: format detection, every header format, continuation
// lines, template mining and chunking. Built with -DSB_FUZZ=ON and clang:
//   ./strongbox_ingest_log_fuzz -max_total_time=300 <new-inputs-dir> <repo>/tests/fuzz/corpus/ingest_log
// The ingest test suite replays the same corpus through the same entry point.
#include "ingest_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::ingest::fuzz::log_file(data, size);
}
