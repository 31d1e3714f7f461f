// Private view of a loaded Model: the weight tensors bound to their places in the network.
#pragma once

#include "strongbox/inference/model.h"
#include "strongbox/inference/tensor_type.h"

#include <span>
#include <vector>

#include "model/model_file.h"

namespace strongbox::inference {

// A 2-D weight in the mapping: `rows` rows of `cols` elements, rows stored back to back.
struct WeightRef {
    TensorType type = TensorType::kF32;
    const uint8_t * data = nullptr;
    size_t rows = 0;
    size_t cols = 0;
    size_t row_bytes = 0;
};

struct LayerWeights {
    std::vector<float> attn_norm;
    WeightRef wq, wk, wv, wo;
    std::vector<float> bq, bk, bv;  // qwen2 only
    std::vector<float> ffn_norm;
    WeightRef gate, up, down;
};

struct Model::Impl {
    explicit Impl(GgufFile f) : file(std::move(f)) {}

    GgufFile file;
    ModelConfig config;
    WeightRef token_embd;
    std::vector<float> output_norm;
    WeightRef output;  // token_embd when tied
    std::vector<LayerWeights> layers;
    std::vector<float> rope_freq_factors;  // empty unless rope_freqs.weight exists
    uint64_t n_params = 0;

    detail::FileIdentity file_identity;
};

// cos/sin of every rotated pair at every position (n_ctx x rope_dim/2), with the model's RoPE
// scaling (linear, YaRN, per-frequency factors) applied. Shared by the CPU and GPU paths so
// both rotate identically.
void build_rope_table(const Model::Impl & m, uint32_t n_ctx, std::vector<float> & cos_t, std::vector<float> & sin_t);

// Why eval must refuse `tokens` before touching any state: none given, an id outside the
// vocabulary, or more tokens than the context has room for after `n_past`. Shared by the CPU
// and GPU contexts so both refuse the same input with the same words.
core::Status check_eval_tokens(std::span<const int32_t> tokens, uint32_t n_vocab, uint32_t n_past, uint32_t n_ctx);

}  // namespace strongbox::inference
