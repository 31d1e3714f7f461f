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

using ingest::testing::Scratch;

std::string slice(const std::string & bytes, const core::Chunk & c) {
    return bytes.substr(static_cast<size_t>(c.provenance.byte_start),
                        static_cast<size_t>(c.provenance.byte_end - c.provenance.byte_start));
}

}  // namespace

TEST_CASE("plain text paragraphs become chunks whose byte ranges reproduce the source bytes") {
    Scratch s("plain");
    const std::string bytes =
        "First paragraph line one.\nLine two.\n\n\nSecond paragraph.\r\nStill second.\r\n\nThird.";
    const fs::path path = s.write("notes.txt", bytes);
    ingest::IngestOptions opts;
    opts.max_chunk_chars = 40;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    CHECK(doc->media_type == "text/plain");
    CHECK(doc->page_count == 8);
    REQUIRE(doc->chunks.size() == 3);
    CHECK(doc->chunks[0].text == "First paragraph line one.\nLine two.");
    CHECK(doc->chunks[0].provenance.line_start == 1);
    CHECK(doc->chunks[0].provenance.line_end == 2);
    CHECK(doc->chunks[1].text == "Second paragraph.\r\nStill second.");
    CHECK(doc->chunks[1].provenance.line_start == 5);
    CHECK(doc->chunks[1].provenance.line_end == 6);
    CHECK(doc->chunks[2].text == "Third.");
    CHECK(doc->chunks[2].provenance.line_start == 8);
    for (const core::Chunk & c : doc->chunks) {
        CHECK(slice(bytes, c) == c.text);
        CHECK(c.provenance.extractor == "plain-text");
        CHECK(c.provenance.page == 0);
    }
    CHECK(doc->warnings.empty());
}

TEST_CASE("small paragraphs are packed into one chunk up to the size limit") {
    Scratch s("pack");
    const std::string bytes = "a b c\n\nd e f\n\ng h i\n";
    const fs::path path = s.write("small.txt", bytes);
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 1);
    CHECK(doc->chunks[0].text == "a b c\n\nd e f\n\ng h i");
    CHECK(doc->chunks[0].provenance.line_start == 1);
    CHECK(doc->chunks[0].provenance.line_end == 5);
}

TEST_CASE("a paragraph longer than the limit is cut at line and word boundaries with exact ranges") {
    Scratch s("long");
    std::string bytes;
    for (int i = 0; i < 30; ++i) {
        bytes += "word" + std::to_string(i) + " ";
    }
    bytes += "\nshort second line\n";
    const fs::path path = s.write("long.txt", bytes);
    ingest::IngestOptions opts;
    opts.max_chunk_chars = 50;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() > 3);
    std::string joined;
    for (const core::Chunk & c : doc->chunks) {
        CHECK(c.text.size() <= 50);
        CHECK(slice(bytes, c) == c.text);
        joined += c.text;
    }
    CHECK(joined.find("word29") != std::string::npos);
    // The tail of the long line and the short line fit together.
    const std::string & tail = doc->chunks.back().text;
    CHECK(tail.substr(tail.size() - 18) == "\nshort second line");
    CHECK(doc->chunks.back().provenance.line_start == 1);
    CHECK(doc->chunks.back().provenance.line_end == 2);
    CHECK(doc->chunks.front().provenance.line_end == 1);
}

TEST_CASE("markdown headings start chunks and label the chunks under them") {
    Scratch s("md");
    const std::string bytes = "Intro text.\n\n# Installation\n\nRun the installer.\n\n## Options ##\nUse "
                              "--fast.\n\n```\n# not a heading\n```\n";
    const fs::path path = s.write("guide.md", bytes);
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    CHECK(doc->media_type == "text/markdown");
    REQUIRE(doc->chunks.size() == 3);
    CHECK(doc->chunks[0].text == "Intro text.");
    CHECK(doc->chunks[0].metadata.is_null());
    CHECK(doc->chunks[1].text == "# Installation\n\nRun the installer.");
    CHECK(doc->chunks[1].metadata.get_string("heading") == "Installation");
    CHECK(doc->chunks[1].provenance.line_start == 3);
    CHECK(doc->chunks[1].provenance.line_end == 5);
    CHECK(doc->chunks[2].metadata.get_string("heading") == "Options");
    CHECK(doc->chunks[2].text.find("# not a heading") != std::string::npos);
    for (const core::Chunk & c : doc->chunks) {
        CHECK(slice(bytes, c) == c.text);
    }
}

TEST_CASE("invalid UTF-8 is repaired with U+FFFD and the warning names the lines") {
    Scratch s("utf8");
    const std::string bytes = "good line\nbad \xff byte\nfine\nalso \xc3 bad\n";
    const fs::path path = s.write("latin.txt", bytes);
    auto doc = ingest::extract_file(path, {});
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 1);
    CHECK(doc->chunks[0].text.find("bad \xEF\xBF\xBD byte") != std::string::npos);
    REQUIRE(doc->warnings.size() == 1);
    CHECK(doc->warnings[0] == "invalid UTF-8 repaired with U+FFFD on lines 2, 4");
    CHECK(doc->chunks[0].provenance.byte_end == static_cast<int64_t>(bytes.size() - 1));
}

TEST_CASE("binary data in a .txt file is an error saying it is not text") {
    Scratch s("binary");
    std::string bytes = "header";
    bytes += std::string("\0\x01\x02\x03", 4);
    const fs::path path = s.write("blob.txt", bytes);
    auto doc = ingest::extract_file(path, {});
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(doc.error().message().find("blob.txt") != std::string::npos);
    CHECK(doc.error().message().find("binary data, not text") != std::string::npos);
}

TEST_CASE("an empty text file gives no chunks and a warning") {
    Scratch s("empty");
    auto doc = ingest::extract_file(s.write("empty.md", ""), {});
    REQUIRE(doc.ok());
    CHECK(doc->chunks.empty());
    CHECK(doc->warnings == std::vector<std::string>{"no text"});
}
