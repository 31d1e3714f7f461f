// AVX2 row operations (compiled with -mavx2 -mfma -mf16c; only called when cpuid has them).
// Uses no inline functions from shared headers, so nothing compiled here for AVX2 can be picked
// by the linker for the baseline code.
#include <cstddef>
#include <cstdint>

#include "cpu/ops_simd.h"
#include <immintrin.h>

namespace strongbox::inference::cpu {
namespace {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

inline __m256 load_h8(const uint16_t * p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

inline float h2f(uint16_t h) {
    return _cvtsh_ss(h);
}

}  // namespace

void rmsnorm_avx2(const float * x, const float * weight, float * y, size_t n, float eps) {
    // Squares summed in double, like the scalar definition.
    __m256d acc0 = _mm256_setzero_pd();
    __m256d acc1 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        acc0 = _mm256_fmadd_pd(lo, lo, acc0);
        acc1 = _mm256_fmadd_pd(hi, hi, acc1);
    }
    double ss = hsum_pd(_mm256_add_pd(acc0, acc1));
    for (; i < n; ++i) {
        ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    const float scale =
        static_cast<float>(1.0 / __builtin_sqrt(ss / static_cast<double>(n) + static_cast<double>(eps)));
    const __m256 s = _mm256_set1_ps(scale);
    i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
        if (weight) {
            v = _mm256_mul_ps(v, _mm256_loadu_ps(weight + i));
        }
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; ++i) {
        y[i] = x[i] * scale * (weight ? weight[i] : 1.0f);
    }
}

void fp32_to_fp16_row_avx2(const float * x, uint16_t * y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(y + i), h);
    }
    for (; i < n; ++i) {
        y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
    }
}

void fp16_to_fp32_row_avx2(const uint16_t * x, float * y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, load_h8(x + i));
    }
    for (; i < n; ++i) {
        y[i] = h2f(x[i]);
    }
}

float dot_f16_avx2(const uint16_t * h, const float * x, size_t n) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(load_h8(h + i), _mm256_loadu_ps(x + i), acc0);
        acc1 = _mm256_fmadd_ps(load_h8(h + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(load_h8(h + i), _mm256_loadu_ps(x + i), acc0);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) {
        sum += h2f(h[i]) * x[i];
    }
    return sum;
}

void add_scaled_f16_avx2(float alpha, const uint16_t * h, float * y, size_t n) {
    const __m256 a = _mm256_set1_ps(alpha);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, load_h8(h + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) {
        y[i] += alpha * h2f(h[i]);
    }
}

}  // namespace strongbox::inference::cpu
