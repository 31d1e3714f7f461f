// On-disk block layouts of the GGUF quantized types, and the 8-bit activation blocks the integer
// dot products consume. Private to the CPU kernels.
//
// The weight layouts are fixed by the file format (the static_asserts below pin the same block
// sizes as tensor_type.cpp). The activation blocks are ours and never leave memory: they keep the
// scale as a float and carry precomputed sums, so the affine types (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K)
// fold their minimum in, and Q6_K its level offset, with one small product per block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cpu {

inline constexpr size_t kQK = 32;    // elements per legacy block
inline constexpr size_t kQKK = 256;  // elements per K-quant super-block

struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];
};
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};
struct BlockIQ4_NL {
    uint16_t d;
    uint8_t qs[kQK / 2];
};
struct BlockQ2_K {
    uint8_t scales[kQKK / 16];  // low nibble scale, high nibble min
    uint8_t qs[kQKK / 4];
    uint16_t d;
    uint16_t dmin;
};
struct BlockQ3_K {
    uint8_t hmask[kQKK / 8];
    uint8_t qs[kQKK / 4];
    uint8_t scales[12];  // 16 six-bit scales, biased by 32
    uint16_t d;
};
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];  // 8 six-bit scales and 8 six-bit mins
    uint8_t qs[kQKK / 2];
};
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[kQKK / 8];
    uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
    uint8_t ql[kQKK / 2];
    uint8_t qh[kQKK / 4];
    int8_t scales[kQKK / 16];
    uint16_t d;
};
struct BlockIQ4_XS {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[kQKK / 64];
    uint8_t qs[kQKK / 2];
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockIQ4_XS) == 136);

// Helpers here have internal linkage on purpose: the AVX2/AVX-512 files include this header too,
// and a shared inline copy compiled for AVX-512 must never be picked for the scalar path.

// The 16 levels of IQ4_NL / IQ4_XS, ascending.
inline constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Activations for the 32-element types: x[i] ~= d * qs[i]; sum = sum(qs).
struct ActQ8x32 {
    float d;
    int32_t sum;
    int8_t qs[kQK];
};
// Activations for the 256-element types: x[i] ~= d * qs[i]; bsums[k] = sum of qs[16k .. 16k+15].
struct ActQ8x256 {
    float d;
    int16_t bsums[kQKK / 16];
    int8_t qs[kQKK];
};
static_assert(sizeof(ActQ8x32) == 40 && sizeof(ActQ8x256) == 292);

// Six-bit scale j and min j of the Q4_K / Q5_K 12-byte packing: bytes 0-3 hold scales 0-3 and
// bytes 4-7 mins 0-3 in their low six bits; scales/mins 4-7 keep their low nibbles in bytes 8-11
// and their top two bits in the spare bits of bytes 0-7.
static inline void unpack_scale_min_k4(int j, const uint8_t * q, uint8_t & sc, uint8_t & m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// The 16 six-bit Q3_K scales (still biased by 32): low nibbles of 0-7 in bytes 0-7, of 8-15 in the
// high nibbles of bytes 0-7; top two bits of scale j in byte 8 + j % 4 at bit 2 * (j / 4).
static inline void unpack_scales_q3k(const uint8_t * packed, uint8_t * out16) {
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
        const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out16[j] = static_cast<uint8_t>(low | (high << 4));
    }
}

}  // namespace strongbox::inference::cpu
