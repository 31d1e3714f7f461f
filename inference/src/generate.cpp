#include "strongbox/inference/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes at the end of s that begin a UTF-8 character whose continuation bytes have not arrived.
size_t incomplete_utf8_tail(std::string_view s) {
    for (size_t back = 1; back <= std::min<size_t>(4, s.size()); ++back) {
        const auto c = static_cast<unsigned char>(s[s.size() - back]);
        if ((c & 0xC0) == 0x80) {
            continue;  // continuation byte: keep looking for the lead byte
        }
        const size_t need = (c & 0x80) == 0      ? 1
                            : (c & 0xE0) == 0xC0 ? 2
                            : (c & 0xF0) == 0xE0 ? 3
                            : (c & 0xF8) == 0xF0 ? 4
                                                 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

// Longest suffix of s that is a proper prefix of one of the stop strings.
size_t stop_prefix_tail(std::string_view s, const std::vector<std::string> & stops) {
    size_t best = 0;
    for (const std::string & stop : stops) {
        for (size_t len = std::min(stop.size() - 1, s.size()); len > best; --len) {
            if (s.substr(s.size() - len) == std::string_view(stop).substr(0, len)) {
                best = len;
                break;
            }
        }
    }
    return best;
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
    switch (reason) {
    case StopReason::kMaxTokens:
        return "max_tokens";
    case StopReason::kEndOfGeneration:
        return "end_of_generation";
    case StopReason::kStopString:
        return "stop_string";
    case StopReason::kCancelled:
        return "cancelled";
    case StopReason::kContextFull:
        return "context_full";
    }
    return "unknown";
}

Sampler::Sampler(const SamplerConfig & config) : config_(config), rng_(config.seed) {}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    SB_CHECK(!logits.empty());
    work_.assign(logits.begin(), logits.end());
    const auto n = static_cast<int32_t>(work_.size());
    for (const auto & [id, bias] : config_.logit_bias) {
        if (id >= 0 && id < n) {
            work_[static_cast<size_t>(id)] += bias;
        }
    }

    if ((config_.repetition_penalty != 1.0f || config_.presence_penalty != 0.0f) && config_.penalty_last_n > 0) {
        const size_t window = std::min(history.size(), static_cast<size_t>(config_.penalty_last_n));
        std::unordered_map<int32_t, int> seen;
        for (int32_t id : history.subspan(history.size() - window)) {
            if (id >= 0 && id < n) {
                ++seen[id];
            }
        }
        for (const auto & [id, count] : seen) {
            float & l = work_[static_cast<size_t>(id)];
            if (config_.repetition_penalty != 1.0f) {
                l = l > 0.0f ? l / config_.repetition_penalty : l * config_.repetition_penalty;
            }
            l -= config_.presence_penalty;
        }
    }

    if (config_.temperature <= 0.0f) {
        return static_cast<int32_t>(std::max_element(work_.begin(), work_.end()) - work_.begin());
    }

    ids_.resize(work_.size());
    std::iota(ids_.begin(), ids_.end(), 0);
    auto by_logit = [this](int32_t a, int32_t b) {
        const float la = work_[static_cast<size_t>(a)];
        const float lb = work_[static_cast<size_t>(b)];
        return la != lb ? la > lb : a < b;  // ties broken by id so the order is deterministic
    };
    size_t keep = ids_.size();
    if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < keep) {
        keep = static_cast<size_t>(config_.top_k);
    }
    std::partial_sort(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(keep), ids_.end(), by_logit);
    ids_.resize(keep);

    // Softmax over the candidates at the given temperature.
    std::vector<double> p(keep);
    const double max_l = static_cast<double>(work_[static_cast<size_t>(ids_[0])]);
    double sum = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        p[i] = std::exp((static_cast<double>(work_[static_cast<size_t>(ids_[i])]) - max_l) /
                        static_cast<double>(config_.temperature));
        sum += p[i];
    }
    for (double & x : p) {
        x /= sum;
    }
    if (config_.top_p < 1.0f) {
        double cum = 0.0;
        size_t cut = keep;
        for (size_t i = 0; i < keep; ++i) {
            cum += p[i];
            if (cum >= static_cast<double>(config_.top_p)) {
                cut = i + 1;
                break;
            }
        }
        keep = std::max<size_t>(1, cut);
    }
    if (config_.min_p > 0.0f) {
        const double floor_p = static_cast<double>(config_.min_p) * p[0];
        size_t cut = 1;
        while (cut < keep && p[cut] >= floor_p) {
            ++cut;
        }
        keep = cut;
    }
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        total += p[i];
    }
    // 53 random bits -> uniform in [0, 1), identical on every platform for the same seed.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
    double cum = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        cum += p[i];
        if (u < cum) {
            return ids_[i];
        }
    }
    return ids_[keep - 1];
}

Result<GenerateResult> Generator::generate_from_ids(std::span<const int32_t> prompt, const GenerateOptions & options) {
    if (prompt.empty()) {
        return Error(ErrorCode::kInvalidArgument, "generate: the prompt has no tokens");
    }
    GenerateResult r;
    r.n_prompt_tokens = prompt.size();
    auto t0 = std::chrono::steady_clock::now();
    SB_ASSIGN_OR_RETURN(std::span<const float> logits, ctx_.eval(prompt));
    r.prefill_seconds = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();

    Sampler sampler(options.sampler);
    std::vector<int32_t> history(prompt.begin(), prompt.end());
    const std::vector<std::string> & stops = tok_ != nullptr ? options.stop : std::vector<std::string>{};
    size_t emitted = 0;
    size_t max_stop = 0;
    for (const std::string & s : stops) {
        max_stop = std::max(max_stop, s.size());
    }
    bool cancelled = false;
    auto emit = [&](size_t end) {
        if (end > emitted && options.on_text && !cancelled) {
            if (!options.on_text(std::string_view(r.text).substr(emitted, end - emitted))) {
                cancelled = true;
            }
        }
        emitted = std::max(emitted, end);
    };

    r.stop_reason = StopReason::kMaxTokens;
    while (static_cast<int>(r.tokens.size()) < options.max_tokens) {
        const int32_t id = sampler.sample(logits, history);
        if (options.on_token && !options.on_token(id, logits)) {
            r.stop_reason = StopReason::kCancelled;
            break;
        }
        if (options.stop_at_eog && tok_ != nullptr && tok_->is_eog(id)) {
            r.stop_reason = StopReason::kEndOfGeneration;
            break;
        }
        r.tokens.push_back(id);
        history.push_back(id);
        if (tok_ != nullptr) {
            const size_t before = r.text.size();
            r.text += tok_->token_piece(id);
            if (!stops.empty()) {
                // Only the new bytes (plus a stop string's length of context) can complete a match.
                const size_t from = before > max_stop ? before - max_stop : 0;
                size_t hit = std::string::npos;
                for (const std::string & s : stops) {
                    if (!s.empty()) {
                        hit = std::min(hit, r.text.find(s, from));
                    }
                }
                if (hit != std::string::npos) {
                    r.text.resize(hit);
                    r.stop_reason = StopReason::kStopString;
                    break;
                }
            }
            const std::string_view text(r.text);
            const size_t hold = std::max(incomplete_utf8_tail(text), stop_prefix_tail(text, stops));
            emit(text.size() - hold);
            if (cancelled) {
                r.stop_reason = StopReason::kCancelled;
                break;
            }
        }
        if (static_cast<int>(r.tokens.size()) >= options.max_tokens) {
            break;
        }
        if (ctx_.n_past() >= ctx_.n_ctx()) {
            r.stop_reason = StopReason::kContextFull;
            break;
        }
        SB_ASSIGN_OR_RETURN(logits, ctx_.eval(std::span<const int32_t>(&id, 1)));
    }
    if (r.stop_reason != StopReason::kCancelled) {
        emit(r.text.size());
        if (cancelled) {
            r.stop_reason = StopReason::kCancelled;
        }
    }
    r.decode_seconds = seconds_since(t0);
    return r;
}

Result<GenerateResult> Generator::generate(std::string_view prompt, const GenerateOptions & options) {
    if (tok_ == nullptr) {
        return Error(ErrorCode::kInvalidArgument, "generate: a text prompt needs a tokenizer");
    }
    const std::vector<int32_t> ids = tok_->encode(prompt, tok_->add_bos_by_default() && ctx_.n_past() == 0);
    return generate_from_ids(ids, options);
}

}  // namespace strongbox::inference
