// LanguageModel: the one object the appliance needs to answer with a local model. It loads a
// GGUF model with its tokenizer and chat template, keeps one Context, and generates from a
// chat (rendered through the model's template) or a raw prompt, streaming text to a callback.
//
// Thread-safety: one generation at a time per LanguageModel (calls are serialised by an
// internal mutex); create several to serve in parallel (they can share nothing but the file
// cache). identity() is safe from any thread.
// Errors: open returns the Model/Tokenizer errors (kNotFound, kCorruptInput, kUnsupported)
// naming the file; chat/complete return kResourceExhausted when the prompt does not fit the
// context and kInvalidArgument for an empty prompt.
//
//   SB_ASSIGN_OR_RETURN(auto lm, LanguageModel::open("qwen2.5-0.5b-q4_k_m.gguf", {.n_threads = 2}));
//   GenerateOptions opt{.max_tokens = 256};
//   opt.on_text = [&](std::string_view t) { send(t); return !client_gone(); };
//   SB_ASSIGN_OR_RETURN(GenerateResult r, lm->chat({{"user", "Summarise the incident."}}, opt));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/chat_template.h"
#include "strongbox/inference/generate.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/tokenizer.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace strongbox::inference {

// Where a model runs. kAuto: the GPU when this build has the CUDA backend, a device answers and
// the model with its context fits in the device's free memory; else the CPU.
enum class Device { kAuto, kCpu, kCuda };

// "auto", "cpu" or "cuda"; kInvalidArgument naming the text otherwise.
core::Result<Device> parse_device(std::string_view text);

struct LanguageModelOptions {
    uint32_t n_ctx = 0;  // 0: min(training context, 4096)
    int n_threads = 1;
    Device device = Device::kAuto;  // kCuda without a usable GPU is kUnavailable, naming why
    // A SentencePiece tokenizer.model to use instead of the vocabulary inside the GGUF.
    std::optional<std::filesystem::path> tokenizer_model{};
};

class LanguageModel {
  public:
    static core::Result<std::unique_ptr<LanguageModel>> open(const std::filesystem::path & model_path,
                                                             const LanguageModelOptions & options = {});

    // Renders messages with the model's chat template (plain transcript when it has none) and
    // generates the assistant's reply; the template's end-of-turn markers are added as stop
    // strings. Message contents never become control tokens, even when they spell one. Each
    // call starts from an empty context.
    core::Result<GenerateResult> chat(std::span<const ChatMessage> messages, GenerateOptions options);

    // Continues raw text (BOS added when the vocabulary asks for it).
    core::Result<GenerateResult> complete(std::string_view prompt, const GenerateOptions & options);

    // File sha256 (computed once), architecture, parameter count, tensor types.
    core::Result<ModelIdentity> identity() const { return model_->identity(); }

    const Model & model() const { return *model_; }
    std::string device_name() const { return context_->device_name(); }
    const Tokenizer & tokenizer() const { return *tokenizer_; }
    ChatTemplate chat_template() const { return template_; }

  private:
    LanguageModel() = default;

    std::shared_ptr<const Model> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::unique_ptr<Evaluator> context_;
    ChatTemplate template_ = ChatTemplate::kPlain;
    std::mutex mutex_;
};

}  // namespace strongbox::inference
