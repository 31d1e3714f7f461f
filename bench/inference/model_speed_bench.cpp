// Prefill and decode speed of the forward pass on random-weight models of real shapes.
//
// Writes (once, cached under --dir) GGUF models with the Qwen2.5-0.5B shape (hidden 896, 24
// layers, 14 heads, 2 KV heads, FFN 4864, vocab 32000) and the TinyLlama-1.1B shape (2048, 22,
// 32, 4, 5632, 32000), quantized with Strongbox's own quantizer, then measures
//   - prefill: one batch of --prompt tokens (default 512), tokens/s;
//   - decode: --decode tokens (default 128) one at a time after that prompt, median tokens/s;
// at each thread count, next to the memory-bandwidth bound (weight bytes read per decoded token
// divided by a streaming-read bandwidth measured in the same run at the same thread count) and
// the reference figures llama.cpp reaches on the reference machine. On a shared machine the
// last two columns (tokens per CPU-second per thread) approximate the figures of an idle one
// (spinning pool threads count as CPU time, so at 2 threads they understate). Prints only.
//
//   strongbox_bench_model_speed --shape qwen0.5b --type q4_0 --threads 1,2
//   strongbox_bench_model_speed --shape all --type all            (several minutes)
//   strongbox_bench_model_speed --layers 4 ...                    (fewer layers: quick look)
#include "bench_util.h"
#include "random_model.h"

#include "strongbox/inference/model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cpu/thread_pool.h"

using strongbox::bench::cpu_seconds;
using strongbox::bench::find_model_shape;
using strongbox::bench::median;
using strongbox::bench::ModelShape;
using strongbox::bench::now_s;
using strongbox::bench::split;
using strongbox::bench::write_random_model;
using strongbox::bench::XorshiftRng;

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

// llama.cpp on the reference machine: {prefill 2 threads, prefill 1, decode 2, decode 1} tok/s.
struct Reference {
    double prefill2, prefill1, decode2, decode1;
};

const std::map<std::string, Reference> kReference = {
    {"qwen0.5b/q4_0", {108, 62, 36.4, 17.3}},       {"qwen0.5b/q4_k_m", {54, 32, 23.7, 13.6}},
    {"qwen0.5b/q8_0", {88, 37, 23.2, 11.4}},        {"qwen0.5b/f16", {121, 60, 18.0, 8.9}},
    {"tinyllama1.1b/q4_0", {42, 21.5, 18.9, 8.5}},  {"tinyllama1.1b/q4_k_m", {26.2, 9.6, 13.5, 6.5}},
    {"tinyllama1.1b/q8_0", {28.4, 14.9, 7.7, 4.3}}, {"tinyllama1.1b/f16", {39.3, 29.1, 6.9, 4.0}},
};

// Streaming-read bandwidth in bytes/s over a buffer much larger than the caches.
double read_bandwidth(int n_threads) {
    static std::vector<uint64_t> buf = [] {
        std::vector<uint64_t> b((size_t{1} << 30) / sizeof(uint64_t));
        for (size_t i = 0; i < b.size(); ++i) {
            b[i] = i * 2654435761u;
        }
        return b;
    }();
    cpu::ThreadPool pool(n_threads);
    std::vector<double> rates;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
        std::vector<uint64_t> partial(256, 0);
        const double t0 = now_s();
        const size_t chunks = 256;
        const size_t per = buf.size() / chunks;
        pool.parallel_for(chunks, [&](size_t begin, size_t end) {
            for (size_t c = begin; c < end; ++c) {
                const uint64_t * p = buf.data() + c * per;
                uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (size_t i = 0; i < per; i += 4) {
                    s0 += p[i];
                    s1 += p[i + 1];
                    s2 += p[i + 2];
                    s3 += p[i + 3];
                }
                partial[c] = s0 + s1 + s2 + s3;
            }
        });
        const double dt = now_s() - t0;
        uint64_t total = 0;
        for (uint64_t x : partial) {
            total += x;
        }
        sink = sink + total;
        rates.push_back(static_cast<double>(buf.size() * sizeof(uint64_t)) / dt);
    }
    return median(rates);
}

// Bytes of weights one decoded token reads: every matrix once plus one embedding row.
double decode_bytes_per_token(const Model & m) {
    double bytes = 0.0;
    for (const GgufTensorInfo & t : m.gguf().tensors()) {
        if (t.name == "token_embd.weight") {
            bytes += static_cast<double>(t.n_bytes) / static_cast<double>(t.shape[1]);
        } else {
            bytes += static_cast<double>(t.n_bytes);
        }
    }
    return bytes;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string shapes = "qwen0.5b", types = "q4_0", threads = "1,2";
    fs::path dir = fs::temp_directory_path() / "strongbox-bench-models";
    int prompt = 512, decode = 128, layers = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--shape") {
            shapes = v;
        } else if (k == "--type") {
            types = v;
        } else if (k == "--threads") {
            threads = v;
        } else if (k == "--prompt") {
            prompt = std::stoi(v);
        } else if (k == "--decode") {
            decode = std::stoi(v);
        } else if (k == "--layers") {
            layers = std::stoi(v);
        } else if (k == "--dir") {
            dir = v;
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (shapes == "all") {
        shapes = "qwen0.5b,tinyllama1.1b";
    }
    if (types == "all") {
        types = "q4_0,q4_k_m,q8_0,f16";
    }
    fs::create_directories(dir);

    std::map<int, double> bandwidth;
    for (const std::string & t : split(threads)) {
        const int n = std::stoi(t);
        bandwidth[n] = read_bandwidth(n);
        std::printf("read bandwidth, %d thread(s): %.2f GB/s\n", n, bandwidth[n] / 1e9);
    }
    std::printf("%-14s %-7s %3s %11s %9s %10s %9s %9s %9s %13s %12s\n", "shape", "type", "thr", "prefill t/s", "ref",
                "decode t/s", "ref", "bw-bound", "of bound", "prefill t/cpu", "decode t/cpu");
    cpu::ThreadPool writer_pool(2);
    for (const std::string & shape_name : split(shapes)) {
        const ModelShape * sh = find_model_shape(shape_name);
        if (sh == nullptr) {
            std::fprintf(stderr, "unknown shape %s (qwen0.5b, tinyllama1.1b)\n", shape_name.c_str());
            return 2;
        }
        const uint32_t n_layer = layers > 0 ? static_cast<uint32_t>(layers) : sh->n_layer;
        for (const std::string & type : split(types)) {
            const fs::path file = dir / (shape_name + "-L" + std::to_string(n_layer) + "-" + type + ".gguf");
            if (!fs::exists(file)) {
                const double t0 = now_s();
                core::Status st = write_random_model(*sh, n_layer, type, file, writer_pool);
                if (!st.ok()) {
                    std::fprintf(stderr, "%s\n", st.error().message().c_str());
                    return 1;
                }
                std::fprintf(stderr, "wrote %s (%.0f MB) in %.1f s\n", file.c_str(),
                             static_cast<double>(fs::file_size(file)) / 1e6, now_s() - t0);
            }
            auto model = Model::load(file);
            if (!model.ok()) {
                std::fprintf(stderr, "%s\n", model.error().message().c_str());
                return 1;
            }
            const double bytes = decode_bytes_per_token(**model);
            for (const std::string & t : split(threads)) {
                const int n = std::stoi(t);
                auto ctx = Context::create(*model, {.n_ctx = static_cast<uint32_t>(prompt + decode + 8),
                                                    .n_threads = n,
                                                    .n_batch = static_cast<uint32_t>(prompt)});
                if (!ctx.ok()) {
                    std::fprintf(stderr, "%s\n", ctx.error().message().c_str());
                    return 1;
                }
                std::vector<int32_t> ids(static_cast<size_t>(prompt));
                XorshiftRng rng{42};
                for (int32_t & id : ids) {
                    id = static_cast<int32_t>(rng.next() % sh->n_vocab);
                }
                // Warm the page cache and the pool with one token, then start over.
                (void)(*ctx)->eval(std::span<const int32_t>(ids.data(), 1));
                (*ctx)->reset();
                double t0 = now_s();
                double c0 = cpu_seconds();
                auto logits = (*ctx)->eval(ids);
                const double prefill = static_cast<double>(prompt) / (now_s() - t0);
                const double prefill_cpu = static_cast<double>(prompt) / ((cpu_seconds() - c0) / n);
                std::vector<double> step_rates;
                c0 = cpu_seconds();
                for (int i = 0; i < decode && logits.ok(); ++i) {
                    const auto next =
                        static_cast<int32_t>(std::max_element(logits->begin(), logits->end()) - logits->begin());
                    t0 = now_s();
                    logits = (*ctx)->eval(std::span<const int32_t>(&next, 1));
                    step_rates.push_back(1.0 / (now_s() - t0));
                }
                const double dec = median(step_rates);
                const double decode_cpu = static_cast<double>(step_rates.size()) / ((cpu_seconds() - c0) / n);
                const double bound = bandwidth[n] / bytes;
                auto ref = kReference.find(shape_name + "/" + type);
                char pref[32] = "-", dref[32] = "-";
                if (ref != kReference.end() && layers == 0) {
                    std::snprintf(pref, sizeof pref, "%.1f", n >= 2 ? ref->second.prefill2 : ref->second.prefill1);
                    std::snprintf(dref, sizeof dref, "%.1f", n >= 2 ? ref->second.decode2 : ref->second.decode1);
                }
                std::printf("%-14s %-7s %3d %11.1f %9s %10.1f %9s %9.1f %8.0f%% %13.1f %12.1f\n", shape_name.c_str(),
                            type.c_str(), n, prefill, pref, dec, dref, bound, 100.0 * dec / bound, prefill_cpu,
                            decode_cpu);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
