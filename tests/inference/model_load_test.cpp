#include "strongbox/inference/gguf.h"
#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/model.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include <unistd.h>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

// Rewrites stories260K with `edit` applied to the writer (drop or replace keys and tensors).
using EditFn = std::function<void(GgufWriter &, const GgufTensorInfo &, bool &)>;

fs::path rewrite(const std::string & stem, const EditFn & edit, const std::function<void(GgufWriter &)> & meta = {}) {
    auto src = GgufFile::open(kData / "stories260K.gguf");
    REQUIRE(src.ok());
    GgufWriter w;
    for (const auto & [k, v] : src->metadata()) {
        w.set(k, v);
    }
    if (meta) {
        meta(w);
    }
    for (const GgufTensorInfo & t : src->tensors()) {
        bool keep = true;
        edit(w, t, keep);
        if (keep) {
            REQUIRE(w.add_tensor(t.name, static_cast<TensorType>(t.type_id), t.shape,
                                 std::span<const uint8_t>(t.data, t.n_bytes))
                        .ok());
        }
    }
    const fs::path out = fs::temp_directory_path() / ("sb_" + stem + "_" + std::to_string(::getpid()) + ".gguf");
    REQUIRE(w.write(out).ok());
    return out;
}

std::string load_error(const fs::path & p) {
    auto m = Model::load(p);
    fs::remove(p);
    REQUIRE_FALSE(m.ok());
    return m.error().message();
}

}  // namespace

TEST_CASE("stories260K loads with the hyperparameters from its metadata") {
    auto m = Model::load(kData / "stories260K.gguf");
    REQUIRE_MESSAGE(m.ok(), m.error().message());
    const ModelConfig & c = (*m)->config();
    CHECK(c.architecture == "llama");
    CHECK(c.n_embd == 64);
    CHECK(c.n_layer == 5);
    CHECK(c.n_head == 8);
    CHECK(c.n_head_kv == 4);
    CHECK(c.head_dim == 8);
    CHECK(c.n_ff == 172);
    CHECK(c.n_vocab == 512);
    CHECK(c.n_ctx_train == 512);
    CHECK(c.rms_eps == doctest::Approx(1e-5));
    CHECK_FALSE(c.rope_neox);
    CHECK_FALSE(c.tied_output);
}

TEST_CASE("model info lists architecture, tokenizer, template and every tensor") {
    auto m = Model::load(kData / "stories260K-q8_0.gguf");
    REQUIRE(m.ok());
    const std::string info = (*m)->info();
    CHECK(info.find("architecture: llama\n") != std::string::npos);
    CHECK(info.find("head_count_kv: 4\n") != std::string::npos);
    CHECK(info.find("tokenizer: llama\n") != std::string::npos);
    CHECK(info.find("chat_template: (none, plain)\n") != std::string::npos);
    CHECK(info.find("tensor types: f16 x5 f32 x11 q8_0 x32\n") != std::string::npos);
    CHECK(info.find("  blk.4.ffn_down.weight f16 [172, 64]\n") != std::string::npos);
}

TEST_CASE("a missing weight tensor is named in the load error") {
    auto p = rewrite(
        "missing", [](GgufWriter &, const GgufTensorInfo & t, bool & keep) { keep = t.name != "blk.3.ffn_up.weight"; });
    CHECK(load_error(p).find(": tensor 'blk.3.ffn_up.weight' is missing") != std::string::npos);
}

TEST_CASE("a weight of the wrong shape is named with both shapes") {
    auto p = rewrite("shape", [](GgufWriter & w, const GgufTensorInfo & t, bool & keep) {
        if (t.name == "blk.1.attn_k.weight") {
            keep = false;
            std::vector<float> z(64 * 64);
            REQUIRE(w.add_tensor(t.name, TensorType::kF32, {64, 64},
                                 std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(z.data()), z.size() * 4))
                        .ok());
        }
    });
    CHECK(load_error(p).find(": tensor 'blk.1.attn_k.weight' has shape [64, 64], expected [64, 32]") !=
          std::string::npos);
}

TEST_CASE("unknown architectures and missing hyperparameters are rejected by name") {
    auto arch = rewrite(
        "arch", [](GgufWriter &, const GgufTensorInfo &, bool &) {},
        [](GgufWriter & w) { w.set("general.architecture", GgufValue::of_string("mamba")); });
    auto m = Model::load(arch);
    fs::remove(arch);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code() == core::ErrorCode::kUnsupported);
    CHECK(m.error().message().find("architecture 'mamba' is not supported") != std::string::npos);

    auto key = rewrite(
        "key", [](GgufWriter &, const GgufTensorInfo &, bool &) {},
        [](GgufWriter & w) { w.remove("llama.block_count"); });
    CHECK(load_error(key).find("metadata key 'llama.block_count' is missing") != std::string::npos);
}

TEST_CASE("without output.weight the logits come from the tied token embeddings") {
    // Model A drops output.weight; model B replaces it with a copy of token_embd.weight. Tying
    // means both compute the same logits.
    auto tied_path =
        rewrite("tied", [](GgufWriter &, const GgufTensorInfo & t, bool & keep) { keep = t.name != "output.weight"; });
    auto src = GgufFile::open(kData / "stories260K.gguf");
    REQUIRE(src.ok());
    const GgufTensorInfo * emb = src->find_tensor("token_embd.weight");
    REQUIRE(emb != nullptr);
    auto copy_path = rewrite("copy", [&](GgufWriter & w, const GgufTensorInfo & t, bool & keep) {
        if (t.name == "output.weight") {
            keep = false;
            REQUIRE(w.add_tensor(t.name, static_cast<TensorType>(emb->type_id), emb->shape,
                                 std::span<const uint8_t>(emb->data, emb->n_bytes))
                        .ok());
        }
    });
    auto tied = Model::load(tied_path);
    auto copy = Model::load(copy_path);
    REQUIRE_MESSAGE(tied.ok(), tied.error().message());
    REQUIRE(copy.ok());
    CHECK((*tied)->config().tied_output);
    CHECK_FALSE((*copy)->config().tied_output);
    CHECK((*tied)->info().find("output: tied to token_embd") != std::string::npos);
    auto a = Context::create(*tied, {.n_ctx = 16});
    auto b = Context::create(*copy, {.n_ctx = 16});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    auto la = (*a)->eval(std::vector<int32_t>{1, 403});
    REQUIRE(la.ok());
    const std::vector<float> va(la->begin(), la->end());
    auto lb = (*b)->eval(std::vector<int32_t>{1, 403});
    REQUIRE(lb.ok());
    CHECK(va == std::vector<float>(lb->begin(), lb->end()));
    fs::remove(tied_path);
    fs::remove(copy_path);
}

TEST_CASE("linear RoPE scaling leaves position 0 alone and changes the later positions") {
    auto p = rewrite(
        "rope", [](GgufWriter &, const GgufTensorInfo &, bool &) {},
        [](GgufWriter & w) {
            w.set("llama.rope.scaling.type", GgufValue::of_string("linear"));
            w.set("llama.rope.scaling.factor", GgufValue::of_float32(2.0f));
        });
    auto scaled = Model::load(p);
    REQUIRE_MESSAGE(scaled.ok(), scaled.error().message());
    CHECK((*scaled)->config().rope_scaling == RopeScaling::kLinear);
    CHECK((*scaled)->info().find("linear scaling x2") != std::string::npos);
    auto plain = Model::load(kData / "stories260K.gguf");
    REQUIRE(plain.ok());
    auto a = Context::create(*scaled, {.n_ctx = 16});
    auto b = Context::create(*plain, {.n_ctx = 16});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    // Position 0 has angle 0 either way: identical logits.
    auto la = (*a)->eval(std::vector<int32_t>{1});
    auto lb = (*b)->eval(std::vector<int32_t>{1});
    REQUIRE(la.ok());
    REQUIRE(lb.ok());
    CHECK(std::vector<float>(la->begin(), la->end()) == std::vector<float>(lb->begin(), lb->end()));
    // Position 1 differs (half the angle).
    const int32_t next = 403;
    auto la2 = (*a)->eval(std::span<const int32_t>(&next, 1));
    auto lb2 = (*b)->eval(std::span<const int32_t>(&next, 1));
    REQUIRE(la2.ok());
    REQUIRE(lb2.ok());
    CHECK(std::vector<float>(la2->begin(), la2->end()) != std::vector<float>(lb2->begin(), lb2->end()));
    fs::remove(p);
}

TEST_CASE("a qwen2 model with NeoX RoPE and zero biases computes what the equivalent llama model does") {
    // llama GGUF files order each head's Q/K rows so rotated pairs are adjacent (2i, 2i+1);
    // qwen2 rotates (i, i + d/2). Reordering stories260K's Q/K rows into the NeoX order and
    // relabelling it qwen2 (with zero q/k/v biases) must leave the logits unchanged.
    auto src = GgufFile::open(kData / "stories260K.gguf");
    REQUIRE(src.ok());
    GgufWriter w;
    for (const auto & [k, v] : src->metadata()) {
        std::string key = k;
        if (key.rfind("llama.", 0) == 0) {
            key = "qwen2." + key.substr(6);
        }
        w.set(key, key == "general.architecture" ? GgufValue::of_string("qwen2") : v);
    }
    const size_t hd = 8;
    std::vector<std::vector<float>> keep_alive;
    for (const GgufTensorInfo & t : src->tensors()) {
        const bool qk =
            t.name.find(".attn_q.weight") != std::string::npos || t.name.find(".attn_k.weight") != std::string::npos;
        if (!qk) {
            REQUIRE(w.add_tensor(t.name, static_cast<TensorType>(t.type_id), t.shape,
                                 std::span<const uint8_t>(t.data, t.n_bytes))
                        .ok());
            continue;
        }
        const size_t cols = t.shape[0], rows = t.shape[1];
        const auto * in = reinterpret_cast<const float *>(t.data);
        std::vector<float> out(rows * cols);
        for (size_t h = 0; h < rows / hd; ++h) {
            for (size_t i = 0; i < hd / 2; ++i) {
                for (size_t j = 0; j < 2; ++j) {
                    const size_t from = h * hd + 2 * i + j;
                    const size_t to = h * hd + j * (hd / 2) + i;
                    std::copy(in + from * cols, in + (from + 1) * cols, out.begin() + static_cast<long>(to * cols));
                }
            }
        }
        REQUIRE(w.add_tensor(t.name, TensorType::kF32, t.shape,
                             std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(out.data()), out.size() * 4))
                    .ok());
        const std::string bias = t.name.substr(0, t.name.size() - 6) + "bias";
        std::vector<float> zeros(rows, 0.0f);
        REQUIRE(w.add_tensor(bias, TensorType::kF32, {rows},
                             std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(zeros.data()), rows * 4))
                    .ok());
        if (t.name.find(".attn_k.weight") != std::string::npos) {
            const std::string vbias = t.name.substr(0, t.name.find(".attn_k.weight")) + ".attn_v.bias";
            REQUIRE(w.add_tensor(vbias, TensorType::kF32, {rows},
                                 std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(zeros.data()), rows * 4))
                        .ok());
        }
    }
    const fs::path out = fs::temp_directory_path() / ("sb_qwen2_" + std::to_string(::getpid()) + ".gguf");
    REQUIRE(w.write(out).ok());
    auto qwen = Model::load(out);
    REQUIRE_MESSAGE(qwen.ok(), qwen.error().message());
    CHECK((*qwen)->config().architecture == "qwen2");
    CHECK((*qwen)->config().rope_neox);
    CHECK((*qwen)->config().qkv_bias);
    auto llama = Model::load(kData / "stories260K.gguf");
    REQUIRE(llama.ok());
    auto a = Context::create(*qwen, {.n_ctx = 32, .f16_kv = false});
    auto b = Context::create(*llama, {.n_ctx = 32, .f16_kv = false});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 432, 383};
    auto la = (*a)->eval(prompt);
    REQUIRE(la.ok());
    const std::vector<float> va(la->begin(), la->end());
    auto lb = (*b)->eval(prompt);
    REQUIRE(lb.ok());
    double worst = 0.0;
    for (size_t i = 0; i < va.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(va[i] - (*lb)[i])));
    }
    CHECK(worst < 1e-4);
    fs::remove(out);
}
