// The BERT encoder behind EmbeddingModel: loading, the batched forward pass and pooling.
//
// Design notes:
// 1. The texts of one call are packed back to back, without padding: the projections and the
//    feed-forward layers are one cpu::matmul over every token of the batch (each weight read once
//    per pass), while attention runs per (text, head) over that text's own tokens only. Packing
//    is the padding mask taken to its end: no query ever sees another text's keys, and no work
//    is spent on pad positions, so a text embeds the same alone or beside longer ones (up to the
//    kernels' float summation order).
// 2. Blocks are post-LayerNorm, as BERT was trained: x = LN(x + Attn(x)), x = LN(x + FFN(x)),
//    with the embedding sum (token + position + token type 0) normalised by token_embd_norm.
// 3. GELU is the exact erf form of the reference BERT implementation, not the tanh
//    approximation cpu::gelu offers for other models.
// 4. Token, position and token-type tables may be of any decodable type: token rows are decoded
//    on use from the mapping; the small position and type tables are decoded once at open.
// 5. Mean pooling averages every token the text ran with, [CLS] and [SEP] included, as
//    sentence-transformers does with its attention mask.
#include "strongbox/inference/embedding_model.h"

#include "strongbox/inference/tensor_type.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <sstream>

#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "cpu/quants.h"
#include "cpu/thread_pool.h"
#include "model/model_file.h"

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

// A 2-D weight in the mapping multiplied through cpu::matmul: `rows` rows of `cols` elements.
struct Matrix {
    TensorType type = TensorType::kF32;
    const uint8_t * data = nullptr;
    size_t rows = 0;
    size_t cols = 0;
};

struct Linear {
    Matrix w;
    std::vector<float> b;
};

struct Norm {
    std::vector<float> w, b;
};

struct BertLayer {
    Linear q, k, v, o;
    Norm attn_norm;  // attn_output_norm
    Linear up, down;
    Norm out_norm;  // layer_output_norm
};

class Binder : public detail::TensorBinder {
  public:
    using TensorBinder::TensorBinder;

    Result<Matrix> matrix(const std::string & name, size_t cols, size_t rows) const {
        SB_ASSIGN_OR_RETURN(const GgufTensorInfo * t, tensor(name, {cols, rows}));
        auto type = static_cast<TensorType>(t->type_id);
        if (!cpu::matmul_supported(type) || !row_size(type, cols).has_value()) {
            return Error(ErrorCode::kUnsupported, f_.name() + ": tensor '" + name + "' has type " +
                                                      tensor_type_name(t->type_id) +
                                                      ", which the CPU kernels cannot multiply");
        }
        return Matrix{type, t->data, rows, cols};
    }

    // A table of `rows` rows of `cols` elements of any decodable type, as floats.
    Result<std::vector<float>> table(const std::string & name, size_t cols, size_t rows) const {
        SB_ASSIGN_OR_RETURN(const GgufTensorInfo * t, rows == 0 ? tensor(name, {cols}) : tensor(name, {cols, rows}));
        const auto type = static_cast<TensorType>(t->type_id);
        const std::optional<size_t> stride = row_size(type, cols);
        const size_t n_rows = std::max<size_t>(rows, 1);
        std::vector<float> out(n_rows * cols);
        for (size_t r = 0; r < n_rows; ++r) {
            if (!stride || !cpu::dequantize_row(type, t->data + r * *stride, out.data() + r * cols, cols)) {
                return Error(ErrorCode::kUnsupported, f_.name() + ": tensor '" + name + "' has unsupported type " +
                                                          tensor_type_name(t->type_id));
            }
        }
        return out;
    }

    Result<std::vector<float>> vector(const std::string & name, size_t n) const { return table(name, n, 0); }

    Result<Linear> linear(const std::string & prefix, size_t cols, size_t rows) const {
        Linear l;
        SB_ASSIGN_OR_RETURN(l.w, matrix(prefix + ".weight", cols, rows));
        SB_ASSIGN_OR_RETURN(l.b, vector(prefix + ".bias", rows));
        return l;
    }

    Result<Norm> norm(const std::string & prefix, size_t n) const {
        Norm l;
        SB_ASSIGN_OR_RETURN(l.w, vector(prefix + ".weight", n));
        SB_ASSIGN_OR_RETURN(l.b, vector(prefix + ".bias", n));
        return l;
    }

    Result<uint32_t> positive(const std::string & key) const {
        SB_ASSIGN_OR_RETURN(uint32_t v, f_.get_uint32(key));
        if (v == 0) {
            return corrupt("metadata key '" + key + "' must be positive");
        }
        return v;
    }
};

// llama_pooling_type values as converters write them to <arch>.pooling_type.
constexpr uint32_t kPoolingNone = 0;
constexpr uint32_t kPoolingMean = 1;
constexpr uint32_t kPoolingCls = 2;

Result<EmbeddingConfig> read_config(const GgufFile & f, const Binder & b) {
    EmbeddingConfig c;
    SB_ASSIGN_OR_RETURN(c.architecture, f.get_string("general.architecture"));
    if (c.architecture != "bert") {
        return Error(ErrorCode::kUnsupported, f.name() + ": architecture '" + c.architecture +
                                                  "' is not a sentence-embedding model Strongbox runs (bert)");
    }
    SB_ASSIGN_OR_RETURN(c.n_ctx_train, b.positive("bert.context_length"));
    SB_ASSIGN_OR_RETURN(c.n_embd, b.positive("bert.embedding_length"));
    SB_ASSIGN_OR_RETURN(c.n_layer, b.positive("bert.block_count"));
    SB_ASSIGN_OR_RETURN(c.n_ff, b.positive("bert.feed_forward_length"));
    SB_ASSIGN_OR_RETURN(c.n_head, b.positive("bert.attention.head_count"));
    if (c.n_embd % c.n_head != 0) {
        return b.corrupt("bert.embedding_length " + std::to_string(c.n_embd) +
                         " is not a multiple of bert.attention.head_count " + std::to_string(c.n_head));
    }
    c.head_dim = c.n_embd / c.n_head;
    if (f.find("bert.attention.layer_norm_epsilon") != nullptr) {
        SB_ASSIGN_OR_RETURN(c.norm_eps, f.get_float32("bert.attention.layer_norm_epsilon"));
        if (!(c.norm_eps > 0.0f) || !std::isfinite(c.norm_eps)) {
            return b.corrupt("bert.attention.layer_norm_epsilon must be a positive number");
        }
    }
    if (f.find("bert.pooling_type") != nullptr) {
        SB_ASSIGN_OR_RETURN(uint32_t pooling, f.get_uint32("bert.pooling_type"));
        if (pooling == kPoolingCls) {
            c.pooling = Pooling::kCls;
        } else if (pooling != kPoolingMean) {
            return Error(ErrorCode::kUnsupported,
                         f.name() + ": bert.pooling_type " + std::to_string(pooling) +
                             (pooling == kPoolingNone ? " (none: per-token vectors)" : "") +
                             " is not supported; sentence embeddings need mean (1) or CLS (2) pooling");
        }
    }
    if (f.find("bert.attention.causal") != nullptr) {
        SB_ASSIGN_OR_RETURN(bool causal, f.get_bool("bert.attention.causal"));
        if (causal) {
            return Error(ErrorCode::kUnsupported, f.name() + ": bert.attention.causal is true; BERT attends both ways");
        }
    }
    return c;
}

float gelu_erf(float x) {
    return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
}

// F32 dot product of the best kernel the CPU has (attention rows are plain floats).
cpu::VecDotFn f32_dot() {
    const cpu::Isa isa = cpu::active_isa();
    cpu::VecDotFn f = nullptr;
    if (isa == cpu::Isa::kAvx512) {
        f = cpu::vec_dot_avx512(TensorType::kF32);
    }
    if (f == nullptr && isa >= cpu::Isa::kAvx2) {
        f = cpu::vec_dot_avx2(TensorType::kF32);
    }
    return f != nullptr ? f : cpu::vec_dot_scalar(TensorType::kF32);
}

}  // namespace

struct EmbeddingModel::Impl {
    Impl(GgufFile f, int n_threads) : file(std::move(f)), pool(n_threads) {}

    GgufFile file;
    EmbeddingConfig config;
    EmbeddingOptions options;
    std::unique_ptr<Tokenizer> tokenizer;
    Matrix token_embd;
    size_t token_row_bytes = 0;
    std::vector<float> position_embd;  // n_ctx_train x n_embd
    std::vector<float> token_types;    // n_token_types x n_embd
    Norm embd_norm;
    std::vector<BertLayer> layers;
    uint64_t n_params = 0;

    detail::FileIdentity file_identity;

    // Forward-pass state, guarded by run_mutex.
    mutable std::mutex run_mutex;
    mutable cpu::ThreadPool pool;
    mutable std::vector<float> x, h, q, k, v, attn, ff;

    struct Span {
        size_t start;
        size_t len;
    };

    // Embeds the sequences of one pass into out[first ...].
    void forward(std::span<const std::vector<int32_t>> seqs, std::vector<std::vector<float>> & out, size_t first) const;
    void attention(const std::vector<Span> & spans) const;
    void linear(const Linear & l, const float * in, float * y, size_t n) const;
    void add_norm(const Norm & norm, const float * residual, size_t n) const;
};

void EmbeddingModel::Impl::linear(const Linear & l, const float * in, float * y, size_t n) const {
    cpu::matmul(l.w.type, l.w.data, l.w.rows, l.w.cols, in, n, y, pool);
    const size_t rows = l.w.rows;
    pool.parallel_for(n, [&](size_t begin, size_t end) {
        for (size_t t = begin; t < end; ++t) {
            float * yt = y + t * rows;
            for (size_t r = 0; r < rows; ++r) {
                yt[r] += l.b[r];
            }
        }
    });
}

// x = LayerNorm(x + residual) per token; residual may be null (embedding norm).
void EmbeddingModel::Impl::add_norm(const Norm & norm, const float * residual, size_t n) const {
    const size_t d = config.n_embd;
    pool.parallel_for(n, [&](size_t begin, size_t end) {
        for (size_t t = begin; t < end; ++t) {
            float * xt = x.data() + t * d;
            if (residual != nullptr) {
                for (size_t i = 0; i < d; ++i) {
                    xt[i] += residual[t * d + i];
                }
            }
            cpu::layernorm(xt, norm.w.data(), norm.b.data(), xt, d, config.norm_eps);
        }
    });
}

void EmbeddingModel::Impl::attention(const std::vector<Span> & spans) const {
    const size_t d = config.n_embd;
    const size_t hd = config.head_dim;
    const size_t n_head = config.n_head;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    const cpu::VecDotFn dot = f32_dot();
    pool.parallel_for(spans.size() * n_head, [&](size_t begin, size_t end) {
        thread_local std::vector<float> scores, v_t;
        for (size_t task = begin; task < end; ++task) {
            const Span & s = spans[task / n_head];
            const size_t off = (task % n_head) * hd;
            // This head's values transposed (hd x len), so each output element is one dot product
            // of a value column with the probability row.
            v_t.resize(hd * s.len);
            for (size_t j = 0; j < s.len; ++j) {
                const float * vj = v.data() + (s.start + j) * d + off;
                for (size_t e = 0; e < hd; ++e) {
                    v_t[e * s.len + j] = vj[e];
                }
            }
            scores.resize(s.len);
            for (size_t i = 0; i < s.len; ++i) {
                const float * qi = q.data() + (s.start + i) * d + off;
                float max_score = -INFINITY;
                for (size_t j = 0; j < s.len; ++j) {
                    scores[j] = dot(hd, k.data() + (s.start + j) * d + off, qi) * scale;
                    max_score = std::max(max_score, scores[j]);
                }
                double sum = 0.0;
                for (size_t j = 0; j < s.len; ++j) {
                    scores[j] = std::exp(scores[j] - max_score);
                    sum += static_cast<double>(scores[j]);
                }
                const auto inv = static_cast<float>(1.0 / sum);
                for (size_t j = 0; j < s.len; ++j) {
                    scores[j] *= inv;
                }
                float * oi = attn.data() + (s.start + i) * d + off;
                for (size_t e = 0; e < hd; ++e) {
                    oi[e] = dot(s.len, v_t.data() + e * s.len, scores.data());
                }
            }
        }
    });
}

void EmbeddingModel::Impl::forward(std::span<const std::vector<int32_t>> seqs, std::vector<std::vector<float>> & out,
                                   size_t first) const {
    const EmbeddingConfig & c = config;
    const size_t d = c.n_embd;
    std::vector<Span> spans;
    size_t n = 0;
    for (const auto & s : seqs) {
        spans.push_back({n, s.size()});
        n += s.size();
    }
    x.resize(n * d);
    h.resize(n * d);
    q.resize(n * d);
    k.resize(n * d);
    v.resize(n * d);
    attn.resize(n * d);
    ff.resize(n * c.n_ff);

    // Embeddings: token + position + token type 0.
    pool.parallel_for(spans.size(), [&](size_t begin, size_t end) {
        for (size_t si = begin; si < end; ++si) {
            for (size_t p = 0; p < spans[si].len; ++p) {
                float * xt = x.data() + (spans[si].start + p) * d;
                const auto id = static_cast<size_t>(seqs[si][p]);
                SB_CHECK(cpu::dequantize_row(token_embd.type, token_embd.data + id * token_row_bytes, xt, d));
                const float * pos = position_embd.data() + p * d;
                for (size_t i = 0; i < d; ++i) {
                    xt[i] += pos[i] + token_types[i];
                }
            }
        }
    });
    add_norm(embd_norm, nullptr, n);

    for (const BertLayer & l : layers) {
        linear(l.q, x.data(), q.data(), n);
        linear(l.k, x.data(), k.data(), n);
        linear(l.v, x.data(), v.data(), n);
        attention(spans);
        linear(l.o, attn.data(), h.data(), n);
        add_norm(l.attn_norm, h.data(), n);
        linear(l.up, x.data(), ff.data(), n);
        pool.parallel_for(n, [&](size_t begin, size_t end) {
            for (size_t i = begin * c.n_ff; i < end * c.n_ff; ++i) {
                ff[i] = gelu_erf(ff[i]);
            }
        });
        linear(l.down, ff.data(), h.data(), n);
        add_norm(l.out_norm, h.data(), n);
    }

    for (size_t si = 0; si < spans.size(); ++si) {
        std::vector<double> acc(d, 0.0);
        const size_t rows = c.pooling == Pooling::kCls ? 1 : spans[si].len;
        for (size_t p = 0; p < rows; ++p) {
            const float * xt = x.data() + (spans[si].start + p) * d;
            for (size_t i = 0; i < d; ++i) {
                acc[i] += static_cast<double>(xt[i]);
            }
        }
        // Dividing by the count does not change the direction: normalise the sum directly.
        double norm = 0.0;
        for (double a : acc) {
            norm += a * a;
        }
        norm = std::sqrt(norm);
        std::vector<float> & dst = out[first + si];
        dst.assign(d, 0.0f);
        if (norm > 0.0) {
            for (size_t i = 0; i < d; ++i) {
                dst[i] = static_cast<float>(acc[i] / norm);
            }
        }
    }
}

namespace {

Result<std::unique_ptr<EmbeddingModel::Impl>> bind(GgufFile file, const EmbeddingOptions & options) {
    auto impl = std::make_unique<EmbeddingModel::Impl>(std::move(file), std::max(1, options.n_threads));
    impl->options = options;
    const GgufFile & f = impl->file;
    Binder b(f);
    SB_ASSIGN_OR_RETURN(impl->config, read_config(f, b));
    EmbeddingConfig & c = impl->config;
    const size_t d = c.n_embd;

    const GgufTensorInfo * emb = f.find_tensor("token_embd.weight");
    if (emb == nullptr) {
        return b.corrupt("tensor 'token_embd.weight' is missing");
    }
    if (emb->shape.size() != 2 || emb->shape[0] != d || emb->shape[1] == 0) {
        return b.corrupt("tensor 'token_embd.weight' has shape " + detail::shape_text(emb->shape) + ", expected [" +
                         std::to_string(d) + ", n_vocab]");
    }
    c.n_vocab = static_cast<uint32_t>(emb->shape[1]);
    const auto emb_type = static_cast<TensorType>(emb->type_id);
    if (!cpu::is_quantizable(emb_type) || !row_size(emb_type, d).has_value()) {
        return Error(ErrorCode::kUnsupported,
                     f.name() + ": tensor 'token_embd.weight' has unsupported type " + tensor_type_name(emb->type_id));
    }
    impl->token_embd = Matrix{emb_type, emb->data, c.n_vocab, d};
    impl->token_row_bytes = *row_size(emb_type, d);

    const GgufTensorInfo * types = f.find_tensor("token_types.weight");
    if (types == nullptr) {
        return b.corrupt("tensor 'token_types.weight' is missing");
    }
    if (types->shape.empty() || types->shape.size() > 2 || types->shape[0] != d) {
        return b.corrupt("tensor 'token_types.weight' has shape " + detail::shape_text(types->shape) + ", expected [" +
                         std::to_string(d) + ", n_token_types]");
    }
    c.n_token_types = types->shape.size() == 2 ? static_cast<uint32_t>(types->shape[1]) : 1;
    if (c.n_token_types == 0) {
        return b.corrupt("tensor 'token_types.weight' has no rows");
    }
    SB_ASSIGN_OR_RETURN(impl->token_types,
                        b.table("token_types.weight", d, types->shape.size() == 2 ? c.n_token_types : 0));
    SB_ASSIGN_OR_RETURN(impl->position_embd, b.table("position_embd.weight", d, c.n_ctx_train));
    SB_ASSIGN_OR_RETURN(impl->embd_norm, b.norm("token_embd_norm", d));

    impl->layers.resize(c.n_layer);
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        BertLayer & l = impl->layers[i];
        SB_ASSIGN_OR_RETURN(l.q, b.linear(p + "attn_q", d, d));
        SB_ASSIGN_OR_RETURN(l.k, b.linear(p + "attn_k", d, d));
        SB_ASSIGN_OR_RETURN(l.v, b.linear(p + "attn_v", d, d));
        SB_ASSIGN_OR_RETURN(l.o, b.linear(p + "attn_output", d, d));
        SB_ASSIGN_OR_RETURN(l.attn_norm, b.norm(p + "attn_output_norm", d));
        SB_ASSIGN_OR_RETURN(l.up, b.linear(p + "ffn_up", d, c.n_ff));
        SB_ASSIGN_OR_RETURN(l.down, b.linear(p + "ffn_down", c.n_ff, d));
        SB_ASSIGN_OR_RETURN(l.out_norm, b.norm(p + "layer_output_norm", d));
    }
    for (const GgufTensorInfo & t : f.tensors()) {
        impl->n_params += t.n_elements();
    }

    auto tok = Tokenizer::from_gguf(f);
    if (!tok.ok()) {
        return std::move(tok).error().with_context("read the vocabulary of " + f.name());
    }
    impl->tokenizer = std::move(tok).value();
    if (static_cast<uint32_t>(impl->tokenizer->n_vocab()) > c.n_vocab) {
        return b.corrupt("the vocabulary has " + std::to_string(impl->tokenizer->n_vocab()) +
                         " tokens but token_embd.weight only " + std::to_string(c.n_vocab) + " rows");
    }
    return impl;
}

}  // namespace

EmbeddingModel::EmbeddingModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddingModel::~EmbeddingModel() = default;

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::open(const std::filesystem::path & path,
                                                             const EmbeddingOptions & options) {
    SB_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
    return open(std::move(f), options);
}

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::open(GgufFile file, const EmbeddingOptions & options) {
    SB_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, bind(std::move(file), options));
    return std::unique_ptr<EmbeddingModel>(new EmbeddingModel(std::move(impl)));
}

std::vector<int32_t> EmbeddingModel::tokenize(std::string_view text) const {
    std::vector<int32_t> ids = impl_->tokenizer->encode(text, /*add_bos=*/true);
    const size_t max = impl_->config.n_ctx_train;
    if (ids.size() > max) {
        // Keep the closing [SEP]: the model never saw a sequence without one.
        const int32_t last = ids.back();
        ids.resize(max);
        if (last == impl_->tokenizer->eos()) {
            ids.back() = last;
        }
    }
    return ids;
}

Result<std::vector<std::vector<float>>> EmbeddingModel::embed(const std::vector<std::string> & texts) const {
    std::vector<std::vector<int32_t>> seqs;
    seqs.reserve(texts.size());
    for (const std::string & t : texts) {
        seqs.push_back(tokenize(t));
    }
    return embed_tokens(seqs);
}

Result<std::vector<std::vector<float>>> EmbeddingModel::embed_tokens(
    std::span<const std::vector<int32_t>> sequences) const {
    const EmbeddingConfig & c = impl_->config;
    for (size_t i = 0; i < sequences.size(); ++i) {
        const auto & s = sequences[i];
        if (s.empty() || s.size() > c.n_ctx_train) {
            return Error(ErrorCode::kInvalidArgument, "embed: sequence " + std::to_string(i) + " has " +
                                                          std::to_string(s.size()) + " tokens; it needs 1 to " +
                                                          std::to_string(c.n_ctx_train));
        }
        for (int32_t id : s) {
            if (id < 0 || static_cast<uint32_t>(id) >= c.n_vocab) {
                return Error(ErrorCode::kInvalidArgument, "embed: token id " + std::to_string(id) +
                                                              " is outside the vocabulary of " +
                                                              std::to_string(c.n_vocab));
            }
        }
    }
    std::vector<std::vector<float>> out(sequences.size());
    std::lock_guard lock(impl_->run_mutex);
    const size_t budget = std::max<size_t>(impl_->options.max_batch_tokens, c.n_ctx_train);
    size_t first = 0;
    while (first < sequences.size()) {
        size_t last = first;
        size_t tokens = 0;
        while (last < sequences.size() && (last == first || tokens + sequences[last].size() <= budget)) {
            tokens += sequences[last].size();
            ++last;
        }
        impl_->forward(sequences.subspan(first, last - first), out, first);
        first = last;
    }
    return out;
}

uint32_t EmbeddingModel::dimension() const {
    return impl_->config.n_embd;
}
const EmbeddingConfig & EmbeddingModel::config() const {
    return impl_->config;
}
const GgufFile & EmbeddingModel::gguf() const {
    return impl_->file;
}
const Tokenizer & EmbeddingModel::tokenizer() const {
    return *impl_->tokenizer;
}
int EmbeddingModel::n_threads() const {
    return impl_->pool.size();
}

Result<ModelIdentity> EmbeddingModel::identity() const {
    return impl_->file_identity.of(impl_->file, impl_->config.architecture, impl_->n_params);
}

std::string EmbeddingModel::info() const {
    const EmbeddingConfig & c = impl_->config;
    const GgufFile & f = impl_->file;
    std::ostringstream o;
    detail::write_file_lines(o, f);
    o << "architecture: " << c.architecture << " (sentence embedding encoder)\n";
    detail::write_parameters_line(o, impl_->n_params);
    o << "context_length: " << c.n_ctx_train << "\nembedding_length: " << c.n_embd << "\nblock_count: " << c.n_layer
      << "\nfeed_forward_length: " << c.n_ff << "\nhead_count: " << c.n_head << "\nhead_dim: " << c.head_dim
      << "\nvocab_size: " << c.n_vocab << "\ntoken_types: " << c.n_token_types << "\nlayer_norm_epsilon: " << c.norm_eps
      << "\npooling: " << (c.pooling == Pooling::kCls ? "cls" : "mean") << ", L2-normalised\n";
    o << "tokenizer: " << f.get_string("tokenizer.ggml.model").value_or("(none)") << "\n";
    detail::write_tensor_lines(o, f);
    return o.str();
}

}  // namespace strongbox::inference
