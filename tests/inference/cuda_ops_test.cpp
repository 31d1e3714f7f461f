// Every CUDA kernel against the CPU reference on random inputs. Without a GPU (or without the
// CUDA backend in this build) each case says so and checks only what can be checked here.
#include "strongbox/inference/cuda.h"

#include "cpu/ops.h"
#include "cpu/quants.h"
#if SB_HAVE_CUDA
#include "cuda/ops.h"
#endif

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace strongbox;
using namespace strongbox::inference;

namespace {

bool gpu_present() {
    if (!cuda_available()) {
        MESSAGE("skipped: no CUDA device (or no CUDA backend in this build)");
        return false;
    }
    return true;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float & x : v) {
        x = dist(rng);
    }
    return v;
}

// Largest |a - b| relative to the largest |b|.
double rel_error(const std::vector<float> & a, const std::vector<float> & b) {
    double max_diff = 0.0, max_ref = 1e-30;
    for (size_t i = 0; i < a.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
        max_ref = std::max(max_ref, std::fabs(static_cast<double>(b[i])));
    }
    return max_diff / max_ref;
}

}  // namespace

TEST_CASE("without a CUDA device, creating a GPU context fails with kUnavailable and a reason") {
    if (cuda_available()) {
        MESSAGE("skipped: a CUDA device is present");
        return;
    }
    CHECK(cuda_devices().empty());
    auto model = Model::load(std::filesystem::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf");
    REQUIRE_MESSAGE(model.ok(), model.error().message());
    auto ctx = CudaContext::create(*model, {.n_ctx = 64});
    REQUIRE_FALSE(ctx.ok());
    CHECK(ctx.error().code() == core::ErrorCode::kUnavailable);
    CHECK(ctx.error().message().find("CPU") != std::string::npos);
}

#if SB_HAVE_CUDA

TEST_CASE("CUDA matrix products of every supported weight type match the exact product of the decoded weights") {
    if (!gpu_present()) {
        return;
    }
    struct Case {
        TensorType type;
        double tolerance;
    };
    // Float activations on the GPU: only summation order differs from the exact product.
    const Case cases[] = {{TensorType::kF32, 1e-5},  {TensorType::kF16, 1e-5},  {TensorType::kBF16, 1e-5},
                          {TensorType::kQ4_0, 1e-5}, {TensorType::kQ5_0, 1e-5}, {TensorType::kQ8_0, 1e-5},
                          {TensorType::kQ4_K, 1e-5}, {TensorType::kQ5_K, 1e-5}, {TensorType::kQ6_K, 1e-5}};
    const size_t rows = 67, cols = 512;
    for (const Case & c : cases) {
        for (size_t n_tokens : {size_t{1}, size_t{11}}) {
            CAPTURE(tensor_type_name(static_cast<uint32_t>(c.type)));
            CAPTURE(n_tokens);
            const std::vector<float> w = random_floats(rows * cols, 7);
            const std::vector<float> x = random_floats(n_tokens * cols, 8);
            const size_t row_bytes = *row_size(c.type, cols);
            std::vector<uint8_t> q(rows * row_bytes);
            std::vector<float> decoded(rows * cols);
            for (size_t r = 0; r < rows; ++r) {
                REQUIRE(cpu::quantize_row(c.type, w.data() + r * cols, q.data() + r * row_bytes, cols));
                REQUIRE(cpu::dequantize_row(c.type, q.data() + r * row_bytes, decoded.data() + r * cols, cols));
            }
            std::vector<float> expected(n_tokens * rows);
            for (size_t t = 0; t < n_tokens; ++t) {
                for (size_t r = 0; r < rows; ++r) {
                    double s = 0.0;
                    for (size_t i = 0; i < cols; ++i) {
                        s += static_cast<double>(decoded[r * cols + i]) * static_cast<double>(x[t * cols + i]);
                    }
                    expected[t * rows + r] = static_cast<float>(s);
                }
            }
            std::vector<float> got(n_tokens * rows);
            auto st = cuda::matmul_host(c.type, q.data(), rows, cols, x.data(), n_tokens, got.data());
            REQUIRE_MESSAGE(st.ok(), st.error().message());
            CHECK(rel_error(got, expected) < c.tolerance);
        }
    }
}

TEST_CASE("CUDA matrix product of F16 rows that are not a whole number of blocks matches the CPU") {
    if (!gpu_present()) {
        return;
    }
    const size_t rows = 64, cols = 172, n_tokens = 3;
    const std::vector<float> w = random_floats(rows * cols, 11);
    const std::vector<float> x = random_floats(n_tokens * cols, 12);
    std::vector<uint16_t> h(rows * cols);
    cpu::fp32_to_fp16_row(w.data(), h.data(), h.size());
    std::vector<float> expected(n_tokens * rows);
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t r = 0; r < rows; ++r) {
            double s = 0.0;
            for (size_t i = 0; i < cols; ++i) {
                s += static_cast<double>(cpu::fp16_to_fp32(h[r * cols + i])) * static_cast<double>(x[t * cols + i]);
            }
            expected[t * rows + r] = static_cast<float>(s);
        }
    }
    std::vector<float> got(n_tokens * rows);
    auto st = cuda::matmul_host(TensorType::kF16, h.data(), rows, cols, x.data(), n_tokens, got.data());
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    CHECK(rel_error(got, expected) < 1e-5);
}

TEST_CASE("CUDA matrix product refuses a weight type it has no kernel for") {
    if (!gpu_present()) {
        return;
    }
    std::vector<uint8_t> w(110);
    std::vector<float> x(256), y(1);
    auto st = cuda::matmul_host(TensorType::kQ3_K, w.data(), 1, 256, x.data(), 1, y.data());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == core::ErrorCode::kUnsupported);
}

TEST_CASE("CUDA RMSNorm, SwiGLU and softmax match the CPU reference ops") {
    if (!gpu_present()) {
        return;
    }
    const size_t n = 896, n_rows = 5;
    const std::vector<float> x = random_floats(n * n_rows, 21, 3.0f);
    const std::vector<float> weight = random_floats(n, 22);
    std::vector<float> expected(n * n_rows), got(n * n_rows);
    for (size_t r = 0; r < n_rows; ++r) {
        cpu::rmsnorm(x.data() + r * n, weight.data(), expected.data() + r * n, n, 1e-5f);
    }
    auto st = cuda::rmsnorm_host(x.data(), weight.data(), got.data(), n, n_rows, 1e-5f);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    CHECK(rel_error(got, expected) < 1e-5);

    const std::vector<float> up = random_floats(n * n_rows, 23, 2.0f);
    cpu::swiglu(x.data(), up.data(), expected.data(), n * n_rows);
    st = cuda::swiglu_host(x.data(), up.data(), got.data(), n * n_rows);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    CHECK(rel_error(got, expected) < 1e-5);

    std::vector<float> s = random_floats(n * n_rows, 24, 4.0f);
    s[3] = -INFINITY;  // a masked position
    expected = s;
    for (size_t r = 0; r < n_rows; ++r) {
        cpu::softmax(expected.data() + r * n, n);
    }
    st = cuda::softmax_host(s.data(), n, n_rows);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    CHECK(s[3] == 0.0f);
    CHECK(rel_error(s, expected) < 1e-5);
}

TEST_CASE("CUDA RoPE matches the CPU rotation in both pair layouts") {
    if (!gpu_present()) {
        return;
    }
    const size_t n_tokens = 4, n_heads = 6, head_dim = 64, rope_dim = 64, pos0 = 37;
    std::vector<float> inv_freq(rope_dim / 2);
    cpu::rope_inv_freq(rope_dim, 10000.0f, inv_freq.data());
    std::vector<float> cos_t((pos0 + n_tokens) * rope_dim / 2), sin_t(cos_t.size());
    for (size_t p = 0; p < pos0 + n_tokens; ++p) {
        for (size_t i = 0; i < rope_dim / 2; ++i) {
            const double theta = static_cast<double>(p) * static_cast<double>(inv_freq[i]);
            cos_t[p * rope_dim / 2 + i] = static_cast<float>(std::cos(theta));
            sin_t[p * rope_dim / 2 + i] = static_cast<float>(std::sin(theta));
        }
    }
    for (bool neox : {false, true}) {
        CAPTURE(neox);
        std::vector<float> x = random_floats(n_tokens * n_heads * head_dim, 31);
        std::vector<float> expected = x;
        for (size_t t = 0; t < n_tokens; ++t) {
            cpu::rope(expected.data() + t * n_heads * head_dim, n_heads, head_dim, rope_dim,
                      static_cast<float>(pos0 + t), inv_freq.data(), 1.0f,
                      neox ? cpu::RopeStyle::kNeox : cpu::RopeStyle::kNormal);
        }
        auto st =
            cuda::rope_host(x.data(), n_tokens, n_heads, head_dim, rope_dim, cos_t.data(), sin_t.data(), pos0, neox);
        REQUIRE_MESSAGE(st.ok(), st.error().message());
        CHECK(rel_error(x, expected) < 1e-5);
    }
}

TEST_CASE("CUDA attention over an F16 cache matches softmax(QK^T)V computed on the CPU, causally") {
    if (!gpu_present()) {
        return;
    }
    const size_t n_tokens = 3, n_head = 8, n_head_kv = 2, head_dim = 64, n_ctx = 300, pos0 = 250;
    const std::vector<float> q = random_floats(n_tokens * n_head * head_dim, 41);
    const std::vector<float> kf = random_floats(n_head_kv * n_ctx * head_dim, 42);
    const std::vector<float> vf = random_floats(n_head_kv * n_ctx * head_dim, 43);
    std::vector<uint16_t> kc(kf.size()), vc(vf.size());
    cpu::fp32_to_fp16_row(kf.data(), kc.data(), kc.size());
    cpu::fp32_to_fp16_row(vf.data(), vc.data(), vc.size());
    std::vector<float> expected(q.size(), 0.0f);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t h = 0; h < n_head; ++h) {
            const size_t g = h / (n_head / n_head_kv);
            const size_t visible = pos0 + t + 1;
            std::vector<float> s(visible);
            for (size_t p = 0; p < visible; ++p) {
                s[p] = cpu::dot_f16(kc.data() + (g * n_ctx + p) * head_dim, q.data() + (t * n_head + h) * head_dim,
                                    head_dim) *
                       scale;
            }
            cpu::softmax(s.data(), visible);
            float * out = expected.data() + (t * n_head + h) * head_dim;
            for (size_t p = 0; p < visible; ++p) {
                cpu::add_scaled_f16(s[p], vc.data() + (g * n_ctx + p) * head_dim, out, head_dim);
            }
        }
    }
    std::vector<float> got(q.size());
    auto st = cuda::attention_host(q.data(), kc.data(), vc.data(), got.data(), n_tokens, n_head, n_head_kv, head_dim,
                                   n_ctx, pos0);
    REQUIRE_MESSAGE(st.ok(), st.error().message());
    CHECK(rel_error(got, expected) < 1e-4);
}

#endif  // SB_HAVE_CUDA
