// Vector index scale: build time, bytes per vector, query latency p50/p99 with 1 and 2 concurrent
// searching threads, and ANN recall@10 against exact Flat search measured in the same run, on
// synthetic clustered unit vectors (a mixture of 1,000 Gaussian clusters, like embeddings of
// topical text; uniform random vectors would understate ANN recall).
//
//   strongbox_bench_scale [vectors=100000] [queries=200] [dimension=384] [factories separated by ';']
//
// Flat always runs first: it is the exact reference for recall. "auto" is what VectorIndex picks for
// this many vectors (VectorIndex::factory_for), printed as auto=<factory>. An IVF,SQ8 index gets a
// second row, "<factory> faiss": the same index searched by FAISS's IndexIVF::search instead of
// Strongbox's own list scan, and a line counting the queries whose top 10 ids the two agree on.
#include "strongbox/retrieval/vector_index.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

using namespace strongbox::retrieval;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<float> clustered(size_t n, int dim, const std::vector<float> & centres, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.6f / std::sqrt(static_cast<float>(dim)));
    const size_t n_centres = centres.size() / static_cast<size_t>(dim);
    std::uniform_int_distribution<size_t> pick(0, n_centres - 1);
    std::vector<float> v(n * static_cast<size_t>(dim));
    for (size_t i = 0; i < n; ++i) {
        const float * c = &centres[pick(rng) * static_cast<size_t>(dim)];
        double norm = 0;
        float * row = &v[i * static_cast<size_t>(dim)];
        for (int d = 0; d < dim; ++d) {
            row[d] = c[d] + noise(rng);
            norm += static_cast<double>(row[d]) * row[d];
        }
        for (int d = 0; d < dim; ++d) {
            row[d] /= static_cast<float>(std::sqrt(norm));
        }
    }
    return v;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Latency {
    double p50 = 0;
    double p99 = 0;
    double qps = 0;
};

// Runs all queries split over `threads` threads; latency per query in milliseconds.
Latency measure(const VectorIndex & index, const std::vector<float> & queries, int dim, int threads,
                const std::vector<int64_t> * allowed) {
    const size_t nq = queries.size() / static_cast<size_t>(dim);
    std::vector<double> ms(nq);
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (size_t q = static_cast<size_t>(t); q < nq; q += static_cast<size_t>(threads)) {
                auto t0 = Clock::now();
                auto hits = index.search(
                    std::span<const float>(&queries[q * static_cast<size_t>(dim)], static_cast<size_t>(dim)), 10,
                    allowed);
                ms[q] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                if (!hits.ok()) {
                    std::fprintf(stderr, "%s\n", hits.error().message().c_str());
                    std::exit(1);
                }
            }
        });
    }
    for (auto & th : pool) {
        th.join();
    }
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    return Latency{percentile(ms, 0.5), percentile(ms, 0.99), static_cast<double>(nq) / wall};
}

std::vector<std::vector<int64_t>> top10(const VectorIndex & index, const std::vector<float> & queries, int dim) {
    std::vector<std::vector<int64_t>> out;
    for (size_t q = 0; q < queries.size() / static_cast<size_t>(dim); ++q) {
        std::span<const float> query(&queries[q * static_cast<size_t>(dim)], static_cast<size_t>(dim));
        auto hits = index.search(query, 10);
        std::vector<int64_t> ids;
        for (const auto & h : *hits) {
            ids.push_back(h.chunk_id);
        }
        out.push_back(std::move(ids));
    }
    return out;
}

}  // namespace

int main(int argc, char ** argv) {
    const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    const size_t nq = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200;
    const int dim = argc > 3 ? std::atoi(argv[3]) : 384;
    const EmbedderIdentity identity{"synthetic", "1", dim};

    std::mt19937 rng(42);
    std::normal_distribution<float> normal;
    std::vector<float> centres(1000 * static_cast<size_t>(dim));
    for (auto & x : centres) {
        x = normal(rng) / std::sqrt(static_cast<float>(dim));
    }
    auto data = clustered(n, dim, centres, 1);
    auto queries = clustered(nq, dim, centres, 2);
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) {
        ids[i] = static_cast<int64_t>(i) * 2 + 1;
    }
    std::vector<int64_t> half;  // an access-control filter admitting every other chunk
    for (size_t i = 0; i < n; i += 2) {
        half.push_back(ids[i]);
    }
    auto tmp = std::filesystem::temp_directory_path() / ("sb_scale_bench_" + std::to_string(::getpid()) + ".idx");

    auto lists = static_cast<int>(std::sqrt(static_cast<double>(n)));  // sqrt(n) lists keeps k-means training short
    std::vector<std::string> factories = {"Flat", "HNSW32",
                                          "IVF" + std::to_string(lists) + ",PQ" + std::to_string(dim / 8)};
    if (argc > 4) {
        factories = {"Flat"};
        std::string list = argv[4];
        for (size_t at = 0; at <= list.size();) {
            size_t end = list.find(';', at);
            end = end == std::string::npos ? list.size() : end;
            std::string factory = list.substr(at, end - at);
            if (factory == "auto") {
                factory = VectorIndex::factory_for(static_cast<int64_t>(n), dim);
                std::printf("auto=%s\n", factory.c_str());
            }
            if (end > at && factory != "Flat") {
                factories.push_back(factory);
            }
            at = end + 1;
        }
    }
    std::printf("%zu vectors x %d dims, %zu queries, k=10, hardware threads %u\n", n, dim, nq,
                std::thread::hardware_concurrency());
    std::printf("%-18s %9s %9s %8s %8s %8s %8s %8s %9s %9s\n", "index", "build s", "B/vector", "p50 1t", "p99 1t",
                "p50 2t", "p99 2t", "qps 2t", "p50 filt", "recall@10");
    std::vector<std::vector<int64_t>> exact;
    for (const auto & factory : factories) {
        auto index = VectorIndex::create(identity, factory);
        if (!index.ok()) {
            std::fprintf(stderr, "%s\n", index.error().message().c_str());
            return 1;
        }
        auto t0 = Clock::now();
        auto st = index->add(ids, data);
        double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!st.ok()) {
            std::fprintf(stderr, "%s\n", st.error().message().c_str());
            return 1;
        }
        if (!index->save(tmp).ok()) {
            std::fprintf(stderr, "cannot save %s\n", tmp.c_str());
            return 1;
        }
        double bytes_per_vector = static_cast<double>(std::filesystem::file_size(tmp)) / static_cast<double>(n);
        auto row = [&](const std::string & name) {
            Latency one = measure(*index, queries, dim, 1, nullptr);
            Latency two = measure(*index, queries, dim, 2, nullptr);
            Latency filtered = measure(*index, queries, dim, 1, &half);
            auto got = top10(*index, queries, dim);
            if (factory == "Flat") {
                exact = got;
            }
            double found = 0;
            for (size_t q = 0; q < got.size(); ++q) {
                std::set<int64_t> truth(exact[q].begin(), exact[q].end());
                for (int64_t id : got[q]) {
                    found += static_cast<double>(truth.count(id));
                }
            }
            std::printf("%-18s %9.2f %9.1f %8.3f %8.3f %8.3f %8.3f %8.0f %9.3f %9.3f\n", name.c_str(), build_s,
                        bytes_per_vector, one.p50, one.p99, two.p50, two.p99, two.qps, filtered.p50,
                        found / (10.0 * static_cast<double>(got.size())));
            std::fflush(stdout);
            return got;
        };
        auto own = row(factory);
        if (factory.rfind("IVF", 0) == 0 && factory.find(",SQ8") != std::string::npos) {
            // The same index searched by FAISS's IndexIVF::search, the reference for Strongbox's scan.
            index->set_faiss_ivf_scan(true);
            auto reference = row(factory + " faiss");
            size_t same = 0;
            for (size_t q = 0; q < own.size(); ++q) {
                same += own[q] == reference[q] ? 1 : 0;
            }
            std::printf("%-18s top-10 ids identical to FAISS's IVF search for %zu of %zu queries\n", factory.c_str(),
                        same, own.size());
        }
    }
    std::filesystem::remove(tmp);
    std::printf("latencies in ms; B/vector = index file bytes (ids + FAISS payload) / vectors; "
                "p50 filt = 1 thread with a 50%% access-control selector; recall vs Flat in this run\n");
    return 0;
}
