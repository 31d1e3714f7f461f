// libFuzzer target for the PDF entry point: opening (repair, encryption), the text layer, the
// usable-layer check, lines, words and chunks. Built with -DSB_FUZZ=ON and clang:
//   LSAN_OPTIONS=suppressions=<repo>/tests/fuzz/ingest_lsan.supp \
//   ./strongbox_ingest_pdf_fuzz -max_total_time=300 <new-inputs-dir> <repo>/tests/fuzz/corpus/ingest_pdf
// (the suppression covers fontconfig's process-wide cache, which Poppler fills and nobody frees).
// The ingest test suite replays the same corpus through the same entry point.
#include "ingest_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::ingest::fuzz::pdf_file(data, size);
}
