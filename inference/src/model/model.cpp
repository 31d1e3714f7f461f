// Model loading: hyperparameters from metadata, weights bound with shape and type checks.
#include "strongbox/inference/chat_template.h"

#include <cmath>
#include <sstream>

#include "cpu/matmul.h"
#include "cpu/quants.h"
#include "model/model_file.h"
#include "model/model_impl.h"

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

class Binder : public detail::TensorBinder {
  public:
    using TensorBinder::TensorBinder;

    // A matrix multiplied through cpu::matmul: shape [cols, rows].
    Result<WeightRef> matrix(const std::string & name, size_t cols, size_t rows) const {
        SB_ASSIGN_OR_RETURN(const GgufTensorInfo * t, tensor(name, {cols, rows}));
        auto type = static_cast<TensorType>(t->type_id);
        if (!cpu::matmul_supported(type)) {
            return Error(ErrorCode::kUnsupported, f_.name() + ": tensor '" + name + "' has type " +
                                                      tensor_type_name(t->type_id) +
                                                      ", which the CPU kernels cannot multiply");
        }
        return WeightRef{type, t->data, rows, cols, *row_size(type, cols)};
    }

    // A vector (norm weight, bias) of any decodable type, converted to F32.
    Result<std::vector<float>> vector(const std::string & name, size_t n) const {
        SB_ASSIGN_OR_RETURN(const GgufTensorInfo * t, tensor(name, {n}));
        std::vector<float> out(n);
        if (!cpu::dequantize_row(static_cast<TensorType>(t->type_id), t->data, out.data(), n)) {
            return Error(ErrorCode::kUnsupported,
                         f_.name() + ": tensor '" + name + "' has unsupported type " + tensor_type_name(t->type_id));
        }
        return out;
    }

    Result<uint32_t> required(const std::string & key) const { return f_.get_uint32(key); }

    Result<uint32_t> optional_u32(const std::string & key, uint32_t fallback) const {
        if (f_.find(key) == nullptr) {
            return fallback;
        }
        return f_.get_uint32(key);
    }

    Result<float> optional_f32(const std::string & key, float fallback) const {
        if (f_.find(key) == nullptr) {
            return fallback;
        }
        return f_.get_float32(key);
    }
};

Result<ModelConfig> read_config(const GgufFile & f, const Binder & b) {
    ModelConfig c;
    SB_ASSIGN_OR_RETURN(c.architecture, f.get_string("general.architecture"));
    if (c.architecture == "bert") {
        return Error(ErrorCode::kUnsupported, f.name() + ": architecture 'bert' is a sentence-embedding encoder, not a "
                                                         "language model (open it with EmbeddingModel)");
    }
    if (c.architecture != "llama" && c.architecture != "qwen2") {
        return Error(ErrorCode::kUnsupported,
                     f.name() + ": architecture '" + c.architecture + "' is not supported (llama, qwen2)");
    }
    const std::string a = c.architecture + ".";
    SB_ASSIGN_OR_RETURN(c.n_ctx_train, b.required(a + "context_length"));
    SB_ASSIGN_OR_RETURN(c.n_embd, b.required(a + "embedding_length"));
    SB_ASSIGN_OR_RETURN(c.n_layer, b.required(a + "block_count"));
    SB_ASSIGN_OR_RETURN(c.n_ff, b.required(a + "feed_forward_length"));
    SB_ASSIGN_OR_RETURN(c.n_head, b.required(a + "attention.head_count"));
    SB_ASSIGN_OR_RETURN(c.n_head_kv, b.optional_u32(a + "attention.head_count_kv", c.n_head));
    SB_ASSIGN_OR_RETURN(c.rms_eps, b.optional_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f));
    SB_ASSIGN_OR_RETURN(c.rope_freq_base, b.optional_f32(a + "rope.freq_base", 10000.0f));
    if (c.n_embd == 0 || c.n_head == 0 || c.n_layer == 0 || c.n_ff == 0 || c.n_ctx_train == 0) {
        return b.corrupt("hyperparameters must be positive (embedding_length, head_count, block_count, "
                         "feed_forward_length, context_length)");
    }
    if (c.n_head_kv == 0 || c.n_head % c.n_head_kv != 0) {
        return b.corrupt("attention.head_count " + std::to_string(c.n_head) +
                         " is not a multiple of attention.head_count_kv " + std::to_string(c.n_head_kv));
    }
    SB_ASSIGN_OR_RETURN(c.head_dim, b.optional_u32(a + "attention.key_length", c.n_embd / c.n_head));
    if (c.head_dim == 0 || c.head_dim % 2 != 0) {
        return b.corrupt("head dimension " + std::to_string(c.head_dim) + " must be even and positive");
    }
    SB_ASSIGN_OR_RETURN(c.rope_dim, b.optional_u32(a + "rope.dimension_count", c.head_dim));
    if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0) {
        return b.corrupt("rope.dimension_count " + std::to_string(c.rope_dim) + " does not fit head dimension " +
                         std::to_string(c.head_dim));
    }
    c.rope_neox = c.architecture == "qwen2";
    c.qkv_bias = c.architecture == "qwen2";
    if (f.find(a + "rope.scaling.type") != nullptr) {
        SB_ASSIGN_OR_RETURN(std::string type, f.get_string(a + "rope.scaling.type"));
        if (type == "linear") {
            c.rope_scaling = RopeScaling::kLinear;
        } else if (type == "yarn") {
            c.rope_scaling = RopeScaling::kYarn;
        } else if (type != "none") {
            return Error(ErrorCode::kUnsupported, f.name() + ": rope.scaling.type '" + type + "' is not supported");
        }
    }
    if (c.rope_scaling != RopeScaling::kNone) {
        SB_ASSIGN_OR_RETURN(c.rope_scaling_factor, b.optional_f32(a + "rope.scaling.factor", 1.0f));
        if (!(c.rope_scaling_factor >= 1.0f) || !std::isfinite(c.rope_scaling_factor)) {
            return b.corrupt("rope.scaling.factor must be at least 1");
        }
        SB_ASSIGN_OR_RETURN(c.rope_scaling_orig_ctx,
                            b.optional_u32(a + "rope.scaling.original_context_length", c.n_ctx_train));
    }
    return c;
}

Result<std::unique_ptr<Model::Impl>> bind(GgufFile file) {
    auto impl = std::make_unique<Model::Impl>(std::move(file));
    const GgufFile & f = impl->file;
    Binder b(f);
    SB_ASSIGN_OR_RETURN(impl->config, read_config(f, b));
    ModelConfig & c = impl->config;

    const GgufTensorInfo * emb = f.find_tensor("token_embd.weight");
    if (emb == nullptr) {
        return b.corrupt("tensor 'token_embd.weight' is missing");
    }
    if (emb->shape.size() != 2 || emb->shape[0] != c.n_embd) {
        return b.corrupt("tensor 'token_embd.weight' has shape " + detail::shape_text(emb->shape) + ", expected [" +
                         std::to_string(c.n_embd) + ", n_vocab]");
    }
    c.n_vocab = static_cast<uint32_t>(emb->shape[1]);
    {
        auto type = static_cast<TensorType>(emb->type_id);
        if (!cpu::is_quantizable(type)) {
            return Error(ErrorCode::kUnsupported, f.name() + ": tensor 'token_embd.weight' has unsupported type " +
                                                      tensor_type_name(emb->type_id));
        }
        impl->token_embd = WeightRef{type, emb->data, c.n_vocab, c.n_embd, *row_size(type, c.n_embd)};
    }
    SB_ASSIGN_OR_RETURN(impl->output_norm, b.vector("output_norm.weight", c.n_embd));
    if (f.find_tensor("output.weight") != nullptr) {
        SB_ASSIGN_OR_RETURN(impl->output, b.matrix("output.weight", c.n_embd, c.n_vocab));
    } else {
        c.tied_output = true;
        if (!cpu::matmul_supported(impl->token_embd.type)) {
            return Error(ErrorCode::kUnsupported, f.name() +
                                                      ": tied output needs token_embd.weight of a type the "
                                                      "kernels can multiply, not " +
                                                      tensor_type_name(emb->type_id));
        }
        impl->output = impl->token_embd;
    }
    if (f.find_tensor("rope_freqs.weight") != nullptr) {
        SB_ASSIGN_OR_RETURN(impl->rope_freq_factors, b.vector("rope_freqs.weight", c.rope_dim / 2));
        c.has_rope_freq_factors = true;
    }

    const size_t q_dim = size_t{c.n_head} * c.head_dim;
    const size_t kv_dim = size_t{c.n_head_kv} * c.head_dim;
    impl->layers.resize(c.n_layer);
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerWeights & l = impl->layers[i];
        SB_ASSIGN_OR_RETURN(l.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
        SB_ASSIGN_OR_RETURN(l.wq, b.matrix(p + "attn_q.weight", c.n_embd, q_dim));
        SB_ASSIGN_OR_RETURN(l.wk, b.matrix(p + "attn_k.weight", c.n_embd, kv_dim));
        SB_ASSIGN_OR_RETURN(l.wv, b.matrix(p + "attn_v.weight", c.n_embd, kv_dim));
        SB_ASSIGN_OR_RETURN(l.wo, b.matrix(p + "attn_output.weight", q_dim, c.n_embd));
        if (c.qkv_bias) {
            SB_ASSIGN_OR_RETURN(l.bq, b.vector(p + "attn_q.bias", q_dim));
            SB_ASSIGN_OR_RETURN(l.bk, b.vector(p + "attn_k.bias", kv_dim));
            SB_ASSIGN_OR_RETURN(l.bv, b.vector(p + "attn_v.bias", kv_dim));
        }
        SB_ASSIGN_OR_RETURN(l.ffn_norm, b.vector(p + "ffn_norm.weight", c.n_embd));
        SB_ASSIGN_OR_RETURN(l.gate, b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
        SB_ASSIGN_OR_RETURN(l.up, b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
        SB_ASSIGN_OR_RETURN(l.down, b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
    }
    for (const GgufTensorInfo & t : f.tensors()) {
        impl->n_params += t.n_elements();
    }
    return impl;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::load(const std::filesystem::path & path) {
    SB_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
    return load(std::move(f));
}

Result<std::shared_ptr<const Model>> Model::load(GgufFile file) {
    SB_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, bind(std::move(file)));
    return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig & Model::config() const {
    return impl_->config;
}
const GgufFile & Model::gguf() const {
    return impl_->file;
}
uint64_t Model::n_params() const {
    return impl_->n_params;
}

Result<ModelIdentity> Model::identity() const {
    return impl_->file_identity.of(impl_->file, impl_->config.architecture, impl_->n_params);
}

std::string Model::info() const {
    const ModelConfig & c = impl_->config;
    const GgufFile & f = impl_->file;
    std::ostringstream o;
    detail::write_file_lines(o, f);
    o << "architecture: " << c.architecture << "\n";
    detail::write_parameters_line(o, impl_->n_params);
    o << "context_length: " << c.n_ctx_train << "\nembedding_length: " << c.n_embd << "\nblock_count: " << c.n_layer
      << "\nfeed_forward_length: " << c.n_ff << "\nhead_count: " << c.n_head << "\nhead_count_kv: " << c.n_head_kv
      << "\nhead_dim: " << c.head_dim << "\nvocab_size: " << c.n_vocab << "\nrms_epsilon: " << c.rms_eps
      << "\nrope: " << (c.rope_neox ? "neox" : "normal") << ", freq_base " << c.rope_freq_base << ", dims "
      << c.rope_dim;
    if (c.rope_scaling == RopeScaling::kLinear) {
        o << ", linear scaling x" << c.rope_scaling_factor;
    } else if (c.rope_scaling == RopeScaling::kYarn) {
        o << ", yarn scaling x" << c.rope_scaling_factor << " from " << c.rope_scaling_orig_ctx;
    }
    if (c.has_rope_freq_factors) {
        o << ", frequency factors";
    }
    o << "\noutput: " << (c.tied_output ? "tied to token_embd" : "output.weight") << "\n";
    o << "tokenizer: " << f.get_string("tokenizer.ggml.model").value_or("(none)");
    if (auto pre = f.get_string("tokenizer.ggml.pre"); pre.ok()) {
        o << " (pre " << *pre << ")";
    }
    o << "\n";
    auto tmpl = f.get_string("tokenizer.chat_template");
    o << "chat_template: "
      << (tmpl.ok() ? std::string(chat_template_name(detect_chat_template(*tmpl))) : std::string("(none, plain)"))
      << "\n";
    detail::write_tensor_lines(o, f);
    return o.str();
}

}  // namespace strongbox::inference
