// matmul: the scalar reference against exact float64 products, and every SIMD path present on
// this CPU against the scalar reference, for every weight type.
#include "strongbox/inference/tensor_type.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/blocks.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/quants.h"
#include "cpu/thread_pool.h"

using namespace strongbox::inference;
using namespace strongbox::inference::cpu;

namespace {

const TensorType kAllTypes[] = {TensorType::kF32,  TensorType::kF16,    TensorType::kBF16,  TensorType::kQ4_0,
                                TensorType::kQ4_1, TensorType::kQ5_0,   TensorType::kQ5_1,  TensorType::kQ8_0,
                                TensorType::kQ2_K, TensorType::kQ3_K,   TensorType::kQ4_K,  TensorType::kQ5_K,
                                TensorType::kQ6_K, TensorType::kIQ4_NL, TensorType::kIQ4_XS};

bool is_k_layout(TensorType t) {
    return tensor_type_traits(static_cast<uint32_t>(t))->block_size == 256;
}

struct Problem {
    TensorType type;
    size_t rows;
    size_t cols;
    size_t n_tokens;
    std::vector<uint8_t> w;
    std::vector<float> w_float;  // dequantized weights, rows x cols
    std::vector<float> x;        // n_tokens x cols
};

Problem make_problem(TensorType type, size_t rows, size_t cols, size_t n_tokens, uint32_t seed) {
    Problem p{type, rows, cols, n_tokens, {}, {}, {}};
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const size_t stride = *row_size(type, cols);
    p.w.resize(stride * rows);
    p.w_float.resize(rows * cols);
    std::vector<float> row(cols);
    for (size_t r = 0; r < rows; ++r) {
        for (float & v : row) {
            v = normal(rng) * 0.05f;
        }
        REQUIRE(quantize_row(type, row.data(), p.w.data() + r * stride, cols));
        REQUIRE(dequantize_row(type, p.w.data() + r * stride, p.w_float.data() + r * cols, cols));
    }
    p.x.resize(n_tokens * cols);
    for (float & v : p.x) {
        v = normal(rng);
    }
    // A few large activations, as real hidden states have.
    for (size_t t = 0; t < n_tokens; ++t) {
        p.x[t * cols + (t * 37) % cols] = 12.0f;
    }
    return p;
}

std::vector<float> run(const Problem & p, Isa isa, int threads) {
    force_isa(isa);
    ThreadPool pool(threads);
    std::vector<float> y(p.rows * p.n_tokens, NAN);
    matmul(p.type, p.w.data(), p.rows, p.cols, p.x.data(), p.n_tokens, y.data(), pool);
    force_isa(detected_isa());
    return y;
}

// Sum of |w_i x_i| for one output: the scale float rounding errors are relative to.
double magnitude(const Problem & p, size_t r, size_t t) {
    double s = 0.0;
    for (size_t c = 0; c < p.cols; ++c) {
        s += std::fabs(static_cast<double>(p.w_float[r * p.cols + c]) * static_cast<double>(p.x[t * p.cols + c]));
    }
    return s;
}

std::vector<Isa> isas_here() {
    std::vector<Isa> out = {Isa::kScalar};
    if (detected_isa() >= Isa::kAvx2) {
        out.push_back(Isa::kAvx2);
    }
    if (detected_isa() >= Isa::kAvx512) {
        out.push_back(Isa::kAvx512);
    }
    return out;
}

}  // namespace

TEST_CASE("scalar matmul equals the exact product up to the 8-bit activation rounding") {
    // For quantized weights the activations are rounded to 8 bits per block (step d = max|x|/127),
    // so each output may differ from the exact float64 product by at most sum |w_i| * d / 2, plus
    // float rounding. Float weights use the activations as they are.
    for (TensorType type : kAllTypes) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(type)));
        const Problem p = make_problem(type, 9, 512, 3, 11);
        const std::vector<float> y = run(p, Isa::kScalar, 1);
        const size_t block = is_k_layout(type) ? 256 : 32;
        const bool float_weights = type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16;
        for (size_t t = 0; t < p.n_tokens; ++t) {
            for (size_t r = 0; r < p.rows; ++r) {
                double exact = 0.0;
                double bound = 1e-6 * magnitude(p, r, t) + 1e-9;
                for (size_t b0 = 0; b0 < p.cols; b0 += block) {
                    double amax = 0.0;
                    double wabs = 0.0;
                    for (size_t c = b0; c < b0 + block; ++c) {
                        const double wv = p.w_float[r * p.cols + c];
                        const double xv = p.x[t * p.cols + c];
                        exact += wv * xv;
                        amax = std::max(amax, std::fabs(xv));
                        wabs += std::fabs(wv);
                    }
                    if (!float_weights) {
                        bound += wabs * (amax / 127.0) / 2.0;
                    }
                }
                CAPTURE(r);
                CAPTURE(t);
                CHECK(std::fabs(static_cast<double>(y[t * p.rows + r]) - exact) <= bound);
            }
        }
    }
}

TEST_CASE("every SIMD matmul path matches the scalar reference for every weight type") {
    // Same integer block sums, different float summation order: agreement within 2e-5 of the
    // magnitude sum |w_i x_i|. Shapes cover odd row counts (partial row tiles), one token
    // (decode), a few tokens and more tokens than one token tile (prefill), and 1 and 2 threads.
    struct Shape {
        size_t rows;
        size_t cols;
        size_t n_tokens;
    };
    const Shape shapes[] = {{1, 256, 1}, {7, 512, 1}, {33, 768, 5}, {17, 256, 70}};
    for (TensorType type : kAllTypes) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(type)));
        for (const Shape & s : shapes) {
            const Problem p =
                make_problem(type, s.rows, s.cols, s.n_tokens, static_cast<uint32_t>(s.rows * 131 + s.cols));
            const std::vector<float> ref = run(p, Isa::kScalar, 1);
            for (Isa isa : isas_here()) {
                for (int threads : {1, 2}) {
                    CAPTURE(std::string(isa_name(isa)));
                    CAPTURE(threads);
                    CAPTURE(s.rows);
                    CAPTURE(s.n_tokens);
                    const std::vector<float> y = run(p, isa, threads);
                    size_t bad = 0;
                    for (size_t t = 0; t < p.n_tokens; ++t) {
                        for (size_t r = 0; r < p.rows; ++r) {
                            const double diff = std::fabs(static_cast<double>(y[t * p.rows + r]) -
                                                          static_cast<double>(ref[t * p.rows + r]));
                            bad += diff <= 2e-5 * magnitude(p, r, t) + 1e-9 ? 0 : 1;
                        }
                    }
                    CHECK(bad == 0);
                }
            }
        }
    }
}

TEST_CASE("forcing an instruction set above what the CPU has falls back to the best available") {
    force_isa(Isa::kAvx512);
    CHECK(active_isa() == detected_isa());
    force_isa(Isa::kScalar);
    CHECK(active_isa() == Isa::kScalar);
    force_isa(detected_isa());
    CHECK(std::string(isa_name(Isa::kAvx2)) == "avx2");
    if (detected_isa() < Isa::kAvx512) {
        MESSAGE("AVX-512 VNNI not available on this CPU: its kernels are not exercised");
    }
}

TEST_CASE("matmul reports which weight types it supports") {
    for (TensorType type : kAllTypes) {
        CHECK(matmul_supported(type));
    }
    CHECK_FALSE(matmul_supported(TensorType::kQ8_K));
    CHECK_FALSE(matmul_supported(TensorType::kI32));
}

TEST_CASE("SIMD activation quantization produces the same bytes as the scalar rule") {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> x(1024);
    for (float & v : x) {
        v = normal(rng);
    }
    x[40] = 0.5f * (x[41] = 127.0f);                    // exact halves exercise round-to-even
    std::fill(x.begin() + 256, x.begin() + 512, 0.0f);  // an all-zero super-block
    for (ActKind kind : {ActKind::kQ8x32, ActKind::kQ8x256}) {
        const size_t bytes = activation_row_bytes(kind, x.size());
        std::vector<uint8_t> ref(bytes);
        prepare_activations(kind, x.data(), x.size(), ref.data());
        if (detected_isa() >= Isa::kAvx2) {
            std::vector<uint8_t> simd(bytes, 0xAA);
            prepare_activations_avx2(kind, x.data(), x.size(), simd.data());
            CHECK(simd == ref);
        }
        if (detected_isa() >= Isa::kAvx512) {
            std::vector<uint8_t> simd(bytes, 0xAA);
            prepare_activations_avx512(kind, x.data(), x.size(), simd.data());
            CHECK(simd == ref);
        }
    }
}

TEST_CASE("SIMD matmul matches the scalar reference on arbitrary block bytes, extremes included") {
    // Every payload byte random (so Q8_0 -128, six-bit scales of 63, Q6_K scales of -128 and every
    // level occur), with the fp16 scale fields set to finite values so results stay comparable.
    struct Layout {
        TensorType type;
        std::vector<size_t> fp16_offsets;
    };
    const Layout layouts[] = {
        {TensorType::kQ4_0, {offsetof(BlockQ4_0, d)}},
        {TensorType::kQ4_1, {offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)}},
        {TensorType::kQ5_0, {offsetof(BlockQ5_0, d)}},
        {TensorType::kQ5_1, {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)}},
        {TensorType::kQ8_0, {offsetof(BlockQ8_0, d)}},
        {TensorType::kIQ4_NL, {offsetof(BlockIQ4_NL, d)}},
        {TensorType::kQ2_K, {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)}},
        {TensorType::kQ3_K, {offsetof(BlockQ3_K, d)}},
        {TensorType::kQ4_K, {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)}},
        {TensorType::kQ5_K, {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)}},
        {TensorType::kQ6_K, {offsetof(BlockQ6_K, d)}},
        {TensorType::kIQ4_XS, {offsetof(BlockIQ4_XS, d)}},
    };
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
    for (const Layout & l : layouts) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(l.type)));
        const auto traits = *tensor_type_traits(static_cast<uint32_t>(l.type));
        Problem p{l.type, 13, 512, 6, {}, {}, {}};
        const size_t stride = *row_size(l.type, p.cols);
        p.w.resize(stride * p.rows);
        for (uint8_t & b : p.w) {
            b = static_cast<uint8_t>(byte(rng));
        }
        for (size_t blk = 0; blk < p.w.size() / traits.type_size; ++blk) {
            for (size_t off : l.fp16_offsets) {
                const uint16_t h = fp32_to_fp16(scale(rng));
                std::memcpy(p.w.data() + blk * traits.type_size + off, &h, sizeof h);
            }
        }
        p.w_float.resize(p.rows * p.cols);
        for (size_t r = 0; r < p.rows; ++r) {
            REQUIRE(dequantize_row(l.type, p.w.data() + r * stride, p.w_float.data() + r * p.cols, p.cols));
        }
        p.x.resize(p.n_tokens * p.cols);
        for (float & v : p.x) {
            v = scale(rng) * 100.0f;
        }
        const std::vector<float> ref = run(p, Isa::kScalar, 1);
        for (Isa isa : isas_here()) {
            CAPTURE(std::string(isa_name(isa)));
            const std::vector<float> y = run(p, isa, 2);
            for (size_t t = 0; t < p.n_tokens; ++t) {
                for (size_t r = 0; r < p.rows; ++r) {
                    const double diff =
                        std::fabs(static_cast<double>(y[t * p.rows + r]) - static_cast<double>(ref[t * p.rows + r]));
                    REQUIRE(diff <= 2e-5 * magnitude(p, r, t) + 1e-9);
                }
            }
        }
    }
}

TEST_CASE("float-weight matmul handles row lengths that are not a multiple of the vector width") {
    // 172 is the ffn_down row length of stories260K, stored as F16; 13 and 5 exercise short tails.
    for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kBF16}) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(type)));
        for (size_t cols : {size_t{5}, size_t{13}, size_t{172}}) {
            CAPTURE(cols);
            const Problem p = make_problem(type, 11, cols, 6, static_cast<uint32_t>(cols));
            for (Isa isa : isas_here()) {
                CAPTURE(std::string(isa_name(isa)));
                const std::vector<float> y = run(p, isa, 2);
                for (size_t t = 0; t < p.n_tokens; ++t) {
                    for (size_t r = 0; r < p.rows; ++r) {
                        double exact = 0.0;
                        for (size_t c = 0; c < cols; ++c) {
                            exact +=
                                static_cast<double>(p.w_float[r * cols + c]) * static_cast<double>(p.x[t * cols + c]);
                        }
                        REQUIRE(std::fabs(static_cast<double>(y[t * p.rows + r]) - exact) <=
                                1e-6 * magnitude(p, r, t) + 1e-9);
                    }
                }
            }
        }
    }
}
