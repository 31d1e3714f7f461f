// A tiny BERT sentence-embedding model with seeded random weights, written as GGUF with our writer
// and the bert-bge WordPiece vocabulary. Shared by the inference tests (which check the encoder
// against a plain fp64 one over the same weights) and the appliance tests (which check the wiring).
#pragma once

#include "strongbox/inference/gguf.h"
#include "strongbox/inference/gguf_writer.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace strongbox::inference::testing {

inline std::filesystem::path bert_vocab_path() {
    return std::filesystem::path(SB_TEST_DATA_DIR) / "inference" / "tokenizer" / "ggml-vocab-bert-bge.gguf";
}

struct TinyBert {
    uint32_t n_embd = 32;
    uint32_t n_layer = 2;
    uint32_t n_head = 4;
    uint32_t n_ff = 64;
    uint32_t n_ctx = 64;
    uint32_t n_types = 2;
    uint32_t n_vocab = 0;  // from the vocabulary file
    float eps = 1e-12f;
    int pooling = 1;  // bert.pooling_type; -1 leaves the key out
    std::string name = "tiny-bert";
    uint64_t seed = 1;

    // Weights by tensor name, row-major: shape[1] rows of shape[0] values (GGUF order).
    std::map<std::string, std::vector<float>> w;
    std::map<std::string, std::vector<uint64_t>> shape;

    // Fills every tensor from `seed`. Matrices are uniform with variance 1/fan_in, norms near 1,
    // biases and embeddings small but not negligible, so every term shows in the output.
    void randomize() {
        auto vocab = GgufFile::open(bert_vocab_path());
        n_vocab = vocab.ok() ? static_cast<uint32_t>(vocab->get_string_array("tokenizer.ggml.tokens")->size()) : 0;
        uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
        auto uniform = [&state]() {  // splitmix64 -> [-1, 1)
            uint64_t z = (state += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            return static_cast<float>(static_cast<double>(z >> 11) / 4503599627370496.0 - 1.0);
        };
        auto add = [&](const std::string & tname, std::vector<uint64_t> sh, float scale, float offset) {
            size_t n = 1;
            for (uint64_t s : sh) {
                n *= s;
            }
            std::vector<float> v(n);
            for (float & x : v) {
                x = offset + scale * uniform();
            }
            w[tname] = std::move(v);
            shape[tname] = std::move(sh);
        };
        const uint64_t d = n_embd;
        add("token_embd.weight", {d, n_vocab}, 0.5f, 0.0f);
        add("token_types.weight", {d, n_types}, 0.5f, 0.0f);
        add("position_embd.weight", {d, n_ctx}, 0.5f, 0.0f);
        add("token_embd_norm.weight", {d}, 0.2f, 1.0f);
        add("token_embd_norm.bias", {d}, 0.1f, 0.0f);
        const float a_d = std::sqrt(3.0f / static_cast<float>(d));
        const float a_ff = std::sqrt(3.0f / static_cast<float>(n_ff));
        for (uint32_t i = 0; i < n_layer; ++i) {
            const std::string p = "blk." + std::to_string(i) + ".";
            for (const char * m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
                add(p + m + ".weight", {d, d}, a_d, 0.0f);
                add(p + m + ".bias", {d}, 0.1f, 0.0f);
            }
            add(p + "attn_output_norm.weight", {d}, 0.2f, 1.0f);
            add(p + "attn_output_norm.bias", {d}, 0.1f, 0.0f);
            add(p + "ffn_up.weight", {d, n_ff}, a_d, 0.0f);
            add(p + "ffn_up.bias", {n_ff}, 0.1f, 0.0f);
            add(p + "ffn_down.weight", {n_ff, d}, a_ff, 0.0f);
            add(p + "ffn_down.bias", {d}, 0.1f, 0.0f);
            add(p + "layer_output_norm.weight", {d}, 0.2f, 1.0f);
            add(p + "layer_output_norm.bias", {d}, 0.1f, 0.0f);
        }
    }

    // Writes the model as F32 GGUF; `skip` leaves tensors out, `meta` edits the metadata last.
    core::Status write(const std::filesystem::path & path, const std::set<std::string> & skip = {},
                       const std::function<void(GgufWriter &)> & meta = {}) const {
        SB_ASSIGN_OR_RETURN(GgufFile vocab, GgufFile::open(bert_vocab_path()));
        GgufWriter wr;
        wr.set("general.architecture", GgufValue::of_string("bert"));
        wr.set("general.name", GgufValue::of_string(name));
        wr.set("bert.context_length", GgufValue::of_uint32(n_ctx));
        wr.set("bert.embedding_length", GgufValue::of_uint32(n_embd));
        wr.set("bert.feed_forward_length", GgufValue::of_uint32(n_ff));
        wr.set("bert.block_count", GgufValue::of_uint32(n_layer));
        wr.set("bert.attention.head_count", GgufValue::of_uint32(n_head));
        wr.set("bert.attention.layer_norm_epsilon", GgufValue::of_float32(eps));
        wr.set("bert.attention.causal", GgufValue::of_bool(false));
        if (pooling >= 0) {
            wr.set("bert.pooling_type", GgufValue::of_uint32(static_cast<uint32_t>(pooling)));
        }
        for (const auto & [k, v] : vocab.metadata()) {
            if (k.rfind("tokenizer.", 0) == 0) {
                wr.set(k, v);
            }
        }
        if (meta) {
            meta(wr);
        }
        for (const auto & [tname, values] : w) {
            if (skip.count(tname) != 0) {
                continue;
            }
            SB_TRY(wr.add_tensor(tname, TensorType::kF32, shape.at(tname),
                                 std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(values.data()),
                                                          values.size() * sizeof(float))));
        }
        return wr.write(path);
    }
};

}  // namespace strongbox::inference::testing
