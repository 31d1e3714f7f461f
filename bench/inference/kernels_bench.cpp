// Throughput of the CPU matmul kernels per weight type, instruction set and thread count, at
// decode (one token) and prefill (many tokens) shapes of small language models.
//
// Prints medians. Baselines measured in the same run: the scalar kernels (speed-up ratio) and a
// plain streaming read of memory (decode is bound by how fast the weights stream in, so GB/s of
// weights over that bandwidth says how close a kernel gets to the limit). Weight matrices are
// replicated so one pass over them exceeds the last-level cache, as a real model's do.
//
// Usage: strongbox_bench_kernels [--quick] [decode|prefill]
//   --quick: fewer repetitions and only the 896-wide decode shape.
#include "bench_util.h"

#include "strongbox/inference/tensor_type.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/quants.h"
#include "cpu/thread_pool.h"

using strongbox::bench::median;
using strongbox::bench::now_s;

using namespace strongbox::inference;
using namespace strongbox::inference::cpu;

namespace {

constexpr size_t kCacheBusting = size_t{256} << 20;  // bytes of weights cycled through per shape

// Streaming-read bandwidth in GB/s (sum of 64-bit words, 4 chains): the best of `reps` passes,
// since other load on the machine only ever lowers it and the figure stands for the hardware limit.
double read_bandwidth(ThreadPool & pool, int reps) {
    static std::vector<uint64_t> buf(kCacheBusting / sizeof(uint64_t), 1);
    std::vector<double> times;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < reps; ++rep) {
        std::vector<uint64_t> partial(static_cast<size_t>(pool.size()) * 8, 0);
        const double t0 = now_s();
        pool.parallel_for(buf.size() / 4096, [&](size_t begin, size_t end) {
            uint64_t a = 0, b = 0, c = 0, d = 0;
            for (size_t i = begin * 4096; i < end * 4096; i += 4) {
                a += buf[i];
                b += buf[i + 1];
                c += buf[i + 2];
                d += buf[i + 3];
            }
            sink = sink + a + b + c + d;
        });
        times.push_back(now_s() - t0);
    }
    return static_cast<double>(buf.size() * sizeof(uint64_t)) / *std::min_element(times.begin(), times.end()) / 1e9;
}

struct Weights {
    TensorType type;
    size_t rows;
    size_t cols;
    size_t bytes;               // one copy
    std::vector<uint8_t> data;  // copies back to back
    size_t copies;
};

// K-quants need rows that are a multiple of 256: 896-wide matrices (Qwen2.5-0.5B) are measured
// transposed (896 x 4864, the ffn_down shape) for those types.
Weights make_weights(TensorType type, size_t rows, size_t cols) {
    if (!row_size(type, cols).has_value()) {
        std::swap(rows, cols);
    }
    Weights w{type, rows, cols, *row_size(type, cols) * rows, {}, 1};
    w.copies = std::max<size_t>(1, kCacheBusting / w.bytes);
    w.data.resize(w.bytes * w.copies);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> row(cols);
    const size_t stride = *row_size(type, cols);
    for (size_t r = 0; r < rows; ++r) {
        for (float & v : row) {
            v = normal(rng);
        }
        quantize_row(type, row.data(), w.data.data() + r * stride, cols);
    }
    for (size_t c = 1; c < w.copies; ++c) {
        std::memcpy(w.data.data() + c * w.bytes, w.data.data(), w.bytes);
    }
    return w;
}

// Median seconds of one matmul call, cycling through the weight copies.
double time_matmul(const Weights & w, size_t n_tokens, ThreadPool & pool, int reps) {
    std::vector<float> x(n_tokens * w.cols);
    std::mt19937 rng(2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float & v : x) {
        v = normal(rng);
    }
    std::vector<float> y(n_tokens * w.rows);
    std::vector<double> times;
    size_t copy = 0;
    matmul(w.type, w.data.data(), w.rows, w.cols, x.data(), n_tokens, y.data(), pool);  // warm-up
    for (int rep = 0; rep < reps; ++rep) {
        const uint8_t * p = w.data.data() + (copy++ % w.copies) * w.bytes;
        const double t0 = now_s();
        matmul(w.type, p, w.rows, w.cols, x.data(), n_tokens, y.data(), pool);
        times.push_back(now_s() - t0);
    }
    return median(times);
}

}  // namespace

int main(int argc, char ** argv) {
    bool quick = false;
    bool decode = true;
    bool prefill = true;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        quick = quick || arg == "--quick";
        decode = arg == "prefill" ? false : decode;
        prefill = arg == "decode" ? false : prefill;
    }
    const int reps = quick ? 5 : 15;
    std::printf("strongbox kernels bench: detected isa %s%s\n", isa_name(detected_isa()), quick ? " (quick)" : "");

    ThreadPool pool1(1);
    ThreadPool pool2(2);
    const double bw1 = read_bandwidth(pool1, 7);
    const double bw2 = read_bandwidth(pool2, 7);
    std::printf("streaming read bandwidth (best of 7): %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", bw1, bw2);

    // Reference quantizer throughput (what `strongbox model quantize` spends per weight).
    {
        std::vector<float> src(size_t{1} << 20);
        std::mt19937 rng(3);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float & v : src) {
            v = normal(rng);
        }
        std::printf("quantize_row, 1 thread, M elements/s:");
        for (TensorType type :
             {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ5_0, TensorType::kQ4_K, TensorType::kQ5_K,
              TensorType::kQ6_K, TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kIQ4_NL, TensorType::kIQ4_XS}) {
            std::vector<uint8_t> dst(*row_size(type, src.size()));
            std::vector<double> times;
            for (int rep = 0; rep < 3; ++rep) {
                const double t0 = now_s();
                quantize_row(type, src.data(), dst.data(), src.size());
                times.push_back(now_s() - t0);
            }
            std::printf(" %s %.0f", tensor_type_name(static_cast<uint32_t>(type)).c_str(),
                        static_cast<double>(src.size()) / median(times) / 1e6);
        }
        std::printf("\n");
    }

    // A small decode matmul (Q8_0 896 x 896, cache resident) called back to back: per-call latency
    // shows the cost of waking the pool between kernels.
    {
        Weights small{TensorType::kQ8_0, 896, 896, *row_size(TensorType::kQ8_0, 896) * 896, {}, 1};
        small.data.resize(small.bytes);
        std::vector<float> row(896, 0.5f);
        for (size_t r = 0; r < 896; ++r) {
            quantize_row(TensorType::kQ8_0, row.data(), small.data.data() + r * (small.bytes / 896), 896);
        }
        const double t1 = time_matmul(small, 1, pool1, 2001);
        const double t2 = time_matmul(small, 1, pool2, 2001);
        std::printf("small decode matmul (q8_0 896x896, %s): %.1f us (1 thread), %.1f us (2 threads)\n\n",
                    isa_name(detected_isa()), t1 * 1e6, t2 * 1e6);
    }

    struct Shape {
        size_t rows;
        size_t cols;
    };
    const Shape shapes[] = {{4864, 896}, {5632, 2048}};
    const TensorType types[] = {TensorType::kQ4_0,   TensorType::kQ8_0, TensorType::kQ5_0, TensorType::kQ4_K,
                                TensorType::kQ6_K,   TensorType::kF16,  TensorType::kQ4_1, TensorType::kQ5_1,
                                TensorType::kQ2_K,   TensorType::kQ3_K, TensorType::kQ5_K, TensorType::kIQ4_NL,
                                TensorType::kIQ4_XS, TensorType::kBF16, TensorType::kF32};
    std::vector<Isa> isas = {Isa::kScalar};
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
        if (isa <= detected_isa()) {
            isas.push_back(isa);
        }
    }

    if (decode) {
        std::printf("decode (n_tokens = 1): GB/s of weights, ratio to scalar, fraction of read bandwidth\n");
        std::printf("%-7s %-11s %-7s %8s %8s %7s %6s\n", "type", "shape", "isa", "threads", "GB/s", "x", "bw%");
        for (const Shape & s : shapes) {
            if (quick && s.cols != 896) {
                continue;
            }
            for (TensorType type : types) {
                const Weights w = make_weights(type, s.rows, s.cols);
                const std::string shape = std::to_string(w.rows) + "x" + std::to_string(w.cols);
                for (int threads : {1, 2}) {
                    ThreadPool & pool = threads == 1 ? pool1 : pool2;
                    double scalar_t = 0.0;
                    for (Isa isa : isas) {
                        force_isa(isa);
                        const double t = time_matmul(w, 1, pool, isa == Isa::kScalar ? std::max(3, reps / 3) : reps);
                        scalar_t = isa == Isa::kScalar ? t : scalar_t;
                        const double gbs = static_cast<double>(w.bytes) / t / 1e9;
                        std::printf("%-7s %-11s %-7s %8d %8.2f %7.1f %5.0f%%\n",
                                    tensor_type_name(static_cast<uint32_t>(type)).c_str(), shape.c_str(), isa_name(isa),
                                    threads, gbs, scalar_t / t, 100.0 * gbs / (threads == 1 ? bw1 : bw2));
                    }
                }
            }
        }
    }

    if (prefill) {
        std::printf("\nprefill: GFLOP/s (2 * rows * cols * n_tokens per call), ratio to scalar at the same shape\n");
        std::printf("%-7s %-11s %6s %-7s %8s %9s %7s\n", "type", "shape", "tokens", "isa", "threads", "GFLOP/s", "x");
        const TensorType prefill_types[] = {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ5_0,
                                            TensorType::kQ4_K, TensorType::kQ6_K, TensorType::kF16};
        for (TensorType type : prefill_types) {
            const Weights w = make_weights(type, 4864, 896);
            for (size_t n_tokens : {size_t{64}, size_t{512}}) {
                for (int threads : {1, 2}) {
                    ThreadPool & pool = threads == 1 ? pool1 : pool2;
                    double scalar_t = 0.0;
                    for (Isa isa : isas) {
                        if (isa == Isa::kScalar && n_tokens > 64) {
                            continue;  // too slow to be worth waiting for; the 64-token ratio stands
                        }
                        force_isa(isa);
                        const double t =
                            time_matmul(w, n_tokens, pool, isa == Isa::kScalar ? 3 : std::max(3, reps / 3));
                        scalar_t = isa == Isa::kScalar ? t : scalar_t;
                        const double flops = 2.0 * static_cast<double>(w.rows * w.cols * n_tokens);
                        std::printf("%-7s %-11s %6zu %-7s %8d %9.1f %7s\n",
                                    tensor_type_name(static_cast<uint32_t>(type)).c_str(),
                                    (std::to_string(w.rows) + "x" + std::to_string(w.cols)).c_str(), n_tokens,
                                    isa_name(isa), threads, flops / t / 1e9,
                                    scalar_t > 0.0 ? std::to_string(scalar_t / t).substr(0, 5).c_str() : "-");
                    }
                }
            }
        }
    }
    force_isa(detected_isa());
    return 0;
}
