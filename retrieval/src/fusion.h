// Reciprocal rank fusion of the BM25 and dense candidate lists, and the minimum-evidence rule.
// Pure functions so the ranking rules can be tested without a corpus.
#pragma once

#include <cstdint>
#include <vector>

namespace strongbox::retrieval::detail {

struct RankedId {
    int64_t chunk_id = 0;
    double score = 0;  // BM25 score or cosine similarity
};

struct FusionParams {
    double bm25_weight = 1.0;
    double dense_weight = 1.0;
    int rrf_k = 60;  // the retriever passes its SearchOptions values
    double min_dense_similarity = 0.25;
};

struct Fused {
    int64_t chunk_id = 0;
    int bm25_rank = 0;  // 1-based, 0 = absent
    double bm25_score = 0;
    int dense_rank = 0;
    double dense_similarity = 0;
    double score = 0;
};

// Both lists best first. Returns the chunks that meet the evidence rule (a lexical match, or
// dense similarity >= min_dense_similarity), by fused score descending, ties by chunk id.
std::vector<Fused> fuse(const std::vector<RankedId> & bm25, const std::vector<RankedId> & dense,
                        const FusionParams & params);

}  // namespace strongbox::retrieval::detail
