#include "ocr.h"

#include "hangul_scan.h"
#include "layout.h"
#include "pdf_pages.h"
#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "ingest";

std::string all_text(const core::ExtractedDocument & doc) {
    std::string out;
    for (const core::Chunk & c : doc.chunks) {
        out += c.text + "\n";
    }
    return out;
}

// Share of the page's dark pixels that fall inside some box, and the smallest share of dark
// pixels inside any one box: boxes mapped back wrongly miss the ink.
struct InkCover {
    double covered = 0;
    double emptiest_box = 1;
};

InkCover ink_cover(const ingest::GrayImage & img, const core::ExtractedDocument & doc) {
    const double scale = img.dpi / 72.0;
    std::vector<uint8_t> inside(img.pixels.size(), 0);
    InkCover out;
    for (const core::Chunk & c : doc.chunks) {
        for (const core::Box & b : c.provenance.boxes) {
            const int x0 = std::max(0, static_cast<int>(b.x0 * scale));
            const int y0 = std::max(0, static_cast<int>(b.y0 * scale));
            const int x1 = std::min(img.width, static_cast<int>(b.x1 * scale) + 1);
            const int y1 = std::min(img.height, static_cast<int>(b.y1 * scale) + 1);
            size_t dark = 0;
            size_t area = 0;
            for (int y = y0; y < y1; ++y) {
                for (int x = x0; x < x1; ++x) {
                    const size_t k = static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x);
                    inside[k] = 1;
                    dark += img.pixels[k] < 128 ? 1 : 0;
                    ++area;
                }
            }
            out.emptiest_box =
                std::min(out.emptiest_box, area == 0 ? 0.0 : static_cast<double>(dark) / static_cast<double>(area));
        }
    }
    size_t dark_total = 0;
    size_t dark_inside = 0;
    for (size_t k = 0; k < img.pixels.size(); ++k) {
        if (img.pixels[k] < 128) {
            ++dark_total;
            dark_inside += inside[k];
        }
    }
    out.covered = dark_total == 0 ? 0 : static_cast<double>(dark_inside) / static_cast<double>(dark_total);
    return out;
}

ingest::GrayImage render_first_page(const fs::path & path) {
    auto bytes = core::read_file(path);
    REQUIRE(bytes.ok());
    auto pages = ingest::render_pdf(bytes.value(), 100);
    REQUIRE(pages.ok());
    REQUIRE_FALSE(pages->empty());
    return pages->front();
}

std::vector<std::string> page_texts(const core::ExtractedDocument & doc) {
    std::vector<std::string> pages(static_cast<size_t>(doc.page_count));
    for (const core::Chunk & c : doc.chunks) {
        pages.at(static_cast<size_t>(c.provenance.page - 1)) += c.text + "\n";
    }
    return pages;
}

}  // namespace

TEST_CASE("character error rate counts edits against the reference length") {
    CHECK(ingest::character_error_rate("hello world", "hello world") == 0.0);
    CHECK(ingest::character_error_rate("hello  world\n", "hello world") == 0.0);
    CHECK(ingest::character_error_rate("hallo world", "hello world") == doctest::Approx(1.0 / 11));
    CHECK(ingest::character_error_rate("", "abcd") == 1.0);
    CHECK(ingest::character_error_rate("\xC3\xA9t\xC3\xA9", "ete") == doctest::Approx(2.0 / 3));
}

TEST_CASE("an image-only PDF page is OCR'd close to its reference text with OCR provenance") {
    std::vector<std::pair<size_t, size_t>> progress;
    ingest::IngestOptions opts;
    opts.progress = [&](size_t done, size_t total) {
        progress.emplace_back(done, total);
    };
    auto doc = ingest::extract_file(kData / "phototest-scan.pdf", opts);
    REQUIRE(doc.ok());
    REQUIRE_FALSE(doc->chunks.empty());
    auto reference = core::read_file(kData / "phototest.txt");
    REQUIRE(reference.ok());
    const double cer = ingest::character_error_rate(all_text(*doc), reference.value());
    MESSAGE("phototest CER " << cer);
    CHECK(cer < 0.03);
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.provenance.page == 1);
        CHECK(c.provenance.extractor == "tesseract-ocr");
        CHECK(c.provenance.ocr_engine.rfind("tesseract ", 0) == 0);
        CHECK(c.provenance.language == "eng");
        CHECK(c.provenance.ocr_confidence > 80);
        CHECK(c.provenance.ocr_confidence <= 100);
        CHECK(c.metadata.find("ocr")->get_string("reason") == "has no text layer");
        CHECK_FALSE(c.metadata.find("ocr")->get_bool("low_confidence"));
        CHECK_FALSE(c.provenance.low_confidence);
        for (const core::Box & b : c.provenance.boxes) {
            CHECK(b.confidence > 0);  // each highlighted line says how sure OCR was of it
            CHECK(b.confidence <= 100);
        }
    }
    CHECK(progress == std::vector<std::pair<size_t, size_t>>{{1, 1}});
    CHECK(doc->warnings.empty());
}

TEST_CASE("OCR line boxes lie on the page, in reading order, and map to their line's text") {
    auto doc = ingest::extract_file(kData / "phototest-scan.pdf", {});
    REQUIRE(doc.ok());
    REQUIRE_FALSE(doc->chunks.empty());
    const core::Chunk & first = doc->chunks.front();
    REQUIRE_FALSE(first.provenance.boxes.empty());
    const core::Box & top = first.provenance.boxes.front();
    const std::string top_text =
        first.text.substr(static_cast<size_t>(top.text_begin), static_cast<size_t>(top.text_end - top.text_begin));
    CHECK(top_text == "This is a lot of 12 point text to test the");
    double prev_y = -1;
    for (const core::Chunk & c : doc->chunks) {
        for (const core::Box & b : c.provenance.boxes) {
            CHECK(b.x0 >= 0);
            CHECK(b.y0 >= 0);
            CHECK(b.x1 > b.x0);
            CHECK(b.y1 > b.y0);
            CHECK(b.y0 > prev_y);  // a single column: lines go down the page
            prev_y = b.y0;
        }
    }
}

TEST_CASE("a missing OCR language is a not-found error naming the language and the file") {
    ingest::IngestOptions opts;
    opts.ocr_language = "zzz";
    auto doc = ingest::extract_file(kData / "phototest-scan.pdf", opts);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kNotFound);
    CHECK(doc.error().message().find("\"zzz\"") != std::string::npos);
    CHECK(doc.error().message().find("phototest-scan.pdf") != std::string::npos);
}

TEST_CASE("a blank page yields no OCR text and says so") {
    ingest::IngestOptions opts;
    auto doc = ingest::extract_file(kData / "trivial.pdf", opts);
    REQUIRE(doc.ok());
    CHECK(doc->chunks.empty());
    CHECK(doc->warnings.front() == "page 1 has no text layer and OCR found no text");
}

TEST_CASE("a page turned a quarter left is detected, read upright, and boxed on the displayed page") {
    const fs::path path = kData / "phototest-rotated-L.pdf";
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    auto reference = core::read_file(kData / "phototest.txt");
    REQUIRE(reference.ok());
    const double cer = ingest::character_error_rate(all_text(*doc), reference.value());
    MESSAGE("phototest rotated left CER " << cer);
    CHECK(cer < 0.03);
    REQUIRE_FALSE(doc->chunks.empty());
    CHECK(doc->chunks[0].metadata.find("ocr")->get_int("rotation_degrees") == 90);
    // Lines run up the page: every line box is taller than wide.
    for (const core::Chunk & c : doc->chunks) {
        for (const core::Box & b : c.provenance.boxes) {
            CHECK(b.y1 - b.y0 > b.x1 - b.x0);
        }
    }
    const InkCover cover = ink_cover(render_first_page(path), *doc);
    MESSAGE("ink covered " << cover.covered << ", emptiest box " << cover.emptiest_box);
    CHECK(cover.covered > 0.9);
    CHECK(cover.emptiest_box > 0.05);
}

TEST_CASE("a skewed scan is deskewed before OCR and its boxes still sit on the ink") {
    const fs::path path = kData / "skew.pdf";
    ingest::IngestOptions opts;
    opts.ocr_dpi = 200;  // a dense full page: 200 dpi reads it as well as 300 at two thirds of the time
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    auto reference = core::read_file(kData / "linn.txt");
    REQUIRE(reference.ok());
    const double cer = ingest::character_error_rate(all_text(*doc), reference.value());
    MESSAGE("skew CER " << cer);
    CHECK(cer < 0.05);  // Tesseract alone, without deskew, reads this page at about 0.30
    REQUIRE_FALSE(doc->chunks.empty());
    CHECK(std::abs(doc->chunks[0].metadata.find("ocr")->get_double("skew_degrees")) > 0.5);
    const InkCover cover = ink_cover(render_first_page(path), *doc);
    MESSAGE("ink covered " << cover.covered << ", emptiest box " << cover.emptiest_box);
    CHECK(cover.covered > 0.85);
    CHECK(cover.emptiest_box > 0.02);
}

TEST_CASE("pages OCR'd by two workers give the same chunks as one worker, with progress for every page") {
    const fs::path path = kData / "phototest-turned.pdf";  // page 1 turned right, page 2 upside down
    auto reference = core::read_file(kData / "phototest.txt");
    REQUIRE(reference.ok());
    std::vector<core::ExtractedDocument> docs;
    for (int workers : {1, 2}) {
        std::vector<size_t> done;
        ingest::IngestOptions opts;
        opts.ocr_workers = workers;
        opts.progress = [&](size_t d, size_t total) {
            CHECK(total == 2);
            done.push_back(d);
        };
        auto doc = ingest::extract_file(path, opts);
        REQUIRE(doc.ok());
        CHECK(done == std::vector<size_t>{1, 2});
        docs.push_back(std::move(doc).value());
    }
    const std::vector<std::string> pages = page_texts(docs[0]);
    REQUIRE(pages.size() == 2);
    CHECK(ingest::character_error_rate(pages[0], reference.value()) < 0.03);
    CHECK(ingest::character_error_rate(pages[1], reference.value()) < 0.03);
    REQUIRE(docs[0].chunks.size() == docs[1].chunks.size());
    for (size_t i = 0; i < docs[0].chunks.size(); ++i) {
        core::Provenance a = docs[0].chunks[i].provenance;
        core::Provenance b = docs[1].chunks[i].provenance;
        a.ingested_at.clear();
        b.ingested_at.clear();
        CHECK(docs[0].chunks[i].text == docs[1].chunks[i].text);
        CHECK(a == b);
        CHECK(docs[0].chunks[i].metadata == docs[1].chunks[i].metadata);
    }
    CHECK(docs[0].chunks.front().metadata.find("ocr")->get_int("rotation_degrees") == 270);
    CHECK(docs[0].chunks.back().metadata.find("ocr")->get_int("rotation_degrees") == 180);
}

TEST_CASE("a page read below the confidence threshold is flagged in a warning and in its metadata") {
    ingest::IngestOptions opts;
    opts.ocr_low_confidence = 99.5;  // phototest reads at about 96
    auto doc = ingest::extract_file(kData / "phototest-scan.pdf", opts);
    REQUIRE(doc.ok());
    REQUIRE(doc->warnings.size() == 1);
    CHECK(doc->warnings[0].rfind("page 1: OCR confidence 9", 0) == 0);
    CHECK(doc->warnings[0].find(" is below 99.5") != std::string::npos);
    REQUIRE_FALSE(doc->chunks.empty());
    CHECK(doc->chunks[0].metadata.find("ocr")->get_bool("low_confidence"));
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.provenance.low_confidence);  // carried into every citation of the page
    }
}

TEST_CASE("a caption and a page footer between two columns are read after the columns") {
    // A magazine page (8087_054.3B): a title on top, two columns, a photo caption straddling
    // them and a footer under the left column, in the order Tesseract reports them.
    const std::vector<ingest::TextBlock> blocks = {
        {1111, 368, 1435, 424},    // 0 title
        {281, 600, 1237, 3137},    // 1 left column
        {217, 3192, 1053, 3225},   // 2 footer under the left column
        {1082, 2319, 1462, 2612},  // 3 caption
        {1311, 602, 2267, 3139},   // 4 right column
    };
    CHECK(ingest::order_blocks(blocks) == std::vector<size_t>{0, 1, 4, 3, 2});
}

TEST_CASE("the line beside a drop cap leads its column, and a heading between columns precedes the title under them") {
    // A magazine spread (8071_093.3B) as Tesseract reports it after deskew: the first line beside
    // the drop cap comes as its own block after the first column, and a pull quote between the
    // second and third columns comes before the columns that follow it.
    const std::vector<ingest::TextBlock> blocks = {
        {171, 215, 795, 764},     // 0 first column
        {176, 169, 791, 299},     // 1 "SHE MOPED. She sighed. She"
        {843, 165, 1474, 1477},   // 2 second column
        {916, 1696, 1378, 1815},  // 3 pull quote under the second column
        {1746, 165, 2370, 1796},  // 4 third column
        {2418, 166, 3048, 1807},  // 5 fourth column
        {917, 1858, 2850, 1981},  // 6 title under the columns
        {920, 2015, 1390, 2045},  // 7 by-line
    };
    CHECK(ingest::order_blocks(blocks) == std::vector<size_t>{1, 0, 2, 4, 5, 3, 6, 7});
}

TEST_CASE("headings between paragraphs of one column, and on top of the next column, keep their place") {
    const std::vector<ingest::TextBlock> one_column = {
        {100, 100, 1000, 900},   // paragraphs
        {100, 920, 600, 960},    // heading
        {100, 980, 1000, 1900},  // more paragraphs
    };
    CHECK(ingest::order_blocks(one_column) == std::vector<size_t>{0, 1, 2});
    const std::vector<ingest::TextBlock> two_columns = {
        {100, 100, 900, 2000},    // left column
        {1000, 100, 1800, 150},   // heading of the right column
        {1000, 170, 1800, 2000},  // right column
    };
    CHECK(ingest::order_blocks(two_columns) == std::vector<size_t>{0, 1, 2});
    CHECK(ingest::order_blocks({}).empty());
}

TEST_CASE("an image file is read as grey at its recorded resolution, and a non-image is refused") {
    ingest::testing::Scratch dir("read_image");
    // A 3 x 2 binary PGM: black, white, grey on top, white below; PNM records no resolution.
    std::string pgm = "P5\n3 2\n255\n";
    pgm += std::string("\x00\xff\x80\xff\xff\xff", 6);
    auto image = ingest::read_image(dir.write("tiny.pgm", pgm).string());
    REQUIRE(image.ok());
    CHECK(image->width == 3);
    CHECK(image->height == 2);
    CHECK(image->dpi == 300);
    CHECK(image->pixels == std::vector<uint8_t>{0, 255, 128, 255, 255, 255});
    auto text = ingest::read_image(dir.write("notes.txt", "not an image").string());
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(text.error().message().find("notes.txt") != std::string::npos);
}

namespace {

const std::vector<std::string> kKoreanPage = {
    "야간 백업은 매일 01:30 UTC에 시작하며, 변경된 파일을 백업 장비로 복사한다.",
    "야간 백업본은 35일 동안 보관된다.",
    "매월 첫째 일요일에 전체 아카이브 사본을 테이프 두 세트에 기록한다.",
    "월간 아카이브 테이프는 기록 관리 규정에 따라 7년 동안 보관한다.",
    "야간 백업이 실패하면 백업 장비가 당직 엔지니어에게 경보를 보낸다.",
};

std::string joined_lines(const std::vector<std::string> & lines) {
    std::string out;
    for (const std::string & l : lines) {
        out += l + "\n";
    }
    return out;
}

std::string words_text(const ingest::OcrResult & r) {
    std::string out;
    int line = -1;
    for (const ingest::Word & w : r.words) {
        out += (out.empty() ? "" : (w.line_id != line ? "\n" : " ")) + w.text;
        line = w.line_id;
    }
    return out;
}

}  // namespace

TEST_CASE("a Korean scan is read as Korean with no language setting, upright, noisy or JPEG-compressed") {
    // The engine is configured as an English install is: the page's script chooses Korean.
    auto engine = ingest::OcrEngine::create("eng", "");
    REQUIRE(engine.ok());
    const ingest::GrayImage clean = ingest::testing::render_lines(kKoreanPage, 200);
    const std::string reference = joined_lines(kKoreanPage);
    struct Condition {
        const char * name;
        ingest::GrayImage image;
        int rotation;
    };
    const std::vector<Condition> conditions = {
        {"clean, 200 dpi", clean, 0},
        {"turned a quarter left", ingest::testing::turned_left(clean), 90},
        {"noisy (grain 25, 0.5% specks)", ingest::testing::noisy(clean, 25, 0.005, 7), 0},
        {"JPEG quality 40", ingest::testing::jpeg_round_trip(clean, 40), 0},
    };
    for (const Condition & c : conditions) {
        INFO(std::string(c.name));
        auto r = (*engine)->recognize(c.image);
        REQUIRE(r.ok());
        CHECK(r->language == "kor+eng");
        CHECK(r->rotation_degrees == c.rotation);
        const double cer = ingest::character_error_rate(words_text(*r), reference);
        MESSAGE(std::string(c.name) << ": CER " << cer);
        CHECK(cer < 0.10);
    }
}

TEST_CASE("an English scan keeps the configured language") {
    auto engine = ingest::OcrEngine::create("eng", "");
    REQUIRE(engine.ok());
    const ingest::GrayImage page =
        ingest::testing::render_lines({"Nightly backups start at 01:30 UTC and are kept for 35 days.",
                                       "Monthly archive tapes are kept for seven years in the fire safe."},
                                      200);
    auto r = (*engine)->recognize(page);
    REQUIRE(r.ok());
    CHECK(r->language == "eng");
    CHECK(words_text(*r).find("archive tapes") != std::string::npos);
}
