// Per-ISA dot-product kernels behind matmul. Private to the CPU kernels.
//
// A kernel computes the dot product of one weight row (n elements, encoded as its tensor type)
// with one activation row prepared by prepare_activations in the form activation_kind names:
// plain floats for F32/F16/BF16 weights, ActQ8x32 blocks for the 32-element quant types and
// ActQ8x256 blocks for the K-quants and IQ4_XS. The scalar table covers every supported type and
// defines the result; the AVX2 and AVX-512 tables return nullptr for a type they do not speed up,
// and the dispatcher then uses the scalar kernel.
#pragma once

#include "strongbox/inference/tensor_type.h"

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cpu {

enum class ActKind { kNone, kF32, kQ8x32, kQ8x256 };

ActKind activation_kind(TensorType type);

// Bytes of one prepared activation row of n elements.
size_t activation_row_bytes(ActKind kind, size_t n);

// Converts one float row of n elements into `kind` at dst (the reference rule: d = max|x| / 127,
// q = round-to-nearest-even(x / d)).
void prepare_activations(ActKind kind, const float * x, size_t n, void * dst);

using VecDotFn = float (*)(size_t n, const void * w_row, const void * act_row);

// Several rows against several tokens at once: y[t * y_stride + r] for r < n_rows, t < n_tok.
// Lets a kernel keep weight blocks in registers across tokens during prefill.
using TileFn = void (*)(size_t n, const uint8_t * w, size_t w_stride, size_t n_rows, const uint8_t * act,
                        size_t act_stride, size_t n_tok, float * y, size_t y_stride);

// The same conversion with SIMD (bit-identical output); callable only when the CPU has the ISA.
void prepare_activations_avx2(ActKind kind, const float * x, size_t n, void * dst);
void prepare_activations_avx512(ActKind kind, const float * x, size_t n, void * dst);

VecDotFn vec_dot_scalar(TensorType type);
VecDotFn vec_dot_avx2(TensorType type);
VecDotFn vec_dot_avx512(TensorType type);
TileFn tile_avx2(TensorType type);
TileFn tile_avx512(TensorType type);

}  // namespace strongbox::inference::cpu
