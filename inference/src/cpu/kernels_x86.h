// x86 SIMD kernels (activation quantization, one-row dot products, multi-row x multi-token prefill
// tiles), written once and compiled twice: by kernels_avx2.cpp (AVX2+FMA) and by
// kernels_avx512.cpp (AVX-512 with VNNI), which selects the VNNI instruction for the 8-bit dot
// products and larger tiles. Private to the CPU kernels; include only from those two files,
// inside their own unnamed namespace, so each gets its own copy of every function.
//
// Design notes:
// 1. A block's integer dot product is exact; only the per-block float scaling differs from the
//    scalar reference, and only in the order the partial sums are added.
// 2. Signed x signed 8-bit products use the sign trick: |w| (unsigned) times a * sign(w), which
//    is what the unsigned-by-signed instructions (vpmaddubsw, vpdpbusd) accept. |w| <= 128 and
//    |a| <= 127 keep each int16 pair sum below 32767.
// 3. Nibble formats are widened to one byte per element in register (low nibbles are elements
//    0-15 of a block, high nibbles 16-31, matching the file layout).
// 4. The AVX-512 build still works on 256-bit vectors: one 32-element block fills one, and
//    AVX-512 has no byte sign instruction for the trick of note 2. What it gains is vpdpbusd (one
//    instruction instead of three) and 32 vector registers, which hold the larger prefill tiles.
//    A variant with two blocks per 512-bit register has not been tried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/blocks.h"
#include <immintrin.h>

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float half_to_float(uint16_t h) {
    return _cvtsh_ss(h);
}

// 32 unsigned bytes times 32 signed bytes, summed in groups of four into 8 int32 lanes.
static inline __m256i dot_u8s8(__m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// Signed x signed 8-bit dot product into 8 int32 lanes (design note 2).
static inline __m256i dot_s8s8(__m256i w, __m256i a) {
    return dot_u8s8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

// 16 packed nibbles -> 32 bytes: low nibbles then high nibbles.
static inline __m256i unpack_nibbles(const uint8_t * p) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0F));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0F));
    return _mm256_set_m128i(hi, lo);
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
static inline __m256i expand_bits(uint32_t bits) {
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

static inline __m256i load32(const void * p) {
    return _mm256_loadu_si256(static_cast<const __m256i *>(p));
}

// ---- activation quantization ----------------------------------------------------------------

static inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Rounds 32 floats times id to nearest-even, clamps to +-127 and stores them as bytes in order;
// returns the bytes for the sums. Same arithmetic as the scalar rule, so the bytes are identical.
static inline __m256i quantize32(const float * x, __m256 id) {
    const __m256i lim = _mm256_set1_epi32(127);
    const __m256i neg = _mm256_set1_epi32(-127);
    __m256i i[4];
    for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        i[k] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(v), lim), neg);
    }
    const __m256i p16 = _mm256_packs_epi32(i[0], i[1]);
    const __m256i q16 = _mm256_packs_epi32(i[2], i[3]);
    // The packs work per 128-bit lane; put the 4-byte groups back in element order.
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16, q16), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float block_scale(const float * x, size_t n, float & id) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 m = _mm256_setzero_ps();
    for (size_t j = 0; j < n; j += 8) {
        m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask));
    }
    const float amax = hmax(m);
    id = amax != 0.0f ? 127.0f / amax : 0.0f;
    return amax / 127.0f;
}

// Sums of the bytes in each 16-byte half of q.
static inline __m128i half_sums(__m256i q) {
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    __m128i lo = _mm256_castsi256_si128(s32);
    __m128i hi = _mm256_extracti128_si256(s32, 1);
    lo = _mm_hadd_epi32(lo, hi);    // [l01, l23, h01, h23]
    return _mm_hadd_epi32(lo, lo);  // [lo sum, hi sum, ...]
}

void x86_prepare_activations(ActKind kind, const float * x, size_t n, void * dst) {
    if (kind == ActKind::kQ8x32) {
        auto * out = static_cast<ActQ8x32 *>(dst);
        for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
            float id;
            out[i].d = block_scale(x, kQK, id);
            const __m256i q = quantize32(x, _mm256_set1_ps(id));
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[i].qs), q);
            const __m128i s = half_sums(q);
            out[i].sum = _mm_cvtsi128_si32(s) + _mm_extract_epi32(s, 1);
        }
        return;
    }
    if (kind == ActKind::kQ8x256) {
        auto * out = static_cast<ActQ8x256 *>(dst);
        for (size_t i = 0; i < n / kQKK; ++i, x += kQKK) {
            float id;
            out[i].d = block_scale(x, kQKK, id);
            const __m256 idv = _mm256_set1_ps(id);
            for (size_t k = 0; k < kQKK / 32; ++k) {
                const __m256i q = quantize32(x + 32 * k, idv);
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(out[i].qs + 32 * k), q);
                const __m128i s = half_sums(q);
                out[i].bsums[2 * k] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
                out[i].bsums[2 * k + 1] = static_cast<int16_t>(_mm_extract_epi32(s, 1));
            }
        }
        return;
    }
    std::memcpy(dst, x, n * sizeof(float));
}

// ---- float weights --------------------------------------------------------------------------

static inline __m256 load8_f16(const uint16_t * p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

static inline __m256 load8_bf16(const uint16_t * p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static inline __m256 load8_f32(const float * p) {
    return _mm256_loadu_ps(p);
}

template <typename T, __m256 (*kLoad)(const T *), float (*kScalar)(T)>
float dot_float_weights(size_t n, const void * w, const void * a) {
    const T * x = static_cast<const T *>(w);
    const float * y = static_cast<const float *>(a);
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(kLoad(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(kLoad(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(kLoad(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(kLoad(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(kLoad(x + i), _mm256_loadu_ps(y + i), acc0);
    }
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i) {
        sum += kScalar(x[i]) * y[i];
    }
    return sum;
}

static inline float f32_scalar(float v) {
    return v;
}
static inline float f16_scalar(uint16_t v) {
    return _cvtsh_ss(v);
}
static inline float bf16_scalar(uint16_t v) {
    const uint32_t u = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// ---- 32-element blocks ----------------------------------------------------------------------

static inline uint32_t load_qh(const uint8_t * p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Each decoder returns a block's 32 weights as bytes: signed values for the symmetric types,
// unsigned levels for the affine ones (whose min is added separately).
static inline __m256i decode_q8_0(const BlockQ8_0 & b) {
    return load32(b.qs);
}
static inline __m256i decode_q4_0(const BlockQ4_0 & b) {
    return _mm256_sub_epi8(unpack_nibbles(b.qs), _mm256_set1_epi8(8));
}
static inline __m256i decode_q4_1(const BlockQ4_1 & b) {
    return unpack_nibbles(b.qs);
}
static inline __m256i decode_q5_0(const BlockQ5_0 & b) {
    const __m256i hi = _mm256_and_si256(expand_bits(load_qh(b.qh)), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(b.qs), hi), _mm256_set1_epi8(16));
}
static inline __m256i decode_q5_1(const BlockQ5_1 & b) {
    const __m256i hi = _mm256_and_si256(expand_bits(load_qh(b.qh)), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(unpack_nibbles(b.qs), hi);
}
static inline __m256i iq4_table() {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i *>(kIq4Levels));
    return _mm256_set_m128i(t, t);
}
static inline __m256i decode_iq4_nl(const BlockIQ4_NL & b) {
    return _mm256_shuffle_epi8(iq4_table(), unpack_nibbles(b.qs));
}

template <typename Block>
static inline float block_min(const Block & b) {
    if constexpr (requires { b.m; }) {
        return half_to_float(b.m);
    } else {
        return 0.0f;
    }
}

// One block's integer dot product as 8 int32 lanes.
template <bool kSigned>
static inline __m256i block_dot(__m256i q, __m256i a) {
    if constexpr (kSigned) {
        return dot_s8s8(q, a);
    } else {
        return dot_u8s8(q, a);
    }
}

// Two independent float accumulators so consecutive blocks do not wait on each other's FMA.
template <typename Block, __m256i (*kDecode)(const Block &), bool kSigned, bool kAffine>
float dot_blocks32(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const Block *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    const size_t nb = n / kQK;
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    float mins = 0.0f;
    size_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        const __m256i p0 = block_dot<kSigned>(kDecode(x[i]), load32(y[i].qs));
        const __m256i p1 = block_dot<kSigned>(kDecode(x[i + 1]), load32(y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(half_to_float(x[i].d) * y[i].d), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(half_to_float(x[i + 1].d) * y[i + 1].d), acc1);
        if constexpr (kAffine) {
            mins += block_min(x[i]) * (y[i].d * static_cast<float>(y[i].sum));
            mins += block_min(x[i + 1]) * (y[i + 1].d * static_cast<float>(y[i + 1].sum));
        }
    }
    for (; i < nb; ++i) {
        const __m256i p = block_dot<kSigned>(kDecode(x[i]), load32(y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_to_float(x[i].d) * y[i].d), acc0);
        if constexpr (kAffine) {
            mins += block_min(x[i]) * (y[i].d * static_cast<float>(y[i].sum));
        }
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + mins;
}

// ---- 256-element super-blocks ---------------------------------------------------------------

// The 8 six-bit scales (sc) and mins (m) of a Q4_K/Q5_K super-block, unpacked with word
// operations: the same layout unpack_scale_min_k4 reads one value at a time.
static inline void unpack_scales_mins_k4(const uint8_t * packed, uint8_t * sc, uint8_t * m) {
    uint32_t w[3];
    std::memcpy(w, packed, sizeof w);
    const uint32_t sc_lo = w[0] & 0x3F3F3F3Fu;
    const uint32_t m_lo = w[1] & 0x3F3F3F3Fu;
    const uint32_t sc_hi = (w[2] & 0x0F0F0F0Fu) | (((w[0] >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w[2] >> 4) & 0x0F0F0F0Fu) | (((w[1] >> 6) & 0x03030303u) << 4);
    std::memcpy(sc, &sc_lo, 4);
    std::memcpy(sc + 4, &sc_hi, 4);
    std::memcpy(m, &m_lo, 4);
    std::memcpy(m + 4, &m_hi, 4);
}

// sum_j m[j] * (bsums[2j] + bsums[2j+1]) for the 8 mins of a super-block.
static inline int mins_dot_bsums(const uint8_t * m, const int16_t * bsums) {
    const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(bsums));
    const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(bsums + 8));
    const __m128i pairs = _mm_hadd_epi16(b0, b1);  // |pair| <= 2 * 16 * 127
    uint64_t m8;
    std::memcpy(&m8, m, sizeof m8);
    const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(m8)));
    __m128i p = _mm_madd_epi16(mins, pairs);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4E));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xB1));
    return _mm_cvtsi128_si32(p);
}

template <bool kFiveBit, typename Block>
float dot_q45_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const Block *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        alignas(8) uint8_t sc[8];
        alignas(8) uint8_t m[8];
        unpack_scales_mins_k4(x[i].scales, sc, m);
        const int msum = mins_dot_bsums(m, y[i].bsums);
        __m256i isum0 = _mm256_setzero_si256();
        __m256i isum1 = _mm256_setzero_si256();
        __m256i qh = _mm256_setzero_si256();
        if constexpr (kFiveBit) {
            qh = load32(x[i].qh);
        }
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load32(x[i].qs + 32 * c);
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFiveBit) {
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c), 4), bit4));
                hi =
                    _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c + 1), 4), bit4));
            }
            const __m256i p_lo = _mm256_maddubs_epi16(lo, load32(y[i].qs + 64 * c));  // |.| <= 2 * 31 * 127
            const __m256i p_hi = _mm256_maddubs_epi16(hi, load32(y[i].qs + 64 * c + 32));
            isum0 = _mm256_add_epi32(isum0, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(sc[2 * c])));
            isum1 = _mm256_add_epi32(isum1, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        const float dy = y[i].d;
        const __m256i isum = _mm256_add_epi32(isum0, isum1);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(half_to_float(x[i].d) * dy), acc);
        mins += dy * (half_to_float(x[i].dmin) * static_cast<float>(msum));
    }
    return hsum(acc) - mins;
}

// Per-16-element int16 scales (lo for bytes 0-15 of a 32-byte group, hi for 16-31).
static inline __m256i scale_pair(int lo, int hi) {
    return _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(hi)), _mm_set1_epi16(static_cast<short>(lo)));
}

float dot_q2_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ2_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        // Mins (high nibbles) against the 16 activation sub-block sums.
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x[i].scales));
        const __m128i m8 = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F));
        const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(y[i].bsums));
        const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(y[i].bsums + 8));
        __m128i ms = _mm_add_epi32(_mm_madd_epi16(_mm_cvtepu8_epi16(m8), b0),
                                   _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(m8, 8)), b1));
        ms = _mm_add_epi32(ms, _mm_shuffle_epi32(ms, 0x4E));
        ms = _mm_add_epi32(ms, _mm_shuffle_epi32(ms, 0xB1));
        const int msum = _mm_cvtsi128_si32(ms);

        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load32(x[i].qs + 32 * half);
            for (int j = 0; j < 4; ++j) {
                const int k = 8 * half + 2 * j;
                const __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
                const __m256i p16 = _mm256_maddubs_epi16(v, load32(y[i].qs + 128 * half + 32 * j));
                isum = _mm256_add_epi32(
                    isum, _mm256_madd_epi16(p16, scale_pair(x[i].scales[k] & 0xF, x[i].scales[k + 1] & 0xF)));
            }
        }
        const float dy = y[i].d;
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(dy * half_to_float(x[i].d)), acc);
        mins += dy * (half_to_float(x[i].dmin) * static_cast<float>(msum));
    }
    return hsum(acc) - mins;
}

float dot_q3_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ3_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    const __m256i three = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i four = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < n / kQKK; ++i) {
        uint8_t sc[16];
        unpack_scales_q3k(x[i].scales, sc);
        const __m256i hm = load32(x[i].hmask);
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load32(x[i].qs + 32 * half);
            for (int j = 0; j < 4; ++j) {
                const int k = 8 * half + 2 * j;
                const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
                const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + j), one);
                // Stored level u = low + 4 * high in 0..7 stands for u - 4.
                const __m256i u = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
                const __m256i act = load32(y[i].qs + 128 * half + 32 * j);
                const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(u, act), _mm256_maddubs_epi16(four, act));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p16, scale_pair(sc[k] - 32, sc[k + 1] - 32)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(half_to_float(x[i].d) * y[i].d), acc);
    }
    return hsum(acc);
}

// Levels are stored unsigned (value = level - 32): sum(level * a * scale) minus
// 32 * sum(scale_k * bsums_k), as in tile_q6k_micro.
float dot_q6_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ6_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < n / kQKK; ++i) {
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i ql0 = load32(x[i].ql + 64 * half);
            const __m256i ql1 = load32(x[i].ql + 64 * half + 32);
            const __m256i qh = load32(x[i].qh + 32 * half);
            const __m256i lows[4] = {_mm256_and_si256(ql0, low4), _mm256_and_si256(ql1, low4),
                                     _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                     _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4)};
            const int8_t * sc = x[i].scales + 8 * half;
            for (int quarter = 0; quarter < 4; ++quarter) {
                const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * quarter), two);
                const __m256i q = _mm256_or_si256(lows[quarter], _mm256_slli_epi16(high, 4));
                const __m256i act = load32(y[i].qs + 128 * half + 32 * quarter);
                const __m256i p16 = _mm256_maddubs_epi16(q, act);  // |pair| <= 2 * 63 * 127
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p16, scale_pair(sc[2 * quarter], sc[2 * quarter + 1])));
            }
        }
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(x[i].scales));
        const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(y[i].bsums));
        const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(y[i].bsums + 8));
        __m128i off = _mm_add_epi32(_mm_madd_epi16(_mm_cvtepi8_epi16(sc8), b0),
                                    _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(sc8, 8)), b1));
        off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0x4E));
        off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0xB1));
        isum = _mm256_sub_epi32(isum, _mm256_zextsi128_si256(_mm_cvtsi32_si128(32 * _mm_cvtsi128_si32(off))));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(half_to_float(x[i].d) * y[i].d), acc);
    }
    return hsum(acc);
}

float dot_iq4_xs(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockIQ4_XS *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    const __m256i table = iq4_table();
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < n / kQKK; ++i) {
        __m256i isum = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ++ib) {
            const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
            const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles(x[i].qs + 16 * ib));
            const __m256i p = dot_s8s8(q, load32(y[i].qs + 32 * ib));
            isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls - 32)));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(half_to_float(x[i].d) * y[i].d), acc);
    }
    return hsum(acc);
}

VecDotFn x86_vec_dot(TensorType type) {
    switch (type) {
    case TensorType::kF32:
        return dot_float_weights<float, load8_f32, f32_scalar>;
    case TensorType::kF16:
        return dot_float_weights<uint16_t, load8_f16, f16_scalar>;
    case TensorType::kBF16:
        return dot_float_weights<uint16_t, load8_bf16, bf16_scalar>;
    case TensorType::kQ4_0:
        return dot_blocks32<BlockQ4_0, decode_q4_0, true, false>;
    case TensorType::kQ4_1:
        return dot_blocks32<BlockQ4_1, decode_q4_1, false, true>;
    case TensorType::kQ5_0:
        return dot_blocks32<BlockQ5_0, decode_q5_0, true, false>;
    case TensorType::kQ5_1:
        return dot_blocks32<BlockQ5_1, decode_q5_1, false, true>;
    case TensorType::kQ8_0:
        return dot_blocks32<BlockQ8_0, decode_q8_0, true, false>;
    case TensorType::kIQ4_NL:
        return dot_blocks32<BlockIQ4_NL, decode_iq4_nl, true, false>;
    case TensorType::kQ4_K:
        return dot_q45_k<false, BlockQ4_K>;
    case TensorType::kQ5_K:
        return dot_q45_k<true, BlockQ5_K>;
    case TensorType::kQ6_K:
        return dot_q6_k;
    case TensorType::kIQ4_XS:
        return dot_iq4_xs;
    case TensorType::kQ2_K:
        return dot_q2_k;
    case TensorType::kQ3_K:
        return dot_q3_k;
    default:
        return nullptr;
    }
}

// ---- prefill tiles --------------------------------------------------------------------------

// R weight rows times T tokens over all blocks: each weight block is decoded once and used T
// times, each activation block loaded once and used R times. R * T float accumulators stay in
// registers (AVX-512 has 32 vector registers, AVX2 16).
template <typename Block, __m256i (*kDecode)(const Block &), bool kSigned, bool kAffine, int R, int T>
static inline void tile32_micro(size_t nb, const uint8_t * w, size_t ws, const uint8_t * act, size_t as, float * y,
                                size_t ys) {
    __m256 acc[R][T];
    float mins[R][T];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            acc[r][t] = _mm256_setzero_ps();
            mins[r][t] = 0.0f;
        }
    }
    for (size_t i = 0; i < nb; ++i) {
        __m256i q[R];
        __m256i uq[R];
        float d[R];
        float m[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const Block & b = reinterpret_cast<const Block *>(w + static_cast<size_t>(r) * ws)[i];
            q[r] = kDecode(b);
            uq[r] = kSigned ? _mm256_sign_epi8(q[r], q[r]) : q[r];
            d[r] = half_to_float(b.d);
            m[r] = block_min(b);
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const ActQ8x32 & at = reinterpret_cast<const ActQ8x32 *>(act + static_cast<size_t>(t) * as)[i];
            const __m256i av = load32(at.qs);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
                const __m256i p = kSigned ? dot_u8s8(uq[r], _mm256_sign_epi8(av, q[r])) : dot_u8s8(q[r], av);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d[r] * at.d), acc[r][t]);
                if constexpr (kAffine) {
                    mins[r][t] += m[r] * (at.d * static_cast<float>(at.sum));
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            y[static_cast<size_t>(t) * ys + static_cast<size_t>(r)] = hsum(acc[r][t]) + mins[r][t];
        }
    }
}

#if defined(__AVX512F__)
inline constexpr int kTileRows = 4;
#else
inline constexpr int kTileRows = 2;
#endif
inline constexpr int kTileTokens = 4;

template <typename Block, __m256i (*kDecode)(const Block &), bool kSigned, bool kAffine>
void tile32(size_t n, const uint8_t * w, size_t ws, size_t n_rows, const uint8_t * act, size_t as, size_t n_tok,
            float * y, size_t ys) {
    const size_t nb = n / kQK;
    size_t r = 0;
    for (; r + kTileRows <= n_rows; r += kTileRows) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile32_micro<Block, kDecode, kSigned, kAffine, kTileRows, kTileTokens>(nb, w + r * ws, ws, act + t * as, as,
                                                                                   y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile32_micro<Block, kDecode, kSigned, kAffine, kTileRows, 1>(nb, w + r * ws, ws, act + t * as, as,
                                                                         y + t * ys + r, ys);
        }
    }
    for (; r < n_rows; ++r) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile32_micro<Block, kDecode, kSigned, kAffine, 1, kTileTokens>(nb, w + r * ws, ws, act + t * as, as,
                                                                           y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile32_micro<Block, kDecode, kSigned, kAffine, 1, 1>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r,
                                                                 ys);
        }
    }
}

// Float weights: each 8-element slice of R weight rows is converted once and multiplied into T
// token rows, R * T accumulators in registers.
template <typename T, __m256 (*kLoad)(const T *), float (*kScalar)(T), int R, int TT>
static inline void tile_float_micro(size_t n, const uint8_t * w, size_t ws, const uint8_t * act, size_t as, float * y,
                                    size_t ys) {
    __m256 acc[R][TT];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            acc[r][t] = _mm256_setzero_ps();
        }
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            wv[r] = kLoad(reinterpret_cast<const T *>(w + static_cast<size_t>(r) * ws) + i);
        }
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            const __m256 av = _mm256_loadu_ps(reinterpret_cast<const float *>(act + static_cast<size_t>(t) * as) + i);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
                acc[r][t] = _mm256_fmadd_ps(wv[r], av, acc[r][t]);
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        const T * wr = reinterpret_cast<const T *>(w + static_cast<size_t>(r) * ws);
        for (int t = 0; t < TT; ++t) {
            const float * at = reinterpret_cast<const float *>(act + static_cast<size_t>(t) * as);
            float sum = hsum(acc[r][t]);
            for (size_t k = i; k < n; ++k) {
                sum += kScalar(wr[k]) * at[k];
            }
            y[static_cast<size_t>(t) * ys + static_cast<size_t>(r)] = sum;
        }
    }
}

template <typename T, __m256 (*kLoad)(const T *), float (*kScalar)(T)>
void tile_float(size_t n, const uint8_t * w, size_t ws, size_t n_rows, const uint8_t * act, size_t as, size_t n_tok,
                float * y, size_t ys) {
    size_t r = 0;
    for (; r + kTileRows <= n_rows; r += kTileRows) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_float_micro<T, kLoad, kScalar, kTileRows, kTileTokens>(n, w + r * ws, ws, act + t * as, as,
                                                                        y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile_float_micro<T, kLoad, kScalar, kTileRows, 1>(n, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
    for (; r < n_rows; ++r) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_float_micro<T, kLoad, kScalar, 1, kTileTokens>(n, w + r * ws, ws, act + t * as, as, y + t * ys + r,
                                                                ys);
        }
        for (; t < n_tok; ++t) {
            tile_float_micro<T, kLoad, kScalar, 1, 1>(n, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
}

// Q4_K / Q5_K prefill: each super-block of R rows is unpacked to bytes once (8 registers per
// row) and multiplied into TT tokens.
#if defined(__AVX512F__)
inline constexpr int kKTileRows = 2;
#else
inline constexpr int kKTileRows = 1;
#endif

template <bool kFiveBit, typename Block, int R, int TT>
static inline void tile_q45k_micro(size_t nb, const uint8_t * w, size_t ws, const uint8_t * act, size_t as, float * y,
                                   size_t ys) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    __m256 acc[R][TT];
    float mins[R][TT];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            acc[r][t] = _mm256_setzero_ps();
            mins[r][t] = 0.0f;
        }
    }
    for (size_t i = 0; i < nb; ++i) {
        __m256i q[R][8];
        alignas(8) uint8_t sc[R][8];
        alignas(8) uint8_t m[R][8];
        float d[R];
        float dmin[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const Block & b = reinterpret_cast<const Block *>(w + static_cast<size_t>(r) * ws)[i];
            unpack_scales_mins_k4(b.scales, sc[r], m[r]);
            d[r] = half_to_float(b.d);
            dmin[r] = half_to_float(b.dmin);
            __m256i qh = _mm256_setzero_si256();
            if constexpr (kFiveBit) {
                qh = load32(b.qh);
            }
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
                const __m256i qq = load32(b.qs + 32 * c);
                __m256i lo = _mm256_and_si256(qq, low4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qq, 4), low4);
                if constexpr (kFiveBit) {
                    lo =
                        _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c), 4), bit4));
                    hi = _mm256_or_si256(
                        hi, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * c + 1), 4), bit4));
                }
                q[r][2 * c] = lo;
                q[r][2 * c + 1] = hi;
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            const ActQ8x256 & at = reinterpret_cast<const ActQ8x256 *>(act + static_cast<size_t>(t) * as)[i];
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
                __m256i isum0 = _mm256_setzero_si256();
                __m256i isum1 = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int k = 0; k < 8; k += 2) {
                    const __m256i p0 = _mm256_maddubs_epi16(q[r][k], load32(at.qs + 32 * k));
                    const __m256i p1 = _mm256_maddubs_epi16(q[r][k + 1], load32(at.qs + 32 * k + 32));
                    isum0 = _mm256_add_epi32(isum0, _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[r][k])));
                    isum1 = _mm256_add_epi32(isum1, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[r][k + 1])));
                }
                const __m256i isum = _mm256_add_epi32(isum0, isum1);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d[r] * at.d), acc[r][t]);
                mins[r][t] += at.d * (dmin[r] * static_cast<float>(mins_dot_bsums(m[r], at.bsums)));
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            y[static_cast<size_t>(t) * ys + static_cast<size_t>(r)] = hsum(acc[r][t]) - mins[r][t];
        }
    }
}

template <bool kFiveBit, typename Block>
void tile_q45k(size_t n, const uint8_t * w, size_t ws, size_t n_rows, const uint8_t * act, size_t as, size_t n_tok,
               float * y, size_t ys) {
    const size_t nb = n / kQKK;
    size_t r = 0;
    for (; r + kKTileRows <= n_rows; r += kKTileRows) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_q45k_micro<kFiveBit, Block, kKTileRows, kTileTokens>(nb, w + r * ws, ws, act + t * as, as,
                                                                      y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile_q45k_micro<kFiveBit, Block, kKTileRows, 1>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
    for (; r < n_rows; ++r) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_q45k_micro<kFiveBit, Block, 1, kTileTokens>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile_q45k_micro<kFiveBit, Block, 1, 1>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
}

// Q6_K prefill: a super-block's 256 six-bit levels (stored unsigned, value = level - 32) are
// unpacked once per row; per token the sum of (level - 32) * a * scale is taken as
// sum(level * a * scale) - 32 * sum(scale_k * bsums_k), so the offset costs one small dot per
// super-block instead of a multiply per element.
template <int R, int TT>
static inline void tile_q6k_micro(size_t nb, const uint8_t * w, size_t ws, const uint8_t * act, size_t as, float * y,
                                  size_t ys) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(0x03);
    __m256 acc[R][TT];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            acc[r][t] = _mm256_setzero_ps();
        }
    }
    for (size_t i = 0; i < nb; ++i) {
        __m256i q[R][8];
        __m128i sc16[R][2];
        float d[R];
        const int8_t * sc[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const BlockQ6_K & b = reinterpret_cast<const BlockQ6_K *>(w + static_cast<size_t>(r) * ws)[i];
            d[r] = half_to_float(b.d);
            sc[r] = b.scales;
            const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b.scales));
            sc16[r][0] = _mm_cvtepi8_epi16(sc8);
            sc16[r][1] = _mm_cvtepi8_epi16(_mm_srli_si128(sc8, 8));
#pragma GCC unroll 2
            for (int half = 0; half < 2; ++half) {
                const __m256i ql0 = load32(b.ql + 64 * half);
                const __m256i ql1 = load32(b.ql + 64 * half + 32);
                const __m256i qh = load32(b.qh + 32 * half);
                const __m256i lows[4] = {_mm256_and_si256(ql0, low4), _mm256_and_si256(ql1, low4),
                                         _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                         _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4)};
#pragma GCC unroll 4
                for (int quarter = 0; quarter < 4; ++quarter) {
                    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * quarter), two);
                    q[r][4 * half + quarter] = _mm256_or_si256(lows[quarter], _mm256_slli_epi16(high, 4));
                }
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            const ActQ8x256 & at = reinterpret_cast<const ActQ8x256 *>(act + static_cast<size_t>(t) * as)[i];
            const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at.bsums));
            const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at.bsums + 8));
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
                __m256i isum0 = _mm256_setzero_si256();
                __m256i isum1 = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int k = 0; k < 8; k += 2) {
                    // |level * a pair| <= 2 * 63 * 127 fits int16.
                    const __m256i p0 = _mm256_maddubs_epi16(q[r][k], load32(at.qs + 32 * k));
                    const __m256i p1 = _mm256_maddubs_epi16(q[r][k + 1], load32(at.qs + 32 * k + 32));
                    isum0 = _mm256_add_epi32(isum0, _mm256_madd_epi16(p0, scale_pair(sc[r][2 * k], sc[r][2 * k + 1])));
                    isum1 =
                        _mm256_add_epi32(isum1, _mm256_madd_epi16(p1, scale_pair(sc[r][2 * k + 2], sc[r][2 * k + 3])));
                }
                __m128i off = _mm_add_epi32(_mm_madd_epi16(sc16[r][0], b0), _mm_madd_epi16(sc16[r][1], b1));
                off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0x4E));
                off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0xB1));
                const int offset = 32 * _mm_cvtsi128_si32(off);
                const __m256i isum =
                    _mm256_sub_epi32(_mm256_add_epi32(isum0, isum1), _mm256_zextsi128_si256(_mm_cvtsi32_si128(offset)));
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d[r] * at.d), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int t = 0; t < TT; ++t) {
            y[static_cast<size_t>(t) * ys + static_cast<size_t>(r)] = hsum(acc[r][t]);
        }
    }
}

void tile_q6k(size_t n, const uint8_t * w, size_t ws, size_t n_rows, const uint8_t * act, size_t as, size_t n_tok,
              float * y, size_t ys) {
    const size_t nb = n / kQKK;
    size_t r = 0;
    for (; r + kKTileRows <= n_rows; r += kKTileRows) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_q6k_micro<kKTileRows, kTileTokens>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile_q6k_micro<kKTileRows, 1>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
    for (; r < n_rows; ++r) {
        size_t t = 0;
        for (; t + kTileTokens <= n_tok; t += kTileTokens) {
            tile_q6k_micro<1, kTileTokens>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
        for (; t < n_tok; ++t) {
            tile_q6k_micro<1, 1>(nb, w + r * ws, ws, act + t * as, as, y + t * ys + r, ys);
        }
    }
}

TileFn x86_tile(TensorType type) {
    switch (type) {
    case TensorType::kQ4_0:
        return tile32<BlockQ4_0, decode_q4_0, true, false>;
    case TensorType::kQ4_1:
        return tile32<BlockQ4_1, decode_q4_1, false, true>;
    case TensorType::kQ5_0:
        return tile32<BlockQ5_0, decode_q5_0, true, false>;
    case TensorType::kQ5_1:
        return tile32<BlockQ5_1, decode_q5_1, false, true>;
    case TensorType::kQ8_0:
        return tile32<BlockQ8_0, decode_q8_0, true, false>;
    case TensorType::kIQ4_NL:
        return tile32<BlockIQ4_NL, decode_iq4_nl, true, false>;
    case TensorType::kQ4_K:
        return tile_q45k<false, BlockQ4_K>;
    case TensorType::kQ5_K:
        return tile_q45k<true, BlockQ5_K>;
    case TensorType::kQ6_K:
        return tile_q6k;
    case TensorType::kF32:
        return tile_float<float, load8_f32, f32_scalar>;
    case TensorType::kF16:
        return tile_float<uint16_t, load8_f16, f16_scalar>;
    case TensorType::kBF16:
        return tile_float<uint16_t, load8_bf16, bf16_scalar>;
    default:
        return nullptr;
    }
}
