#include "strongbox/retrieval/vector_index.h"

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/retrieval/store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::make_doc;
using retrieval::testing::TempDir;

namespace {

const EmbedderIdentity kIdentity{"test-random", "1", 32};

std::vector<float> random_unit_vectors(size_t n, int dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> v(n * static_cast<size_t>(dim));
    for (size_t i = 0; i < n; ++i) {
        double norm = 0;
        for (int d = 0; d < dim; ++d) {
            float x = normal(rng);
            v[i * static_cast<size_t>(dim) + static_cast<size_t>(d)] = x;
            norm += static_cast<double>(x) * x;
        }
        for (int d = 0; d < dim; ++d) {
            v[i * static_cast<size_t>(dim) + static_cast<size_t>(d)] /= static_cast<float>(std::sqrt(norm));
        }
    }
    return v;
}

// Exact top-k by brute force: the reference every index type is compared against.
std::vector<int64_t> brute_force(const std::vector<float> & data, const std::vector<int64_t> & ids,
                                 std::span<const float> q, int k, const std::set<int64_t> * allowed) {
    const size_t dim = q.size();
    std::vector<std::pair<double, int64_t>> scored;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (allowed != nullptr && allowed->count(ids[i]) == 0) {
            continue;
        }
        double s = 0;
        for (size_t d = 0; d < dim; ++d) {
            s += static_cast<double>(data[i * dim + d]) * q[d];
        }
        scored.emplace_back(-s, ids[i]);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<int64_t> out;
    for (size_t i = 0; i < scored.size() && i < static_cast<size_t>(k); ++i) {
        out.push_back(scored[i].second);
    }
    return out;
}

std::vector<int64_t> ids_of(const std::vector<VectorHit> & hits) {
    std::vector<int64_t> ids;
    for (const auto & h : hits) {
        ids.push_back(h.chunk_id);
    }
    return ids;
}

}  // namespace

TEST_CASE("every index type matches exact search and never returns chunks outside the allowed set") {
    const int n = 1000;
    auto data = random_unit_vectors(n, kIdentity.dimension, 7);
    std::vector<int64_t> ids(n);
    for (int i = 0; i < n; ++i) {
        ids[static_cast<size_t>(i)] = 1000 + 3 * i;  // chunk ids are not positions
    }
    auto queries = random_unit_vectors(20, kIdentity.dimension, 8);
    std::set<int64_t> allowed_set;
    for (int i = 0; i < n; i += 3) {
        allowed_set.insert(ids[static_cast<size_t>(i)]);
    }
    std::vector<int64_t> allowed(allowed_set.begin(), allowed_set.end());
    for (std::string factory : {"Flat", "HNSW16", "IVF16,Flat"}) {
        CAPTURE(factory);
        auto index = VectorIndex::create(kIdentity, factory);
        REQUIRE(index.ok());
        REQUIRE(index->add(ids, data).ok());
        CHECK(index->size() == n);
        double found = 0;
        double total = 0;
        for (int qi = 0; qi < 20; ++qi) {
            std::span<const float> q(queries.data() + qi * kIdentity.dimension, kIdentity.dimension);
            auto hits = index->search(q, 10, &allowed);
            REQUIRE(hits.ok());
            for (const auto & h : *hits) {
                CHECK(allowed_set.count(h.chunk_id) == 1);
            }
            auto exact = brute_force(data, ids, q, 10, &allowed_set);
            for (int64_t id : ids_of(*hits)) {
                found += std::count(exact.begin(), exact.end(), id);
            }
            total += static_cast<double>(exact.size());
        }
        double recall = found / total;
        CAPTURE(recall);
        if (factory == "Flat") {
            CHECK(recall == 1.0);
        } else {
            CHECK(recall >= 0.9);
        }
        // Removing makes the chunks disappear for good.
        std::vector<int64_t> gone(allowed.begin(), allowed.begin() + 100);
        CHECK(index->remove(gone) == 100);
        CHECK(index->size() == n - 100);
        std::set<int64_t> gone_set(gone.begin(), gone.end());
        for (int qi = 0; qi < 20; ++qi) {
            std::span<const float> q(queries.data() + qi * kIdentity.dimension, kIdentity.dimension);
            auto hits = index->search(q, 50, &allowed);
            REQUIRE(hits.ok());
            for (const auto & h : *hits) {
                CHECK(gone_set.count(h.chunk_id) == 0);
            }
        }
    }
}

TEST_CASE("flat search returns the exact visible top-k with exact scores whether most, few or none are visible") {
    // 37 dimensions: the vector kernels' full blocks and their scalar tails are both exercised.
    const EmbedderIdentity identity{"test-random", "1", 37};
    const int n = 3000;
    const int k = 10;
    auto data = random_unit_vectors(n, identity.dimension, 21);
    std::vector<int64_t> ids(n);
    for (int i = 0; i < n; ++i) {
        ids[static_cast<size_t>(i)] = 500 + 2 * i;
    }
    auto index = VectorIndex::create(identity, "Flat");
    REQUIRE(index.ok());
    REQUIRE(index->add(ids, data).ok());
    auto queries = random_unit_vectors(10, identity.dimension, 22);
    struct Share {
        const char * name;
        int every;  // one chunk in `every` is visible; 0: none
    };
    for (Share share : {Share{"all", 1}, Share{"nine in ten", -10}, Share{"few", 700}, Share{"none", 0}}) {
        CAPTURE(share.name);
        std::set<int64_t> visible;
        for (int i = 0; i < n; ++i) {
            bool in = share.every > 0 ? i % share.every == 0 : share.every < 0 && i % -share.every != 0;
            if (in) {
                visible.insert(ids[static_cast<size_t>(i)]);
            }
        }
        std::vector<int64_t> allowed(visible.begin(), visible.end());
        for (int qi = 0; qi < 10; ++qi) {
            std::span<const float> q(queries.data() + qi * identity.dimension, identity.dimension);
            auto hits = index->search(q, k, &allowed);
            REQUIRE(hits.ok());
            auto exact = brute_force(data, ids, q, k, &visible);
            CHECK(ids_of(*hits) == exact);
            CHECK(hits->size() == std::min<size_t>(k, visible.size()));
            for (const auto & h : *hits) {
                auto at = static_cast<size_t>((h.chunk_id - 500) / 2) * static_cast<size_t>(identity.dimension);
                double s = 0;
                for (int d = 0; d < identity.dimension; ++d) {
                    s += static_cast<double>(data[at + static_cast<size_t>(d)]) * q[static_cast<size_t>(d)];
                }
                CHECK(h.similarity == doctest::Approx(s).epsilon(1e-5));
            }
        }
    }
    // Unfiltered, after a removal compacted the index: still the exact top-k of what remains.
    std::vector<int64_t> gone(ids.begin(), ids.begin() + 1500);
    CHECK(index->remove(gone) == 1500);
    std::vector<float> kept_data(data.begin() + 1500 * identity.dimension, data.end());
    std::vector<int64_t> kept_ids(ids.begin() + 1500, ids.end());
    std::span<const float> q(queries.data(), identity.dimension);
    auto hits = index->search(q, k);
    REQUIRE(hits.ok());
    CHECK(ids_of(*hits) == brute_force(kept_data, kept_ids, q, k, nullptr));
}

TEST_CASE("flat search keeps exact hits, scores and tie order where vectors differ below the compact codes' step") {
    // One large component and small ones in steps of 1/1024: the int8 codes (step 1/127 here)
    // cannot tell the vectors apart, while every float score is exact (multiples of 2^-20 far
    // from float's limits), so the brute-force ranking in double, equal scores by the lower
    // chunk id, is the float scan's ranking too. Scores repeat often, which tests the tie order.
    const EmbedderIdentity identity{"test-grid", "1", 48};
    const auto dim = static_cast<size_t>(identity.dimension);
    auto grid_vectors = [&](size_t n, uint32_t seed) {
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> step(-8, 8);
        std::vector<float> v(n * dim);
        for (size_t i = 0; i < n; ++i) {
            v[i * dim] = 1.0f;
            for (size_t d = 1; d < dim; ++d) {
                v[i * dim + d] = static_cast<float>(step(rng)) / 1024.0f;
            }
        }
        return v;
    };
    const size_t n = 2000;
    auto data = grid_vectors(n, 31);
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) {
        ids[i] = 100 + 3 * static_cast<int64_t>(i);
    }
    auto queries = grid_vectors(8, 32);
    auto index = VectorIndex::create(identity, "Flat");
    REQUIRE(index.ok());
    REQUIRE(index->add(ids, data).ok());
    auto check_exact = [&](const VectorIndex & idx, const std::vector<float> & vectors,
                           const std::vector<int64_t> & chunk_ids, int k, const std::set<int64_t> * visible) {
        for (size_t qi = 0; qi < 8; ++qi) {
            std::span<const float> q(queries.data() + qi * dim, dim);
            std::vector<int64_t> allowed;
            if (visible != nullptr) {
                allowed.assign(visible->begin(), visible->end());
            }
            auto hits = idx.search(q, k, visible != nullptr ? &allowed : nullptr);
            REQUIRE(hits.ok());
            CHECK(ids_of(*hits) == brute_force(vectors, chunk_ids, q, k, visible));
            for (const auto & h : *hits) {
                auto at =
                    static_cast<size_t>(std::find(chunk_ids.begin(), chunk_ids.end(), h.chunk_id) - chunk_ids.begin());
                double s = 0;
                for (size_t d = 0; d < dim; ++d) {
                    s += static_cast<double>(vectors[at * dim + d]) * q[d];
                }
                CHECK(static_cast<double>(h.similarity) == s);
            }
        }
    };
    std::set<int64_t> every_third;
    for (size_t i = 0; i < n; i += 3) {
        every_third.insert(ids[i]);
    }
    check_exact(*index, data, ids, 10, nullptr);
    check_exact(*index, data, ids, 50, &every_third);

    // After a removal compacted the index, and after a reload, the same holds for what remains.
    std::vector<int64_t> gone(ids.begin(), ids.begin() + 700);
    CHECK(index->remove(gone) == 700);
    std::vector<float> kept(data.begin() + static_cast<std::ptrdiff_t>(700 * dim), data.end());
    std::vector<int64_t> kept_ids(ids.begin() + 700, ids.end());
    check_exact(*index, kept, kept_ids, 10, nullptr);
    TempDir dir("vi_grid");
    REQUIRE(index->save(dir / "v.idx").ok());
    auto loaded = VectorIndex::load(dir / "v.idx", identity);
    REQUIRE(loaded.ok());
    check_exact(*loaded, kept, kept_ids, 50, &every_third);

    // A vector too large for bounded codes sends searches to the full float scan, still exact.
    std::vector<float> huge(dim, 0.0f);
    huge[0] = 4e15f;
    std::vector<int64_t> huge_id = {99};
    REQUIRE(loaded->add(huge_id, huge).ok());
    auto hits = loaded->search(std::span<const float>(queries.data(), dim), 10);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 10);
    CHECK((*hits)[0].chunk_id == 99);
    std::vector<int64_t> rest = ids_of(*hits);
    rest.erase(rest.begin());
    CHECK(rest == brute_force(kept, kept_ids, std::span<const float>(queries.data(), dim), 9, nullptr));
}

TEST_CASE("a saved index loads back with identical search results") {
    TempDir dir("vi_roundtrip");
    auto data = random_unit_vectors(300, kIdentity.dimension, 1);
    std::vector<int64_t> ids(300);
    for (int i = 0; i < 300; ++i) {
        ids[static_cast<size_t>(i)] = i + 1;
    }
    for (std::string factory : {"Flat", "HNSW16", "IVF8,Flat"}) {
        CAPTURE(factory);
        auto index = VectorIndex::create(kIdentity, factory);
        REQUIRE(index.ok());
        REQUIRE(index->add(ids, data).ok());
        std::vector<int64_t> drop = {5, 6, 7};
        index->remove(drop);
        REQUIRE(index->save(dir / "v.idx").ok());
        auto loaded = VectorIndex::load(dir / "v.idx", kIdentity);
        REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message()));
        CHECK(loaded->size() == index->size());
        CHECK(loaded->factory() == index->factory());
        CHECK(loaded->chunk_ids() == index->chunk_ids());
        for (int qi = 0; qi < 10; ++qi) {
            std::span<const float> q(data.data() + qi * 32, 32);
            auto a = index->search(q, 10);
            auto b = loaded->search(q, 10);
            REQUIRE(a.ok());
            REQUIRE(b.ok());
            CHECK(ids_of(*a) == ids_of(*b));
        }
    }
}

TEST_CASE("a truncated or damaged index file is a corrupt-input error that names the rebuild path") {
    TempDir dir("vi_corrupt");
    auto data = random_unit_vectors(100, kIdentity.dimension, 2);
    std::vector<int64_t> ids(100);
    for (int i = 0; i < 100; ++i) {
        ids[static_cast<size_t>(i)] = i + 1;
    }
    auto index = VectorIndex::create(kIdentity);
    REQUIRE(index.ok());
    REQUIRE(index->add(ids, data).ok());
    REQUIRE(index->save(dir / "v.idx").ok());
    auto bytes = core::read_file(dir / "v.idx");
    REQUIRE(bytes.ok());
    for (size_t keep : {size_t{0}, size_t{5}, size_t{20}, bytes->size() / 2, bytes->size() - 1}) {
        CAPTURE(keep);
        REQUIRE(core::write_file_atomic(dir / "t.idx", bytes->substr(0, keep)).ok());
        auto loaded = VectorIndex::load(dir / "t.idx", kIdentity);
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(loaded.error().message().find("rebuild") != std::string::npos);
        CHECK(loaded.error().message().find("t.idx") != std::string::npos);
    }
    std::string flipped = *bytes;
    flipped[flipped.size() - 40] ^= 0x5A;
    REQUIRE(core::write_file_atomic(dir / "f.idx", flipped).ok());
    auto loaded = VectorIndex::load(dir / "f.idx", kIdentity);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code() == core::ErrorCode::kCorruptInput);
}

TEST_CASE("an index built with another embedder is refused with advice to re-embed") {
    TempDir dir("vi_identity");
    auto index = VectorIndex::create(kIdentity);
    REQUIRE(index.ok());
    REQUIRE(index->save(dir / "v.idx").ok());
    EmbedderIdentity other = kIdentity;
    other.version = "2";
    auto loaded = VectorIndex::load(dir / "v.idx", other);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code() == core::ErrorCode::kUnsupported);
    CHECK(loaded.error().message().find("test-random/1/32") != std::string::npos);
    CHECK(loaded.error().message().find("test-random/2/32") != std::string::npos);
    CHECK(loaded.error().message().find("re-embed") != std::string::npos);
}

TEST_CASE("opening reconciles the index with the store and reports the repairs") {
    TempDir dir("vi_reconcile");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    HashedEmbedder embedder(64);
    auto a = store->add_document(make_doc("/a.txt", {"alpha one", "alpha two"}));
    REQUIRE(a.ok());
    ReconcileReport report;
    auto index = VectorIndex::open(dir / "v.idx", *store, embedder, &report);
    REQUIRE(index.ok());
    CHECK(report.created);
    CHECK(report.added == 2);
    REQUIRE(index->save(dir / "v.idx").ok());
    // Changes the index never saw: a new version of /a.txt and a new document.
    auto a2 = store->add_document(make_doc("/a.txt", {"alpha three"}));
    REQUIRE(a2.ok());
    auto b = store->add_document(make_doc("/b.txt", {"beta one", "beta two"}));
    REQUIRE(b.ok());
    auto reopened = VectorIndex::open(dir / "v.idx", *store, embedder, &report);
    REQUIRE(reopened.ok());
    CHECK_FALSE(report.created);
    CHECK(report.added == 3);
    CHECK(report.removed == 2);
    auto active = store->active_chunk_ids();
    REQUIRE(active.ok());
    CHECK(reopened->chunk_ids() == *active);
}

TEST_CASE("the automatic index type is exact when small, a graph when medium and IVF-SQ8 when very large") {
    CHECK(VectorIndex::factory_for(0, 384) == "Flat");
    CHECK(VectorIndex::factory_for(49'999, 384) == "Flat");
    CHECK(VectorIndex::factory_for(50'000, 384) == "HNSW32");
    CHECK(VectorIndex::factory_for(999'999, 384) == "HNSW32");
    CHECK(VectorIndex::factory_for(1'000'000, 384) == "IVF1000,SQ8");
    CHECK(VectorIndex::factory_for(4'000'000, 384) == "IVF2000,SQ8");
    // Every answer is a factory string this index accepts.
    for (int64_t n : {int64_t{10}, int64_t{100'000}, int64_t{1'000'000}}) {
        CHECK(VectorIndex::create(EmbedderIdentity{"x", "1", 384}, VectorIndex::factory_for(n, 384)).ok());
    }
}

TEST_CASE("an IVF-PQ or IVF-SQ8 index replaces and removes chunks by id without a rebuild, also after a reload") {
    TempDir dir("ivfpq");
    const int n = 2000;
    auto data = random_unit_vectors(n, kIdentity.dimension, 11);
    std::vector<int64_t> ids(n);
    for (int i = 0; i < n; ++i) {
        ids[static_cast<size_t>(i)] = 5000 + 7 * i;
    }
    for (std::string factory : {"IVF16,PQ8x4", "IVF16,SQ8"}) {
        CAPTURE(factory);
        auto index = VectorIndex::create(kIdentity, factory);
        REQUIRE(index.ok());
        REQUIRE(index->add(ids, data).ok());
        auto row = [&](const std::vector<float> & v, int i) {
            return std::span<const float>(v.data() + i * kIdentity.dimension, kIdentity.dimension);
        };
        // A new version of chunk 0's vector, and chunks 1..99 removed.
        auto fresh = random_unit_vectors(1, kIdentity.dimension, 99);
        std::vector<int64_t> first = {ids[0]};
        REQUIRE(index->add(first, fresh).ok());
        std::vector<int64_t> gone(ids.begin() + 1, ids.begin() + 100);
        CHECK(index->remove(gone) == 99);
        CHECK(index->size() == n - 99);
        REQUIRE(index->save(dir / "v.idx").ok());
        auto loaded = VectorIndex::load(dir / "v.idx", kIdentity);
        REQUIRE(loaded.ok());
        CHECK(loaded->factory() == factory);
        std::set<int64_t> gone_set(gone.begin(), gone.end());
        for (const VectorIndex * idx : {&*index, &*loaded}) {
            auto hits = idx->search(row(fresh, 0), 5);
            REQUIRE(hits.ok());
            REQUIRE_FALSE(hits->empty());
            CHECK((*hits)[0].chunk_id == ids[0]);
            auto is_first = [&](const VectorHit & h) {
                return h.chunk_id == ids[0];
            };
            CHECK(std::count_if(hits->begin(), hits->end(), is_first) == 1);
            for (int i = 1; i < 100; i += 7) {
                auto h = idx->search(row(data, i), 10);
                REQUIRE(h.ok());
                for (const auto & hit : *h) {
                    CHECK(gone_set.count(hit.chunk_id) == 0);
                }
            }
            // A chunk still present is found from its own vector.
            auto kept = idx->search(row(data, 500), 10);
            REQUIRE(kept.ok());
            auto is_kept = [&](const VectorHit & h) {
                return h.chunk_id == ids[500];
            };
            CHECK(std::count_if(kept->begin(), kept->end(), is_kept) == 1);
        }
    }
}

namespace {

// Unit vectors around a few centres that share a common offset, so no component averages zero:
// a decode that is off by a constant per component, or a residual scored without its centroid,
// moves every score by far more than the tolerance below.
std::vector<float> offset_clusters(size_t n, int dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> centres(8 * static_cast<size_t>(dim));
    for (auto & x : centres) {
        x = 0.6f + normal(rng);
    }
    std::vector<float> v(n * static_cast<size_t>(dim));
    std::uniform_int_distribution<size_t> pick(0, 7);
    for (size_t i = 0; i < n; ++i) {
        const float * c = &centres[pick(rng) * static_cast<size_t>(dim)];
        float * row = &v[i * static_cast<size_t>(dim)];
        double norm = 0;
        for (int d = 0; d < dim; ++d) {
            row[d] = c[d] + 0.5f * normal(rng);
            norm += static_cast<double>(row[d]) * row[d];
        }
        for (int d = 0; d < dim; ++d) {
            row[d] /= static_cast<float>(std::sqrt(norm));
        }
    }
    return v;
}

// `got` is the ranking `want` gives: the same length, the same score at every rank, and the same
// chunk at every rank unless FAISS scores the two chunks there as a tie (within float rounding).
void check_same_ranking(const std::vector<VectorHit> & got, const std::vector<VectorHit> & want) {
    constexpr float kTolerance = 2e-5f;
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(std::fabs(got[i].similarity - want[i].similarity) <= kTolerance);
        if (got[i].chunk_id != want[i].chunk_id) {
            auto tied = std::find_if(want.begin(), want.end(), [&](const VectorHit & h) {
                return h.chunk_id == got[i].chunk_id && std::fabs(h.similarity - want[i].similarity) <= kTolerance;
            });
            CHECK(tied != want.end());
        }
    }
}

}  // namespace

TEST_CASE("an IVF-SQ8 search returns FAISS's own IVF hits and scores, with or without an access filter, "
          "after removals and after a reload") {
    TempDir dir("ivfsq8");
    // 108 dimensions: the vector kernels' 16-wide, 8-wide and scalar tails all run. 64 lists, 32 probed.
    const EmbedderIdentity identity{"test-clusters", "1", 108};
    const size_t dim = 108;
    const int n = 3000;
    auto data = offset_clusters(n, identity.dimension, 21);
    std::vector<int64_t> ids(n);
    for (int i = 0; i < n; ++i) {
        ids[static_cast<size_t>(i)] = 100 + 3 * i;
    }
    auto index = VectorIndex::create(identity, "IVF64,SQ8");
    REQUIRE(index.ok());
    REQUIRE(index->add(ids, data).ok());
    auto queries = offset_clusters(25, identity.dimension, 22);
    std::vector<int64_t> allowed;  // about a third of the chunks
    for (size_t i = 0; i < ids.size(); i += 3) {
        allowed.push_back(ids[i]);
    }
    const ChunkIdSet allowed_set(allowed);

    auto compare = [&](VectorIndex & idx) {
        for (size_t q = 0; q < queries.size() / dim; ++q) {
            CAPTURE(q);
            std::span<const float> query(&queries[q * dim], dim);
            idx.set_faiss_ivf_scan(false);
            REQUIRE(idx.search_kernel() == "strongbox-ivf-sq8");
            auto own = idx.search(query, 10);
            auto own_filtered = idx.search(query, 10, allowed_set);
            auto own_listed = idx.search(query, 10, &allowed);
            idx.set_faiss_ivf_scan(true);
            REQUIRE(idx.search_kernel() == "faiss");
            auto faiss = idx.search(query, 10);
            auto faiss_filtered = idx.search(query, 10, allowed_set);
            REQUIRE((own.ok() && own_filtered.ok() && own_listed.ok() && faiss.ok() && faiss_filtered.ok()));
            REQUIRE(own->size() == 10);
            check_same_ranking(*own, *faiss);
            check_same_ranking(*own_filtered, *faiss_filtered);
            check_same_ranking(*own_listed, *faiss_filtered);
            for (const auto & hit : *own_filtered) {
                CHECK(allowed_set.contains(hit.chunk_id));
            }
        }
        idx.set_faiss_ivf_scan(false);
    };
    SUBCASE("as built") {
        compare(*index);
    }
    SUBCASE("after removals and replacements, and after a reload") {
        std::vector<int64_t> gone;
        for (size_t i = 1; i < ids.size(); i += 4) {
            gone.push_back(ids[i]);
        }
        CHECK(index->remove(gone) == static_cast<int64_t>(gone.size()));
        // New vectors for chunks that stay: removed from their lists and added at fresh slots.
        std::vector<int64_t> replaced = {ids[0], ids[2], ids[6]};
        auto fresh = offset_clusters(replaced.size(), identity.dimension, 23);
        REQUIRE(index->add(replaced, fresh).ok());
        compare(*index);
        // The first fresh vector finds its own chunk first.
        auto top = index->search(std::span<const float>(fresh.data(), dim), 1);
        REQUIRE(top.ok());
        REQUIRE(top->size() == 1);
        CHECK((*top)[0].chunk_id == replaced[0]);
        REQUIRE(index->save(dir / "v.idx").ok());
        auto loaded = VectorIndex::load(dir / "v.idx", identity);
        REQUIRE(loaded.ok());
        compare(*loaded);
    }
}

TEST_CASE("Flat and IVF-SQ8 indexes are searched by Strongbox's own kernels, other IVF codes by FAISS") {
    auto data = random_unit_vectors(1000, kIdentity.dimension, 31);
    std::vector<int64_t> ids(1000);
    for (size_t i = 0; i < ids.size(); ++i) {
        ids[i] = static_cast<int64_t>(i);
    }
    for (auto [factory, kernel] : {std::pair<const char *, const char *>{"Flat", "strongbox-flat"},
                                   {"IVF16,SQ8", "strongbox-ivf-sq8"},
                                   {"IVF16,PQ8x4", "faiss"},
                                   {"IVF16,Flat", "faiss"}}) {
        CAPTURE(factory);
        auto index = VectorIndex::create(kIdentity, factory);
        REQUIRE(index.ok());
        REQUIRE(index->add(ids, data).ok());
        CHECK(index->search_kernel() == kernel);
    }
}
