// EmbeddingModel: a BERT-family sentence-embedding model (GGUF architecture "bert", e.g.
// all-MiniLM-L6-v2, bge-small) that turns texts into L2-normalised vectors for dense retrieval.
//
// open() maps the file, reads the `bert.*` hyperparameters, binds every tensor after checking its
// name, shape and type (weights stay in the read-only mapping), and builds the WordPiece
// tokenizer from the file's vocabulary. embed() frames each text as [CLS] ... [SEP] (cut to the
// training context, keeping [SEP]), runs the encoder over all texts of the call together
// (post-LayerNorm blocks, bidirectional attention within each text only, GELU), pools the last
// hidden states (mean over the text's tokens, or its [CLS] row when bert.pooling_type says CLS)
// and L2-normalises the result. A text gives the same vector alone or in any batch, up to float
// summation order.
//
// Thread-safety: every method is const and may be called from any thread; embed calls are
// serialised by an internal mutex (they share the thread pool and scratch buffers).
// Errors: open returns the GgufFile errors; kUnsupported for an architecture other than bert, a
// pooling type other than mean/CLS or a weight type the kernels cannot multiply; kCorruptInput
// naming the file and the key or tensor that is missing or of the wrong shape. embed_tokens
// returns kInvalidArgument for an empty sequence or an id outside the vocabulary or beyond the
// training context.
//
//   SB_ASSIGN_OR_RETURN(auto m, EmbeddingModel::open("all-MiniLM-L6-v2-q8_0.gguf", {.n_threads = 2}));
//   SB_ASSIGN_OR_RETURN(auto vectors, m->embed({"disk encryption keys", "key rotation policy"}));
//   // vectors[i].size() == m->dimension(), each of unit length
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace strongbox::inference {

enum class Pooling { kMean, kCls };

struct EmbeddingConfig {
    std::string architecture;  // "bert"
    uint32_t n_ctx_train = 0;  // context_length: rows of position_embd
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t head_dim = 0;
    uint32_t n_vocab = 0;
    uint32_t n_token_types = 0;  // rows of token_types (2 for BERT); texts use type 0
    float norm_eps = 1e-12f;     // attention.layer_norm_epsilon
    Pooling pooling = Pooling::kMean;
};

struct EmbeddingOptions {
    int n_threads = 1;                 // kernel threads, the calling thread included
    uint32_t max_batch_tokens = 2048;  // tokens per forward pass; texts are grouped up to this
};

class EmbeddingModel {
  public:
    struct Impl;

    static core::Result<std::unique_ptr<EmbeddingModel>> open(const std::filesystem::path & path,
                                                              const EmbeddingOptions & options = {});
    static core::Result<std::unique_ptr<EmbeddingModel>> open(GgufFile file, const EmbeddingOptions & options = {});

    ~EmbeddingModel();
    EmbeddingModel(const EmbeddingModel &) = delete;
    EmbeddingModel & operator=(const EmbeddingModel &) = delete;

    // One unit-length vector of dimension() floats per text, in order. No texts: no vectors.
    core::Result<std::vector<std::vector<float>>> embed(const std::vector<std::string> & texts) const;

    // The same for token ids already framed as the model expects ([CLS] ... [SEP]).
    core::Result<std::vector<std::vector<float>>> embed_tokens(std::span<const std::vector<int32_t>> sequences) const;

    // The ids embed() runs for `text`: framed and cut to the training context.
    std::vector<int32_t> tokenize(std::string_view text) const;

    uint32_t dimension() const;
    const EmbeddingConfig & config() const;
    const GgufFile & gguf() const;
    const Tokenizer & tokenizer() const;
    int n_threads() const;

    // general.name (may be empty), sha256 of the file (computed once), parameters, tensor types.
    core::Result<ModelIdentity> identity() const;

    // Multi-line description for `strongbox model info`.
    std::string info() const;

  private:
    explicit EmbeddingModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::inference
