#include "strongbox/inference/generate.h"

#include "golden_support.h"

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

using testing::ids_of;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

struct Fixture {
    std::shared_ptr<const Model> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Context> ctx;

    Fixture() {
        auto m = Model::load(kData / "stories260K.gguf");
        REQUIRE_MESSAGE(m.ok(), m.error().message());
        model = *m;
        auto t = Tokenizer::from_gguf(model->gguf());
        REQUIRE_MESSAGE(t.ok(), t.error().message());
        tokenizer = std::move(*t);
        auto c = Context::create(model, {.n_ctx = 512});
        REQUIRE(c.ok());
        ctx = std::move(*c);
    }
};

// The golden record for "Once upon a time": prompt ids, 128 greedy ids and their text.
core::Json golden_once_upon() {
    auto text = core::read_file(kData / "stories260K.llamacpp-greedy128.jsonl");
    REQUIRE(text.ok());
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        auto j = core::Json::parse(line);
        REQUIRE(j.ok());
        if (j->get_string("prompt") == "Once upon a time") {
            return *j;
        }
    }
    FAIL("golden record missing");
    return {};
}

}  // namespace

TEST_CASE("greedy generation from a text prompt reproduces the llama.cpp tokens and text") {
    Fixture f;
    const core::Json g = golden_once_upon();
    Generator gen(*f.ctx, f.tokenizer.get());
    std::string streamed;
    GenerateOptions opt;
    opt.max_tokens = 128;
    opt.stop_at_eog = false;
    opt.on_text = [&](std::string_view piece) {
        streamed += piece;
        return true;
    };
    auto r = gen.generate("Once upon a time", opt);
    REQUIRE(r.ok());
    CHECK(r->n_prompt_tokens == ids_of(*g.find("prompt_ids")).size());
    CHECK(r->tokens == ids_of(*g.find("greedy_ids")));
    CHECK(r->text == g.get_string("greedy_text"));
    CHECK(streamed == r->text);
    CHECK(r->stop_reason == StopReason::kMaxTokens);
}

TEST_CASE("generation stops before the first stop string and never streams part of it") {
    Fixture f;
    const std::string full = golden_once_upon().get_string("greedy_text");
    const size_t cut = full.find("Lily");
    REQUIRE(cut != std::string::npos);
    Generator gen(*f.ctx, f.tokenizer.get());
    std::string streamed;
    GenerateOptions opt;
    opt.max_tokens = 128;
    opt.stop = {"Lily"};
    opt.on_text = [&](std::string_view piece) {
        streamed += piece;
        CHECK(streamed.find("Li", cut) == std::string::npos);
        return true;
    };
    auto r = gen.generate("Once upon a time", opt);
    REQUIRE(r.ok());
    CHECK(r->stop_reason == StopReason::kStopString);
    CHECK(r->text == full.substr(0, cut));
    CHECK(streamed == r->text);
}

TEST_CASE("the streaming callback cancels generation") {
    Fixture f;
    Generator gen(*f.ctx, f.tokenizer.get());
    int calls = 0;
    GenerateOptions opt;
    opt.max_tokens = 100;
    opt.on_text = [&](std::string_view) {
        return ++calls < 3;
    };
    auto r = gen.generate("Once upon a time", opt);
    REQUIRE(r.ok());
    CHECK(r->stop_reason == StopReason::kCancelled);
    CHECK(calls == 3);
    CHECK(r->tokens.size() < 10);
}

TEST_CASE("per-step logits are passed with each sampled token and cancel from there too") {
    Fixture f;
    Generator gen(*f.ctx, f.tokenizer.get());
    std::vector<int32_t> seen;
    GenerateOptions opt;
    opt.max_tokens = 20;
    opt.on_token = [&](int32_t id, std::span<const float> logits) {
        CHECK(logits.size() == 512);
        CHECK(id == std::max_element(logits.begin(), logits.end()) - logits.begin());
        seen.push_back(id);
        return seen.size() < 5;
    };
    auto r = gen.generate_from_ids(std::vector<int32_t>{1}, opt);
    REQUIRE(r.ok());
    CHECK(seen.size() == 5);
    CHECK(r->tokens.size() == 4);
    CHECK(r->stop_reason == StopReason::kCancelled);
}

TEST_CASE("sampling with the same seed repeats and another seed differs") {
    Fixture f;
    auto run = [&](uint64_t seed) {
        f.ctx->reset();
        Generator gen(*f.ctx, f.tokenizer.get());
        GenerateOptions opt;
        opt.max_tokens = 48;
        opt.stop_at_eog = false;
        opt.sampler = {.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .min_p = 0.02f, .seed = seed};
        auto r = gen.generate("Lily and Tom", opt);
        REQUIRE(r.ok());
        return r->tokens;
    };
    const auto a = run(7);
    const auto b = run(7);
    const auto c = run(8);
    CHECK(a.size() == 48);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("generation reports a full context instead of overrunning it") {
    Fixture f;
    auto small = Context::create(f.model, {.n_ctx = 16});
    REQUIRE(small.ok());
    Generator gen(**small, f.tokenizer.get());
    GenerateOptions opt;
    opt.max_tokens = 100;
    opt.stop_at_eog = false;
    auto r = gen.generate_from_ids(std::vector<int32_t>{1, 403, 407}, opt);
    REQUIRE(r.ok());
    CHECK(r->stop_reason == StopReason::kContextFull);
    CHECK(r->tokens.size() == 14);
}

TEST_CASE("sampler: top-k of one and min-p of one are greedy at any temperature") {
    const std::vector<float> logits = {0.1f, 2.0f, 1.9f, -3.0f};
    Sampler k1({.temperature = 5.0f, .top_k = 1, .seed = 3});
    Sampler p1({.temperature = 5.0f, .min_p = 1.0f, .seed = 3});
    for (int i = 0; i < 50; ++i) {
        CHECK(k1.sample(logits, {}) == 1);
        CHECK(p1.sample(logits, {}) == 1);
    }
}

TEST_CASE("sampler: repetition and presence penalties steer away from recent tokens") {
    const std::vector<float> logits = {0.1f, 2.0f, 1.9f, -3.0f};
    const std::vector<int32_t> history = {1, 1};
    Sampler rep({.repetition_penalty = 1.1f});
    CHECK(rep.sample(logits, history) == 2);
    Sampler presence({.presence_penalty = 0.5f});
    CHECK(presence.sample(logits, history) == 2);
    Sampler none({});
    CHECK(none.sample(logits, history) == 1);
    // Outside the penalty window the token is not penalised.
    Sampler window({.repetition_penalty = 1.1f, .penalty_last_n = 1});
    const std::vector<int32_t> old = {1, 0};
    CHECK(window.sample(logits, old) == 1);
}

TEST_CASE("sampler: top-p keeps only the nucleus") {
    // p(0) ~ 0.79 at temperature 1: with top_p 0.75 only token 0 can be drawn.
    const std::vector<float> logits = {3.0f, 1.0f, 0.5f, 0.0f};
    Sampler s({.temperature = 1.0f, .top_p = 0.75f, .seed = 11});
    for (int i = 0; i < 100; ++i) {
        CHECK(s.sample(logits, {}) == 0);
    }
    Sampler wide({.temperature = 1.0f, .seed = 11});
    int others = 0;
    for (int i = 0; i < 200; ++i) {
        others += wide.sample(logits, {}) != 0 ? 1 : 0;
    }
    CHECK(others > 0);
}

TEST_CASE("generation ends at the end-of-generation token and a logit bias can force or ban tokens") {
    Fixture f;
    Generator gen(*f.ctx, f.tokenizer.get());
    GenerateOptions opt;
    opt.max_tokens = 20;
    opt.sampler.logit_bias = {{f.tokenizer->eos(), 100.0f}};
    auto r = gen.generate("Once upon a time", opt);
    REQUIRE(r.ok());
    CHECK(r->stop_reason == StopReason::kEndOfGeneration);
    CHECK(r->tokens.empty());
    CHECK(r->text.empty());

    // Banning the greedy choice (",") changes the first token.
    f.ctx->reset();
    opt.sampler.logit_bias = {{f.tokenizer->find_token(",").value_or(-1), -INFINITY}};
    opt.max_tokens = 1;
    auto banned = gen.generate("Once upon a time", opt);
    REQUIRE(banned.ok());
    REQUIRE(banned->tokens.size() == 1);
    CHECK(banned->text != ",");
}
