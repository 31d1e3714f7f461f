// Word boxes in chunk provenance: each word of a multi-word line, from the text layer and from
// OCR, sits inside its line's box, over its own ink, and maps back to its text.
#include "ocr.h"
#include "pdf_pages.h"

#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "ingest";

std::string text_of(const core::Chunk & c, const core::Box & b) {
    return c.text.substr(static_cast<size_t>(b.text_begin), static_cast<size_t>(b.text_end - b.text_begin));
}

struct Found {
    core::Box word;
    core::Box line;
    std::vector<core::Box> line_words;  // every word box of that line, in order
};

// The first word box whose text is `word` on a line whose text is `line`.
std::optional<Found> find_word(const core::ExtractedDocument & doc, const std::string & line,
                               const std::string & word) {
    for (const core::Chunk & c : doc.chunks) {
        for (const core::Box & l : c.provenance.boxes) {
            if (text_of(c, l) != line) {
                continue;
            }
            Found f;
            f.line = l;
            for (const core::Box & w : c.provenance.word_boxes) {
                if (w.text_begin >= l.text_begin && w.text_end <= l.text_end) {
                    f.line_words.push_back(w);
                    if (text_of(c, w) == word && f.word.text_begin < 0) {
                        f.word = w;
                    }
                }
            }
            if (f.word.text_begin >= 0) {
                return f;
            }
        }
    }
    return std::nullopt;
}

ingest::GrayImage render_page(const fs::path & path, double dpi, size_t index = 0) {
    auto bytes = core::read_file(path);
    REQUIRE(bytes.ok());
    auto pages = ingest::render_pdf(bytes.value(), dpi);
    REQUIRE(pages.ok());
    REQUIRE(pages->size() > index);
    return (*pages)[index];
}

// Share of dark pixels in a region given in points.
double ink_in(const ingest::GrayImage & img, double x0, double y0, double x1, double y1) {
    const double s = img.dpi / 72.0;
    size_t dark = 0;
    size_t all = 0;
    for (int y = std::max(0, static_cast<int>(y0 * s)); y < std::min(img.height, static_cast<int>(y1 * s)); ++y) {
        for (int x = std::max(0, static_cast<int>(x0 * s)); x < std::min(img.width, static_cast<int>(x1 * s)); ++x) {
            dark += img.pixels[static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)] < 128;
            ++all;
        }
    }
    return all == 0 ? 0 : static_cast<double>(dark) / static_cast<double>(all);
}

void check_inside(const core::Box & word, const core::Box & line) {
    CHECK(word.x0 >= line.x0);
    CHECK(word.x1 <= line.x1);
    CHECK(word.y0 >= line.y0);
    CHECK(word.y1 <= line.y1);
    CHECK(word.x0 < word.x1);
    CHECK(word.y0 < word.y1);
}

// Words of a left-to-right line follow each other without overlapping, and the gaps between
// them are blank paper: a box shifted or scaled wrongly would cut into a neighbouring word.
void check_words_on_their_ink(const ingest::GrayImage & img, const Found & f) {
    REQUIRE(f.line_words.size() >= 2);
    for (size_t i = 0; i < f.line_words.size(); ++i) {
        const core::Box & w = f.line_words[i];
        check_inside(w, f.line);
        CHECK(ink_in(img, w.x0, w.y0, w.x1, w.y1) > 0.05);
        if (i > 0) {
            const core::Box & prev = f.line_words[i - 1];
            CHECK(prev.x1 <= w.x0);
            CHECK(w.text_begin >= prev.text_end);
            // The middle of the gap, short of both words.
            const double gap = w.x0 - prev.x1;
            if (gap > 1.5) {
                CHECK(ink_in(img, prev.x1 + 0.5, w.y0, w.x0 - 0.5, w.y1) < 0.02);
            }
        }
    }
}

}  // namespace

TEST_CASE("text-layer word boxes lie inside their line box, over their own ink, and map to their text") {
    const fs::path path = kData / "link.pdf";
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    const auto f = find_word(*doc, "Somewhere on page 2", "page");
    REQUIRE(f.has_value());
    CHECK(f->word.confidence == -1);  // a text layer has no confidence
    CHECK(f->line_words.size() == 4);
    check_inside(f->word, f->line);
    // "page" is the third of four words: right of the line's start, left of its end.
    CHECK(f->word.x0 > f->line.x0 + 20);
    CHECK(f->word.x1 < f->line.x1 - 4);
    check_words_on_their_ink(render_page(path, 144, 1), *f);  // the line is on page 2
}

TEST_CASE("OCR word boxes carry confidences, lie inside their line box and over their own ink") {
    const fs::path path = kData / "phototest-scan.pdf";
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    const auto f = find_word(*doc, "This is a lot of 12 point text to test the", "12");
    REQUIRE(f.has_value());
    CHECK(f->line_words.size() == 11);
    CHECK(f->word.confidence > 50);
    CHECK(f->word.confidence <= 100);
    CHECK(f->line.confidence > 50);
    check_words_on_their_ink(render_page(path, 200), *f);
    size_t n_words = 0;
    for (const core::Chunk & c : doc->chunks) {
        n_words += c.provenance.word_boxes.size();
        for (const core::Box & w : c.provenance.word_boxes) {
            CHECK(w.confidence >= 0);
            CHECK(text_of(c, w).find(' ') == std::string::npos);
        }
    }
    CHECK(n_words > 50);  // phototest has 61 words, a few on one-word lines
}

TEST_CASE("an OCR word box on a page turned a quarter left is the upright page's box turned with it") {
    auto upright = ingest::extract_file(kData / "phototest-scan.pdf", {});
    auto turned = ingest::extract_file(kData / "phototest-rotated-L.pdf", {});
    REQUIRE(upright.ok());
    REQUIRE(turned.ok());
    const std::string line = "This is a lot of 12 point text to test the";
    const auto a = find_word(*upright, line, "point");
    const auto b = find_word(*turned, line, "point");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    // Turning the 230.4 x 172.8 pt page a quarter left takes (x, y) to (y, 230.4 - x).
    const double w = 230.4;
    CHECK(std::abs(b->word.x0 - a->word.y0) < 1.5);
    CHECK(std::abs(b->word.x1 - a->word.y1) < 1.5);
    CHECK(std::abs(b->word.y0 - (w - a->word.x1)) < 1.5);
    CHECK(std::abs(b->word.y1 - (w - a->word.x0)) < 1.5);
    check_inside(b->word, b->line);
}
