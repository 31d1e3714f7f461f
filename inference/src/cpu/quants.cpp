// Reference encoders and decoders for the GGUF tensor encodings.
//
// Design notes:
// 1. The decoders reproduce ggml's to_float bit for bit: same integer unpacking, and the same
//    float operations in the same order (for example d * sc is rounded before it multiplies q).
//    This file is compiled for baseline x86-64, so the compiler cannot fuse a*b+c into an FMA and
//    change the rounding.
// 2. The encoders are ours. Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 use the plain round-to-nearest rules
//    of the format (for Q8_0 and Q4_0 the bytes equal ggml's reference quantizer). The K-quants
//    and IQ4 types fit a scale (and min) per sub-block by alternating nearest-level assignment with
//    a least-squares refit, then quantize the sub-block scales against a super-block scale and
//    re-assign levels with the scales that will actually be stored.
#include "cpu/quants.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "cpu/blocks.h"

namespace strongbox::inference::cpu {
namespace {

uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

float h2f(uint16_t h) {
    return fp16_to_fp32(h);
}

uint32_t load_u32(const uint8_t * p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// ---- decoders -------------------------------------------------------------------------------

void dequant_q4_0(const BlockQ4_0 * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        for (size_t j = 0; j < kQK / 2; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 0xF) - 8) * d;
            y[j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequant_q4_1(const BlockQ4_1 * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        const float m = h2f(x[i].m);
        for (size_t j = 0; j < kQK / 2; ++j) {
            y[j] = static_cast<float>(x[i].qs[j] & 0xF) * d + m;
            y[j + kQK / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

void dequant_q5_0(const BlockQ5_0 * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (size_t j = 0; j < kQK / 2; ++j) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
            y[j] = static_cast<float>(((x[i].qs[j] & 0xF) | h0) - 16) * d;
            y[j + kQK / 2] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void dequant_q5_1(const BlockQ5_1 * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        const float m = h2f(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (size_t j = 0; j < kQK / 2; ++j) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
            y[j] = static_cast<float>((x[i].qs[j] & 0xF) | h0) * d + m;
            y[j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void dequant_q8_0(const BlockQ8_0 * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        for (size_t j = 0; j < kQK; ++j) {
            y[j] = static_cast<float>(x[i].qs[j]) * d;
        }
    }
}

void dequant_iq4_nl(const BlockIQ4_NL * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, y += kQK) {
        const float d = h2f(x[i].d);
        for (size_t j = 0; j < kQK / 2; ++j) {
            y[j] = d * static_cast<float>(kIq4Levels[x[i].qs[j] & 0xF]);
            y[j + kQK / 2] = d * static_cast<float>(kIq4Levels[x[i].qs[j] >> 4]);
        }
    }
}

void dequant_q2_k(const BlockQ2_K * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        const float dmin = h2f(x[i].dmin);
        const uint8_t * q = x[i].qs;
        int is = 0;
        for (size_t half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (size_t part = 0; part < 2; ++part) {
                    const uint8_t sc = x[i].scales[is++];
                    const float dl = d * static_cast<float>(sc & 0xF);
                    const float ml = dmin * static_cast<float>(sc >> 4);
                    for (size_t l = 0; l < 16; ++l) {
                        *y++ = dl * static_cast<float>((q[l + 16 * part] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }
}

void dequant_q3_k(const BlockQ3_K * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        uint8_t scales[16];
        unpack_scales_q3k(x[i].scales, scales);
        const uint8_t * q = x[i].qs;
        uint8_t m = 1;
        int is = 0;
        for (size_t half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
                for (size_t part = 0; part < 2; ++part) {
                    const float dl = d * static_cast<float>(scales[is++] - 32);
                    for (size_t l = 0; l < 16; ++l) {
                        const size_t k = l + 16 * part;
                        const int v = ((q[k] >> shift) & 3) - ((x[i].hmask[k] & m) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
            }
        }
    }
}

void dequant_q4_k(const BlockQ4_K * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        const float dmin = h2f(x[i].dmin);
        const uint8_t * q = x[i].qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc;
            uint8_t m;
            unpack_scale_min_k4(is, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc);
            const float m1 = dmin * static_cast<float>(m);
            unpack_scale_min_k4(is + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc);
            const float m2 = dmin * static_cast<float>(m);
            for (size_t l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            }
            for (size_t l = 0; l < 32; ++l) {
                *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
            }
        }
    }
}

void dequant_q5_k(const BlockQ5_K * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        const float dmin = h2f(x[i].dmin);
        const uint8_t * q = x[i].qs;
        uint8_t u1 = 1;
        uint8_t u2 = 2;
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc;
            uint8_t m;
            unpack_scale_min_k4(is, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc);
            const float m1 = dmin * static_cast<float>(m);
            unpack_scale_min_k4(is + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc);
            const float m2 = dmin * static_cast<float>(m);
            for (size_t l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<float>((q[l] & 0xF) + ((x[i].qh[l] & u1) ? 16 : 0)) - m1;
            }
            for (size_t l = 0; l < 32; ++l) {
                *y++ = d2 * static_cast<float>((q[l] >> 4) + ((x[i].qh[l] & u2) ? 16 : 0)) - m2;
            }
            u1 = static_cast<uint8_t>(u1 << 2);
            u2 = static_cast<uint8_t>(u2 << 2);
        }
    }
}

void dequant_q6_k(const BlockQ6_K * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        const uint8_t * ql = x[i].ql;
        const uint8_t * qh = x[i].qh;
        const int8_t * sc = x[i].scales;
        for (size_t half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (size_t l = 0; l < 32; ++l) {
                const size_t is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
        }
    }
}

void dequant_iq4_xs(const BlockIQ4_XS * x, float * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i) {
        const float d = h2f(x[i].d);
        const uint8_t * qs = x[i].qs;
        for (size_t ib = 0; ib < kQKK / 32; ++ib, y += 32, qs += 16) {
            const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
            const float dl = d * static_cast<float>(ls - 32);
            for (size_t j = 0; j < 16; ++j) {
                y[j] = dl * static_cast<float>(kIq4Levels[qs[j] & 0xF]);
                y[j + 16] = dl * static_cast<float>(kIq4Levels[qs[j] >> 4]);
            }
        }
    }
}

// ---- encoders: legacy types ----------------------------------------------------------------

// The element of largest magnitude, with its sign.
float signed_absmax(const float * x, size_t n) {
    float amax = 0.0f;
    float max = 0.0f;
    for (size_t j = 0; j < n; ++j) {
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void quant_q8_0(const float * x, BlockQ8_0 * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        float amax = 0.0f;
        for (size_t j = 0; j < kQK; ++j) {
            amax = std::max(amax, std::fabs(x[j]));
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (size_t j = 0; j < kQK; ++j) {
            y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
        }
    }
}

// Q4_0 / Q5_0: the extreme element maps to the most negative level (-8 / -16), so its sign picks
// the sign of d and the full range is used on that side.
template <int kLevels>
void quant_symmetric_block(const float * x, uint16_t & d_out, uint8_t * q) {
    const float max = signed_absmax(x, kQK);
    const float d = max / -static_cast<float>(kLevels / 2);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    d_out = fp32_to_fp16(d);
    for (size_t j = 0; j < kQK; ++j) {
        const int v = static_cast<int8_t>(x[j] * id + (static_cast<float>(kLevels / 2) + 0.5f));
        q[j] = static_cast<uint8_t>(std::min(kLevels - 1, v));
    }
}

template <int kLevels>
void quant_affine_block(const float * x, uint16_t & d_out, uint16_t & m_out, uint8_t * q) {
    float min = x[0];
    float max = x[0];
    for (size_t j = 1; j < kQK; ++j) {
        min = std::min(min, x[j]);
        max = std::max(max, x[j]);
    }
    const float d = (max - min) / static_cast<float>(kLevels - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    d_out = fp32_to_fp16(d);
    m_out = fp32_to_fp16(min);
    for (size_t j = 0; j < kQK; ++j) {
        const int v = static_cast<int8_t>((x[j] - min) * id + 0.5f);
        q[j] = static_cast<uint8_t>(std::clamp(v, 0, kLevels - 1));
    }
}

void pack_nibbles(const uint8_t * q, uint8_t * qs) {
    for (size_t j = 0; j < kQK / 2; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kQK / 2] & 0xF) << 4));
    }
}

void pack_fifth_bits(const uint8_t * q, uint8_t * qh) {
    uint32_t bits = 0;
    for (size_t j = 0; j < kQK; ++j) {
        bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    }
    std::memcpy(qh, &bits, sizeof bits);
}

void quant_q4_0(const float * x, BlockQ4_0 * y, size_t nb) {
    uint8_t q[kQK];
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        quant_symmetric_block<16>(x, y[i].d, q);
        pack_nibbles(q, y[i].qs);
    }
}

void quant_q5_0(const float * x, BlockQ5_0 * y, size_t nb) {
    uint8_t q[kQK];
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        quant_symmetric_block<32>(x, y[i].d, q);
        pack_nibbles(q, y[i].qs);
        pack_fifth_bits(q, y[i].qh);
    }
}

void quant_q4_1(const float * x, BlockQ4_1 * y, size_t nb) {
    uint8_t q[kQK];
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        quant_affine_block<16>(x, y[i].d, y[i].m, q);
        pack_nibbles(q, y[i].qs);
    }
}

void quant_q5_1(const float * x, BlockQ5_1 * y, size_t nb) {
    uint8_t q[kQK];
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        quant_affine_block<32>(x, y[i].d, y[i].m, q);
        pack_nibbles(q, y[i].qs);
        pack_fifth_bits(q, y[i].qh);
    }
}

// ---- encoders: scale fitting shared by K-quants and IQ4 -------------------------------------

// Round to nearest, ties to even, without a libm call (the fitting loops call this millions of
// times): adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits. Inputs are
// clamped first so the trick's range (|v| < 2^22) always holds; callers clamp to far less.
int nearest_int(float v) {
    const float t = std::clamp(v, -4194303.0f, 4194303.0f) + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    return (bits & 0x007FFFFF) - 0x00400000;
}

// Candidate-scale search shared by the symmetric fits. For a scale s and levels assigned to
// nearest, one pass gives sum(l x) and sum(l l); the squared error is then
// sum(x x) - 2 s sum(l x) + s^2 sum(l l), and the least-squares refit s' = sum(l x) / sum(l l) with
// the same levels has error sum(x x) - sum(l x)^2 / sum(l l) (re-assigning levels to s' can only
// lower it). So each candidate costs one pass and also scores its refit.
template <typename Assign>
float search_scale(const float * x, size_t n, float first, float step, int n_steps, Assign assign) {
    double sxx = 0.0;
    for (size_t j = 0; j < n; ++j) {
        sxx += static_cast<double>(x[j]) * static_cast<double>(x[j]);
    }
    float best_s = first;
    double best_err = INFINITY;
    for (int k = 0; k < n_steps; ++k) {
        const float s = first + step * static_cast<float>(k);
        if (s == 0.0f) {
            continue;
        }
        const float inv = 1.0f / s;
        double slx = 0.0;
        double sll = 0.0;
        for (size_t j = 0; j < n; ++j) {
            const float l = assign(x[j] * inv);
            slx += static_cast<double>(l) * static_cast<double>(x[j]);
            sll += static_cast<double>(l) * static_cast<double>(l);
        }
        const double err =
            sxx - 2.0 * static_cast<double>(s) * slx + static_cast<double>(s) * static_cast<double>(s) * sll;
        if (err < best_err) {
            best_err = err;
            best_s = s;
        }
        if (sll > 0.0 && slx != 0.0) {
            const double refit_err = sxx - slx * slx / sll;
            if (refit_err < best_err) {
                best_err = refit_err;
                best_s = static_cast<float>(slx / sll);
            }
        }
    }
    return best_s;
}

// Fits x ~= s * q with integer q in [qmin, qmax]: scales that map the extreme element near the
// far end of the range (the side with more levels, qmin), and their refits.
float fit_symmetric_scale(const float * x, size_t n, int qmin, int qmax) {
    const float max = signed_absmax(x, n);
    if (max == 0.0f) {
        return 0.0f;
    }
    // Levels from |qmin| - 0.6 to |qmin| + 0.6 for the extreme element.
    const float far = static_cast<float>(qmin);
    const float first = max / (far + 0.6f);
    const float last = max / (far - 0.6f);
    constexpr int kSteps = 9;
    const float lo = static_cast<float>(qmin);
    const float hi = static_cast<float>(qmax);
    return search_scale(x, n, first, (last - first) / static_cast<float>(kSteps - 1), kSteps,
                        [&](float v) { return static_cast<float>(nearest_int(std::clamp(v, lo, hi))); });
}

// Fits x ~= s * q - m with q in [0, qmax], s >= 0 and m >= 0 (the formats store the minimum as a
// non-negative amount subtracted, so a sub-block that is all positive keeps m = 0).
void fit_affine_scale(const float * x, size_t n, int qmax, float & s_out, float & m_out) {
    float lo = 0.0f;
    float hi = x[0];
    for (size_t j = 0; j < n; ++j) {
        lo = std::min(lo, x[j]);
        hi = std::max(hi, x[j]);
    }
    if (hi <= lo) {
        s_out = 0.0f;
        m_out = -lo;
        return;
    }
    double sx = 0.0;
    double sxx = 0.0;
    for (size_t j = 0; j < n; ++j) {
        sx += static_cast<double>(x[j]);
        sxx += static_cast<double>(x[j]) * static_cast<double>(x[j]);
    }
    const double nn = static_cast<double>(n);
    float best_s = (hi - lo) / static_cast<float>(qmax);
    float best_m = -lo;
    double best_err = INFINITY;
    float s = best_s;
    float m = best_m;
    for (int iter = 0; iter < 4; ++iter) {
        // Assign levels, score (s, m) in closed form from the sums, then solve the 2x2
        // least-squares system for the next (s, m).
        const float inv = 1.0f / s;
        int64_t sq = 0;
        int64_t sqq = 0;
        double sqx = 0.0;
        for (size_t j = 0; j < n; ++j) {
            const int q = std::clamp(nearest_int((x[j] + m) * inv), 0, qmax);
            sq += q;
            sqq += q * q;
            sqx += static_cast<double>(q) * static_cast<double>(x[j]);
        }
        const double ds = s;
        const double dm = m;
        const double dq = static_cast<double>(sq);
        const double dqq = static_cast<double>(sqq);
        // sum (x - s q + m)^2
        const double err = sxx + ds * ds * dqq + nn * dm * dm - 2.0 * ds * sqx + 2.0 * dm * sx - 2.0 * ds * dm * dq;
        if (err < best_err) {
            best_err = err;
            best_s = s;
            best_m = m;
        }
        const double det = nn * dqq - dq * dq;
        if (det <= 0.0) {
            break;
        }
        double new_s = (nn * sqx - dq * sx) / det;
        double new_m = (dq * sqx - dqq * sx) / det;  // x ~= s q - m
        if (new_m < 0.0) {
            new_m = 0.0;
            new_s = dqq > 0.0 ? sqx / dqq : 0.0;
        }
        if (new_s <= 0.0) {
            break;
        }
        s = static_cast<float>(new_s);
        m = static_cast<float>(new_m);
    }
    s_out = best_s;
    m_out = best_m;
}

// Quantizes non-negative sub-block values v[0..n) to integers in [0, qmax] against a super-block
// scale stored as fp16; returns that fp16 scale.
uint16_t quant_scales_unsigned(const float * v, size_t n, int qmax, uint8_t * out) {
    float vmax = 0.0f;
    for (size_t j = 0; j < n; ++j) {
        vmax = std::max(vmax, v[j]);
    }
    const uint16_t dh = fp32_to_fp16(vmax / static_cast<float>(qmax));
    const float d = fp16_to_fp32(dh);
    for (size_t j = 0; j < n; ++j) {
        out[j] = static_cast<uint8_t>(d > 0.0f ? std::clamp(nearest_int(v[j] / d), 0, qmax) : 0);
    }
    return dh;
}

// As above for signed values in [qmin, qmax].
uint16_t quant_scales_signed(const float * v, size_t n, int qmin, int qmax, int * out) {
    const float max = signed_absmax(v, n);
    const uint16_t dh = fp32_to_fp16(max / static_cast<float>(qmin));
    const float d = fp16_to_fp32(dh);
    for (size_t j = 0; j < n; ++j) {
        out[j] = d != 0.0f ? std::clamp(nearest_int(v[j] / d), qmin, qmax) : 0;
    }
    return dh;
}

// Midpoints between consecutive IQ4 levels: level k is nearest below kIq4Bounds[k].
constexpr std::array<float, 15> kIq4Bounds = [] {
    std::array<float, 15> b{};
    for (size_t k = 0; k < 15; ++k) {
        b[k] = 0.5f * static_cast<float>(kIq4Levels[k] + kIq4Levels[k + 1]);
    }
    return b;
}();

// Index of the IQ4 level nearest to v: a branch-free binary search (the fitting loops call this
// with unpredictable values, where branches would mispredict half the time).
int nearest_iq4_level(float v) {
    size_t idx = 0;
    idx += static_cast<size_t>(v > kIq4Bounds[idx + 7]) * 8;
    idx += static_cast<size_t>(v > kIq4Bounds[idx + 3]) * 4;
    idx += static_cast<size_t>(v > kIq4Bounds[idx + 1]) * 2;
    idx += static_cast<size_t>(v > kIq4Bounds[idx]);
    return static_cast<int>(idx);
}

// Fits x ~= s * level[idx] for the IQ4 non-linear levels: the extreme element mapped to levels
// around the outermost one, and their refits.
float fit_iq4_scale(const float * x, size_t n) {
    const float max = signed_absmax(x, n);
    if (max == 0.0f) {
        return 0.0f;
    }
    const float first = max / -111.0f;
    const float last = max / -143.0f;
    constexpr int kSteps = 17;
    return search_scale(x, n, first, (last - first) / static_cast<float>(kSteps - 1), kSteps,
                        [](float v) { return static_cast<float>(kIq4Levels[nearest_iq4_level(v)]); });
}

// ---- encoders: K-quants and IQ4 ------------------------------------------------------------

// Affine K-quants: per sub-block scale and min quantized against fp16 super-block d and dmin.
// Fills levels q[0..256) and the quantized scales/mins; returns d and dmin as stored.
void quant_affine_superblock(const float * x, size_t sub, int qmax, int scale_max, uint8_t * q, uint8_t * sc,
                             uint8_t * mn, uint16_t & d_out, uint16_t & dmin_out) {
    const size_t n_sub = kQKK / sub;
    float s[16];
    float m[16];
    for (size_t k = 0; k < n_sub; ++k) {
        fit_affine_scale(x + k * sub, sub, qmax, s[k], m[k]);
    }
    d_out = quant_scales_unsigned(s, n_sub, scale_max, sc);
    dmin_out = quant_scales_unsigned(m, n_sub, scale_max, mn);
    const float d = fp16_to_fp32(d_out);
    const float dmin = fp16_to_fp32(dmin_out);
    for (size_t k = 0; k < n_sub; ++k) {
        const float dl = d * static_cast<float>(sc[k]);
        const float ml = dmin * static_cast<float>(mn[k]);
        for (size_t j = 0; j < sub; ++j) {
            const float v = x[k * sub + j];
            q[k * sub + j] = static_cast<uint8_t>(dl > 0.0f ? std::clamp(nearest_int((v + ml) / dl), 0, qmax) : 0);
        }
    }
}

void quant_q2_k(const float * x, BlockQ2_K * y, size_t nb) {
    uint8_t q[kQKK];
    uint8_t sc[16];
    uint8_t mn[16];
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        quant_affine_superblock(x, 16, 3, 15, q, sc, mn, y[i].d, y[i].dmin);
        for (size_t k = 0; k < 16; ++k) {
            y[i].scales[k] = static_cast<uint8_t>(sc[k] | (mn[k] << 4));
        }
        std::memset(y[i].qs, 0, sizeof y[i].qs);
        for (size_t e = 0; e < kQKK; ++e) {
            const size_t half = e / 128;
            const size_t shift = 2 * ((e % 128) / 32);
            y[i].qs[half * 32 + e % 32] |= static_cast<uint8_t>(q[e] << shift);
        }
    }
}

void pack_scale_min_k4(const uint8_t * sc, const uint8_t * mn, uint8_t * out) {
    for (int j = 0; j < 4; ++j) {
        out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        out[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
        out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
}

void quant_q4_k(const float * x, BlockQ4_K * y, size_t nb) {
    uint8_t q[kQKK];
    uint8_t sc[8];
    uint8_t mn[8];
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        quant_affine_superblock(x, 32, 15, 63, q, sc, mn, y[i].d, y[i].dmin);
        pack_scale_min_k4(sc, mn, y[i].scales);
        for (size_t c = 0; c < 4; ++c) {
            for (size_t l = 0; l < 32; ++l) {
                y[i].qs[c * 32 + l] = static_cast<uint8_t>(q[c * 64 + l] | (q[c * 64 + 32 + l] << 4));
            }
        }
    }
}

void quant_q5_k(const float * x, BlockQ5_K * y, size_t nb) {
    uint8_t q[kQKK];
    uint8_t sc[8];
    uint8_t mn[8];
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        quant_affine_superblock(x, 32, 31, 63, q, sc, mn, y[i].d, y[i].dmin);
        pack_scale_min_k4(sc, mn, y[i].scales);
        std::memset(y[i].qh, 0, sizeof y[i].qh);
        for (size_t c = 0; c < 4; ++c) {
            for (size_t l = 0; l < 32; ++l) {
                const uint8_t lo = q[c * 64 + l];
                const uint8_t hi = q[c * 64 + 32 + l];
                y[i].qs[c * 32 + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void quant_q3_k(const float * x, BlockQ3_K * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        float s[16];
        for (size_t k = 0; k < 16; ++k) {
            s[k] = fit_symmetric_scale(x + k * 16, 16, -4, 3);
        }
        int sc[16];
        y[i].d = quant_scales_signed(s, 16, -32, 31, sc);
        const float d = fp16_to_fp32(y[i].d);
        std::memset(y[i].scales, 0, sizeof y[i].scales);
        for (int j = 0; j < 16; ++j) {
            const int ls = sc[j] + 32;
            if (j < 8) {
                y[i].scales[j] |= static_cast<uint8_t>(ls & 0xF);
            } else {
                y[i].scales[j - 8] |= static_cast<uint8_t>((ls & 0xF) << 4);
            }
            y[i].scales[8 + j % 4] |= static_cast<uint8_t>((ls >> 4) << (2 * (j / 4)));
        }
        std::memset(y[i].qs, 0, sizeof y[i].qs);
        std::memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (size_t e = 0; e < kQKK; ++e) {
            const float dl = d * static_cast<float>(sc[e / 16]);
            const int v = dl != 0.0f ? std::clamp(nearest_int(x[e] / dl), -4, 3) : 0;
            const int u = v + 4;
            const size_t half = e / 128;
            const size_t j = (e % 128) / 32;
            const size_t l = e % 32;
            y[i].qs[half * 32 + l] |= static_cast<uint8_t>((u & 3) << (2 * j));
            y[i].hmask[l] |= static_cast<uint8_t>((u >> 2) << (half * 4 + j));
        }
    }
}

void quant_q6_k(const float * x, BlockQ6_K * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        float s[16];
        for (size_t k = 0; k < 16; ++k) {
            s[k] = fit_symmetric_scale(x + k * 16, 16, -32, 31);
        }
        int sc[16];
        y[i].d = quant_scales_signed(s, 16, -128, 127, sc);
        const float d = fp16_to_fp32(y[i].d);
        for (size_t k = 0; k < 16; ++k) {
            y[i].scales[k] = static_cast<int8_t>(sc[k]);
        }
        std::memset(y[i].ql, 0, sizeof y[i].ql);
        std::memset(y[i].qh, 0, sizeof y[i].qh);
        for (size_t e = 0; e < kQKK; ++e) {
            const float dl = d * static_cast<float>(sc[e / 16]);
            const int v = dl != 0.0f ? std::clamp(nearest_int(x[e] / dl), -32, 31) : 0;
            const int u = v + 32;
            const size_t half = e / 128;
            const size_t quarter = (e % 128) / 32;  // 0..3: which nibble / qh bit pair
            const size_t l = e % 32;
            const size_t ql_index = half * 64 + l + (quarter % 2) * 32;
            y[i].ql[ql_index] |= static_cast<uint8_t>((u & 0xF) << (quarter >= 2 ? 4 : 0));
            y[i].qh[half * 32 + l] |= static_cast<uint8_t>((u >> 4) << (2 * quarter));
        }
    }
}

void quant_iq4_nl(const float * x, BlockIQ4_NL * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, x += kQK) {
        y[i].d = fp32_to_fp16(fit_iq4_scale(x, kQK));
        const float d = fp16_to_fp32(y[i].d);
        for (size_t j = 0; j < kQK / 2; ++j) {
            const int a = d != 0.0f ? nearest_iq4_level(x[j] / d) : 8;
            const int b = d != 0.0f ? nearest_iq4_level(x[j + kQK / 2] / d) : 8;
            y[i].qs[j] = static_cast<uint8_t>(a | (b << 4));
        }
    }
}

void quant_iq4_xs(const float * x, BlockIQ4_XS * y, size_t nb) {
    for (size_t i = 0; i < nb; ++i, x += kQKK) {
        float s[8];
        for (size_t k = 0; k < 8; ++k) {
            s[k] = fit_iq4_scale(x + k * 32, 32);
        }
        int sc[8];
        y[i].d = quant_scales_signed(s, 8, -32, 31, sc);
        const float d = fp16_to_fp32(y[i].d);
        y[i].scales_h = 0;
        std::memset(y[i].scales_l, 0, sizeof y[i].scales_l);
        for (size_t k = 0; k < 8; ++k) {
            const int ls = sc[k] + 32;
            y[i].scales_l[k / 2] |= static_cast<uint8_t>((ls & 0xF) << (4 * (k % 2)));
            y[i].scales_h = static_cast<uint16_t>(y[i].scales_h | ((ls >> 4) << (2 * k)));
            const float dl = d * static_cast<float>(sc[k]);
            for (size_t j = 0; j < 16; ++j) {
                const int a = dl != 0.0f ? nearest_iq4_level(x[k * 32 + j] / dl) : 8;
                const int b = dl != 0.0f ? nearest_iq4_level(x[k * 32 + j + 16] / dl) : 8;
                y[i].qs[k * 16 + j] = static_cast<uint8_t>(a | (b << 4));
            }
        }
    }
}

size_t block_size_of(TensorType type) {
    auto t = tensor_type_traits(static_cast<uint32_t>(type));
    return t ? t->block_size : 0;
}

}  // namespace

uint16_t fp32_to_fp16(float f) {
    const uint32_t x = float_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) {  // NaN: keep it quiet and keep the top payload bits
        return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    }
    if (a >= 0x477FF000u) {  // rounds to beyond 65504, or already infinite
        return static_cast<uint16_t>(sign | 0x7C00u);
    }
    if (a < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        const uint32_t e = a >> 23;
        const uint32_t shift = 126 - e;  // a = m * 2^(e-150) and the half unit is 2^-24
        if (e == 0 || shift > 24) {
            return static_cast<uint16_t>(sign);
        }
        const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (h & 1))) {
            ++h;
        }
        return static_cast<uint16_t>(sign | h);
    }
    uint32_t h = (a - 0x38000000u) >> 13;  // rebias the exponent from 127 to 15
    const uint32_t rem = a & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) {
        ++h;  // a carry into the exponent is the correct rounding
    }
    return static_cast<uint16_t>(sign | h);
}

float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu;
    const uint32_t m = h & 0x3FFu;
    if (e == 0) {
        const float v = static_cast<float>(m) * 0x1p-24f;  // exact
        return sign ? -v : v;
    }
    if (e == 31) {  // infinity, or NaN made quiet as the F16C instruction does
        return bits_float(sign | 0x7F800000u | (m << 13) | (m != 0 ? 0x400000u : 0u));
    }
    return bits_float(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t fp32_to_bf16(float f) {
    const uint32_t u = float_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
        return static_cast<uint16_t>((u >> 16) | 64);  // force quiet
    }
    return static_cast<uint16_t>((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
}

float bf16_to_fp32(uint16_t h) {
    return bits_float(static_cast<uint32_t>(h) << 16);
}

bool is_quantizable(TensorType type) {
    switch (type) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ4_0:
    case TensorType::kQ4_1:
    case TensorType::kQ5_0:
    case TensorType::kQ5_1:
    case TensorType::kQ8_0:
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K:
    case TensorType::kIQ4_NL:
    case TensorType::kIQ4_XS:
        return true;
    default:
        return false;
    }
}

bool dequantize_row(TensorType type, const void * src, float * dst, size_t n) {
    const size_t bs = block_size_of(type);
    if (!is_quantizable(type) || bs == 0 || n % bs != 0) {
        return false;
    }
    const size_t nb = n / bs;
    switch (type) {
    case TensorType::kF32:
        std::memcpy(dst, src, n * sizeof(float));
        return true;
    case TensorType::kF16: {
        const auto * h = static_cast<const uint16_t *>(src);
        for (size_t i = 0; i < n; ++i) {
            dst[i] = fp16_to_fp32(h[i]);
        }
        return true;
    }
    case TensorType::kBF16: {
        const auto * h = static_cast<const uint16_t *>(src);
        for (size_t i = 0; i < n; ++i) {
            dst[i] = bf16_to_fp32(h[i]);
        }
        return true;
    }
    case TensorType::kQ4_0:
        dequant_q4_0(static_cast<const BlockQ4_0 *>(src), dst, nb);
        return true;
    case TensorType::kQ4_1:
        dequant_q4_1(static_cast<const BlockQ4_1 *>(src), dst, nb);
        return true;
    case TensorType::kQ5_0:
        dequant_q5_0(static_cast<const BlockQ5_0 *>(src), dst, nb);
        return true;
    case TensorType::kQ5_1:
        dequant_q5_1(static_cast<const BlockQ5_1 *>(src), dst, nb);
        return true;
    case TensorType::kQ8_0:
        dequant_q8_0(static_cast<const BlockQ8_0 *>(src), dst, nb);
        return true;
    case TensorType::kQ2_K:
        dequant_q2_k(static_cast<const BlockQ2_K *>(src), dst, nb);
        return true;
    case TensorType::kQ3_K:
        dequant_q3_k(static_cast<const BlockQ3_K *>(src), dst, nb);
        return true;
    case TensorType::kQ4_K:
        dequant_q4_k(static_cast<const BlockQ4_K *>(src), dst, nb);
        return true;
    case TensorType::kQ5_K:
        dequant_q5_k(static_cast<const BlockQ5_K *>(src), dst, nb);
        return true;
    case TensorType::kQ6_K:
        dequant_q6_k(static_cast<const BlockQ6_K *>(src), dst, nb);
        return true;
    case TensorType::kIQ4_NL:
        dequant_iq4_nl(static_cast<const BlockIQ4_NL *>(src), dst, nb);
        return true;
    case TensorType::kIQ4_XS:
        dequant_iq4_xs(static_cast<const BlockIQ4_XS *>(src), dst, nb);
        return true;
    default:
        return false;
    }
}

bool quantize_row(TensorType type, const float * src, void * dst, size_t n) {
    const size_t bs = block_size_of(type);
    if (!is_quantizable(type) || bs == 0 || n % bs != 0) {
        return false;
    }
    const size_t nb = n / bs;
    switch (type) {
    case TensorType::kF32:
        std::memcpy(dst, src, n * sizeof(float));
        return true;
    case TensorType::kF16: {
        auto * h = static_cast<uint16_t *>(dst);
        for (size_t i = 0; i < n; ++i) {
            h[i] = fp32_to_fp16(src[i]);
        }
        return true;
    }
    case TensorType::kBF16: {
        auto * h = static_cast<uint16_t *>(dst);
        for (size_t i = 0; i < n; ++i) {
            h[i] = fp32_to_bf16(src[i]);
        }
        return true;
    }
    case TensorType::kQ4_0:
        quant_q4_0(src, static_cast<BlockQ4_0 *>(dst), nb);
        return true;
    case TensorType::kQ4_1:
        quant_q4_1(src, static_cast<BlockQ4_1 *>(dst), nb);
        return true;
    case TensorType::kQ5_0:
        quant_q5_0(src, static_cast<BlockQ5_0 *>(dst), nb);
        return true;
    case TensorType::kQ5_1:
        quant_q5_1(src, static_cast<BlockQ5_1 *>(dst), nb);
        return true;
    case TensorType::kQ8_0:
        quant_q8_0(src, static_cast<BlockQ8_0 *>(dst), nb);
        return true;
    case TensorType::kQ2_K:
        quant_q2_k(src, static_cast<BlockQ2_K *>(dst), nb);
        return true;
    case TensorType::kQ3_K:
        quant_q3_k(src, static_cast<BlockQ3_K *>(dst), nb);
        return true;
    case TensorType::kQ4_K:
        quant_q4_k(src, static_cast<BlockQ4_K *>(dst), nb);
        return true;
    case TensorType::kQ5_K:
        quant_q5_k(src, static_cast<BlockQ5_K *>(dst), nb);
        return true;
    case TensorType::kQ6_K:
        quant_q6_k(src, static_cast<BlockQ6_K *>(dst), nb);
        return true;
    case TensorType::kIQ4_NL:
        quant_iq4_nl(src, static_cast<BlockIQ4_NL *>(dst), nb);
        return true;
    case TensorType::kIQ4_XS:
        quant_iq4_xs(src, static_cast<BlockIQ4_XS *>(dst), nb);
        return true;
    default:
        return false;
    }
}

}  // namespace strongbox::inference::cpu
