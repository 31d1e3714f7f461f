// OCR of rendered page images through Tesseract's C++ API, with orientation and script
// detection (OSD: a Hangul page is read as kor+eng) and deskew (Leptonica) before recognition. Word boxes come back in
// PDF points of the image's page (origin top-left, y down), whatever rotation was applied to read them.
//
// Thread-safety: one OcrEngine per thread (a TessBaseAPI is not shareable); engines on
// different threads are independent. Errors: a missing language file is kNotFound naming the
// language; a failing Tesseract call is kInternal.
//
//   SB_ASSIGN_OR_RETURN(auto engine, OcrEngine::create("eng", ""));
//   SB_ASSIGN_OR_RETURN(OcrResult r, engine->recognize(image));
#pragma once

#include "layout.h"

#include "strongbox/core/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::ingest {

struct GrayImage {
    int width = 0;
    int height = 0;
    double dpi = 0;
    std::vector<uint8_t> pixels;  // row-major, 0 = black

    bool empty() const { return pixels.empty(); }
};

struct OcrResult {
    std::vector<Word> words;      // reading order (see order_blocks); line and paragraph ids set
    double mean_confidence = -1;  // mean word confidence 0..100; -1 when no words
    int rotation_degrees = 0;     // clockwise turn applied to read the page (0, 90, 180, 270)
    double skew_degrees = 0;      // deskew angle applied after the turn
    std::string language;         // what read the page: the configured one, or "kor+eng" for Hangul
};

class OcrEngine {
  public:
    // language as Tesseract spells it ("eng", "eng+deu"); tessdata_dir empty for the default.
    static core::Result<std::unique_ptr<OcrEngine>> create(const std::string & language,
                                                           const std::string & tessdata_dir);
    ~OcrEngine();
    OcrEngine(const OcrEngine &) = delete;
    OcrEngine & operator=(const OcrEngine &) = delete;

    core::Result<OcrResult> recognize(const GrayImage & image);

  private:
    struct Impl;
    explicit OcrEngine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// A grey copy of an image file (TIFF, PNG, JPEG, PNM: what Leptonica reads), at the resolution
// the file records, or 300 dpi when it records none. kCorruptInput naming the reason otherwise.
core::Result<GrayImage> read_image(const std::string & path);

// The tessdata folder holding <lang>.traineddata for every language in `language`; kNotFound
// naming the first missing language otherwise.
core::Result<std::string> find_tessdata(const std::string & language, const std::string & tessdata_dir);

std::string tesseract_version();

// Levenshtein distance over code points divided by the reference length, after collapsing
// whitespace in both; used to judge OCR against reference texts.
double character_error_rate(std::string_view hypothesis, std::string_view reference);

}  // namespace strongbox::ingest
