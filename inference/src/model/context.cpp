// The forward pass of llama/qwen2 decoders over an F16 KV cache.
//
// Design notes:
// 1. A batch of tokens moves through each layer together: the projections are matrix-matrix
//    products (cpu::matmul with n_tokens > 1), so prefill reads every weight once per batch.
// 2. RoPE angles are tabulated per position when the context is created (cos/sin for every
//    position and rotated pair), so the scaling variants cost nothing per token.
// 3. Keys and values are rounded to F16 when stored, laid out per KV head ([head][position][dim])
//    so one head's keys form a matrix: Q K^T for all queries sharing that head (GQA group x
//    batch) is one cpu::matmul. The weighted sum of values is a second matmul, over the head's
//    values transposed to F32 (read through a 65536-entry F16 table) and the probability rows.
// 4. Each probability row covers positions 0..its own token (causal, later positions weigh 0),
//    so a batch and the same tokens one by one agree up to summation order.
// 5. Logits are computed for the last token of the batch only: generation never needs more.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "cpu/matmul.h"
#include "cpu/quants.h"
#include "cpu/thread_pool.h"
#include "model/model_impl.h"

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

const float * fp16_table() {
    static const std::vector<float> table = [] {
        std::vector<float> t(65536);
        for (uint32_t i = 0; i < 65536; ++i) {
            t[i] = cpu::fp16_to_fp32(static_cast<uint16_t>(i));
        }
        return t;
    }();
    return table.data();
}

void rms_norm(const float * x, const float * w, size_t n, float eps, float * out) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    for (size_t i = 0; i < n; ++i) {
        out[i] = x[i] * scale * w[i];
    }
}

float silu(float x) {
    return x / (1.0f + std::exp(-x));
}

}  // namespace

struct Context::State {
    std::shared_ptr<const Model> model;
    uint32_t n_ctx = 0;
    uint32_t n_batch = 0;
    uint32_t n_past = 0;
    cpu::ThreadPool pool;

    // KV cache: per layer, [kv head][position][head_dim] values, F16 (default) or F32.
    bool f16_kv = true;
    std::vector<std::vector<uint16_t>> k_cache16, v_cache16;
    std::vector<std::vector<float>> k_cache32, v_cache32;
    // RoPE table: per position, rope_dim/2 (cos, sin) pairs.
    std::vector<float> rope_cos, rope_sin;

    // Scratch for one batch.
    std::vector<float> x, xn, q, k, v, attn, gate, up, logits;
    std::vector<float> scores, q_group, v_t, head_out;  // attention scratch, grown on demand

    explicit State(int n_threads) : pool(n_threads) {}

    void forward(std::span<const int32_t> tokens);
    void rope(float * vec, uint32_t pos) const;

    // Causal attention of the batch's queries over cached keys/values of element type E.
    template <typename E, typename Load>
    void attention(size_t n, TensorType kv_type, const E * kc, const E * vc, Load load);
};

template <typename E, typename Load>
void Context::State::attention(size_t n, TensorType kv_type, const E * kc, const E * vc, Load load) {
    const ModelConfig & c = model->config();
    const size_t hd = c.head_dim;
    const size_t q_dim = size_t{c.n_head} * hd;
    const size_t group = c.n_head / c.n_head_kv;
    const size_t n_pos = n_past + n;  // positions in the cache after this batch
    const size_t n_q = n * group;     // query rows per KV head
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    scores.resize(n_q * n_pos);
    q_group.resize(n_q * hd);
    for (size_t g = 0; g < c.n_head_kv; ++g) {
        const E * kg = kc + g * n_ctx * hd;
        const E * vg = vc + g * n_ctx * hd;
        // Rows (token t, head g*group + j) of this KV head's queries, back to back.
        for (size_t t = 0; t < n; ++t) {
            for (size_t j = 0; j < group; ++j) {
                const float * src = q.data() + t * q_dim + (g * group + j) * hd;
                std::copy(src, src + hd, q_group.data() + (t * group + j) * hd);
            }
        }
        // Q K^T for every query row and cached position: the keys of one KV head are rows of a
        // matrix, so the kernels' F16/F32 dot products do the work.
        cpu::matmul(kv_type, kg, n_pos, hd, q_group.data(), n_q, scores.data(), pool);
        // Softmax per query row, in place; positions after the row's own token get weight 0.
        pool.parallel_for(n_q, [&](size_t begin, size_t end) {
            for (size_t row = begin; row < end; ++row) {
                const size_t visible = n_past + row / group + 1;  // causal: up to the token's own
                float * s = scores.data() + row * n_pos;
                float max_score = -INFINITY;
                for (size_t p = 0; p < visible; ++p) {
                    s[p] *= scale;
                    max_score = std::max(max_score, s[p]);
                }
                double sum = 0.0;
                for (size_t p = 0; p < visible; ++p) {
                    s[p] = std::exp(s[p] - max_score);
                    sum += static_cast<double>(s[p]);
                }
                const auto inv = static_cast<float>(1.0 / sum);
                for (size_t p = 0; p < visible; ++p) {
                    s[p] *= inv;
                }
                std::fill(s + visible, s + n_pos, 0.0f);
            }
        });
        // Weighted sum of values as a second product: V^T (head_dim x positions, F32) times the
        // probability rows.
        v_t.resize(hd * n_pos);
        pool.parallel_for(hd, [&](size_t begin, size_t end) {
            for (size_t d = begin; d < end; ++d) {
                float * dst = v_t.data() + d * n_pos;
                for (size_t p = 0; p < n_pos; ++p) {
                    dst[p] = load(vg[p * hd + d]);
                }
            }
        });
        head_out.resize(n_q * hd);
        cpu::matmul(TensorType::kF32, v_t.data(), hd, n_pos, scores.data(), n_q, head_out.data(), pool);
        for (size_t row = 0; row < n_q; ++row) {
            const size_t t = row / group;
            const size_t h = g * group + row % group;
            std::copy(head_out.data() + row * hd, head_out.data() + (row + 1) * hd, attn.data() + t * q_dim + h * hd);
        }
    }
}

void Context::State::rope(float * vec, uint32_t pos) const {
    const ModelConfig & c = model->config();
    const uint32_t half = c.rope_dim / 2;
    const float * cs = rope_cos.data() + size_t{pos} * half;
    const float * sn = rope_sin.data() + size_t{pos} * half;
    for (uint32_t i = 0; i < half; ++i) {
        // llama GGUF files store Q/K rows permuted so that rotated pairs are adjacent; qwen2
        // (NeoX style) pairs dimension i with i + d/2.
        const size_t a = c.rope_neox ? i : 2 * i;
        const size_t b = c.rope_neox ? i + half : 2 * i + 1;
        const float x0 = vec[a];
        const float x1 = vec[b];
        vec[a] = x0 * cs[i] - x1 * sn[i];
        vec[b] = x0 * sn[i] + x1 * cs[i];
    }
}

void Context::State::forward(std::span<const int32_t> tokens) {
    const Model::Impl & m = model->impl();
    const ModelConfig & c = m.config;
    const size_t n = tokens.size();
    const size_t d = c.n_embd;
    const size_t hd = c.head_dim;
    const size_t q_dim = size_t{c.n_head} * hd;
    const size_t kv_dim = size_t{c.n_head_kv} * hd;
    const float * f16 = fp16_table();

    for (size_t t = 0; t < n; ++t) {
        const uint8_t * row = m.token_embd.data + static_cast<size_t>(tokens[t]) * m.token_embd.row_bytes;
        SB_CHECK(cpu::dequantize_row(m.token_embd.type, row, x.data() + t * d, d));
    }

    auto mm = [&](const WeightRef & w, const float * in, float * out) {
        cpu::matmul(w.type, w.data, w.rows, w.cols, in, n, out, pool);
    };

    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const LayerWeights & l = m.layers[il];
        for (size_t t = 0; t < n; ++t) {
            rms_norm(x.data() + t * d, l.attn_norm.data(), d, c.rms_eps, xn.data() + t * d);
        }
        mm(l.wq, xn.data(), q.data());
        mm(l.wk, xn.data(), k.data());
        mm(l.wv, xn.data(), v.data());
        for (size_t t = 0; t < n; ++t) {
            float * qt = q.data() + t * q_dim;
            float * kt = k.data() + t * kv_dim;
            float * vt = v.data() + t * kv_dim;
            if (c.qkv_bias) {
                for (size_t i = 0; i < q_dim; ++i) {
                    qt[i] += l.bq[i];
                }
                for (size_t i = 0; i < kv_dim; ++i) {
                    kt[i] += l.bk[i];
                    vt[i] += l.bv[i];
                }
            }
            const auto pos = static_cast<uint32_t>(n_past + t);
            for (size_t h = 0; h < c.n_head; ++h) {
                rope(qt + h * hd, pos);
            }
            for (size_t h = 0; h < c.n_head_kv; ++h) {
                rope(kt + h * hd, pos);
            }
            for (size_t h = 0; h < c.n_head_kv; ++h) {
                const size_t at = (h * n_ctx + pos) * hd;
                if (f16_kv) {
                    for (size_t i = 0; i < hd; ++i) {
                        k_cache16[il][at + i] = cpu::fp32_to_fp16(kt[h * hd + i]);
                        v_cache16[il][at + i] = cpu::fp32_to_fp16(vt[h * hd + i]);
                    }
                } else {
                    std::copy(kt + h * hd, kt + (h + 1) * hd, k_cache32[il].data() + at);
                    std::copy(vt + h * hd, vt + (h + 1) * hd, v_cache32[il].data() + at);
                }
            }
        }
        if (f16_kv) {
            attention(n, TensorType::kF16, k_cache16[il].data(), v_cache16[il].data(),
                      [f16](uint16_t h) { return f16[h]; });
        } else {
            attention(n, TensorType::kF32, k_cache32[il].data(), v_cache32[il].data(), [](float f) { return f; });
        }
        mm(l.wo, attn.data(), xn.data());
        for (size_t i = 0; i < n * d; ++i) {
            x[i] += xn[i];
        }

        for (size_t t = 0; t < n; ++t) {
            rms_norm(x.data() + t * d, l.ffn_norm.data(), d, c.rms_eps, xn.data() + t * d);
        }
        mm(l.gate, xn.data(), gate.data());
        mm(l.up, xn.data(), up.data());
        for (size_t i = 0; i < n * c.n_ff; ++i) {
            gate[i] = silu(gate[i]) * up[i];
        }
        mm(l.down, gate.data(), xn.data());
        for (size_t i = 0; i < n * d; ++i) {
            x[i] += xn[i];
        }
    }

    const float * last = x.data() + (n - 1) * d;
    rms_norm(last, m.output_norm.data(), d, c.rms_eps, xn.data());
    cpu::matmul(m.output.type, m.output.data, m.output.rows, m.output.cols, xn.data(), 1, logits.data(), pool);
    n_past += static_cast<uint32_t>(n);
}

Context::Context(std::unique_ptr<State> state) : state_(std::move(state)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::create(std::shared_ptr<const Model> model, const ContextOptions & options) {
    SB_CHECK(model != nullptr);
    const ModelConfig & c = model->config();
    auto s = std::make_unique<State>(std::max(1, options.n_threads));
    s->n_ctx = options.n_ctx != 0 ? options.n_ctx : std::min<uint32_t>(c.n_ctx_train, 4096);
    s->n_batch = std::max<uint32_t>(1, std::min(options.n_batch, s->n_ctx));
    const size_t kv_dim = size_t{c.n_head_kv} * c.head_dim;
    const size_t q_dim = size_t{c.n_head} * c.head_dim;
    const size_t kv_bytes = size_t{c.n_layer} * s->n_ctx * kv_dim * 2 * (options.f16_kv ? 2 : 4);
    constexpr size_t kMaxKvBytes = size_t{32} << 30;
    if (s->n_ctx > (1u << 20) || kv_bytes > kMaxKvBytes) {
        return Error(ErrorCode::kResourceExhausted, "context of " + std::to_string(s->n_ctx) + " tokens needs " +
                                                        std::to_string(kv_bytes >> 20) + " MiB of KV cache");
    }
    s->model = std::move(model);
    s->f16_kv = options.f16_kv;
    if (s->f16_kv) {
        s->k_cache16.assign(c.n_layer, std::vector<uint16_t>(size_t{s->n_ctx} * kv_dim));
        s->v_cache16.assign(c.n_layer, std::vector<uint16_t>(size_t{s->n_ctx} * kv_dim));
    } else {
        s->k_cache32.assign(c.n_layer, std::vector<float>(size_t{s->n_ctx} * kv_dim));
        s->v_cache32.assign(c.n_layer, std::vector<float>(size_t{s->n_ctx} * kv_dim));
    }
    const size_t b = s->n_batch;
    s->x.resize(b * c.n_embd);
    s->xn.resize(b * std::max<size_t>(c.n_embd, q_dim));
    s->q.resize(b * q_dim);
    s->k.resize(b * kv_dim);
    s->v.resize(b * kv_dim);
    s->attn.resize(b * q_dim);
    s->gate.resize(b * c.n_ff);
    s->up.resize(b * c.n_ff);
    s->logits.resize(c.n_vocab);
    build_rope_table(s->model->impl(), s->n_ctx, s->rope_cos, s->rope_sin);
    return std::unique_ptr<Context>(new Context(std::move(s)));
}

core::Status check_eval_tokens(std::span<const int32_t> tokens, uint32_t n_vocab, uint32_t n_past, uint32_t n_ctx) {
    if (tokens.empty()) {
        return Error(ErrorCode::kInvalidArgument, "eval: no tokens given");
    }
    for (int32_t id : tokens) {
        if (id < 0 || static_cast<uint32_t>(id) >= n_vocab) {
            return Error(ErrorCode::kInvalidArgument, "eval: token id " + std::to_string(id) +
                                                          " is outside the vocabulary of " + std::to_string(n_vocab));
        }
    }
    if (tokens.size() > n_ctx - n_past) {
        return Error(ErrorCode::kResourceExhausted, "eval: " + std::to_string(tokens.size()) + " tokens after " +
                                                        std::to_string(n_past) + " do not fit the context of " +
                                                        std::to_string(n_ctx));
    }
    return core::ok_status();
}

Result<std::span<const float>> Context::eval(std::span<const int32_t> tokens) {
    State & s = *state_;
    SB_TRY(check_eval_tokens(tokens, s.model->config().n_vocab, s.n_past, s.n_ctx));
    for (size_t i = 0; i < tokens.size(); i += s.n_batch) {
        s.forward(tokens.subspan(i, std::min<size_t>(s.n_batch, tokens.size() - i)));
    }
    return std::span<const float>(s.logits);
}

uint32_t Context::n_past() const {
    return state_->n_past;
}
uint32_t Context::n_ctx() const {
    return state_->n_ctx;
}
int Context::n_threads() const {
    return state_->pool.size();
}
const Model & Context::model() const {
    return *state_->model;
}

void Context::truncate(uint32_t n) {
    SB_CHECK(n <= state_->n_past);
    state_->n_past = n;
}

}  // namespace strongbox::inference
