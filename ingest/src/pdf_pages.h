// The page-level half of PDF extraction: a locked view of one open Poppler document, the
// judgement whether a page's text layer is usable, and the per-page pipeline (text layer or
// OCR on a worker pool) that fills an ExtractedDocument.
//
// Thread-safety: PdfPages serialises every call into the document with its own mutex, so
// workers may share one. Errors: as extract_file(); a missing OCR language is kNotFound.
#pragma once

#include "extractors.h"
#include "layout.h"
#include "ocr.h"

#include <memory>
#include <string>
#include <vector>

namespace poppler {
class document;
}

namespace strongbox::ingest {

struct PageText {
    bool readable = true;
    double width = 0;  // displayed page size in points
    double height = 0;
    std::vector<Word> words;
};

class PdfPages {
  public:
    PdfPages(poppler::document & pdf, int n_pages);
    ~PdfPages();
    PdfPages(const PdfPages &) = delete;
    PdfPages & operator=(const PdfPages &) = delete;

    int count() const;
    PageText text(int index);  // 0-based index
    // Empty when the page cannot be rendered; at a lower dpi than asked when the page is so
    // large that the image would exceed kMaxRenderPixels.
    GrayImage render(int index, double dpi);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct TextLayerStats {
    size_t chars = 0;        // non-space code points
    size_t alnum_chars = 0;  // letters and digits
    size_t bad_chars = 0;    // U+FFFD, controls, private-use glyph codes
};

struct LayerVerdict {
    bool usable = true;
    std::string reason;  // "has no text layer", ... (follows "page N ")
};

// Share of the page's pixels that are dark and lie outside every word box, above which a page
// with fewer than kFewChars characters is treated as a scan.
constexpr double kInkOutsideTextLimit = 0.02;
constexpr size_t kFewChars = 200;
constexpr double kInkCheckDpi = 36;
constexpr double kMaxRenderPixels = 40e6;  // A4 at 300 dpi is 8.7 million

TextLayerStats text_layer_stats(const std::vector<Word> & words);

// Fraction of the image's pixels that are dark and outside all word boxes (given in points).
double ink_outside_text(const GrayImage & image, const std::vector<Word> & words);

LayerVerdict judge_text_layer(const TextLayerStats & stats, double ink_outside_text);

std::string poppler_version();

// Every page of a PDF rendered to grey at `dpi` (an empty image for a page that fails);
// the same errors as extract_file() for bytes that are not an openable PDF.
core::Result<std::vector<GrayImage>> render_pdf(std::string_view bytes, double dpi, const std::string & password = "");

// Poppler's own plain text of every page (reading order, no positions): the reference our
// line and chunk building is checked and timed against.
core::Result<std::vector<std::string>> plain_page_texts(std::string_view bytes, const std::string & password = "");

core::Result<core::ExtractedDocument> extract_pdf_pages(PdfPages & pages, const std::filesystem::path & path,
                                                        const std::string & sha256, const IngestOptions & options,
                                                        core::ExtractedDocument doc);

}  // namespace strongbox::ingest
