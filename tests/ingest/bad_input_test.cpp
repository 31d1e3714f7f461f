#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "ingest";

using ingest::testing::Scratch;

void check_error_names(const core::Result<core::ExtractedDocument> & r, const fs::path & path, core::ErrorCode code,
                       const std::string & reason) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == code);
    CHECK(r.error().message().find(path.filename().string()) != std::string::npos);
    CHECK(r.error().message().find(reason) != std::string::npos);
}

}  // namespace

TEST_CASE("a PDF header followed by end of file is a corrupt-input error naming the file") {
    const fs::path path = kData / "invalid.pdf";
    check_error_names(ingest::extract_file(path, {}), path, core::ErrorCode::kCorruptInput, "corrupt PDF");
}

TEST_CASE("a zero-byte .pdf is an error saying it is empty") {
    Scratch s("zero");
    const fs::path path = s.write("empty.pdf", "");
    check_error_names(ingest::extract_file(path, {}), path, core::ErrorCode::kCorruptInput, "empty file");
}

TEST_CASE("text bytes named .pdf are an error saying they are not a PDF") {
    Scratch s("notpdf");
    const fs::path path = s.write("notes.pdf", "just some notes, not a PDF\n");
    check_error_names(ingest::extract_file(path, {}), path, core::ErrorCode::kCorruptInput, "not a PDF");
}

TEST_CASE("a missing file is a not-found error naming it") {
    const fs::path path = kData / "no-such-file.pdf";
    check_error_names(ingest::extract_file(path, {}), path, core::ErrorCode::kNotFound, "no such file");
}

TEST_CASE("a directory is an error saying it is not a file") {
    Scratch s("dir");
    fs::create_directories(s.dir / "folder.pdf");
    check_error_names(ingest::extract_file(s.dir / "folder.pdf", {}), s.dir / "folder.pdf",
                      core::ErrorCode::kInvalidArgument, "directory");
}

TEST_CASE("an unknown binary file type is unsupported") {
    Scratch s("bin");
    const fs::path path = s.write("image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    check_error_names(ingest::extract_file(path, {}), path, core::ErrorCode::kUnsupported,
                      "unsupported file type (.png)");
}

TEST_CASE("truncated and byte-flipped PDFs either extract or fail with a clear error, never crash") {
    Scratch s("sweep");
    ingest::IngestOptions opts;
    opts.ocr_enabled = false;  // the sweep is about parsing; OCR is covered elsewhere
    int extracted = 0;
    int failed = 0;
    for (const char * name :
         {"tagged.pdf", "link.pdf", "trivial.pdf", "invalid.pdf", "graph_ocred.pdf", "multipage.pdf", "encrypted.pdf",
          "phototest-scan.pdf", "skew.pdf", "phototest-rotated-L.pdf"}) {
        auto original = core::read_file(kData / name);
        REQUIRE(original.ok());
        const std::string & bytes = original.value();
        std::vector<std::pair<std::string, std::string>> variants;
        variants.emplace_back("orig", bytes);
        for (size_t keep : {bytes.size() / 2, bytes.size() / 10, size_t{9}, size_t{1}}) {
            variants.emplace_back("cut" + std::to_string(keep), bytes.substr(0, keep));
        }
        // Deterministic flips spread over the file (a fixed LCG, not a clock-seeded generator).
        uint64_t state = 12345;
        for (int v = 0; v < 4; ++v) {
            std::string flipped = bytes;
            for (int k = 0; k < 20 && !flipped.empty(); ++k) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                flipped[(state >> 33) % flipped.size()] ^= static_cast<char>(1 + (state >> 13) % 255);
            }
            variants.emplace_back("flip" + std::to_string(v), flipped);
        }
        for (const auto & [tag, data] : variants) {
            const fs::path path = s.write(tag + "-" + name, data);
            auto r = ingest::extract_file(path, opts);
            if (r.ok()) {
                ++extracted;
                CHECK(r->page_count > 0);
            } else {
                ++failed;
                CHECK(r.error().message().find(path.filename().string()) != std::string::npos);
                const auto code = r.error().code();
                CHECK((code == core::ErrorCode::kCorruptInput || code == core::ErrorCode::kUnsupported));
            }
        }
    }
    CHECK(extracted > 5);  // the originals and tolerant repairs
    CHECK(failed > 5);     // the tiny cuts at least
}

TEST_CASE("a password-protected PDF is unsupported without its password and opens with it") {
    const fs::path path = kData / "encrypted.pdf";
    ingest::IngestOptions opts;
    check_error_names(ingest::extract_file(path, opts), path, core::ErrorCode::kUnsupported,
                      "password-protected PDF and no password was given");
    opts.pdf_password = "wrong";
    check_error_names(ingest::extract_file(path, opts), path, core::ErrorCode::kUnsupported,
                      "the password given does not open it");
    opts.pdf_password = "strongbox";
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 1);
    CHECK(doc->chunks[0].text == "Secret appliance manual");
    CHECK(doc->chunks[0].provenance.page == 1);
}
