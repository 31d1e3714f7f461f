// Text generation: sampling the next token from logits, and the decode loop around a Context
// (prompt prefill, stop conditions, streaming, cancellation).
//
// Sampler applies, in order: logit biases, repetition and presence penalties over the last penalty_last_n
// tokens, then greedy argmax when temperature <= 0, else temperature, top-k, softmax, top-p,
// min-p and a draw from a seeded generator (same seed + same logits = same tokens, on every
// machine: the generator is std::mt19937_64 and the draw uses its raw bits).
// Generator::generate streams the text as it becomes final: bytes that might still be the
// start of a stop string or of an unfinished UTF-8 character are held back until resolved.
//
// Thread-safety: a Sampler or Generator belongs to one thread; the Context it drives likewise.
// Errors: generate returns the Context's errors (context full before the first token,
// invalid ids), kInvalidArgument for an empty prompt; cancellation through the callback is not
// an error: the result says StopReason::kCancelled.
//
//   Generator gen(*ctx, tokenizer.get());
//   GenerateOptions opt{.max_tokens = 64, .stop = {"\n\n"}};
//   opt.on_text = [](std::string_view piece) { std::fputs(std::string(piece).c_str(), stdout); return true; };
//   SB_ASSIGN_OR_RETURN(GenerateResult r, gen.generate("Once upon a time", opt));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/tokenizer.h"

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strongbox::inference {

struct SamplerConfig {
    float temperature = 0.0f;         // <= 0: greedy
    int top_k = 0;                    // 0: off
    float top_p = 1.0f;               // 1: off
    float min_p = 0.0f;               // 0: off; keeps tokens with p >= min_p * p_max
    float repetition_penalty = 1.0f;  // 1: off; divides positive / multiplies negative logits
    float presence_penalty = 0.0f;    // 0: off; subtracted once per token seen
    int penalty_last_n = 64;          // tokens of history the penalties look at
    uint64_t seed = 0;
    // Added to the logits before anything else (e.g. -INFINITY bans a token).
    std::vector<std::pair<int32_t, float>> logit_bias{};
};

class Sampler {
  public:
    explicit Sampler(const SamplerConfig & config);

    // Picks the next token; `history` is every token so far (prompt and generated).
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

    const SamplerConfig & config() const { return config_; }

  private:
    SamplerConfig config_;
    std::mt19937_64 rng_;
    std::vector<float> work_;
    std::vector<int32_t> ids_;
};

enum class StopReason { kMaxTokens, kEndOfGeneration, kStopString, kCancelled, kContextFull };

std::string_view stop_reason_name(StopReason reason);

struct GenerateOptions {
    SamplerConfig sampler{};
    int max_tokens = 256;
    std::vector<std::string> stop{};  // generation ends before the first occurrence of any of these
    bool stop_at_eog = true;          // end at the tokenizer's end-of-generation tokens
    // Streamed final text; return false to cancel.
    std::function<bool(std::string_view text)> on_text{};
    // Every sampled token with the logits it was drawn from (tests, diagnostics); return false
    // to cancel.
    std::function<bool(int32_t token, std::span<const float> logits)> on_token{};
};

struct GenerateResult {
    std::vector<int32_t> tokens;  // generated ids (a stop string's tokens included; EOG excluded)
    std::string text;             // generated text, cut before any stop string
    StopReason stop_reason = StopReason::kMaxTokens;
    size_t n_prompt_tokens = 0;
    double prefill_seconds = 0.0;
    double decode_seconds = 0.0;
};

class Generator {
  public:
    // The tokenizer may be null when only ids are used (text then stays empty and stop strings
    // do not apply).
    Generator(Evaluator & context, const Tokenizer * tokenizer) : ctx_(context), tok_(tokenizer) {}

    // Continues from whatever the context holds: evaluates prompt (appended at n_past()) and
    // generates from there.
    core::Result<GenerateResult> generate_from_ids(std::span<const int32_t> prompt, const GenerateOptions & options);

    // Tokenizes the prompt (BOS added when the vocabulary asks for it) and generates.
    core::Result<GenerateResult> generate(std::string_view prompt, const GenerateOptions & options);

  private:
    Evaluator & ctx_;
    const Tokenizer * tok_;
};

}  // namespace strongbox::inference
