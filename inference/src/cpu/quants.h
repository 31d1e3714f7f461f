// Conversion between float rows and the GGUF tensor encodings (half floats, legacy 32-element
// quant blocks, 256-element K-quant super-blocks, IQ4 non-linear blocks).
//
// dequantize_row is the reference decoder: its output is bit-identical to ggml's to_float for the
// same bytes, which the tests check against ggml-produced vectors. quantize_row is Strongbox's own
// reference quantizer (used by `strongbox model quantize` and by the kernel tests); it writes the
// standard block layouts, so its output can be read by any GGUF reader, but the choice of scales
// is ours and need not equal ggml's bytes except where the rule is deterministic (Q8_0).
//
// Thread-safety: pure functions on caller-owned buffers.
// Errors: both return false, touching nothing, for a type they do not handle or when n is not a
// whole number of blocks of that type.
//
//   std::vector<uint8_t> q(*row_size(TensorType::kQ4_K, 256));
//   quantize_row(TensorType::kQ4_K, x, q.data(), 256);
//   dequantize_row(TensorType::kQ4_K, q.data(), y, 256);
#pragma once

#include "strongbox/inference/tensor_type.h"

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cpu {

// Decodes n elements (a whole number of blocks) of `type` at src into dst. Handles F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
bool dequantize_row(TensorType type, const void * src, float * dst, size_t n);

// Encodes n elements (a whole number of blocks) of src as `type`. Handles F32, F16, BF16, Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
bool quantize_row(TensorType type, const float * src, void * dst, size_t n);

// True when quantize_row / dequantize_row accept the type.
bool is_quantizable(TensorType type);

// IEEE binary16 with round-to-nearest-even; NaN stays NaN, overflow becomes infinity.
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);

// bfloat16 (upper half of a float) with round-to-nearest-even; NaN stays a quiet NaN.
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t h);

}  // namespace strongbox::inference::cpu
