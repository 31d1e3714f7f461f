// Ingest provenance written as data: each tests/data/ingest/provenance/*.test file names a real
// input file and says where chunks of it must point. The format:
//
//   file PATH                       relative to tests/data/ingest
//   option NAME VALUE               log_lines_per_chunk or max_chunk_chars (IngestOptions)
//   chunks OP N                     how many chunks the file gives (OP is =, <= or >=)
//   chunk containing TEXT           the first chunk whose text contains TEXT; then, indented:
//     FIELD OP VALUE                a field of its provenance (core::to_json) compared with VALUE,
//                                   written as JSON: 12, "log-lines", true
//
// Blank lines and lines starting with # are ignored. A failing expectation names its file and line.

#include "strongbox/core/document.h"
#include "strongbox/core/file.h"
#include "strongbox/core/json.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/data_files.h"

using namespace strongbox;

namespace {

const std::filesystem::path kIngestData = std::filesystem::path(SB_TEST_DATA_DIR) / "ingest";

std::string rest_of(std::istringstream & words) {
    std::string rest;
    std::getline(words, rest);
    const size_t start = rest.find_first_not_of(' ');
    return start == std::string::npos ? std::string() : rest.substr(start);
}

// `actual OP expected`: numbers compare as numbers, anything else only for equality.
bool compare(const core::Json & actual, const std::string & op, const core::Json & expected) {
    if (!actual.is_number() || !expected.is_number()) {
        return op == "=" && actual == expected;
    }
    const double a = actual.as_double();
    const double e = expected.as_double();
    return op == "=" ? a == e : op == "<=" ? a <= e : op == ">=" && a >= e;
}

// One file's expectations, checked as they are read.
void run_file(const std::filesystem::path & file) {
    const std::string name = file.filename().string();
    ingest::IngestOptions options;
    core::Result<core::ExtractedDocument> doc = core::Error(core::ErrorCode::kInvalidArgument, "no file line yet");
    const core::Chunk * chunk = nullptr;
    std::istringstream lines(core::read_file(file).value());
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
        ++n;
        INFO(name << ":" << n << ": " << line);
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream words(line);
        std::string verb;
        words >> verb;
        if (verb == "option") {
            std::string option;
            size_t value = 0;
            words >> option >> value;
            REQUIRE((option == "log_lines_per_chunk" || option == "max_chunk_chars"));
            (option == "log_lines_per_chunk" ? options.log_lines_per_chunk : options.max_chunk_chars) = value;
        } else if (verb == "file") {
            doc = ingest::extract_file(kIngestData / rest_of(words), options);
            REQUIRE_MESSAGE(doc.ok(), doc.error().to_string());
        } else if (verb == "chunks") {
            REQUIRE(doc.ok());
            std::string op;
            double count = 0;
            words >> op >> count;
            CHECK(compare(core::Json(static_cast<int64_t>(doc->chunks.size())), op, core::Json(count)));
        } else if (verb == "chunk") {
            REQUIRE(doc.ok());
            std::string containing;
            words >> containing;
            REQUIRE(containing == "containing");
            const std::string text = rest_of(words);
            auto it = std::find_if(doc->chunks.begin(), doc->chunks.end(),
                                   [&](const core::Chunk & c) { return c.text.find(text) != std::string::npos; });
            REQUIRE_MESSAGE(it != doc->chunks.end(), "no chunk contains \"" << text << "\"");
            chunk = &*it;
        } else {
            REQUIRE_MESSAGE(chunk != nullptr, "a provenance field before any chunk line");
            std::string op;
            words >> op;
            const core::Json expected = core::Json::parse(rest_of(words)).value();
            const core::Json provenance = core::to_json(chunk->provenance);
            const core::Json * actual = provenance.find(verb);
            REQUIRE_MESSAGE(actual != nullptr, "provenance has no field " << verb << ": " << provenance.dump());
            INFO("provenance: " << provenance.dump());
            CHECK(compare(*actual, op, expected));
        }
    }
}

}  // namespace

TEST_CASE("every provenance data file's chunks point at the pages and lines their text came from") {
    const std::vector<std::filesystem::path> files = strongbox::testing::data_files(kIngestData / "provenance");
    REQUIRE(files.size() >= 3);
    for (const auto & file : files) {
        CAPTURE(file.filename().string());
        run_file(file);
    }
}
