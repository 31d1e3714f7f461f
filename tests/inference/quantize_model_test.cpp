#include "strongbox/inference/gguf.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/quantize.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <unistd.h>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

fs::path temp_path(const std::string & stem) {
    return fs::temp_directory_path() / ("sb_" + stem + "_" + std::to_string(::getpid()) + ".gguf");
}

std::vector<float> logits_after(const fs::path & model_path, const std::vector<int32_t> & prompt) {
    auto m = Model::load(model_path);
    REQUIRE_MESSAGE(m.ok(), m.error().message());
    auto ctx = Context::create(*m, {.n_ctx = 64});
    REQUIRE(ctx.ok());
    auto l = (*ctx)->eval(prompt);
    REQUIRE(l.ok());
    return {l->begin(), l->end()};
}

}  // namespace

TEST_CASE("quantizing stories260K to Q8_0 gives ggml's bytes and a model that runs close to F32") {
    const fs::path out = temp_path("q8");
    auto r = quantize_model(kData / "stories260K.gguf", out, "Q8_0", 2);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->tensor_types["q8_0"] == 32);  // embeddings, output, 6 matrices x 5 layers
    CHECK(r->tensor_types["f16"] == 5);    // ffn_down rows of 172 are not whole Q8_0 blocks
    CHECK(r->tensor_types["f32"] == 11);   // norms
    CHECK(r->fallbacks.size() == 5);
    CHECK(r->fallbacks[0] == "blk.0.ffn_down.weight: q8_0 -> f16 (row 172)");

    auto ours = GgufFile::open(out);
    auto ref = GgufFile::open(kData / "stories260K-q8_0.gguf");
    REQUIRE(ours.ok());
    REQUIRE(ref.ok());
    CHECK(ours->get_uint32("general.file_type").value() == 7);
    // Q8_0's scale rule is deterministic, so every tensor must match ggml's quantizer byte for byte.
    for (const GgufTensorInfo & t : ref->tensors()) {
        const GgufTensorInfo * o = ours->find_tensor(t.name);
        REQUIRE(o != nullptr);
        CHECK(o->type_id == t.type_id);
        REQUIRE(o->n_bytes == t.n_bytes);
        CHECK_MESSAGE(std::memcmp(o->data, t.data, t.n_bytes) == 0, t.name);
    }

    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
    const auto f32 = logits_after(kData / "stories260K.gguf", prompt);
    const auto q8 = logits_after(out, prompt);
    double worst = 0.0;
    for (size_t i = 0; i < f32.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(f32[i] - q8[i])));
    }
    MESSAGE("Q8_0 vs F32 max logit difference: " << worst);
    CHECK(worst < 0.3);
    const auto top_f32 = std::max_element(f32.begin(), f32.end()) - f32.begin();
    CHECK(top_f32 == std::max_element(q8.begin(), q8.end()) - q8.begin());
    fs::remove(out);
}

TEST_CASE("quantizing to Q4_K_M falls back to 32-element types for rows that are not whole super-blocks") {
    const fs::path out = temp_path("q4km");
    auto r = quantize_model(kData / "stories260K.gguf", out, "Q4_K_M");
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    // 5 layers: Q6_K (-> Q8_0) for output and attn_v of layers 2 and 4, the rest Q4_K (-> Q5_0).
    CHECK(r->tensor_types["q5_0"] == 29);
    CHECK(r->tensor_types["q8_0"] == 3);
    CHECK(r->tensor_types["f16"] == 5);
    CHECK(r->tensor_types["f32"] == 11);
    auto m = Model::load(out);
    REQUIRE_MESSAGE(m.ok(), m.error().message());
    CHECK(m->get()->gguf().get_uint32("general.file_type").value() == 15);
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
    const auto f32 = logits_after(kData / "stories260K.gguf", prompt);
    const auto q = logits_after(out, prompt);
    CHECK(std::max_element(f32.begin(), f32.end()) - f32.begin() == std::max_element(q.begin(), q.end()) - q.begin());
    fs::remove(out);
}

TEST_CASE("the Q4_K_M mix gives Q6_K to the output and to attn_v/ffn_down of edge and every third layer") {
    // TinyLlama-1.1B shapes: rows of 2048 and 5632 are whole super-blocks.
    const std::vector<uint64_t> sq = {2048, 2048};
    const std::vector<uint64_t> down = {5632, 2048};
    auto plan = [&](std::string_view name, const std::vector<uint64_t> & shape, bool tied = false) {
        auto t = plan_tensor_type("Q4_K_M", name, shape, TensorType::kF32, 22, tied);
        REQUIRE(t.ok());
        return *t;
    };
    CHECK(plan("output.weight", {2048, 32000}) == TensorType::kQ6_K);
    CHECK(plan("token_embd.weight", {2048, 32000}) == TensorType::kQ4_K);
    CHECK(plan("token_embd.weight", {2048, 32000}, true) == TensorType::kQ6_K);
    CHECK(plan("blk.1.attn_v.weight", sq) == TensorType::kQ6_K);  // first eighth (layers 0-1)
    CHECK(plan("blk.2.attn_v.weight", sq) == TensorType::kQ4_K);
    CHECK(plan("blk.4.ffn_down.weight", down) == TensorType::kQ6_K);  // (4 - 2) % 3 == 2
    CHECK(plan("blk.4.attn_q.weight", sq) == TensorType::kQ4_K);
    CHECK(plan("blk.20.ffn_down.weight", down) == TensorType::kQ6_K);   // last eighth (19-21)
    CHECK(plan("blk.5.attn_norm.weight", {2048}) == TensorType::kF32);  // vectors keep their type
    // Qwen2.5-0.5B's 896-wide rows are not whole super-blocks; 172 is not even whole 32-blocks.
    CHECK(plan("blk.4.attn_q.weight", {896, 896}) == TensorType::kQ5_0);
    CHECK(plan("output.weight", {896, 32000}) == TensorType::kQ8_0);
    CHECK(plan("blk.5.ffn_up.weight", {172, 896}) == TensorType::kF16);
    auto bad = plan_tensor_type("Q9_9", "output.weight", sq, TensorType::kF32, 24, false);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code() == core::ErrorCode::kInvalidArgument);
}
