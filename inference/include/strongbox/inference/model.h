// Model: a decoder-only language model (llama or qwen2 architecture) loaded from a GGUF file,
// and Context: one conversation's KV cache and scratch buffers for running it.
//
// Model::load maps the file, reads the hyperparameters from the `<arch>.*` metadata keys and
// binds every weight tensor after checking its shape and type, so a loaded Model can always be
// run. Weights stay in the read-only mapping (never copied). Context::eval runs the forward pass
// for a batch of tokens (prefill: all prompt tokens through matrix-matrix products at once) and
// appends their keys/values to an F16 KV cache.
//
// Thread-safety: a Model is immutable and may be shared by many Contexts on many threads. A
// Context is used by one thread at a time; it owns a thread pool that runs the kernels.
// Errors: load returns the GgufFile errors, kUnsupported for an unknown architecture or a
// tensor type the kernels cannot multiply, and kCorruptInput naming the key or tensor that is
// missing or of the wrong shape. eval returns kInvalidArgument for token ids outside the
// vocabulary and kResourceExhausted when the tokens do not fit in the context.
//
//   SB_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load("stories260K.gguf"));
//   SB_ASSIGN_OR_RETURN(std::unique_ptr<Context> ctx, Context::create(model, {.n_ctx = 512}));
//   SB_ASSIGN_OR_RETURN(std::span<const float> logits, ctx->eval(prompt_ids));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/gguf.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace strongbox::inference {

enum class RopeScaling { kNone, kLinear, kYarn };

struct ModelConfig {
    std::string architecture;  // "llama" or "qwen2"
    uint32_t n_ctx_train = 0;  // context_length
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    uint32_t n_vocab = 0;
    float rms_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
    uint32_t rope_dim = 0;   // rotated dimensions per head (rope.dimension_count)
    bool rope_neox = false;  // rotate (i, i + d/2) pairs (qwen2) instead of adjacent pairs (llama)
    RopeScaling rope_scaling = RopeScaling::kNone;
    float rope_scaling_factor = 1.0f;
    uint32_t rope_scaling_orig_ctx = 0;
    bool has_rope_freq_factors = false;  // rope_freqs.weight (Llama 3.1 style) present
    bool tied_output = false;            // no output.weight: the logits reuse token_embd
    bool qkv_bias = false;               // qwen2
};

// What the audit trail records about the model that produced an answer.
struct ModelIdentity {
    std::string path;
    std::string file_sha256;  // hex
    std::string architecture;
    std::string name;  // general.name, may be empty
    uint64_t n_params = 0;
    uint64_t file_size = 0;
    std::map<std::string, uint32_t> tensor_types;  // type name -> tensor count
};

class Model {
  public:
    struct Impl;

    static core::Result<std::shared_ptr<const Model>> load(const std::filesystem::path & path);
    static core::Result<std::shared_ptr<const Model>> load(GgufFile file);

    ~Model();
    Model(const Model &) = delete;
    Model & operator=(const Model &) = delete;

    const ModelConfig & config() const;
    const GgufFile & gguf() const;
    uint64_t n_params() const;

    // Hashes the file (reads it once; seconds for multi-GB models).
    core::Result<ModelIdentity> identity() const;

    // Multi-line description for `strongbox model info`: architecture, hyperparameters,
    // tokenizer kind, chat template, tensor shapes and types.
    std::string info() const;

    const Impl & impl() const { return *impl_; }

  private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct ContextOptions {
    uint32_t n_ctx = 0;      // 0: min(the model's training context, 4096)
    int n_threads = 1;       // kernel threads, the calling thread included
    uint32_t n_batch = 512;  // prompt tokens per forward pass
    bool f16_kv = true;      // KV cache in F16 (half the memory); false keeps F32 (reference checks)
};

// What generation needs from a context: the CPU Context below and the CUDA backend's CudaContext
// (cuda.h) both implement it, so Generator and LanguageModel run on either.
class Evaluator {
  public:
    virtual ~Evaluator() = default;

    // Runs `tokens` at positions n_past() ... and returns the logits (n_vocab floats) after the
    // last one. The span stays valid until the next eval/truncate.
    virtual core::Result<std::span<const float>> eval(std::span<const int32_t> tokens) = 0;
    virtual uint32_t n_past() const = 0;
    virtual uint32_t n_ctx() const = 0;
    // Forgets cached positions from n onward (n <= n_past()), e.g. to reuse a shared prefix.
    virtual void truncate(uint32_t n) = 0;
    void reset() { truncate(0); }
    // Where it runs: "cpu", or "cuda:0 (<device name>)".
    virtual std::string device_name() const = 0;
};

class Context final : public Evaluator {
  public:
    struct State;

    static core::Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model,
                                                         const ContextOptions & options);
    ~Context();
    Context(const Context &) = delete;
    Context & operator=(const Context &) = delete;

    core::Result<std::span<const float>> eval(std::span<const int32_t> tokens) override;
    uint32_t n_past() const override;
    uint32_t n_ctx() const override;
    void truncate(uint32_t n) override;
    std::string device_name() const override { return "cpu"; }
    int n_threads() const;

    const Model & model() const;

  private:
    explicit Context(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace strongbox::inference
