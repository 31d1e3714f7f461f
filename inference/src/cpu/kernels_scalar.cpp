// Scalar reference dot products for every weight type, and the activation quantizer.
//
// These define what matmul computes: integer sums inside a block, one float multiply-add per
// block (or sub-block scale) in a fixed order. The SIMD kernels must agree with them up to the
// order in which the float partial sums are added.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/blocks.h"
#include "cpu/kernels.h"
#include "cpu/quants.h"

namespace strongbox::inference::cpu {
namespace {

float dot_f32(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const float *>(w);
    const auto * y = static_cast<const float *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        sum += x[i] * y[i];
    }
    return sum;
}

float dot_f16(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const uint16_t *>(w);
    const auto * y = static_cast<const float *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        sum += fp16_to_fp32(x[i]) * y[i];
    }
    return sum;
}

float dot_bf16(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const uint16_t *>(w);
    const auto * y = static_cast<const float *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        sum += bf16_to_fp32(x[i]) * y[i];
    }
    return sum;
}

float dot_q4_0(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ4_0 *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (size_t j = 0; j < kQK / 2; ++j) {
            sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d);
    }
    return sum;
}

float dot_q4_1(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ4_1 *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (size_t j = 0; j < kQK / 2; ++j) {
            sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d) +
               fp16_to_fp32(x[i].m) * (y[i].d * static_cast<float>(y[i].sum));
    }
    return sum;
}

float dot_q5_0(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ5_0 *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof qh);
        int sumi = 0;
        for (size_t j = 0; j < kQK / 2; ++j) {
            const int q0 = ((x[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4)) - 16;
            const int q1 = ((x[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4)) - 16;
            sumi += q0 * y[i].qs[j] + q1 * y[i].qs[j + 16];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d);
    }
    return sum;
}

float dot_q5_1(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ5_1 *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof qh);
        int sumi = 0;
        for (size_t j = 0; j < kQK / 2; ++j) {
            const int q0 = (x[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
            const int q1 = (x[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
            sumi += q0 * y[i].qs[j] + q1 * y[i].qs[j + 16];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d) +
               fp16_to_fp32(x[i].m) * (y[i].d * static_cast<float>(y[i].sum));
    }
    return sum;
}

float dot_q8_0(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ8_0 *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (size_t j = 0; j < kQK; ++j) {
            sumi += x[i].qs[j] * y[i].qs[j];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d);
    }
    return sum;
}

float dot_iq4_nl(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockIQ4_NL *>(w);
    const auto * y = static_cast<const ActQ8x32 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQK; ++i) {
        int sumi = 0;
        for (size_t j = 0; j < kQK / 2; ++j) {
            sumi += kIq4Levels[x[i].qs[j] & 0xF] * y[i].qs[j] + kIq4Levels[x[i].qs[j] >> 4] * y[i].qs[j + 16];
        }
        sum += static_cast<float>(sumi) * (fp16_to_fp32(x[i].d) * y[i].d);
    }
    return sum;
}

float dot_q2_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ2_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        int msum = 0;
        for (size_t e = 0; e < kQKK; e += 16) {
            const size_t half = e / 128;
            const int shift = static_cast<int>(2 * ((e % 128) / 32));
            const uint8_t * q = x[i].qs + half * 32 + e % 32;
            int s = 0;
            for (size_t l = 0; l < 16; ++l) {
                s += ((q[l] >> shift) & 3) * y[i].qs[e + l];
            }
            isum += (x[i].scales[e / 16] & 0xF) * s;
            msum += (x[i].scales[e / 16] >> 4) * y[i].bsums[e / 16];
        }
        sum += y[i].d *
               (fp16_to_fp32(x[i].d) * static_cast<float>(isum) - fp16_to_fp32(x[i].dmin) * static_cast<float>(msum));
    }
    return sum;
}

float dot_q3_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ3_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        uint8_t scales[16];
        unpack_scales_q3k(x[i].scales, scales);
        int isum = 0;
        for (size_t e = 0; e < kQKK; e += 16) {
            const size_t half = e / 128;
            const size_t j = (e % 128) / 32;
            const int s_bit = static_cast<int>(half * 4 + j);
            int s = 0;
            for (size_t l = 0; l < 16; ++l) {
                const size_t k = e % 32 + l;
                const int v = ((x[i].qs[half * 32 + k] >> (2 * j)) & 3) - (((x[i].hmask[k] >> s_bit) & 1) ? 0 : 4);
                s += v * y[i].qs[e + l];
            }
            isum += (scales[e / 16] - 32) * s;
        }
        sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum);
    }
    return sum;
}

template <bool kFiveBit, typename Block>
float dot_q45_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const Block *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        int msum = 0;
        for (int sub = 0; sub < 8; ++sub) {
            uint8_t sc;
            uint8_t m;
            unpack_scale_min_k4(sub, x[i].scales, sc, m);
            const uint8_t * q = x[i].qs + (sub / 2) * 32;
            const int shift = (sub % 2) * 4;
            int s = 0;
            for (size_t l = 0; l < 32; ++l) {
                int v = (q[l] >> shift) & 0xF;
                if constexpr (kFiveBit) {
                    v |= ((x[i].qh[l] >> sub) & 1) << 4;
                }
                s += v * y[i].qs[sub * 32 + l];
            }
            isum += sc * s;
            msum += m * (y[i].bsums[2 * sub] + y[i].bsums[2 * sub + 1]);
        }
        sum += y[i].d *
               (fp16_to_fp32(x[i].d) * static_cast<float>(isum) - fp16_to_fp32(x[i].dmin) * static_cast<float>(msum));
    }
    return sum;
}

float dot_q6_k(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockQ6_K *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        for (size_t e = 0; e < kQKK; e += 16) {
            const size_t half = e / 128;
            const size_t quarter = (e % 128) / 32;
            int s = 0;
            for (size_t l = e % 32; l < e % 32 + 16; ++l) {
                const uint8_t lo = x[i].ql[half * 64 + l + (quarter % 2) * 32];
                const int low = quarter >= 2 ? (lo >> 4) : (lo & 0xF);
                const int high = (x[i].qh[half * 32 + l] >> (2 * quarter)) & 3;
                s += ((low | (high << 4)) - 32) * y[i].qs[half * 128 + quarter * 32 + l];
            }
            isum += x[i].scales[e / 16] * s;
        }
        sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum);
    }
    return sum;
}

float dot_iq4_xs(size_t n, const void * w, const void * a) {
    const auto * x = static_cast<const BlockIQ4_XS *>(w);
    const auto * y = static_cast<const ActQ8x256 *>(a);
    float sum = 0.0f;
    for (size_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        for (size_t ib = 0; ib < 8; ++ib) {
            const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
            const uint8_t * q = x[i].qs + ib * 16;
            const int8_t * aq = y[i].qs + ib * 32;
            int s = 0;
            for (size_t j = 0; j < 16; ++j) {
                s += kIq4Levels[q[j] & 0xF] * aq[j] + kIq4Levels[q[j] >> 4] * aq[j + 16];
            }
            isum += (ls - 32) * s;
        }
        sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum);
    }
    return sum;
}

// Round to nearest, ties to even, without depending on the current rounding mode.
int8_t round_to_i8(float v) {
    return static_cast<int8_t>(std::clamp(static_cast<int>(std::nearbyint(v)), -127, 127));
}

}  // namespace

ActKind activation_kind(TensorType type) {
    switch (type) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
        return ActKind::kF32;
    case TensorType::kQ4_0:
    case TensorType::kQ4_1:
    case TensorType::kQ5_0:
    case TensorType::kQ5_1:
    case TensorType::kQ8_0:
    case TensorType::kIQ4_NL:
        return ActKind::kQ8x32;
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K:
    case TensorType::kIQ4_XS:
        return ActKind::kQ8x256;
    default:
        return ActKind::kNone;
    }
}

size_t activation_row_bytes(ActKind kind, size_t n) {
    switch (kind) {
    case ActKind::kF32:
        return n * sizeof(float);
    case ActKind::kQ8x32:
        return n / kQK * sizeof(ActQ8x32);
    case ActKind::kQ8x256:
        return n / kQKK * sizeof(ActQ8x256);
    case ActKind::kNone:
        break;
    }
    return 0;
}

void prepare_activations(ActKind kind, const float * x, size_t n, void * dst) {
    switch (kind) {
    case ActKind::kF32:
        std::memcpy(dst, x, n * sizeof(float));
        return;
    case ActKind::kQ8x32: {
        auto * out = static_cast<ActQ8x32 *>(dst);
        for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
            float amax = 0.0f;
            for (size_t j = 0; j < kQK; ++j) {
                amax = std::max(amax, std::fabs(x[j]));
            }
            const float d = amax / 127.0f;
            const float id = d != 0.0f ? 127.0f / amax : 0.0f;
            int sum = 0;
            for (size_t j = 0; j < kQK; ++j) {
                out[i].qs[j] = round_to_i8(x[j] * id);
                sum += out[i].qs[j];
            }
            out[i].d = d;
            out[i].sum = sum;
        }
        return;
    }
    case ActKind::kQ8x256: {
        auto * out = static_cast<ActQ8x256 *>(dst);
        for (size_t i = 0; i < n / kQKK; ++i, x += kQKK) {
            float amax = 0.0f;
            for (size_t j = 0; j < kQKK; ++j) {
                amax = std::max(amax, std::fabs(x[j]));
            }
            const float d = amax / 127.0f;
            const float id = d != 0.0f ? 127.0f / amax : 0.0f;
            for (size_t k = 0; k < kQKK / 16; ++k) {
                int sum = 0;
                for (size_t j = k * 16; j < k * 16 + 16; ++j) {
                    out[i].qs[j] = round_to_i8(x[j] * id);
                    sum += out[i].qs[j];
                }
                out[i].bsums[k] = static_cast<int16_t>(sum);
            }
            out[i].d = d;
        }
        return;
    }
    case ActKind::kNone:
        return;
    }
}

VecDotFn vec_dot_scalar(TensorType type) {
    switch (type) {
    case TensorType::kF32:
        return dot_f32;
    case TensorType::kF16:
        return dot_f16;
    case TensorType::kBF16:
        return dot_bf16;
    case TensorType::kQ4_0:
        return dot_q4_0;
    case TensorType::kQ4_1:
        return dot_q4_1;
    case TensorType::kQ5_0:
        return dot_q5_0;
    case TensorType::kQ5_1:
        return dot_q5_1;
    case TensorType::kQ8_0:
        return dot_q8_0;
    case TensorType::kIQ4_NL:
        return dot_iq4_nl;
    case TensorType::kQ2_K:
        return dot_q2_k;
    case TensorType::kQ3_K:
        return dot_q3_k;
    case TensorType::kQ4_K:
        return dot_q45_k<false, BlockQ4_K>;
    case TensorType::kQ5_K:
        return dot_q45_k<true, BlockQ5_K>;
    case TensorType::kQ6_K:
        return dot_q6_k;
    case TensorType::kIQ4_XS:
        return dot_iq4_xs;
    default:
        return nullptr;
    }
}

}  // namespace strongbox::inference::cpu
