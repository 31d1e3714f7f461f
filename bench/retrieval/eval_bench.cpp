// Retrieval quality on PubMedQA PQA-L: question -> gold abstract among 1,000, for BM25 alone,
// dense (HashedEmbedder) alone and hybrid fusion at several weights, all measured in one run.
//
//   strongbox_bench_eval ../shared/data/qa-pubmedqa-pqal [work_dir]
#include "strongbox/retrieval/eval.h"
#include "strongbox/retrieval/lsa_embedder.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

using namespace strongbox::retrieval;

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <pubmedqa dir> [work dir]\n", argv[0]);
        return 2;
    }
    std::filesystem::path work =
        argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path() / "sb_eval_bench";
    auto data = load_pubmedqa(argv[1]);
    if (!data.ok()) {
        std::fprintf(stderr, "%s\n", data.error().to_string().c_str());
        return 1;
    }
    std::vector<EvalRun> runs;
    SearchOptions bm25;
    bm25.use_dense = false;
    runs.push_back({"bm25", bm25});
    SearchOptions dense;
    dense.use_bm25 = false;
    runs.push_back({"dense", dense});
    SearchOptions dense_all = dense;
    dense_all.min_dense_similarity = -1;  // no evidence cut-off: the ranking as the index gives it
    runs.push_back({"dense (no cut-off)", dense_all});
    runs.push_back({"hybrid (default)", SearchOptions{}});
    for (auto [k, w] : {std::pair{60, 1.0}, std::pair{60, 0.2}, std::pair{5, 1.0}}) {
        SearchOptions hybrid;
        hybrid.rrf_k = k;
        hybrid.dense_weight = w;
        char name[64];
        std::snprintf(name, sizeof name, "hybrid k=%d w_dense=%.1f", k, w);
        runs.push_back({name, hybrid});
    }
    auto results = evaluate_retrieval(*data, work, runs, std::make_shared<HashedEmbedder>());
    std::filesystem::remove_all(work);
    if (!results.ok()) {
        std::fprintf(stderr, "%s\n", results.error().to_string().c_str());
        return 1;
    }
    std::printf("%s: %zu documents, %zu queries; defaults: rrf_k=%d, w_bm25=%.1f, w_dense=%.1f\n", data->name.c_str(),
                data->corpus.size(), data->queries.size(), SearchOptions{}.rrf_k, SearchOptions{}.bm25_weight,
                SearchOptions{}.dense_weight);
    // The defaults were tuned on the first half of the questions; the second half is held out.
    const size_t half = data->queries.size() / 2;
    struct Slice {
        const char * name;
        size_t begin;
        size_t end;
    };
    for (const Slice & slice : {Slice{"all questions", 0, data->queries.size()}, Slice{"first half (tuning)", 0, half},
                                Slice{"second half (held out)", half, data->queries.size()}}) {
        std::printf("\n%s\n%-24s %8s %8s %8s %8s %8s %10s\n", slice.name, "run", "R@1", "R@5", "R@10", "MRR@10",
                    "nDCG@10", "median ms");
        std::vector<EvalQuery> queries(data->queries.begin() + static_cast<std::ptrdiff_t>(slice.begin),
                                       data->queries.begin() + static_cast<std::ptrdiff_t>(slice.end));
        for (const auto & r : *results) {
            auto first = r.rankings.begin() + static_cast<std::ptrdiff_t>(slice.begin);
            auto count = static_cast<std::ptrdiff_t>(slice.end - slice.begin);
            std::vector<std::vector<std::string>> rankings(first, first + count);
            EvalMetrics m = compute_metrics(rankings, queries);
            std::printf("%-24s %8.4f %8.4f %8.4f %8.4f %8.4f %10.2f\n", r.name.c_str(), m.recall_at_1, m.recall_at_5,
                        m.recall_at_10, m.mrr_at_10, m.ndcg_at_10, r.median_query_ms);
        }
    }

    // Dense alone and hybrid with the corpus-fitted LSA embedder (fitted on every passage).
    std::vector<std::string> passages;
    for (const auto & doc : data->corpus) {
        passages.insert(passages.end(), doc.passages.begin(), doc.passages.end());
    }
    auto fit_start = std::chrono::steady_clock::now();
    auto lsa = LsaEmbedder::fit(passages, 256);
    double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    if (!lsa.ok()) {
        std::fprintf(stderr, "%s\n", lsa.error().to_string().c_str());
        return 1;
    }
    std::vector<EvalRun> lsa_runs;
    SearchOptions lsa_dense;
    lsa_dense.use_bm25 = false;
    lsa_dense.min_dense_similarity = -1;
    lsa_runs.push_back({"lsa dense (no cut-off)", lsa_dense});
    lsa_runs.push_back({"lsa hybrid (default)", SearchOptions{}});
    SearchOptions lsa_equal;
    lsa_equal.rrf_k = 60;
    lsa_equal.dense_weight = 1.0;
    lsa_runs.push_back({"lsa hybrid k=60 w=1.0", lsa_equal});
    auto lsa_results = evaluate_retrieval(*data, work, lsa_runs, std::make_shared<LsaEmbedder>(std::move(lsa).value()));
    std::filesystem::remove_all(work);
    if (!lsa_results.ok()) {
        std::fprintf(stderr, "%s\n", lsa_results.error().to_string().c_str());
        return 1;
    }
    std::printf("\nLSA embedder (256 dims, fitted on %zu passages in %.1f s), all questions\n", passages.size(), fit_s);
    for (const auto & r : *lsa_results) {
        const auto & m = r.metrics;
        std::printf("%-24s %8.4f %8.4f %8.4f %8.4f %8.4f %10.2f\n", r.name.c_str(), m.recall_at_1, m.recall_at_5,
                    m.recall_at_10, m.mrr_at_10, m.ndcg_at_10, r.median_query_ms);
    }
    return 0;
}
