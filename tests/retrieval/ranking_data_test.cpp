// Retrieval ranking written as data: each tests/data/retrieval/ranking/*.test file describes a small
// corpus and the searches run over it, with what each must rank. The format:
//
//   doc PATH [collection NAME]     a document; each following indented line is one chunk
//     chunk text ...
//   search QUERY                   a search; the options and expectations after it apply to it
//   mode bm25|dense|hybrid         (default hybrid)
//   collections NAME [NAME...]     what the caller may read (default: "default")
//   expect first PATH              the best hit is a chunk of PATH
//   expect rank N PATH             a chunk of PATH is among the first N hits
//   expect absent PATH             no hit comes from PATH
//   expect none                    nothing is found
//
// Blank lines and lines starting with # are ignored. A failing expectation names its file and line.

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/retrieval/retriever.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/data_files.h"

using namespace strongbox;
using namespace strongbox::retrieval;
using namespace strongbox::retrieval::testing;

namespace {

const std::filesystem::path kRankingDir = std::filesystem::path(SB_TEST_DATA_DIR) / "retrieval" / "ranking";

struct Doc {
    std::string path;
    std::string collection = std::string(kDefaultCollection);
    std::vector<std::string> chunks;
};

struct Search {
    int line = 0;
    std::string query;
    SearchOptions options;
    std::vector<std::pair<int, std::string>> expectations;  // (line, "first PATH" ...)
};

struct Case {
    std::vector<Doc> docs;
    std::vector<Search> searches;
};

std::string rest_of(std::istringstream & words) {
    std::string rest;
    std::getline(words, rest);
    const size_t start = rest.find_first_not_of(' ');
    return start == std::string::npos ? std::string() : rest.substr(start);
}

Case parse(const std::string & text, const std::string & file) {
    Case c;
    std::istringstream lines(text);
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
        ++n;
        INFO(file << ":" << n << ": " << line);
        if (line.empty() || line[0] == '#') {
            continue;
        }
        if (line[0] == ' ') {
            REQUIRE_MESSAGE(!c.docs.empty(), "a chunk line before any doc");
            c.docs.back().chunks.push_back(line.substr(line.find_first_not_of(' ')));
            continue;
        }
        std::istringstream words(line);
        std::string verb;
        words >> verb;
        if (verb == "doc") {
            Doc d;
            std::string word;
            words >> d.path;
            if (words >> word) {
                REQUIRE(word == "collection");
                words >> d.collection;
            }
            c.docs.push_back(d);
        } else if (verb == "search") {
            Search s;
            s.line = n;
            s.query = rest_of(words);
            s.options.k = 10;
            s.options.filter.collections = {std::string(kDefaultCollection)};
            c.searches.push_back(s);
        } else {
            REQUIRE_MESSAGE(!c.searches.empty(), verb << " before any search");
            Search & s = c.searches.back();
            if (verb == "mode") {
                const std::string mode = rest_of(words);
                REQUIRE((mode == "bm25" || mode == "dense" || mode == "hybrid"));
                s.options.use_bm25 = mode != "dense";
                s.options.use_dense = mode != "bm25";
            } else if (verb == "collections") {
                s.options.filter.collections.clear();
                for (std::string name; words >> name;) {
                    s.options.filter.collections.push_back(name);
                }
            } else {
                REQUIRE(verb == "expect");
                s.expectations.emplace_back(n, rest_of(words));
            }
        }
    }
    return c;
}

void check(const std::string & expectation, const std::vector<SearchHit> & hits) {
    std::istringstream words(expectation);
    std::string kind;
    words >> kind;
    auto rank_of = [&](const std::string & path) {
        auto it = std::find_if(hits.begin(), hits.end(), [&](const SearchHit & h) { return h.document.path == path; });
        return it == hits.end() ? 0 : static_cast<int>(it - hits.begin()) + 1;
    };
    if (kind == "first") {
        std::string path;
        words >> path;
        CHECK(rank_of(path) == 1);
    } else if (kind == "rank") {
        int n = 0;
        std::string path;
        words >> n >> path;
        const int rank = rank_of(path);
        CHECK(rank >= 1);
        CHECK(rank <= n);
    } else if (kind == "absent") {
        std::string path;
        words >> path;
        CHECK(rank_of(path) == 0);
    } else {
        REQUIRE(kind == "none");
        CHECK(hits.empty());
    }
}

}  // namespace

TEST_CASE("every ranking data file ranks its expected documents, within its collections") {
    const std::vector<std::filesystem::path> files = strongbox::testing::data_files(kRankingDir);
    REQUIRE(files.size() >= 3);
    for (const auto & file : files) {
        const std::string name = file.filename().string();
        CAPTURE(name);
        const Case c = parse(core::read_file(file).value(), name);
        REQUIRE_FALSE(c.searches.empty());
        TempDir dir("sb_ranking");
        RetrieverOptions ro;
        ro.database = dir / "ranking.db";
        auto r = Retriever::open(ro, std::make_shared<HashedEmbedder>());
        REQUIRE(r.ok());
        for (const Doc & d : c.docs) {
            REQUIRE(r->index_document(make_doc(d.path, d.chunks), d.collection).ok());
        }
        for (const Search & s : c.searches) {
            auto hits = r->search(s.query, s.options);
            REQUIRE_MESSAGE(hits.ok(), name << ":" << s.line << ": " << hits.error().to_string());
            std::string ranked;
            for (const SearchHit & h : *hits) {
                ranked += "\n  " + h.document.path + ": " + h.text.substr(0, 60);
            }
            for (const auto & [line, expectation] : s.expectations) {
                INFO(name << ":" << line << ": \"" << s.query << "\" expect " << expectation << "; ranked:" << ranked);
                check(expectation, *hits);
            }
        }
    }
}
