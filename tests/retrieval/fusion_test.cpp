#include "fusion.h"

#include <doctest/doctest.h>

using namespace strongbox::retrieval::detail;

TEST_CASE("reciprocal rank fusion ranks a passage found by both lists above ones found by one") {
    FusionParams params;
    params.rrf_k = 60;
    params.min_dense_similarity = 0.25;
    // 7 is second in both lists; 1 tops BM25 only, 2 tops dense only.
    std::vector<RankedId> bm25 = {{1, 9.0}, {7, 8.0}, {3, 2.0}};
    std::vector<RankedId> dense = {{2, 0.9}, {7, 0.8}, {4, 0.5}};
    auto fused = fuse(bm25, dense, params);
    REQUIRE(fused.size() == 5);
    CHECK(fused[0].chunk_id == 7);
    CHECK(fused[0].bm25_rank == 2);
    CHECK(fused[0].dense_rank == 2);
    CHECK(fused[0].score == doctest::Approx(2.0 / 62.0));
    CHECK(fused[1].chunk_id == 1);  // tie with 2 at 1/61 broken by id
    CHECK(fused[2].chunk_id == 2);
    CHECK(fused[1].score == doctest::Approx(1.0 / 61.0));
}

TEST_CASE("fusion weights shift the order between the lists") {
    std::vector<RankedId> bm25 = {{1, 9.0}};
    std::vector<RankedId> dense = {{2, 0.9}};
    FusionParams lexical_heavy;
    lexical_heavy.bm25_weight = 2.0;
    CHECK(fuse(bm25, dense, lexical_heavy).front().chunk_id == 1);
    FusionParams dense_heavy;
    dense_heavy.dense_weight = 2.0;
    CHECK(fuse(bm25, dense, dense_heavy).front().chunk_id == 2);
}

TEST_CASE("dense-only candidates below the evidence threshold are dropped") {
    std::vector<RankedId> dense = {{5, 0.24}, {6, 0.26}};
    auto fused = fuse({}, dense, FusionParams{});
    REQUIRE(fused.size() == 1);
    CHECK(fused[0].chunk_id == 6);
    CHECK(fuse({}, {{5, 0.1}}, FusionParams{}).empty());
    // A lexical match is evidence even when the dense similarity is low.
    CHECK(fuse({{5, 1.0}}, {{5, 0.01}}, FusionParams{}).size() == 1);
}
