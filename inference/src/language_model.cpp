#include "strongbox/inference/language_model.h"

#include "strongbox/inference/cuda.h"

namespace strongbox::inference {
namespace {

// The GPU context when `device` allows one and the model fits; null to run on the CPU. kCuda
// without a usable GPU is an error that says why.
core::Result<std::unique_ptr<Evaluator>> gpu_context(std::shared_ptr<const Model> model, const ContextOptions & options,
                                                     Device device) {
    if (device == Device::kCpu) {
        return std::unique_ptr<Evaluator>();
    }
    const std::vector<CudaDeviceInfo> devices = cuda_devices();
    std::string why;
    if (devices.empty()) {
        why = cuda_available() ? "no CUDA device answers" : "no CUDA device (or no CUDA backend in this build)";
    } else if (const uint64_t needed = cuda_bytes_needed(*model, options); needed > devices.front().free_bytes) {
        why = "the model needs " + std::to_string(needed >> 20) + " MiB on " + devices.front().name + ", which has " +
              std::to_string(devices.front().free_bytes >> 20) + " MiB free";
    } else {
        auto gpu = CudaContext::create(std::move(model), options, devices.front().index);
        if (gpu.ok()) {
            return std::unique_ptr<Evaluator>(std::move(gpu).value());
        }
        why = gpu.error().message();
    }
    if (device == Device::kCuda) {
        return core::Error(core::ErrorCode::kUnavailable, "device cuda: " + why);
    }
    return std::unique_ptr<Evaluator>();
}

}  // namespace

core::Result<Device> parse_device(std::string_view text) {
    if (text == "auto") {
        return Device::kAuto;
    }
    if (text == "cpu") {
        return Device::kCpu;
    }
    if (text == "cuda") {
        return Device::kCuda;
    }
    return core::Error(core::ErrorCode::kInvalidArgument,
                       "device must be auto, cpu or cuda, got '" + std::string(text) + "'");
}

core::Result<std::unique_ptr<LanguageModel>> LanguageModel::open(const std::filesystem::path & model_path,
                                                                 const LanguageModelOptions & options) {
    std::unique_ptr<LanguageModel> lm(new LanguageModel());
    SB_ASSIGN_OR_RETURN(lm->model_, Model::load(model_path));
    if (options.tokenizer_model) {
        SB_ASSIGN_OR_RETURN(lm->tokenizer_, Tokenizer::from_sentencepiece_model(*options.tokenizer_model));
    } else {
        SB_ASSIGN_OR_RETURN(lm->tokenizer_, Tokenizer::from_gguf(lm->model_->gguf()));
    }
    if (lm->tokenizer_->n_vocab() > static_cast<int32_t>(lm->model_->config().n_vocab)) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           model_path.string() + ": the tokenizer has " + std::to_string(lm->tokenizer_->n_vocab()) +
                               " tokens but the model only " + std::to_string(lm->model_->config().n_vocab));
    }
    const auto tmpl = lm->model_->gguf().get_string("tokenizer.chat_template");
    lm->template_ = tmpl.ok() ? detect_chat_template(*tmpl) : ChatTemplate::kPlain;
    const ContextOptions context_options{.n_ctx = options.n_ctx, .n_threads = options.n_threads};
    SB_ASSIGN_OR_RETURN(lm->context_, gpu_context(lm->model_, context_options, options.device));
    if (!lm->context_) {
        SB_ASSIGN_OR_RETURN(lm->context_, Context::create(lm->model_, context_options));
    }
    return lm;
}

core::Result<GenerateResult> LanguageModel::chat(std::span<const ChatMessage> messages, GenerateOptions options) {
    std::lock_guard lock(mutex_);
    for (std::string & stop : chat_stop_strings(template_)) {
        options.stop.push_back(std::move(stop));
    }
    const std::vector<ChatSegment> segments = render_chat_segments(template_, messages, true);
    // Markup is encoded with control tokens. Contents are user text: when one spells a control
    // token (encode_with_special differs from encode on it), every segment is encoded on its
    // own so that spelling stays plain text; otherwise the whole prompt is encoded at once,
    // which tokenizes exactly as the model saw its training chats.
    bool spells_control = false;
    for (const ChatSegment & s : segments) {
        if (s.is_content && tokenizer_->encode_with_special(s.text, false) != tokenizer_->encode(s.text, false)) {
            spells_control = true;
        }
    }
    std::vector<int32_t> ids;
    if (!spells_control) {
        std::string prompt;
        for (const ChatSegment & s : segments) {
            prompt += s.text;
        }
        ids = tokenizer_->encode_with_special(prompt, tokenizer_->add_bos_by_default());
    } else {
        if (tokenizer_->add_bos_by_default() && tokenizer_->bos() >= 0) {
            ids.push_back(tokenizer_->bos());
        }
        for (const ChatSegment & s : segments) {
            const std::vector<int32_t> part =
                s.is_content ? tokenizer_->encode(s.text, false) : tokenizer_->encode_with_special(s.text, false);
            ids.insert(ids.end(), part.begin(), part.end());
        }
    }
    context_->reset();
    Generator gen(*context_, tokenizer_.get());
    return gen.generate_from_ids(ids, options);
}

core::Result<GenerateResult> LanguageModel::complete(std::string_view prompt, const GenerateOptions & options) {
    std::lock_guard lock(mutex_);
    context_->reset();
    Generator gen(*context_, tokenizer_.get());
    return gen.generate(prompt, options);
}

}  // namespace strongbox::inference
