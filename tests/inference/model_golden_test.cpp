#include "golden_support.h"

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"
#include "strongbox/inference/model.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

using testing::argmax;
using testing::ids_of;
using testing::read_jsonl;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

std::shared_ptr<const Model> load(const char * name) {
    auto m = Model::load(kData / name);
    REQUIRE_MESSAGE(m.ok(), m.error().message());
    return *m;
}

struct Diff {
    double all = 0.0;    // largest |ours - reference| over all logits after the prompt
    double top10 = 0.0;  // the same over the reference's ten largest logits
    bool top1 = true;    // our argmax equals the reference's on every prompt
};

Diff first_step_diff(const std::string & model, const std::string & reference, ContextOptions options = {}) {
    auto m = load(model.c_str());
    Diff d;
    options.n_ctx = 512;
    for (const core::Json & rec : read_jsonl(kData / reference)) {
        auto ctx = Context::create(m, options);
        REQUIRE(ctx.ok());
        auto logits = (*ctx)->eval(ids_of(*rec.find("prompt_ids")));
        REQUIRE(logits.ok());
        const auto & ref = rec.find("first_step_logits")->as_array();
        REQUIRE(ref.size() == logits->size());
        std::vector<float> ref_f;
        for (size_t i = 0; i < ref.size(); ++i) {
            d.all = std::max(d.all, std::abs(static_cast<double>((*logits)[i]) - ref[i].as_double()));
            ref_f.push_back(static_cast<float>(ref[i].as_double()));
        }
        std::vector<size_t> order(ref_f.size());
        for (size_t i = 0; i < order.size(); ++i) {
            order[i] = i;
        }
        std::partial_sort(order.begin(), order.begin() + 10, order.end(),
                          [&](size_t a, size_t b) { return ref_f[a] > ref_f[b]; });
        for (size_t i = 0; i < 10; ++i) {
            d.top10 = std::max(d.top10, std::abs(static_cast<double>((*logits)[order[i]] - ref_f[order[i]])));
        }
        d.top1 = d.top1 && argmax(*logits) == static_cast<int32_t>(order[0]);
    }
    MESSAGE(model << ": max |logit - fp64 reference| all " << d.all << ", top-10 " << d.top10);
    return d;
}

}  // namespace

TEST_CASE("stories260K greedy decoding reproduces llama.cpp's 128 tokens for all five prompts") {
    auto m = load("stories260K.gguf");
    auto ctx = Context::create(m, {.n_ctx = 512});
    REQUIRE(ctx.ok());
    int n_prompts = 0;
    for (const core::Json & rec : read_jsonl(kData / "stories260K.llamacpp-greedy128.jsonl")) {
        (*ctx)->reset();
        const std::vector<int32_t> expected = ids_of(*rec.find("greedy_ids"));
        auto logits = (*ctx)->eval(ids_of(*rec.find("prompt_ids")));
        REQUIRE(logits.ok());
        std::vector<int32_t> got;
        while (got.size() < expected.size()) {
            int32_t next = argmax(*logits);
            got.push_back(next);
            logits = (*ctx)->eval(std::span<const int32_t>(&next, 1));
            REQUIRE(logits.ok());
        }
        CHECK_MESSAGE(got == expected, "prompt: " << rec.get_string("prompt"));
        ++n_prompts;
    }
    CHECK(n_prompts == 5);
}

// F32 KV cache: 7e-6 from the reference (the forward pass itself is exact to float rounding).
// F16 KV cache (the default, as in llama.cpp): rounding every key and value to 11 bits moves the
// logits by 0.009 to 0.020 over all 512 (0.006 to 0.014 over the top ten) depending on the
// kernels' summation order (scalar 0.0176, AVX2/AVX-512 0.0199 measured); greedy decoding still
// reproduces llama.cpp's 128 tokens exactly (test above).
TEST_CASE("stories260K first-step logits are within 1e-2 of the float64 reference") {
    Diff f32 = first_step_diff("stories260K.gguf", "stories260K.fp64-reference.jsonl", {.f16_kv = false});
    CHECK(f32.all < 1e-4);
    CHECK(f32.top1);
    Diff f16 = first_step_diff("stories260K.gguf", "stories260K.fp64-reference.jsonl");
    CHECK(f16.all < 3e-2);
    CHECK(f16.top10 < 2e-2);
    CHECK(f16.top1);
}

TEST_CASE("stories260K with two kernel threads gives the same logits bound") {
    Diff d = first_step_diff("stories260K.gguf", "stories260K.fp64-reference.jsonl", {.n_threads = 2, .f16_kv = false});
    CHECK(d.all < 1e-4);
    CHECK(d.top1);
}

// Quantized weights: activations are quantized to 8 bits for the integer dot products, as in
// llama.cpp, whose own top-10 logits differ from this reference by 0.16 (Q8_0) and 0.13 (Q4_0).
// Measured here over all logits (top ten): Q8_0 0.235 (0.107), Q4_0 0.19 (0.12).
TEST_CASE("stories260K Q8_0 first-step logits stay within 0.3 of the float64 reference") {
    Diff d = first_step_diff("stories260K-q8_0.gguf", "stories260K-q8_0.fp64-reference.jsonl");
    CHECK(d.all < 0.3);
    CHECK(d.top10 < 0.15);
    CHECK(d.top1);
}

TEST_CASE("stories260K Q4_0 first-step logits stay within 0.25 of the float64 reference") {
    Diff d = first_step_diff("stories260K-q4_0.gguf", "stories260K-q4_0.fp64-reference.jsonl");
    CHECK(d.all < 0.25);
    CHECK(d.top10 < 0.15);
    CHECK(d.top1);
}

// Batched and single-token products sum in different orders; with an F32 cache that is all
// (measured 1e-6), with the F16 cache a key may round the other way (measured 7.5e-4).
TEST_CASE("batched prefill and token-by-token evaluation give the same logits") {
    auto m = load("stories260K.gguf");
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261};
    for (bool f16_kv : {false, true}) {
        auto a = Context::create(m, {.n_ctx = 64, .f16_kv = f16_kv});
        auto b = Context::create(m, {.n_ctx = 64, .f16_kv = f16_kv});
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        auto batched = (*a)->eval(prompt);
        REQUIRE(batched.ok());
        std::vector<float> all(batched->begin(), batched->end());
        std::span<const float> one;
        for (int32_t id : prompt) {
            auto r = (*b)->eval(std::span<const int32_t>(&id, 1));
            REQUIRE(r.ok());
            one = *r;
        }
        double worst = 0.0;
        for (size_t i = 0; i < all.size(); ++i) {
            worst = std::max(worst, static_cast<double>(std::abs(all[i] - one[i])));
        }
        CHECK(worst < (f16_kv ? 5e-3 : 1e-4));
        CHECK(argmax(all) == argmax(one));
        CHECK((*a)->n_past() == prompt.size());
        CHECK((*b)->n_past() == prompt.size());
    }
}

TEST_CASE("eval rejects token ids outside the vocabulary and prompts longer than the context") {
    auto m = load("stories260K.gguf");
    auto ctx = Context::create(m, {.n_ctx = 8});
    REQUIRE(ctx.ok());
    const std::vector<int32_t> bad = {1, 512};
    auto r = (*ctx)->eval(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "eval: token id 512 is outside the vocabulary of 512");
    const std::vector<int32_t> long_prompt(9, 1);
    auto l = (*ctx)->eval(long_prompt);
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().code() == core::ErrorCode::kResourceExhausted);
    CHECK((*ctx)->n_past() == 0);
}

namespace {

// Shortest common prefix, over the five prompts, of our greedy ids and llama.cpp's.
size_t greedy_agreement(const char * model, const char * golden) {
    auto m = load(model);
    auto ctx = Context::create(m, {.n_ctx = 512});
    REQUIRE(ctx.ok());
    size_t shortest = SIZE_MAX;
    for (const core::Json & rec : read_jsonl(kData / golden)) {
        (*ctx)->reset();
        const std::vector<int32_t> expected = ids_of(*rec.find("greedy_ids"));
        auto logits = (*ctx)->eval(ids_of(*rec.find("prompt_ids")));
        REQUIRE(logits.ok());
        size_t same = 0;
        while (same < expected.size()) {
            const int32_t next = argmax(*logits);
            if (next != expected[same]) {
                break;
            }
            ++same;
            logits = (*ctx)->eval(std::span<const int32_t>(&next, 1));
            REQUIRE(logits.ok());
        }
        shortest = std::min(shortest, same);
    }
    MESSAGE(std::string(model) << ": greedy ids agree with llama.cpp for at least " << shortest << " of 128 tokens");
    return shortest;
}

}  // namespace

// Measured: Q8_0 agrees for at least 7 tokens on every prompt, Q4_0 for at least 26 (llama.cpp's
// own quantized runs part from the float64 reference after 7 to 128 tokens).
TEST_CASE("quantized stories260K greedy decoding follows llama.cpp's for the first tokens") {
    CHECK(greedy_agreement("stories260K-q8_0.gguf", "stories260K-q8_0.llamacpp-greedy128.jsonl") >= 5);
    CHECK(greedy_agreement("stories260K-q4_0.gguf", "stories260K-q4_0.llamacpp-greedy128.jsonl") >= 16);
}
