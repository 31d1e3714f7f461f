// Row operations of the transformer forward pass that are not matrix products: normalization,
// softmax, gated activations, rotary position embedding, and the half-precision conversions and
// dot products the F16 KV cache needs.
//
// Each operation has a plain scalar definition; the ones that run per element of large rows (the
// fp16 conversions, fp16 dot/axpy, rmsnorm) also have AVX2 versions chosen at run time with the
// same switch as matmul (active_isa() in cpu/matmul.h). fp16 conversions are bit-identical on
// every path; float reductions agree up to summation order.
//
// Thread-safety: pure functions on caller-owned buffers. Input and output may be the same buffer
// where the parameter names say so (x may equal y). Errors: none; sizes are the caller's
// invariant.
//
//   rmsnorm(x, norm_weight, x, n_embd, 1e-6f);
//   rope(q, n_head, head_dim, head_dim, pos, inv_freq.data(), 1.0f, RopeStyle::kNeox);
#pragma once

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cpu {

// y = x / sqrt(mean(x^2) + eps) * weight; weight may be nullptr (no scaling). x may equal y.
void rmsnorm(const float * x, const float * weight, float * y, size_t n, float eps);

// y = (x - mean) / sqrt(var + eps) * weight + bias (BERT); weight/bias may be nullptr.
void layernorm(const float * x, const float * weight, const float * bias, float * y, size_t n, float eps);

// In-place softmax over n values; -infinity entries (masked positions) become 0. At least one
// entry must be finite.
void softmax(float * x, size_t n);

// out = silu(gate) * up, element-wise (SwiGLU). out may equal gate or up.
void swiglu(const float * gate, const float * up, float * out, size_t n);

// out = gelu(x) with the tanh approximation BERT checkpoints were trained with. out may equal x.
void gelu(const float * x, float * out, size_t n);

enum class RopeStyle {
    kNormal,  // rotates adjacent pairs (x[2i], x[2i+1]) (llama GGUF layout)
    kNeox,    // rotates (x[i], x[i + n_rot/2]) (qwen2, GPT-NeoX layout)
};

// inv_freq[i] = freq_base^(-2i / n_rot) for i < n_rot / 2: the plain RoPE frequencies. Scaling
// variants (linear, NTK, YaRN, llama3) adjust these or the position before calling rope.
void rope_inv_freq(size_t n_rot, float freq_base, float * inv_freq);

// Rotates the first n_rot dimensions of each of n_heads heads (head_dim apart) in place by angle
// pos * inv_freq[i]; cos and sin are multiplied by mscale (YaRN attention factor; 1 otherwise).
// Angles are computed in double precision so long positions keep their accuracy.
void rope(float * x, size_t n_heads, size_t head_dim, size_t n_rot, float pos, const float * inv_freq, float mscale,
          RopeStyle style);

// Half-precision rows (round to nearest even; bit-identical to fp32_to_fp16 in cpu/quants.h).
void fp32_to_fp16_row(const float * x, uint16_t * y, size_t n);
void fp16_to_fp32_row(const uint16_t * x, float * y, size_t n);

// sum_i h[i] * x[i] with h in half precision (attention scores against an F16 K cache).
float dot_f16(const uint16_t * h, const float * x, size_t n);

// y[i] += alpha * h[i] with h in half precision (weighted sum of an F16 V cache).
void add_scaled_f16(float alpha, const uint16_t * h, float * y, size_t n);

}  // namespace strongbox::inference::cpu
