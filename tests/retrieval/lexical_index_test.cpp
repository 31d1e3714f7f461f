// The pruned BM25 top-k (postings with MaxScore) against the plain FTS5 ranking on generated
// corpora: same chunks in the same order with the same scores, for any query, filter and limit.
#include "strongbox/retrieval/store.h"

#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::make_doc;
using retrieval::testing::TempDir;

namespace {

const char * const kCollections[] = {"c0", "c1", "c2", "c3"};

// Text with a Zipf(1) word distribution over `n_words` pseudo-words, so a few terms occur in most
// chunks (the queries that make exhaustive BM25 slow) and most are rare.
class Corpus {
  public:
    explicit Corpus(uint64_t seed, size_t n_words = 1500) : rng_(seed) {
        static const char * const kSyllables[] = {"ba", "ce", "di", "fo", "gu", "ha", "je", "ki",
                                                  "lo", "mu", "na", "pe", "ri", "so", "tu", "vy"};
        double total = 0;
        for (size_t r = 0; r < n_words; ++r) {
            std::string w;
            for (size_t x = r;; x /= 16) {
                w += kSyllables[x % 16];
                if (x < 16) {
                    break;
                }
            }
            words_.push_back(w + "q");
            total += 1.0 / static_cast<double>(r + 1);
            cdf_.push_back(total);
        }
    }

    const std::string & word() {
        std::uniform_real_distribution<double> u(0.0, cdf_.back());
        auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u(rng_));
        return words_[static_cast<size_t>(it - cdf_.begin())];
    }
    const std::string & common_word() { return words_[rng_() % 8]; }

    std::string text(size_t min_words, size_t max_words) {
        std::string t;
        size_t n = min_words + rng_() % (max_words - min_words + 1);
        for (size_t i = 0; i < n; ++i) {
            t += (i == 0 ? "" : (rng_() % 9 == 0 ? ", " : " ")) + word();
        }
        return t;
    }

    // A document of `n_chunks` chunks; some chunks get a heading, which FTS5 indexes as the
    // weighted column.
    core::ExtractedDocument document(const std::string & path, size_t n_chunks, const std::string & media_type) {
        std::vector<std::string> texts;
        for (size_t i = 0; i < n_chunks; ++i) {
            texts.push_back(rng_() % 5 == 0 ? text(1, 4) : text(10, 60));
        }
        core::ExtractedDocument doc = make_doc(path, texts, media_type);
        for (auto & chunk : doc.chunks) {
            if (rng_() % 3 == 0) {
                core::Json meta = core::Json::object();
                meta["heading"] = core::Json(text(1, 5));
                chunk.metadata = std::move(meta);
            }
        }
        return doc;
    }

    // Free text as users type it: mostly corpus words, often the most common ones, with case,
    // punctuation, stopwords, repeats and words no chunk contains.
    std::string query() {
        std::string q;
        size_t n = 1 + rng_() % 7;
        for (size_t i = 0; i < n; ++i) {
            std::string w;
            switch (rng_() % 10) {
            case 0:
            case 1:
            case 2:
                w = common_word();
                break;
            case 3:
                w = "the";
                break;
            case 4:
                w = "zzunseen" + std::to_string(rng_() % 3);
                break;
            case 5:
                w = word();
                w[0] = static_cast<char>(w[0] - 'a' + 'A');
                break;
            default:
                w = word();
            }
            q += (i == 0 ? "" : (rng_() % 4 == 0 ? " \"" : " ")) + w;
        }
        return q;
    }

    SearchFilter filter() {
        SearchFilter f;
        while (f.collections.empty()) {
            for (const char * c : kCollections) {
                if (rng_() % 2 == 0) {
                    f.collections.emplace_back(c);
                }
            }
        }
        if (rng_() % 5 == 0) {
            f.media_types = {"text/markdown"};
        }
        if (rng_() % 6 == 0) {
            f.path_prefix = "/docs/c" + std::to_string(rng_() % 4) + "/";
        }
        return f;
    }

    int limit() {
        static const int kLimits[] = {1, 3, 10, 50, 400};
        return kLimits[rng_() % 5];
    }

    std::mt19937_64 & rng() { return rng_; }

  private:
    std::mt19937_64 rng_;
    std::vector<std::string> words_;
    std::vector<double> cdf_;
};

void write_corpus(Store & store, Corpus & corpus, size_t n_docs, size_t chunks_per_doc) {
    for (size_t d = 0; d < n_docs; ++d) {
        std::string collection = kCollections[d % 4];
        auto doc = corpus.document("/docs/" + collection + "/d" + std::to_string(d) + ".txt", chunks_per_doc,
                                   d % 3 == 0 ? "text/markdown" : "text/plain");
        REQUIRE(store.add_document(doc, collection).ok());
    }
}

// Asserts the pruned ranking equals the exhaustive one, and returns it.
std::vector<LexicalHit> check_same_ranking(const Store & store, const std::string & query, const SearchFilter & filter,
                                           int limit) {
    auto fast = store.lexical_search(query, filter, limit);
    auto full = store.lexical_search_exhaustive(query, filter, limit);
    REQUIRE_MESSAGE(fast.ok(), (fast.ok() ? "" : fast.error().message()));
    REQUIRE_MESSAGE(full.ok(), (full.ok() ? "" : full.error().message()));
    INFO("query: " << query << ", limit " << limit);
    REQUIRE(fast->size() == full->size());
    for (size_t i = 0; i < fast->size(); ++i) {
        INFO("rank " << i);
        CHECK((*fast)[i].chunk_id == (*full)[i].chunk_id);
        CHECK(std::fabs((*fast)[i].score - (*full)[i].score) <= 1e-9 * std::max(1.0, std::fabs((*full)[i].score)));
    }
    return std::move(fast).value();
}

}  // namespace

TEST_CASE("pruned BM25 returns the exhaustive FTS5 top-k for random queries, filters and limits") {
    TempDir dir("lexical_random");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    Corpus corpus(7);
    write_corpus(*store, corpus, 24, 100);
    size_t nonempty = 0;
    for (int i = 0; i < 300; ++i) {
        std::string q = corpus.query();
        nonempty += check_same_ranking(*store, q, corpus.filter(), corpus.limit()).empty() ? 0 : 1;
    }
    // Queries made only of the commonest terms match most chunks: the case pruning must get right.
    SearchFilter everything;
    everything.collections = {"c0", "c1", "c2", "c3"};
    for (int limit : {1, 5, 50}) {
        std::string q;
        for (int i = 0; i < 6; ++i) {
            q += corpus.common_word() + " ";
        }
        CHECK(check_same_ranking(*store, q, everything, limit).size() == static_cast<size_t>(limit));
    }
    CHECK(nonempty > 200);
}

TEST_CASE("pruned BM25 follows removals, new versions and new documents written after it was built") {
    TempDir dir("lexical_versions");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    Corpus corpus(11);
    write_corpus(*store, corpus, 12, 60);
    SearchFilter everything;
    everything.collections = {"c0", "c1", "c2", "c3"};
    // The first search builds the postings; everything below extends them.
    REQUIRE(store->lexical_search(corpus.common_word(), everything, 10).ok());

    auto removed = store->remove_document("/docs/c1/d1.txt");
    REQUIRE(removed.ok());
    auto old_version = store->add_document(corpus.document("/docs/c2/d2.txt", 40, "text/plain"), "c2");
    REQUIRE(old_version.ok());
    REQUIRE(old_version->outcome == AddOutcome::kNewVersion);
    auto fresh = store->add_document(make_doc("/docs/c0/new.txt", {"quokkaword appears here once", "nothing"}), "c0");
    REQUIRE(fresh.ok());

    for (int i = 0; i < 150; ++i) {
        std::string q = corpus.query();
        SearchFilter f = corpus.filter();
        for (const auto & hit : check_same_ranking(*store, q, f, corpus.limit())) {
            CHECK(std::find(removed->chunk_ids.begin(), removed->chunk_ids.end(), hit.chunk_id) ==
                  removed->chunk_ids.end());
            CHECK(std::find(old_version->superseded_chunk_ids.begin(), old_version->superseded_chunk_ids.end(),
                            hit.chunk_id) == old_version->superseded_chunk_ids.end());
        }
    }
    auto hits = check_same_ranking(*store, "quokkaword", everything, 10);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].chunk_id == fresh->chunk_ids[0]);
}

TEST_CASE("a reopened store ranks lexical queries exactly as before it was closed") {
    TempDir dir("lexical_reopen");
    Corpus corpus(23);
    std::vector<std::string> queries;
    std::vector<SearchFilter> filters;
    std::vector<std::vector<LexicalHit>> before;
    {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        write_corpus(*store, corpus, 8, 80);
        REQUIRE(store->lexical_search(corpus.common_word(), corpus.filter(), 5).ok());
        REQUIRE(store->remove_document("/docs/c3/d3.txt").ok());
        write_corpus(*store, corpus, 10, 20);  // new versions of d0..d7, and d8, d9
        for (int i = 0; i < 60; ++i) {
            queries.push_back(corpus.query());
            filters.push_back(corpus.filter());
            before.push_back(check_same_ranking(*store, queries.back(), filters.back(), 20));
        }
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    for (size_t i = 0; i < queries.size(); ++i) {
        auto after = check_same_ranking(*store, queries[i], filters[i], 20);
        REQUIRE(after.size() == before[i].size());
        for (size_t j = 0; j < after.size(); ++j) {
            CHECK(after[j].chunk_id == before[i][j].chunk_id);
            CHECK(after[j].score == before[i][j].score);
        }
    }
}
