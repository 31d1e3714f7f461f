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

}  // namespace

TEST_CASE("kinds are detected from content first and then from the extension") {
    CHECK(ingest::detect_kind("report.txt", "%PDF-1.7") == ingest::SourceKind::kPdf);
    CHECK(ingest::detect_kind("catalog.md", "# Catalog") == ingest::SourceKind::kText);
    CHECK(ingest::detect_kind("page.HTML", "<html>") == ingest::SourceKind::kHtml);
    CHECK(ingest::detect_kind("rows.csv", "a,b") == ingest::SourceKind::kCsv);
    CHECK(ingest::detect_kind("manual.docx", "PK") == ingest::SourceKind::kDocx);
    CHECK(ingest::detect_kind("syslog", "Jan  1 host app: x") == ingest::SourceKind::kLog);
}

TEST_CASE("HTML blocks become chunks with headings, decoded entities and source ranges, without scripts") {
    Scratch s("html");
    const std::string bytes =
        "<!DOCTYPE html>\n<html><head><title>Guide</title><style>p{color:red}</style></head>\n<body>\n"
        "<script>var hidden = 'no';</script>\n<h1>Setup &amp; Use</h1>\n<p>Connect the <b>box</b> to\npower.</p>\n"
        "<!-- a comment -->\n<ul><li>First&#32;step</li><li>Second &lt;step&gt;</li></ul>\n"
        "<table><tr><td>Port</td><td>8443</td></tr></table>\n</body></html>\n";
    const fs::path path = s.write("guide.html", bytes);
    ingest::IngestOptions opts;
    opts.max_chunk_chars = 40;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    CHECK(doc->media_type == "text/html");
    std::string all;
    for (const core::Chunk & c : doc->chunks) {
        all += c.text + "\n";
        CHECK(c.provenance.byte_start >= 0);
        CHECK(c.provenance.byte_end <= static_cast<int64_t>(bytes.size()));
        CHECK(c.provenance.line_start >= 1);
        CHECK(c.provenance.line_end >= c.provenance.line_start);
    }
    CHECK(all.find("hidden") == std::string::npos);
    CHECK(all.find("color") == std::string::npos);
    CHECK(all.find("comment") == std::string::npos);
    CHECK(all.find("Connect the box to power.") != std::string::npos);
    CHECK(all.find("Second <step>") != std::string::npos);
    CHECK(all.find("First step") != std::string::npos);
    CHECK(all.find("Port | 8443") != std::string::npos);
    bool found = false;
    for (const core::Chunk & c : doc->chunks) {
        if (c.text.find("Connect the box") != std::string::npos) {
            found = true;
            CHECK(c.metadata.get_string("heading") == "Setup & Use");
            CHECK(c.text.rfind("Setup & Use\n\n", 0) == 0);  // the heading opens its chunk
            CHECK(c.provenance.line_start == 5);
            CHECK(c.provenance.line_end == 7);
            CHECK(bytes.substr(static_cast<size_t>(c.provenance.byte_end) - 6, 6) == "power.");
        }
    }
    CHECK(found);
}

TEST_CASE("CSV rows are chunked with exact ranges and the header's columns in every chunk") {
    Scratch s("csv");
    std::string bytes = "id,name,note\n";
    for (int i = 1; i <= 30; ++i) {
        bytes += std::to_string(i) + ",item " + std::to_string(i) + ",\"plain, quoted\"\n";
    }
    bytes += "31,multi,\"line one\nline two\"\n";
    const fs::path path = s.write("items.csv", bytes);
    ingest::IngestOptions opts;
    opts.max_chunk_chars = 200;
    auto doc = ingest::extract_file(path, opts);
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() > 2);
    int64_t prev_end = -1;
    for (const core::Chunk & c : doc->chunks) {
        CHECK(bytes.substr(static_cast<size_t>(c.provenance.byte_start),
                           static_cast<size_t>(c.provenance.byte_end - c.provenance.byte_start)) == c.text);
        CHECK(c.provenance.byte_start > prev_end);
        prev_end = c.provenance.byte_end;
        CHECK(c.metadata.find("columns")->dump() == "[\"id\",\"name\",\"note\"]");
    }
    const core::Chunk & last = doc->chunks.back();
    CHECK(last.text.find("line one\nline two") != std::string::npos);
    CHECK(last.provenance.line_end == 33);
    CHECK(last.metadata.find("rows")->as_array().back().as_int() == 32);
}

TEST_CASE("a CSV with an unterminated quote is a corrupt-input error naming the file") {
    Scratch s("badcsv");
    const fs::path path = s.write("broken.csv", "a,b\n1,\"never closed\n");
    auto doc = ingest::extract_file(path, {});
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(doc.error().message().find("broken.csv") != std::string::npos);
    CHECK(doc.error().message().find("unterminated quoted field") != std::string::npos);
}

TEST_CASE("DOCX paragraphs, tables and headings are extracted with paragraph ranges") {
    auto doc = ingest::extract_file(kData / "manual.docx", {});
    REQUIRE(doc.ok());
    REQUIRE(doc->chunks.size() == 2);
    CHECK(doc->chunks[0].text == "Service Manual\n\nStrongbox keeps every answer tied to its source.");
    CHECK(doc->chunks[0].metadata.get_string("heading") == "Service Manual");
    CHECK(doc->chunks[0].metadata.find("paragraphs")->dump() == "[1,2]");
    CHECK(doc->chunks[1].text ==
          "Installation\n\nPlug in the power\tcable.\n\nPort\n\n8443\n\nCaf\xC3\xA9 & r\xC3\xA9sum\xC3\xA9 support.");
    CHECK(doc->chunks[1].metadata.get_string("heading") == "Installation");
    CHECK(doc->chunks[1].provenance.extractor == "docx-paragraphs");
}

TEST_CASE("a file named .docx that is not a zip, or a zip without a document, is a corrupt-input error") {
    Scratch s("baddocx");
    const fs::path text = s.write("fake.docx", "hello");
    auto a = ingest::extract_file(text, {});
    REQUIRE_FALSE(a.ok());
    CHECK(a.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(a.error().message().find("fake.docx") != std::string::npos);

    auto original = core::read_file(kData / "manual.docx");
    REQUIRE(original.ok());
    const fs::path cut = s.write("cut.docx", original.value().substr(0, original.value().size() / 2));
    auto b = ingest::extract_file(cut, {});
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(b.error().message().find("cut.docx") != std::string::npos);
}

TEST_CASE("log files and unknown text files are dispatched to their extractors") {
    Scratch s("dispatch");
    const std::string log = "2026-11-22T10:00:00Z box01 strongboxd[12]: started\n"
                            "2026-11-22T10:00:01Z box01 strongboxd[12]: ready\n";
    auto a = ingest::extract_file(s.write("service.log", log), {});
    REQUIRE(a.ok());
    CHECK(a->media_type == "text/x-log");
    REQUIRE_FALSE(a->chunks.empty());
    CHECK(a->chunks[0].provenance.line_start == 1);

    auto b = ingest::extract_file(s.write("settings.conf", "port = 8443\n"), {});
    REQUIRE(b.ok());
    CHECK(b->media_type == "text/plain");
    REQUIRE(b->chunks.size() == 1);
    CHECK(b->chunks[0].text == "port = 8443");
}
