// Hybrid search at scale: BM25 over an FTS5 store of N synthetic chunks plus dense search over
// their vectors, fused, with an access-control filter that hides one collection of four.
//
//   strongbox_bench_hybrid [chunks=100000] [queries=200] [factory=auto] [dir=/tmp] [keep]
//
// With "keep" the store and vector index live in <dir>/sb_hybrid_bench_<chunks> and are kept: a
// later run with the same arguments regenerates the same corpus text (same seed) without writing
// it, so large corpora are written once. factory "none" builds no vector index and prints only the
// lexical rows (pruned and exhaustive BM25).
// Chunks are 50-80 words drawn from a Zipf(1) vocabulary of 50,000 words whose ten most frequent
// are English stopwords, so term frequencies look like text. The store is written 1,000 chunks
// per document (one transaction each), then Retriever::open builds the vector index from it with
// the built-in embedder ("auto" picks the index type by size). Queries are six distinct non-
// stopword words of a random chunk. Latency is Retriever::search end to end; the query embedding
// is timed separately and subtracted ("excl. embed"). The first pass over the queries meets
// terms whose document frequency is not cached yet; the second pass repeats them. The lexical
// postings are built in the background after open: the latency of one lexical search right after
// open (served by the exhaustive path meanwhile) and the time from open until the postings are
// ready are printed on their own, and the timed rows start once they are ready. The
// "bm25-ref" row is the exhaustive FTS5 ranking (Store::lexical_search_exhaustive) on the same
// queries, the baseline the pruned "bm25" row is compared with; both are Store calls for the
// fusion candidate list, and every query's two rankings are checked to be identical.
#include "strongbox/retrieval/retriever.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <time.h>
#include <unistd.h>

using namespace strongbox;
using namespace strongbox::retrieval;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kVocabulary = 50'000;
constexpr size_t kChunksPerDoc = 1'000;
const char * const kStopwords[] = {"the", "of", "and", "to", "in", "a", "is", "for", "on", "with"};

std::string pseudo_word(size_t rank) {
    static const char * const kSyllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa",
                                              "do", "fe", "gu", "hi", "jo", "ke", "lu", "ma", "no", "pi"};
    std::string w;
    size_t r = rank;
    do {
        w += kSyllables[r % 20];
        r /= 20;
    } while (r > 0);
    return w + "x";
}

// CPU time of the calling thread: on a shared machine it shows the work a query costs, which
// wall-clock latency mixes with time spent waiting for a core.
double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

long peak_rss_mib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::atol(line.c_str() + 6) / 1024;
        }
    }
    return -1;
}

// The BM25 candidate list of each of the first `count` queries, straight from the Store, pruned or
// exhaustive; prints one row in the table's format and returns the rankings.
std::vector<std::vector<LexicalHit>> time_lexical(const Store & store, const char * name, bool exhaustive, int pass,
                                                  const std::vector<std::string> & queries, size_t count,
                                                  const SearchOptions & options) {
    std::vector<std::vector<LexicalHit>> out;
    std::vector<double> ms;
    std::vector<double> cpu;
    const int limit = std::max(options.candidates, options.k);
    auto w0 = Clock::now();
    for (size_t i = 0; i < count; ++i) {
        auto q0 = Clock::now();
        double c0 = thread_cpu_ms();
        auto hits = exhaustive ? store.lexical_search_exhaustive(queries[i], options.filter, limit)
                               : store.lexical_search(queries[i], options.filter, limit);
        cpu.push_back(thread_cpu_ms() - c0);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - q0).count());
        if (!hits.ok()) {
            std::fprintf(stderr, "%s\n", hits.error().message().c_str());
            std::exit(1);
        }
        out.push_back(std::move(hits).value());
    }
    double wall = std::chrono::duration<double>(Clock::now() - w0).count();
    std::printf("%-8s %7d %4d %9.2f %9.2f %9.2f %12.2f %8.0f %9.2f %9.2f\n", name, 1, pass, percentile(ms, 0.5),
                percentile(ms, 0.99), percentile(ms, 1.0), percentile(ms, 0.99), static_cast<double>(count) / wall,
                percentile(cpu, 0.5), percentile(cpu, 0.99));
    std::fflush(stdout);
    return out;
}

// Pruned ("bm25-lst") against exhaustive FTS5 ("bm25-ref") on the same queries, both with their
// statistics cached (second pass), and whether any ranking differs. The exhaustive path is slow at
// scale: it runs on the first SB_BENCH_REF_QUERIES queries (default all).
void compare_lexical(const Store & store, const std::vector<std::string> & queries, const SearchOptions & options) {
    const char * env = std::getenv("SB_BENCH_REF_QUERIES");
    size_t n = std::min(queries.size(), env != nullptr ? std::strtoul(env, nullptr, 10) : queries.size());
    time_lexical(store, "bm25-lst", false, 1, queries, n, options);
    auto pruned = time_lexical(store, "bm25-lst", false, 2, queries, n, options);
    time_lexical(store, "bm25-ref", true, 1, queries, n, options);
    auto reference = time_lexical(store, "bm25-ref", true, 2, queries, n, options);
    size_t differ = 0;
    for (size_t i = 0; i < n; ++i) {
        bool same = pruned[i].size() == reference[i].size();
        for (size_t j = 0; same && j < pruned[i].size(); ++j) {
            same = pruned[i][j].chunk_id == reference[i][j].chunk_id &&
                   std::fabs(pruned[i][j].score - reference[i][j].score) <= 1e-9 * std::fabs(reference[i][j].score);
        }
        differ += same ? 0 : 1;
    }
    std::printf("bm25-lst (pruned) vs bm25-ref (exhaustive FTS5), %zu queries: %zu rankings differ\n", n, differ);
}

SearchOptions bench_options() {
    SearchOptions o;
    o.k = 5;
    o.filter.collections = {"c0", "c1", "c2"};  // c3 is restricted
    return o;
}

void print_header() {
    std::printf("%-8s %7s %4s %9s %9s %9s %12s %8s %9s %9s\n", "mode", "threads", "pass", "p50 ms", "p99 ms", "max ms",
                "p99 excl.emb", "qps", "cpu p50", "cpu p99");
}

// One lexical search right after open, then waits for the background postings build; prints both.
// `opened` is when the store was opened, `cpu_at_open` the process CPU time then.
bool wait_for_postings(const Store & store, const std::string & query, const SearchOptions & options,
                       Clock::time_point opened, double cpu_at_open) {
    const bool ready_early = store.lexical_index_ready();
    auto q0 = Clock::now();
    double c0 = thread_cpu_ms();
    if (auto first = store.lexical_search(query, options.filter, std::max(options.candidates, options.k));
        !first.ok()) {
        std::fprintf(stderr, "%s\n", first.error().message().c_str());
        return false;
    }
    std::printf("first lexical search after open: %.1f ms (cpu %.1f ms), postings %s\n",
                std::chrono::duration<double, std::milli>(Clock::now() - q0).count(), thread_cpu_ms() - c0,
                ready_early ? "already ready" : "not ready yet: exhaustive path");
    if (!store.lexical_index_ready(std::chrono::hours(1))) {
        std::fprintf(stderr, "lexical postings: build failed\n");
        return false;
    }
    std::printf("lexical postings: ready %.1f s after open (process cpu %.1f s since open); peak RSS so far %ld MiB\n",
                std::chrono::duration<double>(Clock::now() - opened).count(), process_cpu_s() - cpu_at_open,
                peak_rss_mib());
    std::fflush(stdout);
    return true;
}

// factory "none": no vector index, only the lexical rows.
int lexical_only(const Store & store, const std::vector<std::string> & queries, Clock::time_point opened,
                 double cpu_at_open) {
    const SearchOptions options = bench_options();
    if (!wait_for_postings(store, queries.front(), options, opened, cpu_at_open)) {
        return 1;
    }
    auto t0 = Clock::now();
    auto visible = store.visible_chunks(options.filter);
    if (!visible.ok()) {
        std::fprintf(stderr, "%s\n", visible.error().message().c_str());
        return 1;
    }
    std::printf("visible set and statistics for the ACL filter: %.0f ms once, %lld chunks visible\n",
                std::chrono::duration<double, std::milli>(Clock::now() - t0).count(),
                static_cast<long long>((*visible)->size()));
    print_header();
    compare_lexical(store, queries, options);
    std::printf("peak RSS %ld MiB\n", peak_rss_mib());
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
    const size_t nq = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200;
    const std::string factory = argc > 3 ? argv[3] : "auto";
    const std::filesystem::path base = argc > 4 ? argv[4] : std::filesystem::temp_directory_path().string();
    const bool keep = argc > 5 && std::string(argv[5]) == "keep";
    const auto dir = base / ("sb_hybrid_bench_" + std::to_string(keep ? n : static_cast<size_t>(::getpid())));
    const bool reuse = keep && std::filesystem::exists(dir / "sb.db");
    std::filesystem::create_directories(dir);

    std::vector<std::string> words(kVocabulary);
    std::vector<double> cdf(kVocabulary);
    double total = 0;
    for (size_t r = 0; r < kVocabulary; ++r) {
        words[r] = r < std::size(kStopwords) ? kStopwords[r] : pseudo_word(r);
        total += 1.0 / static_cast<double>(r + 1);
        cdf[r] = total;
    }
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> uni(0.0, total);
    auto draw = [&] {
        return static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), uni(rng)) - cdf.begin());
    };

    std::printf("hybrid bench: %zu chunks, %zu queries, index %s, hardware threads %u\n", n, nq, factory.c_str(),
                std::thread::hardware_concurrency());
    std::fflush(stdout);
    auto t0 = Clock::now();
    std::vector<std::string> sample_chunks;
    {
        // A kept corpus is only regenerated, not opened: opening would start a postings build.
        auto store = reuse ? core::Result<Store>(core::Error(core::ErrorCode::kNotFound, "kept corpus"))
                           : Store::open(dir / "sb.db");
        if (!reuse && !store.ok()) {
            std::fprintf(stderr, "%s\n", store.error().message().c_str());
            return 1;
        }
        for (size_t d = 0; d * kChunksPerDoc < n; ++d) {
            core::ExtractedDocument doc;
            doc.source_path = "/corpus/c" + std::to_string(d % 4) + "/doc" + std::to_string(d) + ".txt";
            doc.media_type = "text/plain";
            doc.sha256 = std::to_string(d);
            for (size_t c = 0; c < kChunksPerDoc && d * kChunksPerDoc + c < n; ++c) {
                core::Chunk chunk;
                size_t len = 50 + rng() % 31;
                for (size_t w = 0; w < len; ++w) {
                    chunk.text += (w == 0 ? "" : " ") + words[draw()];
                }
                chunk.provenance.line_start = chunk.provenance.line_end = static_cast<int>(c + 1);
                if (rng() % 1000 < 2 && sample_chunks.size() < nq) {
                    sample_chunks.push_back(chunk.text);
                }
                doc.chunks.push_back(std::move(chunk));
            }
            if (reuse) {
                continue;
            }
            auto added = store->add_document(doc, "c" + std::to_string(d % 4));
            if (!added.ok()) {
                std::fprintf(stderr, "%s\n", added.error().message().c_str());
                return 1;
            }
        }
    }
    double store_s = std::chrono::duration<double>(Clock::now() - t0).count();
    auto db_mib = static_cast<double>(std::filesystem::file_size(dir / "sb.db")) / (1 << 20);
    std::printf("store: %.1f s to %s, %.0f MiB\n", store_s, reuse ? "regenerate (kept from an earlier run)" : "write",
                db_mib);
    std::fflush(stdout);

    std::vector<std::string> queries;
    for (const auto & text : sample_chunks) {
        std::vector<std::string> tokens;
        for (size_t at = 0; at < text.size();) {
            size_t end = text.find(' ', at);
            end = end == std::string::npos ? text.size() : end;
            std::string w = text.substr(at, end - at);
            if (std::find(std::begin(kStopwords), std::end(kStopwords), w) == std::end(kStopwords) &&
                std::find(tokens.begin(), tokens.end(), w) == tokens.end()) {
                tokens.push_back(w);
            }
            at = end + 1;
        }
        std::shuffle(tokens.begin(), tokens.end(), rng);
        tokens.resize(std::min<size_t>(tokens.size(), 6));
        std::string q;
        for (const auto & w : tokens) {
            q += (q.empty() ? "" : " ") + w;
        }
        queries.push_back(q);
    }
    while (queries.size() < nq) {
        queries.push_back(queries[queries.size() % sample_chunks.size()]);
    }

    if (factory == "none") {
        // Lexical only: the pruned and exhaustive BM25 candidate lists, without a vector index.
        const auto opened = Clock::now();
        const double cpu_at_open = process_cpu_s();
        auto store = Store::open(dir / "sb.db");
        if (!store.ok()) {
            std::fprintf(stderr, "%s\n", store.error().message().c_str());
            return 1;
        }
        return lexical_only(*store, queries, opened, cpu_at_open);
    }

    auto embedder = std::make_shared<HashedEmbedder>();
    RetrieverOptions ro;
    ro.database = dir / "sb.db";
    ro.index_factory = factory;
    t0 = Clock::now();
    const double cpu_at_open = process_cpu_s();
    auto retriever = Retriever::open(ro, embedder);
    if (!retriever.ok()) {
        std::fprintf(stderr, "%s\n", retriever.error().message().c_str());
        return 1;
    }
    double index_s = std::chrono::duration<double>(Clock::now() - t0).count();
    auto index_mib = static_cast<double>(std::filesystem::file_size(dir / "sb.db.vectors")) / (1 << 20);
    std::printf("vector index %s, searched by %s: %.1f s to open or build; %.0f MiB on disk; peak RSS so far %ld MiB\n",
                retriever->vectors().factory().c_str(), retriever->vectors().search_kernel().c_str(), index_s,
                index_mib, peak_rss_mib());
    std::fflush(stdout);
    const SearchOptions base_options = bench_options();
    // The postings build ran alongside the vector index: the process cpu includes both.
    if (!wait_for_postings(retriever->store(), queries.front(), base_options, t0, cpu_at_open)) {
        return 1;
    }

    std::vector<double> embed_ms;
    for (const auto & q : queries) {
        auto e0 = Clock::now();
        auto v = embedder->embed(q);
        embed_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - e0).count());
    }
    const double embed_p50 = percentile(embed_ms, 0.5);

    auto run = [&](const char * name, bool bm25, bool dense, int threads, int pass) {
        SearchOptions o = base_options;
        o.use_bm25 = bm25;
        o.use_dense = dense;
        std::vector<double> ms(queries.size());
        std::vector<double> cpu(queries.size());
        std::vector<std::thread> pool;
        auto w0 = Clock::now();
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (size_t i = static_cast<size_t>(t); i < queries.size(); i += static_cast<size_t>(threads)) {
                    auto q0 = Clock::now();
                    double c0 = thread_cpu_ms();
                    auto hits = retriever->search(queries[i], o);
                    cpu[i] = thread_cpu_ms() - c0;
                    ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - q0).count();
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
        double wall = std::chrono::duration<double>(Clock::now() - w0).count();
        double embed = dense ? embed_p50 : 0.0;
        std::printf("%-8s %7d %4d %9.2f %9.2f %9.2f %12.2f %8.0f %9.2f %9.2f\n", name, threads, pass,
                    percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), percentile(ms, 0.99) - embed,
                    static_cast<double>(queries.size()) / wall, percentile(cpu, 0.5), percentile(cpu, 0.99));
        std::fflush(stdout);
    };
    // The visible set and its statistics are computed once per filter until the next write.
    t0 = Clock::now();
    auto visible = retriever->store().visible_chunks(base_options.filter);
    std::printf("visible set and statistics for the ACL filter: %.0f ms once, %lld chunks visible\n",
                std::chrono::duration<double, std::milli>(Clock::now() - t0).count(),
                static_cast<long long>((*visible)->size()));
    std::printf("query embedding p50 %.3f ms (subtracted in 'p99 excl. embed')\n", embed_p50);
    print_header();
    run("hybrid", true, true, 1, 1);
    run("hybrid", true, true, 1, 2);
    run("bm25", true, false, 1, 2);
    compare_lexical(retriever->store(), queries, base_options);
    run("dense", false, true, 1, 2);
    run("hybrid", true, true, 2, 2);
    std::printf("peak RSS %ld MiB\n", peak_rss_mib());
    retriever = core::Error(core::ErrorCode::kInternal, "closed");
    if (!keep) {
        std::filesystem::remove_all(dir);
    }
    return 0;
}
