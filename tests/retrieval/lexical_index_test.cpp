// The pruned BM25 top-k (postings with MaxScore) against the plain FTS5 ranking on generated
// corpora: same chunks in the same order with the same scores, for any query, filter and limit,
// before, while and after the postings are built in the background.
#include "lexical_index.h"

#include "test_support.h"

#include "strongbox/retrieval/store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
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
    // Once the postings are built, everything below extends them or drops chunks from them.
    REQUIRE(store->lexical_index_ready(std::chrono::seconds(60)));

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
        REQUIRE(store->lexical_index_ready(std::chrono::seconds(60)));
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

namespace {

// The terms of `n` generated chunks, Zipf-distributed: a few in almost every chunk (lists of many
// blocks), most rare.
std::vector<std::vector<std::string>> random_chunks(std::mt19937_64 & rng, size_t n) {
    std::vector<std::vector<std::string>> chunks(n);
    for (auto & terms : chunks) {
        size_t len = 1 + rng() % 40;
        for (size_t i = 0; i < len; ++i) {
            double u = std::uniform_real_distribution<double>(0.001, 1.0)(rng);
            terms.push_back("t" + std::to_string(static_cast<int>(1.0 / u)));
        }
    }
    return chunks;
}

// Every query over every term gives the same top-k from both indexes, whatever their term ids.
void check_same_postings(const detail::LexicalIndex & a, const detail::LexicalIndex & b, const ChunkIdSet & everything,
                         std::mt19937_64 & rng) {
    REQUIRE(a.postings() == b.postings());
    for (int q = 0; q < 200; ++q) {
        std::vector<detail::ScoredPhrase> pa;
        std::vector<detail::ScoredPhrase> pb;
        size_t n_terms = 1 + rng() % 5;
        for (size_t i = 0; i < n_terms; ++i) {
            std::string term = "t" + std::to_string(1 + rng() % (q % 2 == 0 ? 8 : 1000));
            int64_t ta = a.find(term);
            int64_t tb = b.find(term);
            int64_t df_a = ta < 0 ? 0 : a.visible_df(static_cast<uint32_t>(ta), everything);
            int64_t df_b = tb < 0 ? 0 : b.visible_df(static_cast<uint32_t>(tb), everything);
            INFO("term " << term);
            REQUIRE(df_a == df_b);
            if (df_a > 0) {
                double idf = 1.0 + static_cast<double>(i) / 3.0;
                pa.push_back({static_cast<uint32_t>(ta), idf});
                pb.push_back({static_cast<uint32_t>(tb), idf});
            }
        }
        int limit = q % 3 == 0 ? 1000 : 1 + static_cast<int>(rng() % 20);
        auto ha = a.top_k(pa, everything, 20.0, limit);
        auto hb = b.top_k(pb, everything, 20.0, limit);
        REQUIRE(ha.size() == hb.size());
        for (size_t i = 0; i < ha.size(); ++i) {
            CHECK(ha[i].chunk_id == hb[i].chunk_id);
            CHECK(ha[i].score == hb[i].score);
        }
    }
}

}  // namespace

TEST_CASE("postings with chunks removed equal postings built without them, and keep taking new chunks") {
    std::mt19937_64 rng(5);
    detail::LexicalIndex pruned;  // receives every chunk, then loses some
    std::vector<std::vector<std::string>> all;
    std::vector<bool> gone;
    std::vector<int64_t> ids;
    auto add_round = [&](size_t n) {
        for (auto & terms : random_chunks(rng, n)) {
            const auto id = static_cast<int64_t>(all.size()) + 1;
            REQUIRE(pruned.add(id, {}, terms, static_cast<uint32_t>(terms.size())));
            ids.push_back(id);
            all.push_back(std::move(terms));
            gone.push_back(false);
        }
    };
    // Removes a fraction of the remaining chunks: runs of neighbours (whole blocks go) and strays.
    auto remove_round = [&](int percent) {
        std::vector<std::pair<int64_t, std::vector<std::string>>> doomed;
        for (size_t i = 0; i < all.size(); ++i) {
            bool run = (i / 300) % 3 == rng() % 3;
            if (!gone[i] && (run || static_cast<int>(rng() % 100) < percent)) {
                gone[i] = true;
                doomed.emplace_back(static_cast<int64_t>(i) + 1, all[i]);
            }
        }
        doomed.emplace_back(static_cast<int64_t>(all.size()) + 50, std::vector<std::string>{"t1"});  // unknown id
        int64_t expected = 0;
        for (const auto & [id, terms] : doomed) {
            if (id <= static_cast<int64_t>(all.size())) {
                std::vector<std::string> distinct = terms;
                std::sort(distinct.begin(), distinct.end());
                expected += std::unique(distinct.begin(), distinct.end()) - distinct.begin();
            }
        }
        CHECK(pruned.remove(doomed) == expected);
    };
    auto check = [&] {
        detail::LexicalIndex fresh;  // only the chunks still present
        for (size_t i = 0; i < all.size(); ++i) {
            if (!gone[i]) {
                REQUIRE(fresh.add(static_cast<int64_t>(i) + 1, {}, all[i], static_cast<uint32_t>(all[i].size())));
            }
        }
        check_same_postings(pruned, fresh, ChunkIdSet(ids), rng);
    };
    add_round(3000);
    remove_round(20);
    check();
    add_round(500);  // appended after the re-encoded last blocks
    remove_round(40);
    check();
    remove_round(100);  // everything: lists empty out, then fill again
    CHECK(pruned.postings() == 0);
    add_round(400);
    check();
}

TEST_CASE("lexical search is exact before, while and after the postings are built, with writes meanwhile") {
    TempDir dir("lexical_background");
    Corpus corpus(31);
    {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        write_corpus(*store, corpus, 16, 120);
    }
    SearchFilter everything;
    everything.collections = {"c0", "c1", "c2", "c3"};
    int searched_before_ready = 0;
    int removed_before_ready = 0;
    for (int cycle = 0; cycle < 3; ++cycle) {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        // Writes committed while the build reads, usually: a removal, a new version, new chunks.
        removed_before_ready += store->lexical_index_ready() ? 0 : 1;
        std::string victim = "/docs/c" + std::to_string(cycle) + "/d" + std::to_string(cycle) + ".txt";
        auto removed = store->remove_document(victim);
        REQUIRE(removed.ok());
        auto replaced = store->add_document(
            corpus.document("/docs/c3/d" + std::to_string(3 + 4 * cycle) + ".txt", 50, "text/plain"), "c3");
        REQUIRE(replaced.ok());
        REQUIRE(replaced->outcome == AddOutcome::kNewVersion);
        write_corpus(*store, corpus, 1, 30);  // a new version of d0 in c0
        std::vector<std::string> queries;
        std::vector<SearchFilter> filters;
        std::vector<std::vector<LexicalHit>> early;
        for (int i = 0; i < 25; ++i) {
            searched_before_ready += store->lexical_index_ready() ? 0 : 1;
            queries.push_back(i % 5 == 0 ? corpus.common_word() + " " + corpus.common_word() : corpus.query());
            filters.push_back(i % 4 == 0 ? everything : corpus.filter());
            early.push_back(check_same_ranking(*store, queries.back(), filters.back(), i % 2 == 0 ? 10 : 100));
            for (const auto & hit : early.back()) {
                CHECK(std::find(removed->chunk_ids.begin(), removed->chunk_ids.end(), hit.chunk_id) ==
                      removed->chunk_ids.end());
                CHECK(std::find(replaced->superseded_chunk_ids.begin(), replaced->superseded_chunk_ids.end(),
                                hit.chunk_id) == replaced->superseded_chunk_ids.end());
            }
        }
        REQUIRE(store->lexical_index_ready(std::chrono::seconds(60)));
        for (size_t i = 0; i < queries.size(); ++i) {
            auto late = check_same_ranking(*store, queries[i], filters[i], i % 2 == 0 ? 10 : 100);
            REQUIRE(late.size() == early[i].size());
            for (size_t j = 0; j < late.size(); ++j) {
                CHECK(late[j].chunk_id == early[i][j].chunk_id);
                CHECK(late[j].score == early[i][j].score);
            }
        }
    }
    MESSAGE(removed_before_ready << " of 3 removals and " << searched_before_ready
                                 << " of 75 searches came before the postings were ready");
}

TEST_CASE("closing a store while its postings are being built neither hangs nor crashes") {
    TempDir dir("lexical_close");
    Corpus corpus(37);
    {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        write_corpus(*store, corpus, 8, 250);
    }
    SearchFilter everything;
    everything.collections = {"c0", "c1", "c2", "c3"};
    for (int cycle = 0; cycle < 12; ++cycle) {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        if (cycle % 3 == 1) {
            REQUIRE(store->lexical_search(corpus.common_word(), everything, 5).ok());
        }
        if (cycle % 3 == 2) {
            // d2, d5, d0, d3: each removed once
            REQUIRE(
                store
                    ->remove_document("/docs/c" + std::to_string(cycle % 4) + "/d" + std::to_string(cycle % 8) + ".txt")
                    .ok());
        }
        // Destroyed here, usually mid-build; the next open must find the database intact.
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    REQUIRE(store->lexical_index_ready(std::chrono::seconds(60)));
    for (int i = 0; i < 20; ++i) {
        check_same_ranking(*store, corpus.query(), corpus.filter(), 20);
    }
}
