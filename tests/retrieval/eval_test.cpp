#include "strongbox/retrieval/eval.h"

#include "test_support.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::TempDir;

TEST_CASE("retrieval metrics match values computed by hand") {
    std::vector<EvalQuery> queries = {
        {"q1", "first", {"a"}},
        {"q2", "second", {"x", "y"}},
    };
    std::vector<std::vector<std::string>> rankings = {{"b", "a", "c"}, {"x", "z", "y"}};
    EvalMetrics m = compute_metrics(rankings, queries);
    CHECK(m.queries == 2);
    CHECK(m.recall_at_1 == doctest::Approx((0.0 + 0.5) / 2));
    CHECK(m.recall_at_5 == doctest::Approx(1.0));
    CHECK(m.recall_at_10 == doctest::Approx(1.0));
    CHECK(m.mrr_at_10 == doctest::Approx((0.5 + 1.0) / 2));
    double ndcg1 = 1.0 / std::log2(3.0);
    double ndcg2 = (1.0 + 1.0 / std::log2(4.0)) / (1.0 + 1.0 / std::log2(3.0));
    CHECK(m.ndcg_at_10 == doctest::Approx((ndcg1 + ndcg2) / 2));
    // A relevant document below rank 10 earns nothing.
    std::vector<std::string> deep(10, "zz");
    deep.push_back("a");
    EvalMetrics miss = compute_metrics({deep}, {queries[0]});
    CHECK(miss.recall_at_10 == 0.0);
    CHECK(miss.mrr_at_10 == 0.0);
    CHECK(miss.ndcg_at_10 == 0.0);
}

TEST_CASE("a missing or malformed dataset file is reported with its path and line") {
    auto missing = load_pubmedqa("/nonexistent-sb-dataset");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("/nonexistent-sb-dataset") != std::string::npos);

    TempDir dir("eval_bad");
    REQUIRE(core::write_file_atomic(dir / "corpus_contexts1000.jsonl",
                                    "{\"pmid\":\"1\",\"contexts\":[\"text\"]}\n{\"pmid\": oops}\n")
                .ok());
    auto bad = load_pubmedqa(dir.path);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(bad.error().message().find("corpus_contexts1000.jsonl:2") != std::string::npos);
}

TEST_CASE("a BEIR-style dataset is loaded and scored end to end") {
    TempDir dir("eval_beir");
    std::filesystem::create_directories(dir / "qrels");
    REQUIRE(core::write_file_atomic(dir / "corpus.jsonl",
                                    "{\"_id\":\"d1\",\"title\":\"Backups\","
                                    "\"text\":\"Nightly tape backups at two.\"}\n"
                                    "{\"_id\":\"d2\",\"title\":\"Keys\","
                                    "\"text\":\"Encryption keys rotate quarterly.\"}\n"
                                    "{\"_id\":\"d3\",\"title\":\"Canteen\",\"text\":\"Soup on Fridays.\"}\n")
                .ok());
    REQUIRE(core::write_file_atomic(dir / "queries.jsonl",
                                    "{\"_id\":\"q1\",\"text\":\"when do tape backups run\"}\n"
                                    "{\"_id\":\"q2\",\"text\":\"encryption key rotation schedule\"}\n"
                                    "{\"_id\":\"q3\",\"text\":\"no judgements for this one\"}\n")
                .ok());
    REQUIRE(
        core::write_file_atomic(dir / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n").ok());
    auto data = load_beir(dir.path);
    REQUIRE_MESSAGE(data.ok(), (data.ok() ? "" : data.error().message()));
    CHECK(data->corpus.size() == 3);
    REQUIRE(data->queries.size() == 2);  // q3 has no judgements
    std::vector<EvalRun> runs = {{"hybrid", SearchOptions{}}};
    auto results = evaluate_retrieval(*data, dir / "work", runs, std::make_shared<HashedEmbedder>());
    REQUIRE_MESSAGE(results.ok(), (results.ok() ? "" : results.error().message()));
    CHECK((*results)[0].metrics.recall_at_1 == 1.0);
}

// Thirty queries: one query is the noise here. On the 500 dev queries (`strongbox eval retrieval`)
// hybrid leads BM25 at every cut-off.
TEST_CASE("on a PubMedQA sample hybrid search ranks gold abstracts within one query of BM25 at rank 1") {
    auto data = load_pubmedqa(std::filesystem::path(SB_TEST_DATA_DIR) / "retrieval" / "pubmedqa-sample");
    REQUIRE_MESSAGE(data.ok(), (data.ok() ? "" : data.error().message()));
    REQUIRE(data->corpus.size() == 100);
    REQUIRE(data->queries.size() == 30);
    TempDir dir("eval_pubmedqa");
    SearchOptions bm25;
    bm25.use_dense = false;
    SearchOptions dense;
    dense.use_bm25 = false;
    std::vector<EvalRun> runs = {{"bm25", bm25}, {"dense", dense}, {"hybrid", SearchOptions{}}};
    auto results = evaluate_retrieval(*data, dir / "work", runs, std::make_shared<HashedEmbedder>());
    REQUIRE_MESSAGE(results.ok(), (results.ok() ? "" : results.error().message()));
    const EvalMetrics & b = (*results)[0].metrics;
    const EvalMetrics & d = (*results)[1].metrics;
    const EvalMetrics & h = (*results)[2].metrics;
    CAPTURE(b.recall_at_1);
    CAPTURE(d.recall_at_1);
    CAPTURE(h.recall_at_1);
    CHECK(b.recall_at_5 >= 0.9);
    CHECK(d.recall_at_10 >= 0.8);
    const double one_query = 1.0 / static_cast<double>(data->queries.size());
    CHECK(h.recall_at_1 >= b.recall_at_1 - one_query - 1e-9);
    CHECK(h.recall_at_5 >= b.recall_at_5);
    CHECK(h.mrr_at_10 >= b.mrr_at_10 - one_query);
}
