// generate, model info, model quantize, bench-model: the local language-model tools.

#include "commands.h"

#include "strongbox/inference/embedding_model.h"
#include "strongbox/inference/language_model.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/quantize.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace strongbox::appliance {
namespace {

core::Result<inference::LanguageModelOptions> lm_options(const Args & args) {
    inference::LanguageModelOptions o;
    SB_ASSIGN_OR_RETURN(o.n_threads, args.get_int("threads", 2));
    SB_ASSIGN_OR_RETURN(o.device, inference::parse_device(args.get("device", "auto")));
    SB_ASSIGN_OR_RETURN(int n_ctx, args.get_int("ctx", 0));
    o.n_ctx = static_cast<uint32_t>(std::max(0, n_ctx));
    if (args.has("tokenizer")) {
        o.tokenizer_model = args.get("tokenizer");
    }
    return o;
}

// Length, seed and sampler options, checked before the model is loaded.
core::Result<inference::GenerateOptions> generate_options(const Args & args) {
    inference::GenerateOptions gen;
    SB_ASSIGN_OR_RETURN(gen.max_tokens, args.get_int("max-tokens", 128));
    SB_ASSIGN_OR_RETURN(int seed, args.get_int("seed", 0));
    gen.sampler.seed = static_cast<uint64_t>(seed);
    SB_ASSIGN_OR_RETURN(double temperature, args.get_double("temperature", 0, 0, 100));
    SB_ASSIGN_OR_RETURN(gen.sampler.top_k, args.get_int("top-k", 0));
    SB_ASSIGN_OR_RETURN(double top_p, args.get_double("top-p", 1, 0, 1));
    SB_ASSIGN_OR_RETURN(double min_p, args.get_double("min-p", 0, 0, 1));
    SB_ASSIGN_OR_RETURN(double repeat_penalty, args.get_double("repeat-penalty", 1, 0, 100));
    gen.sampler.temperature = static_cast<float>(temperature);
    gen.sampler.top_p = static_cast<float>(top_p);
    gen.sampler.min_p = static_cast<float>(min_p);
    gen.sampler.repetition_penalty = static_cast<float>(repeat_penalty);
    return gen;
}

int run_generate(const CommandContext & ctx) {
    const std::string model_path = ctx.args.get("model");
    if (model_path.empty()) {
        return fail("generate", "give the model file with --model FILE.gguf");
    }
    auto options = lm_options(ctx.args);
    if (!options.ok()) {
        return fail("generate", options.error());
    }
    auto gen_options = generate_options(ctx.args);
    if (!gen_options.ok()) {
        return fail("generate", gen_options.error());
    }
    inference::GenerateOptions gen = std::move(gen_options).value();
    auto lm = inference::LanguageModel::open(model_path, *options);
    if (!lm.ok()) {
        return fail("generate", lm.error());
    }
    if (ctx.args.has("stop")) {
        gen.stop.push_back(ctx.args.get("stop"));
    }
    gen.on_text = [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    };
    const std::string prompt = ctx.args.get("prompt");
    core::Result<inference::GenerateResult> result = core::Error(core::ErrorCode::kInternal, "");
    if (ctx.args.has("chat")) {
        std::vector<inference::ChatMessage> messages = {{"user", prompt}};
        result = (*lm)->chat(messages, gen);
    } else {
        result = (*lm)->complete(prompt, gen);
    }
    std::printf("\n");
    if (!result.ok()) {
        return fail("generate", result.error());
    }
    const auto & r = *result;
    std::fprintf(stderr, "[%zu prompt tokens in %.3f s, %zu generated in %.3f s (%.1f tok/s), stop: %s, on %s]\n",
                 r.n_prompt_tokens, r.prefill_seconds, r.tokens.size(), r.decode_seconds,
                 r.decode_seconds > 0 ? static_cast<double>(r.tokens.size()) / r.decode_seconds : 0.0,
                 std::string(inference::stop_reason_name(r.stop_reason)).c_str(), (*lm)->device_name().c_str());
    return kExitOk;
}

int run_info(const CommandContext & ctx) {
    if (ctx.args.positionals().size() != 1) {
        return fail("model info", "give one model file");
    }
    auto file = inference::GgufFile::open(ctx.args.positionals()[0]);
    if (!file.ok()) {
        return fail("model info", file.error());
    }
    // Sentence-embedding encoders and language models are loaded by different runtimes.
    if (file->get_string("general.architecture").value_or("") == "bert") {
        auto encoder = inference::EmbeddingModel::open(std::move(file).value());
        if (!encoder.ok()) {
            return fail("model info", encoder.error());
        }
        std::printf("%s", (*encoder)->info().c_str());
        return kExitOk;
    }
    auto model = inference::Model::load(std::move(file).value());
    if (!model.ok()) {
        return fail("model info", model.error());
    }
    std::printf("%s", (*model)->info().c_str());
    return kExitOk;
}

int run_quantize(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    if (pos.size() != 2 || !ctx.args.has("type")) {
        return fail("model quantize", "usage: strongbox model quantize IN.gguf OUT.gguf --type Q4_K_M|Q4_0|Q8_0|...");
    }
    auto report = inference::quantize_model(pos[0], pos[1], ctx.args.get("type"));
    if (!report.ok()) {
        return fail("model quantize", report.error());
    }
    for (const auto & [type, n] : report->tensor_types) {
        std::printf("  %-8s %u tensors\n", type.c_str(), n);
    }
    for (const std::string & f : report->fallbacks) {
        std::printf("  fallback: %s\n", f.c_str());
    }
    std::printf("wrote %s: %.1f MiB -> %.1f MiB\n", pos[1].c_str(), static_cast<double>(report->bytes_in) / 1048576.0,
                static_cast<double>(report->bytes_out) / 1048576.0);
    return kExitOk;
}

int run_bench_model(const CommandContext & ctx) {
    const std::string model_path = ctx.args.get("model");
    if (model_path.empty()) {
        return fail("bench-model", "give the model file with --model FILE.gguf");
    }
    auto options = lm_options(ctx.args);
    auto n_prompt = ctx.args.get_int("prompt-tokens", 128);
    auto n_gen = ctx.args.get_int("gen-tokens", 64);
    auto reps = ctx.args.get_int("repetitions", 3);
    if (!options.ok() || !n_prompt.ok() || !n_gen.ok() || !reps.ok()) {
        return fail("bench-model", "bad numeric option");
    }
    auto model = inference::Model::load(model_path);
    if (!model.ok()) {
        return fail("bench-model", model.error());
    }
    inference::ContextOptions co;
    co.n_threads = options->n_threads;
    co.n_ctx = static_cast<uint32_t>(*n_prompt + *n_gen + 8);
    auto context = inference::Context::create(*model, co);
    if (!context.ok()) {
        return fail("bench-model", context.error());
    }
    const int32_t n_vocab = static_cast<int32_t>((*model)->config().n_vocab);
    std::vector<int32_t> prompt(static_cast<size_t>(*n_prompt));
    for (size_t i = 0; i < prompt.size(); ++i) {
        prompt[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(n_vocab));
    }
    std::vector<double> prefill;
    std::vector<double> decode;
    for (int r = 0; r < *reps; ++r) {
        (*context)->reset();
        auto t0 = std::chrono::steady_clock::now();
        if (auto st = (*context)->eval(prompt); !st.ok()) {
            return fail("bench-model", st.error());
        }
        auto t1 = std::chrono::steady_clock::now();
        int32_t tok = 1;
        for (int i = 0; i < *n_gen; ++i) {
            auto logits = (*context)->eval(std::span<const int32_t>(&tok, 1));
            if (!logits.ok()) {
                return fail("bench-model", logits.error());
            }
            tok = static_cast<int32_t>(std::max_element(logits->begin(), logits->end()) - logits->begin());
        }
        auto t2 = std::chrono::steady_clock::now();
        prefill.push_back(*n_prompt / std::chrono::duration<double>(t1 - t0).count());
        decode.push_back(*n_gen / std::chrono::duration<double>(t2 - t1).count());
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("model %s, %d threads, %d runs (median)\n", model_path.c_str(), options->n_threads, *reps);
    std::printf("  prefill %d tokens: %.1f tok/s\n", *n_prompt, median(prefill));
    std::printf("  decode  %d tokens: %.1f tok/s\n", *n_gen, median(decode));
    return kExitOk;
}

}  // namespace

std::vector<Command> model_commands() {
    const std::vector<OptionSpec> model_opts = {
        {"model", "FILE", "the GGUF model file"},
        {"threads", "N", "CPU threads (default 2)"},
        {"ctx", "N", "context length (default: the model's, at most 4096)"},
        {"tokenizer", "FILE", "a SentencePiece tokenizer.model to use instead of the GGUF vocabulary"},
    };
    std::vector<OptionSpec> gen_opts = model_opts;
    gen_opts.insert(gen_opts.end(), {
                                        {"device", "D", "auto (the GPU when the model fits), cpu or cuda"},
                                        {"prompt", "TEXT", "the prompt"},
                                        {"chat", "", "wrap the prompt in the model's chat template"},
                                        {"max-tokens", "N", "tokens to generate (default 128)"},
                                        {"temperature", "T", "0 = greedy (default)"},
                                        {"top-k", "K", "sample from the K most likely tokens"},
                                        {"top-p", "P", "nucleus sampling"},
                                        {"min-p", "P", "drop tokens below P times the most likely"},
                                        {"repeat-penalty", "R", "penalise repeated tokens (1 = off)"},
                                        {"seed", "N", "random seed for sampling"},
                                        {"stop", "TEXT", "stop before this text"},
                                    });
    std::vector<OptionSpec> bench_opts = model_opts;
    bench_opts.insert(bench_opts.end(), {{"prompt-tokens", "N", "prefill length (default 128)"},
                                         {"gen-tokens", "N", "decode length (default 64)"},
                                         {"repetitions", "N", "runs; the median is printed (default 3)"}});
    return {
        {"generate", "--model FILE --prompt TEXT", "Generate text with a local GGUF model, streamed", gen_opts,
         run_generate},
        {"model info",
         "FILE",
         "Print a GGUF model's architecture, shapes, tensor types, tokenizer and chat template",
         {},
         run_info},
        {"model quantize",
         "IN OUT --type TYPE",
         "Quantize a GGUF model (Q8_0, Q4_0, Q4_K_M, ...)",
         {{"type", "TYPE", "target: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q6_K, F16, ..."}},
         run_quantize},
        {"bench-model", "--model FILE", "Measure prefill and decode tokens per second", bench_opts, run_bench_model},
    };
}

}  // namespace strongbox::appliance
