#include "strongbox/answer/grounded.h"

#include "strongbox/core/text.h"
#include "strongbox/inference/language_model.h"

#include <algorithm>

namespace strongbox::appliance {
namespace {

bool says_not_found(const std::string & raw) {
    const std::string t = core::ascii_lower(core::trim(raw));
    return t.rfind("not found", 0) == 0;
}

std::string shorten(const std::string & text, size_t max_bytes) {
    std::string t = core::collapse_whitespace(text);
    if (t.size() <= max_bytes) {
        return t;
    }
    size_t cut = t.rfind(' ', max_bytes);
    t.resize(cut == std::string::npos ? max_bytes : cut);
    return core::sanitize_utf8(t) + " \xE2\x80\xA6";
}

}  // namespace

std::string refusal_with_nearest(const std::string & reason, const std::vector<Passage> & passages) {
    std::string out = reason;
    if (passages.empty()) {
        return out;
    }
    out += " Nearest passages:";
    for (size_t i = 0; i < passages.size() && i < 3; ++i) {
        out += "\n  [" + std::to_string(i + 1) + "] " + core::describe_location(passages[i].provenance) + ": \"" +
               shorten(passages[i].text, 160) + "\"";
    }
    return out;
}

struct GroundedAnswerer::Impl {
    std::unique_ptr<inference::LanguageModel> lm;
    ModelInfo info;
    PromptTemplate prompt;
};

GroundedAnswerer::GroundedAnswerer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GroundedAnswerer::~GroundedAnswerer() = default;

core::Result<std::unique_ptr<GroundedAnswerer>> GroundedAnswerer::open(const std::filesystem::path & model_path,
                                                                       const std::filesystem::path & prompt_dir,
                                                                       int n_threads, const std::string & device) {
    auto impl = std::make_unique<Impl>();
    SB_ASSIGN_OR_RETURN(impl->prompt, load_prompt_template(prompt_dir / kGroundedPromptFile));
    inference::LanguageModelOptions lo;
    lo.n_threads = std::max(1, n_threads);
    SB_ASSIGN_OR_RETURN(lo.device, inference::parse_device(device));
    auto lm = inference::LanguageModel::open(model_path, lo);
    if (!lm.ok()) {
        return std::move(lm).error().with_context("open the answer model " + model_path.string());
    }
    impl->lm = std::move(lm).value();
    SB_ASSIGN_OR_RETURN(inference::ModelIdentity id, impl->lm->identity());
    impl->info.file_name = model_path.filename().string();
    impl->info.sha256 = id.file_sha256;
    impl->info.architecture = id.architecture;
    impl->info.device = impl->lm->device_name();
    return std::unique_ptr<GroundedAnswerer>(new GroundedAnswerer(std::move(impl)));
}

const ModelInfo & GroundedAnswerer::model_info() const {
    return impl_->info;
}

const PromptTemplate & GroundedAnswerer::prompt_template() const {
    return impl_->prompt;
}

size_t GroundedAnswerer::count_tokens(std::string_view text) const {
    return impl_->lm->tokenizer().encode(text, false).size();
}

core::Result<GroundedRun> GroundedAnswerer::answer(const std::string & question, const std::vector<Passage> & passages,
                                                   const GroundedRequest & request) {
    GroundedRun run;
    run.answer.question = question;
    run.answer.answerer = "generative (" + impl_->info.file_name + ")";
    auto refuse = [&](const std::string & reason) {
        run.answer.refused = true;
        run.answer.refusal_reason = refusal_with_nearest(reason, passages);
        run.answer.sentences.clear();
        run.answer.citations.clear();
        for (size_t i = 0; i < passages.size() && i < 3; ++i) {
            core::Citation c;
            c.number = static_cast<int>(i) + 1;
            c.chunk_id = passages[i].chunk_id;
            c.quote = shorten(passages[i].text, 400);
            c.provenance = passages[i].provenance;
            c.score = passages[i].score;
            run.answer.citations.push_back(std::move(c));
        }
    };
    if (passages.empty()) {
        refuse("Not found in the indexed documents: no passage matches the question.");
        return run;
    }
    // The chat template wraps the prompt in a few control tokens; keep room for them.
    constexpr size_t kTemplateOverhead = 32;
    // The model's context bounds prompt + answer; the caps may only tighten that.
    const uint32_t train_ctx = impl_->lm->model().config().n_ctx_train;
    const size_t context = std::min<size_t>(train_ctx == 0 ? 4096 : train_ctx, 4096);
    const size_t new_tokens =
        std::min<size_t>(static_cast<size_t>(std::max<int64_t>(request.caps.max_new_tokens, 1)), context / 2);
    const size_t budget =
        std::min(static_cast<size_t>(std::max<int64_t>(request.caps.max_prompt_tokens, 0)), context - new_tokens);
    BuiltPrompt built =
        build_prompt(impl_->prompt, question, passages, budget > kTemplateOverhead ? budget - kTemplateOverhead : 0,
                     [&](std::string_view t) { return count_tokens(t); });
    run.passages_in_prompt = built.passages.size();
    if (built.passages.empty()) {
        run.stopped_by = kCapMaxPromptTokens;
        refuse("Not answered: " + describe_cap(kCapMaxPromptTokens, request.caps));
        return run;
    }

    size_t emitted = 0;
    bool deadline_hit = false;
    bool client_gone = false;
    std::string buffer;
    // Streams the sentences that are complete and verified; the last one may still be growing.
    auto stream = [&](bool final) {
        if (!request.on_text) {
            return true;
        }
        VerifiedAnswer v = verify_answer(buffer, built.passages, request.verifier);
        const size_t complete = final ? v.checks.size() : (v.checks.empty() ? 0 : v.checks.size() - 1);
        size_t kept = 0;
        for (size_t i = 0; i < complete; ++i) {
            if (v.checks[i].removed) {
                continue;
            }
            if (kept >= emitted) {
                const core::AnswerSentence & s = v.answer.sentences[kept];
                std::string text = (emitted > 0 ? " " : "") + s.text;
                for (int n : s.citations) {
                    text += " [" + std::to_string(n) + "]";
                }
                if (s.support == core::Support::kUnsupported) {
                    text += " (unsupported)";
                }
                ++emitted;
                if (!request.on_text(text)) {
                    return false;
                }
            }
            ++kept;
        }
        return true;
    };

    const std::vector<inference::ChatMessage> messages = {{"system", built.system}, {"user", built.user}};
    inference::GenerateOptions options;
    options.max_tokens = static_cast<int>(new_tokens);
    options.on_text = [&](std::string_view piece) {
        buffer.append(piece);
        if (std::chrono::steady_clock::now() >= request.deadline) {
            deadline_hit = true;
            return false;
        }
        if (piece.find_first_of(".!?]\n") != std::string_view::npos && !stream(false)) {
            client_gone = true;
            return false;
        }
        return true;
    };
    if (std::chrono::steady_clock::now() >= request.deadline) {
        run.stopped_by = kCapDeadline;
        refuse("Not answered: " + describe_cap(kCapDeadline, request.caps));
        return run;
    }
    auto generated = impl_->lm->chat(messages, options);
    if (!generated.ok()) {
        return std::move(generated).error().with_context("generate the answer");
    }
    if (client_gone) {
        return core::Error(core::ErrorCode::kCancelled, "the client went away while the answer was generated");
    }
    run.raw_text = generated->text;
    run.prompt_tokens = generated->n_prompt_tokens;
    run.generated_tokens = generated->tokens.size();
    run.stop_reason = std::string(inference::stop_reason_name(generated->stop_reason));
    if (deadline_hit) {
        run.stopped_by = kCapDeadline;
    } else if (generated->stop_reason == inference::StopReason::kMaxTokens) {
        run.stopped_by = kCapMaxNewTokens;
    }
    if (!run.stopped_by.empty()) {
        // Said whatever the answer becomes, a refusal included: a cut-short text may be why.
        run.answer.answerer += "; " + describe_cap(run.stopped_by, request.caps);
    }
    // The last sentence is complete now; stream it (verified) whatever the answer becomes.
    buffer = run.raw_text;
    if (!stream(true)) {
        return core::Error(core::ErrorCode::kCancelled, "the client went away while the answer was generated");
    }

    if (says_not_found(run.raw_text)) {
        refuse("Not found in the indexed documents: the passages retrieved do not state an answer.");
        return run;
    }
    VerifiedAnswer verified = verify_answer(run.raw_text, built.passages, request.verifier);
    run.checks = std::move(verified.checks);
    if (verified.supported == 0) {
        refuse("Not found in the indexed documents: no sentence of the generated answer is supported by the passages "
               "it cites.");
        return run;
    }
    core::Answer answer = std::move(verified.answer);
    answer.question = question;
    answer.answerer = run.answer.answerer;
    run.answer = std::move(answer);
    return run;
}

}  // namespace strongbox::appliance
