// The text analyzer's matching written as data: each tests/data/retrieval/analyzer/*.test file
// lists word forms that must meet, forms that must stay apart, and exact search terms:
//
//   meet A | B                every search term of A is a term of B
//   apart A | B               no search term of A is a term of B
//   terms TEXT => T1 T2 ...   the search terms of TEXT, in order
//   none TEXT                 TEXT has no search terms
//
// Blank lines and lines starting with # are ignored. A failing line is reported with its file and
// line and the terms on both sides.

#include "strongbox/core/file.h"
#include "strongbox/retrieval/analyzer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/data_files.h"

using namespace strongbox;
using namespace strongbox::retrieval;

namespace {

const std::filesystem::path kAnalyzerDir = std::filesystem::path(SB_TEST_DATA_DIR) / "retrieval" / "analyzer";

std::string trimmed(std::string_view s) {
    const size_t b = s.find_first_not_of(' ');
    const size_t e = s.find_last_not_of(' ');
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

std::string joined(const std::vector<std::string> & terms) {
    std::string out;
    for (const std::string & t : terms) {
        out += (out.empty() ? "" : " ") + t;
    }
    return out;
}

std::set<std::string> all_terms(std::string_view text) {
    std::set<std::string> out;
    for (const Term & t : analyze(text)) {
        out.insert(t.text);
    }
    return out;
}

// Returns the number of checks the line made.
void check_line(const std::string & verb, const std::string & rest) {
    if (verb == "meet" || verb == "apart") {
        const size_t bar = rest.find(" | ");
        REQUIRE_MESSAGE(bar != std::string::npos, "expected A | B");
        const std::vector<std::string> query = query_terms(rest.substr(0, bar));
        const std::set<std::string> text = all_terms(rest.substr(bar + 3));
        const std::vector<std::string> text_list(text.begin(), text.end());
        INFO("search terms: " << joined(query) << "; text terms: " << joined(text_list));
        REQUIRE_FALSE(query.empty());
        const auto found =
            std::count_if(query.begin(), query.end(), [&](const std::string & t) { return text.count(t) > 0; });
        if (verb == "meet") {
            CHECK(found == static_cast<long>(query.size()));
        } else {
            CHECK(found == 0);
        }
    } else if (verb == "terms") {
        const size_t arrow = rest.find(" => ");
        REQUIRE_MESSAGE(arrow != std::string::npos, "expected TEXT => TERMS");
        CHECK(joined(query_terms(rest.substr(0, arrow))) == trimmed(rest.substr(arrow + 4)));
    } else {
        REQUIRE_MESSAGE(verb == "none", "unknown directive " << verb);
        CHECK(joined(query_terms(rest)).empty());
    }
}

}  // namespace

TEST_CASE("every analyzer data file's word forms meet, stay apart and give their terms as written") {
    const std::vector<std::filesystem::path> files = strongbox::testing::data_files(kAnalyzerDir);
    REQUIRE(files.size() >= 2);
    for (const auto & file : files) {
        const std::string name = file.filename().string();
        std::istringstream lines(core::read_file(file).value());
        int n = 0;
        int checked = 0;
        for (std::string line; std::getline(lines, line);) {
            ++n;
            if (trimmed(line).empty() || line[0] == '#') {
                continue;
            }
            const size_t space = line.find(' ');
            INFO(name << ":" << n << ": " << line);
            check_line(line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1));
            ++checked;
        }
        CHECK_MESSAGE(checked >= 10, name << " has too few cases");
    }
}

TEST_CASE("terms carry the byte range of the word they came from") {
    const std::string text = "Nightly 백업은 ERR-42 licences";
    for (const Term & t : analyze(text)) {
        CAPTURE(t.text);
        REQUIRE(t.end <= text.size());
        CHECK(t.begin < t.end);
    }
    const std::vector<Term> terms = analyze(text);
    REQUIRE(terms.size() == 6);
    CHECK(text.substr(terms[1].begin, terms[1].end - terms[1].begin) == "백업");
    CHECK(text.substr(terms[2].begin, terms[2].end - terms[2].begin) == "ERR-42");
    CHECK(terms[3].colocated);  // "err", a part of ERR-42
    CHECK(text.substr(terms[5].begin, terms[5].end - terms[5].begin) == "licences");
    CHECK(terms[5].text == "licens");
    CHECK(count_positions(text) == 4);
}
