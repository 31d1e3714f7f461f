// Entry points of the ingest fuzz targets, shared by the libFuzzer programs
// (ingest_log_fuzz.cpp, ingest_pdf_fuzz.cpp; built with -DSB_FUZZ=ON and clang) and by the corpus
// replay in the ordinary ingest test run (tests/ingest/fuzz_corpus_test.cpp), so both exercise
// exactly the same code. Each returns 0 and aborts when an invariant of the output breaks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strongbox::ingest::fuzz {

// First byte picks the log format (auto-detection or one of the overrides); the rest is the
// file. Runs the whole log extraction: detection, header parsing, continuation lines, template
// mining, chunking.
int log_file(const uint8_t * data, size_t size);

// The bytes as a PDF file: open (with and without a password), text layer, the usable-layer
// check (which renders small pages), lines, words and chunks. OCR is off: a fuzzer that waits a
// second per page on Tesseract finds nothing, and OCR only sees images that Poppler rendered.
int pdf_file(const uint8_t * data, size_t size);

}  // namespace strongbox::ingest::fuzz
