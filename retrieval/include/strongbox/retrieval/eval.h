// Retrieval evaluation: recall@1/5/10, MRR@10 and nDCG@10 of a Retriever over a labelled corpus,
// so ranking changes are judged by numbers (`strongbox eval retrieval`, bench/retrieval/eval_bench).
//
// Datasets: a BEIR-style directory (corpus.jsonl {_id,title,text}, queries.jsonl {_id,text},
// qrels/<split>.tsv query-id, corpus-id, score) or the PubMedQA PQA-L files
// (corpus_contexts1000.jsonl {pmid,contexts[]}, queries_dev500.jsonl {qid,question,gold_pmid}).
// Relevance is binary (qrels score > 0) at the level of corpus documents: a document is indexed
// as one Strongbox document with one chunk per passage, and a ranking of chunks becomes a ranking
// of documents by first appearance.
//
// Thread-safety: plain functions; evaluate_retrieval() owns the store it builds in work_dir.
// Errors: missing or malformed dataset files are kNotFound / kCorruptInput naming file and line.
//
//   SB_ASSIGN_OR_RETURN(EvalDataset data, load_pubmedqa("/data/qa-pubmedqa-pqal"));
//   std::vector<EvalRun> runs = {{"bm25", bm25_only}, {"hybrid", hybrid}};
//   SB_ASSIGN_OR_RETURN(auto results, evaluate_retrieval(data, tmp_dir, runs, embedder));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/retrieval/embedder.h"
#include "strongbox/retrieval/retriever.h"

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

struct EvalDocument {
    std::string id;
    std::vector<std::string> passages;
};

struct EvalQuery {
    std::string id;
    std::string text;
    std::vector<std::string> relevant;  // ids of relevant documents
};

struct EvalDataset {
    std::string name;
    std::vector<EvalDocument> corpus;
    std::vector<EvalQuery> queries;
};

core::Result<EvalDataset> load_pubmedqa(const std::filesystem::path & dir);
core::Result<EvalDataset> load_beir(const std::filesystem::path & dir, std::string_view split = "test");

struct EvalMetrics {
    int queries = 0;
    double recall_at_1 = 0;
    double recall_at_5 = 0;
    double recall_at_10 = 0;
    double mrr_at_10 = 0;
    double ndcg_at_10 = 0;
};

// rankings[i] is the ranked document ids returned for queries[i].
EvalMetrics compute_metrics(const std::vector<std::vector<std::string>> & rankings,
                            const std::vector<EvalQuery> & queries);

struct EvalRun {
    std::string name;
    SearchOptions options;  // collections are set by the evaluation; k is raised to at least 10 documents
};

struct EvalResult {
    std::string name;
    EvalMetrics metrics;
    double median_query_ms = 0;
    std::vector<std::vector<std::string>> rankings;  // per query, for metrics over subsets
};

// Indexes the corpus into a fresh store under work_dir (removed first), then runs every query
// once per run. Returns one result per run, in order.
core::Result<std::vector<EvalResult>> evaluate_retrieval(const EvalDataset & dataset,
                                                         const std::filesystem::path & work_dir,
                                                         std::span<const EvalRun> runs,
                                                         std::shared_ptr<const Embedder> embedder);

}  // namespace strongbox::retrieval
