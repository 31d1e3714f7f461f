// Scalar definitions of the row operations, and the dispatch to the AVX2 versions.
#include "cpu/ops.h"

#include <cmath>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/ops_simd.h"
#include "cpu/quants.h"

namespace strongbox::inference::cpu {
namespace {

bool use_avx2() {
    return active_isa() >= Isa::kAvx2;
}

}  // namespace

void rmsnorm(const float * x, const float * weight, float * y, size_t n, float eps) {
    if (use_avx2()) {
        rmsnorm_avx2(x, weight, y, n, eps);
        return;
    }
    double ss = 0.0;  // double: rows of a few thousand values with outliers lose bits in float
    for (size_t i = 0; i < n; ++i) {
        ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + static_cast<double>(eps)));
    for (size_t i = 0; i < n; ++i) {
        y[i] = x[i] * scale * (weight ? weight[i] : 1.0f);
    }
}

void layernorm(const float * x, const float * weight, const float * bias, float * y, size_t n, float eps) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(x[i]);
    }
    const double mean = sum / static_cast<double>(n);
    double var = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(x[i]) - mean;
        var += d * d;
    }
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(n) + static_cast<double>(eps));
    for (size_t i = 0; i < n; ++i) {
        const float v = static_cast<float>((static_cast<double>(x[i]) - mean) * inv);
        y[i] = v * (weight ? weight[i] : 1.0f) + (bias ? bias[i] : 0.0f);
    }
}

void softmax(float * x, size_t n) {
    float max = -INFINITY;
    for (size_t i = 0; i < n; ++i) {
        max = std::fmax(max, x[i]);
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);  // exp(-inf) = 0 for masked entries
        sum += static_cast<double>(x[i]);
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (size_t i = 0; i < n; ++i) {
        x[i] *= inv;
    }
}

void swiglu(const float * gate, const float * up, float * out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

void gelu(const float * x, float * out, size_t n) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    constexpr float kCoef = 0.044715f;
    for (size_t i = 0; i < n; ++i) {
        const float v = x[i];
        out[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * v * (1.0f + kCoef * v * v)));
    }
}

void rope_inv_freq(size_t n_rot, float freq_base, float * inv_freq) {
    for (size_t i = 0; i < n_rot / 2; ++i) {
        inv_freq[i] = static_cast<float>(
            std::pow(static_cast<double>(freq_base), -2.0 * static_cast<double>(i) / static_cast<double>(n_rot)));
    }
}

void rope(float * x, size_t n_heads, size_t head_dim, size_t n_rot, float pos, const float * inv_freq, float mscale,
          RopeStyle style) {
    const size_t half = n_rot / 2;
    thread_local std::vector<float> cs;
    cs.resize(2 * half);
    for (size_t i = 0; i < half; ++i) {
        const double theta = static_cast<double>(pos) * static_cast<double>(inv_freq[i]);
        cs[2 * i] = static_cast<float>(std::cos(theta) * static_cast<double>(mscale));
        cs[2 * i + 1] = static_cast<float>(std::sin(theta) * static_cast<double>(mscale));
    }
    for (size_t h = 0; h < n_heads; ++h) {
        float * v = x + h * head_dim;
        for (size_t i = 0; i < half; ++i) {
            const size_t a = style == RopeStyle::kNormal ? 2 * i : i;
            const size_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
            const float x0 = v[a];
            const float x1 = v[b];
            v[a] = x0 * cs[2 * i] - x1 * cs[2 * i + 1];
            v[b] = x0 * cs[2 * i + 1] + x1 * cs[2 * i];
        }
    }
}

void fp32_to_fp16_row(const float * x, uint16_t * y, size_t n) {
    if (use_avx2()) {
        fp32_to_fp16_row_avx2(x, y, n);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        y[i] = fp32_to_fp16(x[i]);
    }
}

void fp16_to_fp32_row(const uint16_t * x, float * y, size_t n) {
    if (use_avx2()) {
        fp16_to_fp32_row_avx2(x, y, n);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        y[i] = fp16_to_fp32(x[i]);
    }
}

float dot_f16(const uint16_t * h, const float * x, size_t n) {
    if (use_avx2()) {
        return dot_f16_avx2(h, x, n);
    }
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        sum += fp16_to_fp32(h[i]) * x[i];
    }
    return sum;
}

void add_scaled_f16(float alpha, const uint16_t * h, float * y, size_t n) {
    if (use_avx2()) {
        add_scaled_f16_avx2(alpha, h, y, n);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        y[i] += alpha * fp16_to_fp32(h[i]);
    }
}

}  // namespace strongbox::inference::cpu
