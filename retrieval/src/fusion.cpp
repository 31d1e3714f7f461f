#include "fusion.h"

#include <algorithm>
#include <unordered_map>

namespace strongbox::retrieval::detail {

std::vector<Fused> fuse(const std::vector<RankedId> & bm25, const std::vector<RankedId> & dense,
                        const FusionParams & params) {
    std::unordered_map<int64_t, Fused> by_id;
    for (size_t i = 0; i < bm25.size(); ++i) {
        Fused & f = by_id[bm25[i].chunk_id];
        f.chunk_id = bm25[i].chunk_id;
        if (f.bm25_rank == 0) {
            f.bm25_rank = static_cast<int>(i) + 1;
            f.bm25_score = bm25[i].score;
        }
    }
    for (size_t i = 0; i < dense.size(); ++i) {
        Fused & f = by_id[dense[i].chunk_id];
        f.chunk_id = dense[i].chunk_id;
        if (f.dense_rank == 0) {
            f.dense_rank = static_cast<int>(i) + 1;
            f.dense_similarity = dense[i].score;
        }
    }
    std::vector<Fused> out;
    for (auto & [id, f] : by_id) {
        if (f.bm25_rank == 0 && f.dense_similarity < params.min_dense_similarity) {
            continue;  // no evidence: nothing lexical and not similar enough
        }
        f.score = (f.bm25_rank > 0 ? params.bm25_weight / (params.rrf_k + f.bm25_rank) : 0.0) +
                  (f.dense_rank > 0 ? params.dense_weight / (params.rrf_k + f.dense_rank) : 0.0);
        out.push_back(f);
    }
    std::sort(out.begin(), out.end(), [](const Fused & a, const Fused & b) {
        return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    });
    return out;
}

}  // namespace strongbox::retrieval::detail
