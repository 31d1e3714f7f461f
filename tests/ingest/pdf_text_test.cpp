#include "pdf_pages.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/text.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/pdf_writer.h"
#include <unistd.h>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "ingest";

fs::path scratch_dir(const std::string & name) {
    fs::path dir = fs::temp_directory_path() / ("strongbox_ingest_pdf_" + std::to_string(::getpid()) + "_" + name);
    fs::create_directories(dir);
    return dir;
}

// A minimal PDF with one Helvetica text block per page; `lines` are drawn 14 pt apart from
// (72, 700) in user space, followed by `extra` page content, on pages of `media_box`.
std::string make_pdf(const std::vector<std::vector<std::string>> & pages, int rotate = 0,
                     const std::string & extra = "", const std::string & media_box = "0 0 612 792") {
    std::vector<std::string> objects;
    std::string kids;
    const size_t n = pages.size();
    for (size_t i = 0; i < n; ++i) {
        kids += std::to_string(4 + 2 * i) + " 0 R ";
    }
    objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
    objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
    objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    for (size_t i = 0; i < n; ++i) {
        std::string content = "BT /F1 12 Tf 14 TL 72 700 Td\n";
        for (const std::string & line : pages[i]) {
            content += "(" + line + ") Tj T*\n";
        }
        content += "ET\n" + extra;
        objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box + "] /Rotate " +
                          std::to_string(rotate) + " /Resources << /Font << /F1 3 0 R >> >> /Contents " +
                          std::to_string(5 + 2 * i) + " 0 R >>");
        objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream");
    }
    return strongbox::testing::pdf_from_objects(objects);
}

const core::Chunk * chunk_containing(const core::ExtractedDocument & doc, const std::string & needle) {
    for (const core::Chunk & c : doc.chunks) {
        if (c.text.find(needle) != std::string::npos) {
            return &c;
        }
    }
    return nullptr;
}

void check_boxes_map_text(const core::Chunk & c, double page_w, double page_h) {
    REQUIRE_FALSE(c.provenance.boxes.empty());
    int64_t prev_end = 0;
    for (const core::Box & b : c.provenance.boxes) {
        CHECK(b.x0 >= 0);
        CHECK(b.y0 >= 0);
        CHECK(b.x1 <= page_w + 0.5);
        CHECK(b.y1 <= page_h + 0.5);
        CHECK(b.x0 < b.x1);
        CHECK(b.y0 < b.y1);
        CHECK(b.text_begin >= prev_end);
        CHECK(b.text_end > b.text_begin);
        CHECK(b.text_end <= static_cast<int64_t>(c.text.size()));
        prev_end = b.text_end;
    }
}

}  // namespace

TEST_CASE("text-layer PDF pages land on their own 1-based page numbers with full provenance") {
    ingest::IngestOptions opts;
    opts.ingest_job = "job-7";
    const fs::path path = kData / "tagged.pdf";
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    CHECK(doc->page_count == 2);
    CHECK(doc->media_type == "application/pdf");
    CHECK(doc->sha256 == core::sha256_file_hex(path).value());
    CHECK(doc->size_bytes == static_cast<int64_t>(fs::file_size(path)));
    CHECK(fs::path(doc->source_path).is_absolute());

    const core::Chunk * toc = chunk_containing(*doc, "Table of Contents");
    const core::Chunk * body = chunk_containing(*doc, "Body text.");
    REQUIRE(toc != nullptr);
    REQUIRE(body != nullptr);
    CHECK(toc->provenance.page == 1);
    CHECK(body->provenance.page == 2);
    CHECK(body->text.find("Page 2 Heading") != std::string::npos);
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.provenance.source_path == doc->source_path);
        CHECK(c.provenance.source_sha256 == doc->sha256);
        CHECK(c.provenance.extractor == "poppler-text");
        CHECK(c.provenance.extractor_version.find('.') != std::string::npos);
        CHECK(c.provenance.ingest_job == "job-7");
        CHECK_FALSE(c.provenance.ingested_at.empty());
        CHECK(c.provenance.ocr_confidence == -1);
    }
    CHECK(doc->warnings.empty());
}

TEST_CASE("each line box lies inside the page and maps to the text of that line") {
    auto doc = ingest::extract_file(kData / "link.pdf", {});
    REQUIRE(doc.ok());
    const core::Chunk * c = chunk_containing(*doc, "Somewhere on page 2");
    REQUIRE(c != nullptr);
    CHECK(c->provenance.page == 2);
    check_boxes_map_text(*c, 612, 792);
    bool found = false;
    for (const core::Box & b : c->provenance.boxes) {
        const std::string text =
            c->text.substr(static_cast<size_t>(b.text_begin), static_cast<size_t>(b.text_end - b.text_begin));
        if (text == "Somewhere on page 2") {
            found = true;
            // Word placed by Word near the top-left margin of a Letter page.
            CHECK(b.x0 == doctest::Approx(72.0).epsilon(0.02));
            CHECK(b.y0 > 90);
            CHECK(b.y1 < 125);
        }
    }
    CHECK(found);
}

TEST_CASE("text drawn at a known position comes back with a box at that position") {
    const fs::path dir = scratch_dir("known");
    const fs::path path = dir / "known.pdf";
    REQUIRE(core::write_file_atomic(path, make_pdf({{"Alpha line one", "Beta line two"}, {"Second page text"}})).ok());
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 2);
    const core::Chunk & first = doc->chunks[0];
    CHECK(first.text == "Alpha line one\nBeta line two");
    CHECK(first.provenance.page == 1);
    REQUIRE(first.provenance.boxes.size() == 2);
    const core::Box & b = first.provenance.boxes[0];
    CHECK(b.text_begin == 0);
    CHECK(b.text_end == 14);
    // Baseline at y = 700 from the bottom is 92 pt from the top; 12 pt Helvetica sits around it.
    CHECK(b.x0 == doctest::Approx(72).epsilon(0.01));
    CHECK(b.y0 > 92 - 14);
    CHECK(b.y1 < 92 + 5);
    CHECK(first.provenance.boxes[1].y0 > b.y0 + 10);  // the next line, 14 pt lower
    CHECK(doc->chunks[1].text == "Second page text");
    CHECK(doc->chunks[1].provenance.page == 2);
    fs::remove_all(dir);
}

TEST_CASE("text on a page with /Rotate 90 reads in order and its boxes fit the displayed page") {
    const fs::path dir = scratch_dir("rotated");
    const fs::path path = dir / "rotated.pdf";
    REQUIRE(core::write_file_atomic(path, make_pdf({{"Rotated line one", "Rotated line two"}}, 90)).ok());
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 1);
    const core::Chunk & c = doc->chunks[0];
    CHECK(c.text == "Rotated line one\nRotated line two");
    // Displayed, the Letter page is 792 wide and 612 high.
    check_boxes_map_text(c, 792, 612);
    fs::remove_all(dir);
}

TEST_CASE("pages without a text layer are reported when OCR is off and the others still extract") {
    ingest::IngestOptions opts;
    opts.ocr_enabled = false;
    auto doc = ingest::extract_file(kData / "multipage.pdf", opts);
    REQUIRE(doc.ok());
    CHECK(doc->page_count == 6);
    const std::vector<std::string> expected = {"page 1 has no text layer", "page 2 has no text layer",
                                               "page 3 has no text layer", "page 5 has no text layer",
                                               "page 6 has no text layer"};
    CHECK(doc->warnings == expected);
    REQUIRE_FALSE(doc->chunks.empty());
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.provenance.page == 4);
    }
}

TEST_CASE("a page with only an invisible OCR text layer uses that layer") {
    auto doc = ingest::extract_file(kData / "graph_ocred.pdf", {});
    REQUIRE(doc.ok());
    REQUIRE_FALSE(doc->chunks.empty());
    CHECK(doc->chunks[0].provenance.extractor == "poppler-text");
    CHECK(chunk_containing(*doc, "Oppose") != nullptr);
}

TEST_CASE("chunks respect max_chunk_chars and cover the page text in order") {
    std::vector<std::string> lines;
    for (int i = 0; i < 40; ++i) {
        lines.push_back("Sentence number " + std::to_string(i) + " of a long page");
    }
    const fs::path dir = scratch_dir("long");
    const fs::path path = dir / "long.pdf";
    REQUIRE(core::write_file_atomic(path, make_pdf({lines})).ok());
    ingest::IngestOptions opts;
    opts.max_chunk_chars = 200;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() > 5);
    std::string all;
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.text.size() <= 200);
        check_boxes_map_text(c, 612, 792);
        all += c.text + "\n";
    }
    size_t pos = 0;
    for (const std::string & line : lines) {
        pos = all.find(line, pos);
        CHECK(pos != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("the same PDF extracted twice gives identical chunks") {
    auto a = ingest::extract_file(kData / "tagged.pdf", {});
    auto b = ingest::extract_file(kData / "tagged.pdf", {});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a->chunks.size() == b->chunks.size());
    for (size_t i = 0; i < a->chunks.size(); ++i) {
        core::Provenance pa = a->chunks[i].provenance;
        core::Provenance pb = b->chunks[i].provenance;
        pa.ingested_at.clear();
        pb.ingested_at.clear();
        CHECK(a->chunks[i].text == b->chunks[i].text);
        CHECK(pa == pb);
    }
}

TEST_CASE("a text layer is judged by how much readable text it has for the page's ink") {
    using ingest::judge_text_layer;
    ingest::TextLayerStats none;
    CHECK(judge_text_layer(none, 0).reason == "has no text layer");
    ingest::TextLayerStats good{120, 100, 0};
    CHECK(judge_text_layer(good, 0.001).usable);
    CHECK(judge_text_layer(good, 0.08).reason == "has too little text for its ink");
    ingest::TextLayerStats long_text{5000, 4000, 0};
    CHECK(judge_text_layer(long_text, 0.08).usable);  // plenty of text: a figure, not a scan
    ingest::TextLayerStats replaced{100, 20, 60};
    CHECK(judge_text_layer(replaced, 0).reason == "has an unreadable text layer");
    ingest::TextLayerStats symbols{100, 5, 0};
    CHECK(judge_text_layer(symbols, 0).reason == "has an unreadable text layer");

    std::vector<ingest::Word> words(1);
    words[0].text = "ab\xEF\xBF\xBD\xEE\x80\x80 1";  // a, b, U+FFFD, U+E000 (private use), 1
    const ingest::TextLayerStats s = ingest::text_layer_stats(words);
    CHECK(s.chars == 5);
    CHECK(s.alnum_chars == 3);
    CHECK(s.bad_chars == 2);
}

TEST_CASE("a page whose ink lies mostly outside its few words is reported as needing OCR") {
    const fs::path dir = scratch_dir("ink");
    const fs::path path = dir / "stamp.pdf";
    // One word of real text next to a large dark area, as on a scan with a stamped label.
    REQUIRE(core::write_file_atomic(path, make_pdf({{"APPROVED"}}, 0, "0 g 72 100 468 500 re f\n")).ok());
    ingest::IngestOptions opts;
    opts.ocr_enabled = false;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    CHECK(doc->chunks.empty());
    CHECK(doc->warnings.front() == "page 1 has too little text for its ink");

    // The same word without the dark area is an ordinary text page.
    REQUIRE(core::write_file_atomic(path, make_pdf({{"APPROVED"}})).ok());
    auto plain = ingest::extract_file(path, opts);
    REQUIRE(plain.ok());
    REQUIRE(plain->chunks.size() == 1);
    CHECK(plain->chunks[0].text == "APPROVED");
    fs::remove_all(dir);
}

TEST_CASE("every word of Poppler's plain page text appears in the chunks of that page") {
    for (const char * name : {"tagged.pdf", "link.pdf", "graph_ocred.pdf"}) {
        auto bytes = core::read_file(kData / name);
        REQUIRE(bytes.ok());
        auto plain = ingest::plain_page_texts(bytes.value());
        REQUIRE(plain.ok());
        auto doc = ingest::extract_file(kData / name, {});
        REQUIRE(doc.ok());
        for (size_t p = 0; p < plain->size(); ++p) {
            std::multiset<std::string> expected;
            std::multiset<std::string> got;
            const std::string plain_text = core::collapse_whitespace((*plain)[p]);
            for (std::string_view w : core::split(plain_text, ' ')) {
                if (!w.empty()) {
                    expected.emplace(w);
                }
            }
            for (const core::Chunk & c : doc->chunks) {
                if (c.provenance.page == static_cast<int>(p) + 1) {
                    const std::string chunk_text = core::collapse_whitespace(c.text);
                    for (std::string_view w : core::split(chunk_text, ' ')) {
                        if (!w.empty()) {
                            got.emplace(w);
                        }
                    }
                }
            }
            std::string missing;
            std::string extra;
            for (const std::string & w : expected) {
                if (got.count(w) < expected.count(w)) {
                    missing += w + " ";
                }
            }
            for (const std::string & w : got) {
                if (expected.count(w) < got.count(w)) {
                    extra += w + " ";
                }
            }
            INFO(name << " page " << p + 1 << " missing: " << missing << " extra: " << extra);
            CHECK(got == expected);
        }
    }
}

TEST_CASE("a poster-sized page is rendered for OCR at a capped resolution") {
    const fs::path dir = scratch_dir("poster");
    const fs::path path = dir / "poster.pdf";
    // 200 x 200 inches: at 300 dpi this would be 3.6 billion pixels.
    REQUIRE(core::write_file_atomic(path, make_pdf({{}}, 0, "", "0 0 14400 14400")).ok());
    auto bytes = core::read_file(path);
    REQUIRE(bytes.ok());
    auto images = ingest::render_pdf(bytes.value(), 300);
    REQUIRE(images.ok());
    REQUIRE(images->size() == 1);
    const ingest::GrayImage & img = images->front();
    CHECK(static_cast<double>(img.width) * img.height <= ingest::kMaxRenderPixels * 1.01);
    CHECK(img.dpi == doctest::Approx(std::sqrt(ingest::kMaxRenderPixels / (200.0 * 200.0))));
    CHECK(img.width == doctest::Approx(200 * img.dpi).epsilon(0.01));
    fs::remove_all(dir);
}
