// Host-side entry points to single CUDA kernels, for the tests that compare each GPU operation
// with the CPU reference. Each call uploads its inputs, runs one kernel on the current device,
// waits and downloads the result; nothing here is meant for the forward pass. Private; compiled
// only with the CUDA backend (SB_HAVE_CUDA).
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/tensor_type.h"

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cuda {

// y[t][r] = sum_c w[r][c] * x[t][c]; kUnsupported for a type without a GPU kernel.
core::Status matmul_host(TensorType type, const void * w, size_t rows, size_t cols, const float * x, size_t n_tokens,
                         float * y);
core::Status rmsnorm_host(const float * x, const float * weight, float * y, size_t n, size_t n_rows, float eps);
// cos/sin: rope_dim/2 entries per position for positions 0 .. pos0 + n_tokens - 1.
core::Status rope_host(float * x, size_t n_tokens, size_t n_heads, size_t head_dim, size_t rope_dim,
                       const float * cos_table, const float * sin_table, size_t pos0, bool neox);
core::Status swiglu_host(const float * gate, const float * up, float * out, size_t n);
core::Status softmax_host(float * x, size_t n, size_t n_rows);
// q: [token][head][dim] floats; caches: F16 [kv head][n_ctx][dim] holding positions 0 ..
// pos0 + n_tokens - 1; out like q.
core::Status attention_host(const float * q, const uint16_t * k_cache, const uint16_t * v_cache, float * out,
                            size_t n_tokens, size_t n_head, size_t n_head_kv, size_t head_dim, size_t n_ctx,
                            size_t pos0);

}  // namespace strongbox::inference::cuda

namespace strongbox::inference::cuda {

// Device-to-device copy bandwidth of device 0 in bytes/s (bytes read plus bytes written), the
// median of several copies of `bytes`: the practical bound for a kernel that streams memory.
core::Result<double> copy_bandwidth(size_t bytes);

}  // namespace strongbox::inference::cuda
