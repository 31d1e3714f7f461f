// Random-weight models of real shapes, written with Strongbox's own quantizer, for the speed
// benchmarks: the weights are reproducible, so a file written once serves later runs.
#pragma once

#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/quantize.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/quants.h"
#include "cpu/thread_pool.h"

namespace strongbox::bench {

struct ModelShape {
    const char * name;
    const char * arch;
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
};

constexpr ModelShape kModelShapes[] = {
    {"qwen0.5b", "qwen2", 896, 24, 14, 2, 4864, 32000},
    {"tinyllama1.1b", "llama", 2048, 22, 32, 4, 5632, 32000},
};

inline const ModelShape * find_model_shape(std::string_view name) {
    for (const ModelShape & shape : kModelShapes) {
        if (name == shape.name) {
            return &shape;
        }
    }
    return nullptr;
}

// xorshift with a sum of four uniforms: fast, reproducible, roughly normal numbers.
struct XorshiftRng {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
    float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};

// Writes `shape` with its first `n_layer` blocks as a GGUF at `out`, each tensor of the type
// `target` ("q4_0", "q4_k_m", ...) plans for it; rows are generated and quantized on `pool`.
inline core::Status write_random_model(const ModelShape & shape, uint32_t n_layer, const std::string & target,
                                       const std::filesystem::path & out, inference::cpu::ThreadPool & pool) {
    using namespace strongbox::inference;
    GgufWriter w;
    const std::string a = std::string(shape.arch) + ".";
    w.set("general.architecture", GgufValue::of_string(shape.arch));
    w.set("general.name", GgufValue::of_string(std::string("random ") + shape.name));
    w.set(a + "context_length", GgufValue::of_uint32(4096));
    w.set(a + "embedding_length", GgufValue::of_uint32(shape.n_embd));
    w.set(a + "block_count", GgufValue::of_uint32(n_layer));
    w.set(a + "feed_forward_length", GgufValue::of_uint32(shape.n_ff));
    w.set(a + "attention.head_count", GgufValue::of_uint32(shape.n_head));
    w.set(a + "attention.head_count_kv", GgufValue::of_uint32(shape.n_head_kv));
    w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::of_float32(1e-6f));
    w.set(a + "rope.freq_base", GgufValue::of_float32(10000.0f));
    const uint64_t hd = shape.n_embd / shape.n_head;
    const uint64_t q_dim = hd * shape.n_head;
    const uint64_t kv_dim = hd * shape.n_head_kv;
    uint64_t seed = 1;
    // A scale of 0 writes ones (the norm weights).
    auto add = [&](const std::string & name, std::vector<uint64_t> dims, float scale) -> core::Status {
        SB_ASSIGN_OR_RETURN(TensorType type, plan_tensor_type(target, name, dims, TensorType::kF32, n_layer, false));
        const uint64_t tensor_seed = ++seed * 0x9E3779B97F4A7C15ull;
        return w.add_tensor(name, type, dims, [=, &pool](std::span<uint8_t> dst) {
            const auto cols = static_cast<size_t>(dims[0]);
            const size_t rows = dims.size() > 1 ? static_cast<size_t>(dims[1]) : 1;
            const size_t stride = *row_size(type, cols);
            pool.parallel_for(rows, [&](size_t begin, size_t end) {
                std::vector<float> row(cols);
                for (size_t r = begin; r < end; ++r) {
                    XorshiftRng rng{tensor_seed ^ (r * 0xBF58476D1CE4E5B9ull + 1)};
                    for (float & x : row) {
                        x = scale == 0.0f ? 1.0f : rng.normal() * scale;
                    }
                    SB_CHECK(cpu::quantize_row(type, row.data(), dst.data() + r * stride, cols));
                }
            });
            return core::ok_status();
        });
    };
    const float ws = 1.0f / std::sqrt(static_cast<float>(shape.n_embd));
    SB_TRY(add("token_embd.weight", {shape.n_embd, shape.n_vocab}, 1.0f));
    SB_TRY(add("output_norm.weight", {shape.n_embd}, 0.0f));
    SB_TRY(add("output.weight", {shape.n_embd, shape.n_vocab}, ws));
    for (uint32_t i = 0; i < n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        SB_TRY(add(p + "attn_norm.weight", {shape.n_embd}, 0.0f));
        SB_TRY(add(p + "attn_q.weight", {shape.n_embd, q_dim}, ws));
        SB_TRY(add(p + "attn_k.weight", {shape.n_embd, kv_dim}, ws));
        SB_TRY(add(p + "attn_v.weight", {shape.n_embd, kv_dim}, ws));
        if (std::string_view(shape.arch) == "qwen2") {
            SB_TRY(add(p + "attn_q.bias", {q_dim}, 0.02f));
            SB_TRY(add(p + "attn_k.bias", {kv_dim}, 0.02f));
            SB_TRY(add(p + "attn_v.bias", {kv_dim}, 0.02f));
        }
        SB_TRY(add(p + "attn_output.weight", {q_dim, shape.n_embd}, ws));
        SB_TRY(add(p + "ffn_norm.weight", {shape.n_embd}, 0.0f));
        SB_TRY(add(p + "ffn_gate.weight", {shape.n_embd, shape.n_ff}, ws));
        SB_TRY(add(p + "ffn_up.weight", {shape.n_embd, shape.n_ff}, ws));
        SB_TRY(
            add(p + "ffn_down.weight", {shape.n_ff, shape.n_embd}, 1.0f / std::sqrt(static_cast<float>(shape.n_ff))));
    }
    return w.write(out);
}

}  // namespace strongbox::bench
