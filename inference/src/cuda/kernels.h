// Launchers of the CUDA kernels of the forward pass. Private to the CUDA backend.
//
// Every pointer is device memory; every launch is asynchronous on `stream` and reports no error
// itself (the backend checks cudaGetLastError / the stream). Layouts follow the CPU path:
// activations are row-major [token][feature] floats; weights keep their GGUF block encoding,
// rows back to back with stride row_bytes; the KV cache is F16, [kv head][position][head_dim]
// per layer.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cuda {

// GGUF type ids the matrix kernels accept (values of TensorType).
bool matmul_type_supported(uint32_t type_id);

// y[t][r] = sum_c w[r][c] * x[t][c] for t < n_tokens (x stride cols, y stride rows).
void launch_matmul(uint32_t type_id, const void * w, size_t row_bytes, int rows, int cols, const float * x,
                   int n_tokens, float * y, cudaStream_t stream);

// y = x / sqrt(mean(x^2) + eps) * weight, per row of n (weight may be nullptr).
void launch_rmsnorm(const float * x, const float * weight, float * y, int n, int n_rows, float eps,
                    cudaStream_t stream);

// Rotates the first rope_dim dimensions of each head of each token. cos/sin tables hold
// rope_dim/2 entries per absolute position; token t is at position *pos0 + t. Positions are read
// from device memory so a captured graph can be replayed at any position.
void launch_rope(float * x, int n_tokens, int n_heads, int head_dim, int rope_dim, int row_stride, const int * pos0,
                 const float * cos_table, const float * sin_table, bool neox, cudaStream_t stream);

// x[i] += b[i % dim] for i < n.
void launch_add_bias(float * x, const float * b, int n, int dim, cudaStream_t stream);

// x[i] += y[i].
void launch_add(float * x, const float * y, int n, cudaStream_t stream);

// out[i] = silu(gate[i]) * up[i].
void launch_swiglu(const float * gate, const float * up, float * out, int n, cudaStream_t stream);

// In-place softmax of n_rows rows of n values (-inf entries become 0).
void launch_softmax(float * x, int n, int n_rows, cudaStream_t stream);

// Rounds the batch's keys and values ([token][kv head * head_dim]) to F16 into the cache at
// positions pos0 ...
void launch_kv_store(const float * k, const float * v, uint16_t * k_cache, uint16_t * v_cache, int n_tokens,
                     int n_head_kv, int head_dim, int n_ctx, const int * pos0, cudaStream_t stream);

// Causal attention: out[t][h] = softmax(q[t][h] . K[g]^T * scale over positions 0..pos0+t) V[g],
// with g = h / (n_head / n_head_kv).
void launch_attention(const float * q, const uint16_t * k_cache, const uint16_t * v_cache, float * out, int n_tokens,
                      int n_head, int n_head_kv, int head_dim, int n_ctx, const int * pos0, float scale,
                      cudaStream_t stream);

// Largest context attention supports (its scores live in shared memory), and the head sizes it
// handles (powers of two from 8 to 256).
int attention_max_positions();
bool attention_supports_head_dim(int head_dim);

}  // namespace strongbox::inference::cuda
