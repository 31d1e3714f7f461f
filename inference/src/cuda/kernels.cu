// CUDA kernels of the forward pass (see kernels.h for the contracts).
//
// Matrix products: one warp per weight row; each lane decodes 32-element units of the row (a
// legacy block, or one eighth of a K-quant super-block) into registers and multiplies them with
// up to kTile tokens of float activations, so decode reads each weight byte once and prefill
// once per tile of tokens. Activations stay float (no 8-bit requantization as on the CPU): the
// weights dominate the traffic and this keeps the GPU result closer to the exact product.
#include <cuda_fp16.h>

#include <cmath>

#include "cuda/kernels.h"

namespace strongbox::inference::cuda {
namespace {

// GGUF type ids (TensorType values); kernels.h keeps CUDA code free of the C++20 headers.
constexpr uint32_t kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ5_0 = 6, kQ8_0 = 8, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kBF16 = 30;
constexpr int kWarpsPerBlock = 4;
constexpr int kTile = 8;
constexpr int kMaxPositions = 8192;

__device__ __forceinline__ float half_bits_to_float(uint16_t h) {
    return __half2float(__ushort_as_half(h));
}

__device__ __forceinline__ uint16_t load_u16(const uint8_t * p) {
    return *reinterpret_cast<const uint16_t *>(p);
}

__device__ __forceinline__ uint32_t load_u32(const uint8_t * p) {
    return *reinterpret_cast<const uint32_t *>(p);
}

// Six-bit scale and min j of the Q4_K / Q5_K 12-byte packing.
__device__ __forceinline__ void scale_min_k4(int j, const uint8_t * q, float & sc, float & m) {
    if (j < 4) {
        sc = static_cast<float>(q[j] & 63);
        m = static_cast<float>(q[j + 4] & 63);
    } else {
        sc = static_cast<float>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<float>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Decodes the 32 elements of unit u of a row into v.
template <uint32_t T>
__device__ __forceinline__ void decode_unit(const uint8_t * row, int u, float (&v)[32]) {
    if constexpr (T == kF32) {
        const float4 * p = reinterpret_cast<const float4 *>(row) + u * 8;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const float4 f = p[i];
            v[4 * i] = f.x;
            v[4 * i + 1] = f.y;
            v[4 * i + 2] = f.z;
            v[4 * i + 3] = f.w;
        }
    } else if constexpr (T == kF16 || T == kBF16) {
        const uint4 * p = reinterpret_cast<const uint4 *>(row + u * 64);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const uint4 w = p[i];
            const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const auto lo = static_cast<uint16_t>(words[j] & 0xFFFF);
                const auto hi = static_cast<uint16_t>(words[j] >> 16);
                if constexpr (T == kF16) {
                    v[8 * i + 2 * j] = half_bits_to_float(lo);
                    v[8 * i + 2 * j + 1] = half_bits_to_float(hi);
                } else {
                    v[8 * i + 2 * j] = __uint_as_float(static_cast<uint32_t>(lo) << 16);
                    v[8 * i + 2 * j + 1] = __uint_as_float(static_cast<uint32_t>(hi) << 16);
                }
            }
        }
    } else if constexpr (T == kQ4_0) {
        const uint8_t * b = row + u * 18;
        const float d = half_bits_to_float(load_u16(b));
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const uint16_t q = load_u16(b + 2 + 2 * i);
            v[2 * i] = d * static_cast<float>(static_cast<int>(q & 0xF) - 8);
            v[2 * i + 16] = d * static_cast<float>(static_cast<int>((q >> 4) & 0xF) - 8);
            v[2 * i + 1] = d * static_cast<float>(static_cast<int>((q >> 8) & 0xF) - 8);
            v[2 * i + 17] = d * static_cast<float>(static_cast<int>(q >> 12) - 8);
        }
    } else if constexpr (T == kQ5_0) {
        // Fifth bits: bit j of qh for element j, bit j + 16 for element j + 16.
        const uint8_t * b = row + u * 22;
        const float d = half_bits_to_float(load_u16(b));
        const uint32_t qh = static_cast<uint32_t>(load_u16(b + 2)) | (static_cast<uint32_t>(load_u16(b + 4)) << 16);
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const uint16_t q = load_u16(b + 6 + 2 * i);
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int j = 2 * i + e;
                const int lo = ((q >> (8 * e)) & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
                const int hi = ((q >> (8 * e + 4)) & 0xF) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
                v[j] = d * static_cast<float>(lo - 16);
                v[j + 16] = d * static_cast<float>(hi - 16);
            }
        }
    } else if constexpr (T == kQ8_0) {
        const uint8_t * b = row + u * 34;
        const float d = half_bits_to_float(load_u16(b));
#pragma unroll
        for (int i = 0; i < 16; ++i) {
            const uint16_t q = load_u16(b + 2 + 2 * i);
            v[2 * i] = d * static_cast<float>(static_cast<int8_t>(q & 0xFF));
            v[2 * i + 1] = d * static_cast<float>(static_cast<int8_t>(q >> 8));
        }
    } else if constexpr (T == kQ4_K || T == kQ5_K) {
        constexpr int kBlockBytes = T == kQ4_K ? 144 : 176;
        const uint8_t * b = row + (u / 8) * kBlockBytes;
        const int j = u % 8;
        const float d = half_bits_to_float(load_u16(b));
        const float dmin = half_bits_to_float(load_u16(b + 2));
        float sc = 0.0f, m = 0.0f;
        scale_min_k4(j, b + 4, sc, m);
        const float scale = d * sc;
        const float offset = dmin * m;
        const uint8_t * qs = b + (T == kQ4_K ? 16 : 48) + (j / 2) * 32;
        const int shift = (j % 2) * 4;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const uint32_t q = load_u32(qs + 4 * i);
            uint32_t hbits = 0;
            if constexpr (T == kQ5_K) {
                hbits = load_u32(b + 16 + 4 * i);
            }
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                int level = static_cast<int>((q >> (8 * k + shift)) & 0xF);
                if constexpr (T == kQ5_K) {
                    level += static_cast<int>((hbits >> (8 * k + j)) & 1) << 4;
                }
                v[4 * i + k] = scale * static_cast<float>(level) - offset;
            }
        }
    } else if constexpr (T == kQ6_K) {
        const uint8_t * b = row + (u / 8) * 210;
        const int j = u % 8;
        const int n = j / 4;  // which 128-element half
        const int k = j % 4;  // which quarter of that half
        const uint8_t * ql = b + 64 * n + (k & 1) * 32;
        const uint8_t * qh = b + 128 + 32 * n;
        const auto * sc = reinterpret_cast<const int8_t *>(b + 192) + 8 * n + 2 * k;
        const float d = half_bits_to_float(load_u16(b + 208));
        const float s0 = d * static_cast<float>(sc[0]);
        const float s1 = d * static_cast<float>(sc[1]);
        const int lshift = (k >= 2) ? 4 : 0;
#pragma unroll
        for (int i = 0; i < 16; ++i) {
            const uint16_t lo = load_u16(ql + 2 * i);
            const uint16_t hi = load_u16(qh + 2 * i);
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int l = 2 * i + e;
                const int low = ((lo >> (8 * e)) >> lshift) & 0xF;
                const int high = ((hi >> (8 * e)) >> (2 * k)) & 3;
                v[l] = (l < 16 ? s0 : s1) * static_cast<float>((low | (high << 4)) - 32);
            }
        }
    }
}

template <uint32_t T, int NT>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    matmul_kernel(const uint8_t * __restrict__ w, size_t row_bytes, int rows, int cols, const float * __restrict__ x,
                  int n_tokens, float * __restrict__ y) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int row = static_cast<int>(blockIdx.x) * kWarpsPerBlock + static_cast<int>(threadIdx.x) / 32;
    if (row >= rows) {
        return;
    }
    const int t0 = static_cast<int>(blockIdx.y) * NT;
    const int nt = min(NT, n_tokens - t0);
    const uint8_t * wr = w + static_cast<size_t>(row) * row_bytes;
    const float * xt = x + static_cast<size_t>(t0) * cols;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        acc[t] = 0.0f;
    }
    const int units = cols / 32;
    for (int u = lane; u < units; u += 32) {
        float v[32];
        decode_unit<T>(wr, u, v);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            if (t < nt) {
                const float4 * xp = reinterpret_cast<const float4 *>(xt + static_cast<size_t>(t) * cols + u * 32);
                float s = 0.0f;
#pragma unroll
                for (int i = 0; i < 8; ++i) {
                    const float4 f = __ldg(xp + i);
                    s += v[4 * i] * f.x + v[4 * i + 1] * f.y + v[4 * i + 2] * f.z + v[4 * i + 3] * f.w;
                }
                acc[t] += s;
            }
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        float s = acc[t];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) {
            s += __shfl_xor_sync(0xFFFFFFFFu, s, off);
        }
        if (lane == 0 && t < nt) {
            y[static_cast<size_t>(t0 + t) * rows + row] = s;
        }
    }
}

// Float weights whose rows are not a whole number of 32-element units (e.g. an FFN of 172):
// one element per lane per step.
template <uint32_t T, int NT>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    matmul_plain_kernel(const uint8_t * __restrict__ w, size_t row_bytes, int rows, int cols,
                        const float * __restrict__ x, int n_tokens, float * __restrict__ y) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int row = static_cast<int>(blockIdx.x) * kWarpsPerBlock + static_cast<int>(threadIdx.x) / 32;
    if (row >= rows) {
        return;
    }
    const int t0 = static_cast<int>(blockIdx.y) * NT;
    const int nt = min(NT, n_tokens - t0);
    const uint8_t * wr = w + static_cast<size_t>(row) * row_bytes;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        acc[t] = 0.0f;
    }
    for (int c = lane; c < cols; c += 32) {
        float wv = 0.0f;
        if constexpr (T == kF32) {
            wv = reinterpret_cast<const float *>(wr)[c];
        } else if constexpr (T == kF16) {
            wv = half_bits_to_float(reinterpret_cast<const uint16_t *>(wr)[c]);
        } else {
            wv = __uint_as_float(static_cast<uint32_t>(reinterpret_cast<const uint16_t *>(wr)[c]) << 16);
        }
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            if (t < nt) {
                acc[t] += wv * x[static_cast<size_t>(t0 + t) * cols + c];
            }
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        float s = acc[t];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) {
            s += __shfl_xor_sync(0xFFFFFFFFu, s, off);
        }
        if (lane == 0 && t < nt) {
            y[static_cast<size_t>(t0 + t) * rows + row] = s;
        }
    }
}

template <uint32_t T>
void launch_typed(const void * w, size_t row_bytes, int rows, int cols, const float * x, int n_tokens, float * y,
                  cudaStream_t stream) {
    const auto * wb = static_cast<const uint8_t *>(w);
    const unsigned row_blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    const unsigned tiles = static_cast<unsigned>((n_tokens + kTile - 1) / kTile);
    if constexpr (T == kF32 || T == kF16 || T == kBF16) {
        if (cols % 32 != 0) {
            if (n_tokens == 1) {
                matmul_plain_kernel<T, 1><<<dim3(row_blocks, 1), kWarpsPerBlock * 32, 0, stream>>>(
                    wb, row_bytes, rows, cols, x, n_tokens, y);
            } else {
                matmul_plain_kernel<T, kTile><<<dim3(row_blocks, tiles), kWarpsPerBlock * 32, 0, stream>>>(
                    wb, row_bytes, rows, cols, x, n_tokens, y);
            }
            return;
        }
    }
    if (n_tokens == 1) {
        matmul_kernel<T, 1>
            <<<dim3(row_blocks, 1), kWarpsPerBlock * 32, 0, stream>>>(wb, row_bytes, rows, cols, x, n_tokens, y);
    } else {
        matmul_kernel<T, kTile>
            <<<dim3(row_blocks, tiles), kWarpsPerBlock * 32, 0, stream>>>(wb, row_bytes, rows, cols, x, n_tokens, y);
    }
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ float block_sum(float v, float * shared32) {
    for (int off = 16; off > 0; off /= 2) {
        v += __shfl_xor_sync(0xFFFFFFFFu, v, off);
    }
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x) % 32;
    __syncthreads();
    if (lane == 0) {
        shared32[warp] = v;
    }
    __syncthreads();
    const int n_warps = static_cast<int>(blockDim.x) / 32;
    float total = 0.0f;
    for (int i = 0; i < n_warps; ++i) {
        total += shared32[i];
    }
    return total;
}

__device__ float block_max(float v, float * shared32) {
    for (int off = 16; off > 0; off /= 2) {
        v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, off));
    }
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x) % 32;
    __syncthreads();
    if (lane == 0) {
        shared32[warp] = v;
    }
    __syncthreads();
    const int n_warps = static_cast<int>(blockDim.x) / 32;
    float best = -INFINITY;
    for (int i = 0; i < n_warps; ++i) {
        best = fmaxf(best, shared32[i]);
    }
    return best;
}

__global__ void rmsnorm_kernel(const float * x, const float * weight, float * y, int n, float eps) {
    __shared__ float shared32[32];
    const float * xr = x + static_cast<size_t>(blockIdx.x) * n;
    float * yr = y + static_cast<size_t>(blockIdx.x) * n;
    float s = 0.0f;
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) {
        s += xr[i] * xr[i];
    }
    s = block_sum(s, shared32);
    const float scale = rsqrtf(s / static_cast<float>(n) + eps);
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) {
        yr[i] = xr[i] * scale * (weight != nullptr ? weight[i] : 1.0f);
    }
}

__global__ void rope_kernel(float * x, int n_tokens, int n_heads, int head_dim, int rope_dim, int row_stride,
                            const int * pos0_ptr, const float * cos_table, const float * sin_table, bool neox) {
    const int half = rope_dim / 2;
    const int idx = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (idx >= n_tokens * n_heads * half) {
        return;
    }
    const int i = idx % half;
    const int h = (idx / half) % n_heads;
    const int t = idx / (half * n_heads);
    float * v = x + static_cast<size_t>(t) * row_stride + static_cast<size_t>(h) * head_dim;
    const size_t at = static_cast<size_t>(*pos0_ptr + t) * half + i;
    const float c = cos_table[at];
    const float s = sin_table[at];
    const int a = neox ? i : 2 * i;
    const int b = neox ? i + half : 2 * i + 1;
    const float x0 = v[a];
    const float x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
}

__global__ void add_bias_kernel(float * x, const float * b, int n, int dim) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) {
        x[i] += b[i % dim];
    }
}

__global__ void add_kernel(float * x, const float * y, int n) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) {
        x[i] += y[i];
    }
}

__global__ void swiglu_kernel(const float * gate, const float * up, float * out, int n) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

__global__ void softmax_kernel(float * x, int n) {
    __shared__ float shared32[32];
    float * r = x + static_cast<size_t>(blockIdx.x) * n;
    float m = -INFINITY;
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) {
        m = fmaxf(m, r[i]);
    }
    m = block_max(m, shared32);
    float s = 0.0f;
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) {
        const float e = r[i] == -INFINITY ? 0.0f : expf(r[i] - m);
        r[i] = e;
        s += e;
    }
    s = block_sum(s, shared32);
    const float inv = 1.0f / s;
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) {
        r[i] *= inv;
    }
}

__global__ void kv_store_kernel(const float * k, const float * v, uint16_t * k_cache, uint16_t * v_cache, int n_tokens,
                                int n_head_kv, int head_dim, int n_ctx, const int * pos0_ptr) {
    const int pos0 = *pos0_ptr;
    const int kv_dim = n_head_kv * head_dim;
    const int idx = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (idx >= n_tokens * kv_dim) {
        return;
    }
    const int t = idx / kv_dim;
    const int h = (idx % kv_dim) / head_dim;
    const int i = idx % head_dim;
    const size_t at = (static_cast<size_t>(h) * n_ctx + pos0 + t) * head_dim + i;
    k_cache[at] = __half_as_ushort(__float2half_rn(k[idx]));
    v_cache[at] = __half_as_ushort(__float2half_rn(v[idx]));
}

// One block per (token, head). Scores live in shared memory: each thread scores whole cached
// positions (16-byte loads of a key row), so a block covers hundreds of positions per step.
// The weighted sum of values splits the threads into groups of 8 dimensions x slices of
// positions, and the slices' partial sums are added in shared memory. head_dim is 8 .. 256 and a
// power of two (attention_supports_head_dim).
constexpr int kAttnThreads = 256;

__device__ __forceinline__ void halves8(const uint16_t * p, float (&out)[8]) {
    const uint4 w = *reinterpret_cast<const uint4 *>(p);
    const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        out[2 * j] = half_bits_to_float(static_cast<uint16_t>(words[j] & 0xFFFF));
        out[2 * j + 1] = half_bits_to_float(static_cast<uint16_t>(words[j] >> 16));
    }
}

__global__ void __launch_bounds__(kAttnThreads)
    attention_kernel(const float * q, const uint16_t * k_cache, const uint16_t * v_cache, float * out, int n_head,
                     int n_head_kv, int head_dim, int n_ctx, const int * pos0_ptr, float scale) {
    extern __shared__ float shared[];
    __shared__ float shared32[32];
    const int pos0 = *pos0_ptr;
    const int h = static_cast<int>(blockIdx.x);
    const int t = static_cast<int>(blockIdx.y);
    const int g = h / (n_head / n_head_kv);
    const int visible = pos0 + t + 1;
    const int tid = static_cast<int>(threadIdx.x);
    float * qs = shared;                          // head_dim
    float * partial = qs + head_dim;              // kAttnThreads * 8
    float * scores = partial + kAttnThreads * 8;  // n_ctx
    const float * qr = q + (static_cast<size_t>(t) * n_head + h) * head_dim;
    for (int i = tid; i < head_dim; i += kAttnThreads) {
        qs[i] = qr[i];
    }
    __syncthreads();
    const uint16_t * kg = k_cache + static_cast<size_t>(g) * n_ctx * head_dim;
    const uint16_t * vg = v_cache + static_cast<size_t>(g) * n_ctx * head_dim;
    float m = -INFINITY;
    for (int p = tid; p < visible; p += kAttnThreads) {
        const uint16_t * kp = kg + static_cast<size_t>(p) * head_dim;
        float s = 0.0f;
        for (int i = 0; i < head_dim; i += 8) {
            float kv[8];
            halves8(kp + i, kv);
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                s += kv[j] * qs[i + j];
            }
        }
        s *= scale;
        scores[p] = s;
        m = fmaxf(m, s);
    }
    m = block_max(m, shared32);
    float sum = 0.0f;
    for (int p = tid; p < visible; p += kAttnThreads) {
        const float e = expf(scores[p] - m);
        scores[p] = e;
        sum += e;
    }
    sum = block_sum(sum, shared32);  // its barrier also publishes the exponentials
    const int groups = head_dim / 8;
    const int slices = kAttnThreads / groups;
    const int group = tid % groups;
    const int slice = tid / groups;
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (int p = slice; p < visible; p += slices) {
        float vv[8];
        halves8(vg + static_cast<size_t>(p) * head_dim + group * 8, vv);
        const float w = scores[p];
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            acc[j] += w * vv[j];
        }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
        partial[slice * head_dim + group * 8 + j] = acc[j];
    }
    __syncthreads();
    const float inv = 1.0f / sum;
    float * orow = out + (static_cast<size_t>(t) * n_head + h) * head_dim;
    for (int i = tid; i < head_dim; i += kAttnThreads) {
        float total = 0.0f;
        for (int sl = 0; sl < slices; ++sl) {
            total += partial[sl * head_dim + i];
        }
        orow[i] = total * inv;
    }
}

unsigned blocks_for(int n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace

bool matmul_type_supported(uint32_t type_id) {
    switch (type_id) {
    case kF32:
    case kF16:
    case kBF16:
    case kQ4_0:
    case kQ5_0:
    case kQ8_0:
    case kQ4_K:
    case kQ5_K:
    case kQ6_K:
        return true;
    default:
        return false;
    }
}

void launch_matmul(uint32_t type_id, const void * w, size_t row_bytes, int rows, int cols, const float * x,
                   int n_tokens, float * y, cudaStream_t stream) {
    switch (type_id) {
    case kF32:
        launch_typed<kF32>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kF16:
        launch_typed<kF16>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kBF16:
        launch_typed<kBF16>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ4_0:
        launch_typed<kQ4_0>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ5_0:
        launch_typed<kQ5_0>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ8_0:
        launch_typed<kQ8_0>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ4_K:
        launch_typed<kQ4_K>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ5_K:
        launch_typed<kQ5_K>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    case kQ6_K:
        launch_typed<kQ6_K>(w, row_bytes, rows, cols, x, n_tokens, y, stream);
        break;
    default:
        break;  // the backend checks matmul_type_supported before uploading a weight
    }
}

void launch_rmsnorm(const float * x, const float * weight, float * y, int n, int n_rows, float eps,
                    cudaStream_t stream) {
    rmsnorm_kernel<<<static_cast<unsigned>(n_rows), 256, 0, stream>>>(x, weight, y, n, eps);
}

void launch_rope(float * x, int n_tokens, int n_heads, int head_dim, int rope_dim, int row_stride, const int * pos0,
                 const float * cos_table, const float * sin_table, bool neox, cudaStream_t stream) {
    const int n = n_tokens * n_heads * (rope_dim / 2);
    rope_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, n_tokens, n_heads, head_dim, rope_dim, row_stride, pos0,
                                                        cos_table, sin_table, neox);
}

void launch_add_bias(float * x, const float * b, int n, int dim, cudaStream_t stream) {
    add_bias_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, b, n, dim);
}

void launch_add(float * x, const float * y, int n, cudaStream_t stream) {
    add_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, y, n);
}

void launch_swiglu(const float * gate, const float * up, float * out, int n, cudaStream_t stream) {
    swiglu_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(gate, up, out, n);
}

void launch_softmax(float * x, int n, int n_rows, cudaStream_t stream) {
    softmax_kernel<<<static_cast<unsigned>(n_rows), 256, 0, stream>>>(x, n);
}

void launch_kv_store(const float * k, const float * v, uint16_t * k_cache, uint16_t * v_cache, int n_tokens,
                     int n_head_kv, int head_dim, int n_ctx, const int * pos0, cudaStream_t stream) {
    const int n = n_tokens * n_head_kv * head_dim;
    kv_store_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(k, v, k_cache, v_cache, n_tokens, n_head_kv, head_dim,
                                                            n_ctx, pos0);
}

void launch_attention(const float * q, const uint16_t * k_cache, const uint16_t * v_cache, float * out, int n_tokens,
                      int n_head, int n_head_kv, int head_dim, int n_ctx, const int * pos0, float scale,
                      cudaStream_t stream) {
    // Sized for the whole context so the launch does not depend on the position (graph replay).
    const size_t shared_bytes = static_cast<size_t>(head_dim + kAttnThreads * 8 + n_ctx) * sizeof(float);
    attention_kernel<<<dim3(static_cast<unsigned>(n_head), static_cast<unsigned>(n_tokens)), kAttnThreads, shared_bytes,
                       stream>>>(q, k_cache, v_cache, out, n_head, n_head_kv, head_dim, n_ctx, pos0, scale);
}

int attention_max_positions() {
    return kMaxPositions;
}

bool attention_supports_head_dim(int head_dim) {
    return head_dim >= 8 && head_dim <= 256 && (head_dim & (head_dim - 1)) == 0;
}

}  // namespace strongbox::inference::cuda
