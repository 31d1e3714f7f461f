// The BERT sentence-embedding encoder, checked against a plain fp64 encoder written below with
// straight loops over the same random weights (nothing shared with the runtime but the token ids,
// which the tokenizer conformance tests pin to llama.cpp's).
#include "strongbox/inference/embedding_model.h"

#include "bert_fixture.h"

#include "strongbox/core/hash.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/quantize.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cpu/matmul.h"
#include <unistd.h>

using namespace strongbox;
using namespace strongbox::inference;
using strongbox::inference::testing::TinyBert;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string & stem) {
    return fs::temp_directory_path() / ("sb_bert_" + stem + "_" + std::to_string(::getpid()) + ".gguf");
}

// Removes the file at scope exit.
struct TempFile {
    fs::path path;
    explicit TempFile(const std::string & stem) : path(temp_path(stem)) {}
    ~TempFile() {
        std::error_code ec;
        fs::remove(path, ec);
    }
};

TinyBert tiny(uint64_t seed = 1) {
    TinyBert m;
    m.seed = seed;
    m.randomize();
    REQUIRE(m.n_vocab == 30522);
    return m;
}

// ---- the fp64 reference encoder ------------------------------------------------------------

using Vec = std::vector<double>;

// y[r] = b[r] + sum_c W[r][c] x[c], W stored as rows of `cols` values.
Vec affine(const TinyBert & m, const std::string & prefix, const Vec & x) {
    const std::vector<float> & w = m.w.at(prefix + ".weight");
    const std::vector<float> & b = m.w.at(prefix + ".bias");
    const size_t cols = x.size();
    Vec y(b.size());
    for (size_t r = 0; r < y.size(); ++r) {
        double s = b[r];
        for (size_t c = 0; c < cols; ++c) {
            s += static_cast<double>(w[r * cols + c]) * x[c];
        }
        y[r] = s;
    }
    return y;
}

Vec layer_norm(const TinyBert & m, const std::string & prefix, const Vec & x) {
    const std::vector<float> & g = m.w.at(prefix + ".weight");
    const std::vector<float> & b = m.w.at(prefix + ".bias");
    double mean = 0;
    for (double v : x) {
        mean += v;
    }
    mean /= static_cast<double>(x.size());
    double var = 0;
    for (double v : x) {
        var += (v - mean) * (v - mean);
    }
    var /= static_cast<double>(x.size());
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        y[i] = (x[i] - mean) / std::sqrt(var + static_cast<double>(m.eps)) * g[i] + b[i];
    }
    return y;
}

// The pooled, L2-normalised embedding of `ids`, every token of type `token_type`.
Vec reference_embed(const TinyBert & m, const std::vector<int32_t> & ids, size_t token_type = 0, bool cls = false) {
    const size_t d = m.n_embd;
    const size_t n = ids.size();
    const size_t hd = d / m.n_head;
    std::vector<Vec> x(n, Vec(d));
    for (size_t p = 0; p < n; ++p) {
        for (size_t i = 0; i < d; ++i) {
            x[p][i] = static_cast<double>(m.w.at("token_embd.weight")[static_cast<size_t>(ids[p]) * d + i]) +
                      m.w.at("position_embd.weight")[p * d + i] + m.w.at("token_types.weight")[token_type * d + i];
        }
        x[p] = layer_norm(m, "token_embd_norm", x[p]);
    }
    for (uint32_t l = 0; l < m.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        std::vector<Vec> q(n), k(n), v(n), ctx(n, Vec(d));
        for (size_t p = 0; p < n; ++p) {
            q[p] = affine(m, b + "attn_q", x[p]);
            k[p] = affine(m, b + "attn_k", x[p]);
            v[p] = affine(m, b + "attn_v", x[p]);
        }
        for (size_t h = 0; h < m.n_head; ++h) {
            for (size_t i = 0; i < n; ++i) {
                Vec s(n);
                double mx = -1e300;
                for (size_t j = 0; j < n; ++j) {
                    double dot = 0;
                    for (size_t e = 0; e < hd; ++e) {
                        dot += q[i][h * hd + e] * k[j][h * hd + e];
                    }
                    s[j] = dot / std::sqrt(static_cast<double>(hd));
                    mx = std::max(mx, s[j]);
                }
                double sum = 0;
                for (double & e : s) {
                    e = std::exp(e - mx);
                    sum += e;
                }
                for (size_t e = 0; e < hd; ++e) {
                    double acc = 0;
                    for (size_t j = 0; j < n; ++j) {
                        acc += s[j] / sum * v[j][h * hd + e];
                    }
                    ctx[i][h * hd + e] = acc;
                }
            }
        }
        for (size_t p = 0; p < n; ++p) {
            Vec o = affine(m, b + "attn_output", ctx[p]);
            for (size_t i = 0; i < d; ++i) {
                o[i] += x[p][i];
            }
            x[p] = layer_norm(m, b + "attn_output_norm", o);
            Vec u = affine(m, b + "ffn_up", x[p]);
            for (double & e : u) {
                e = 0.5 * e * (1.0 + std::erf(e / std::sqrt(2.0)));
            }
            Vec f = affine(m, b + "ffn_down", u);
            for (size_t i = 0; i < d; ++i) {
                f[i] += x[p][i];
            }
            x[p] = layer_norm(m, b + "layer_output_norm", f);
        }
    }
    Vec pooled(d, 0.0);
    for (size_t p = 0; p < (cls ? 1 : n); ++p) {
        for (size_t i = 0; i < d; ++i) {
            pooled[i] += x[p][i] / static_cast<double>(cls ? 1 : n);
        }
    }
    double norm = 0;
    for (double e : pooled) {
        norm += e * e;
    }
    for (double & e : pooled) {
        e /= std::sqrt(norm);
    }
    return pooled;
}

double max_abs_diff(const std::vector<float> & a, const Vec & b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    }
    return m;
}

double max_abs_diff(const std::vector<float> & a, const std::vector<float> & b) {
    return max_abs_diff(a, Vec(b.begin(), b.end()));
}

std::unique_ptr<EmbeddingModel> open_model(const fs::path & p, EmbeddingOptions o = {}) {
    auto m = EmbeddingModel::open(p, o);
    REQUIRE_MESSAGE(m.ok(), m.error().to_string());
    return std::move(m).value();
}

std::string open_error(const fs::path & p) {
    auto m = EmbeddingModel::open(p);
    REQUIRE_FALSE(m.ok());
    return m.error().message();
}

const std::vector<std::string> kTexts = {
    "Disk encryption keys are rotated every ninety days.",
    "hello world",
    "",
    "The backup job failed twice last night; the second failure left a partial snapshot on the NAS, which the "
    "operator removed by hand before restarting the job.",
};

// Largest |runtime - fp64| over kTexts embedded in one batch.
double batch_error(const EmbeddingModel & model, const TinyBert & weights) {
    auto got = model.embed(kTexts);
    REQUIRE_MESSAGE(got.ok(), got.error().to_string());
    REQUIRE(got->size() == kTexts.size());
    double worst = 0;
    for (size_t i = 0; i < kTexts.size(); ++i) {
        worst = std::max(worst, max_abs_diff((*got)[i], reference_embed(weights, model.tokenize(kTexts[i]))));
    }
    return worst;
}

}  // namespace

TEST_CASE("texts are framed as [CLS] ... [SEP] and cut to the context keeping [SEP]") {
    TinyBert m = tiny();
    TempFile f("frame");
    REQUIRE(m.write(f.path).ok());
    auto model = open_model(f.path);
    CHECK(model->tokenize("hello world") == std::vector<int32_t>{101, 7592, 2088, 102});
    CHECK(model->tokenize("") == std::vector<int32_t>{101, 102});
    std::string long_text;
    for (int i = 0; i < 200; ++i) {
        long_text += "word ";
    }
    const std::vector<int32_t> ids = model->tokenize(long_text);
    CHECK(ids.size() == m.n_ctx);
    CHECK(ids.front() == 101);
    CHECK(ids.back() == 102);
    auto v = model->embed({long_text});
    REQUIRE(v.ok());
    CHECK(max_abs_diff((*v)[0], reference_embed(m, ids)) < 1e-6);
}

TEST_CASE("a tiny F32 BERT embeds a batch as the fp64 encoder does, within 1e-6, at 1 and 2 threads") {
    TinyBert m = tiny();
    TempFile f("f32");
    REQUIRE(m.write(f.path).ok());
    for (int threads : {1, 2}) {
        auto model = open_model(f.path, {.n_threads = threads});
        CHECK(model->dimension() == 32);
        CHECK(model->config().pooling == Pooling::kMean);
        const double err = batch_error(*model, m);
        MESSAGE("F32, " << threads << " threads: max |runtime - fp64| = " << err);
        CHECK(err < 1e-6);  // measured 5e-8: float rounding only
        auto v = model->embed({"hello world"});
        REQUIRE(v.ok());
        double norm = 0;
        for (float x : (*v)[0]) {
            norm += static_cast<double>(x) * x;
        }
        CHECK(norm == doctest::Approx(1.0).epsilon(1e-6));
    }
}

TEST_CASE("the scalar kernels give the same embeddings as the SIMD ones the CPU offers") {
    TinyBert m = tiny();
    TempFile f("isa");
    REQUIRE(m.write(f.path).ok());
    auto model = open_model(f.path, {.n_threads = 2});
    auto simd = model->embed(kTexts);
    cpu::force_isa(cpu::Isa::kScalar);
    auto scalar = model->embed(kTexts);
    const double err = batch_error(*model, m);
    cpu::force_isa(cpu::detected_isa());
    REQUIRE(simd.ok());
    REQUIRE(scalar.ok());
    CHECK(err < 1e-6);
    for (size_t i = 0; i < kTexts.size(); ++i) {
        CHECK(max_abs_diff((*scalar)[i], (*simd)[i]) < 1e-6);
    }
}

TEST_CASE("F16, Q8_0 and Q4_0 weights from our quantizer stay near the fp64 encoder of the F32 weights") {
    TinyBert m = tiny();
    TempFile f32("q_src");
    REQUIRE(m.write(f32.path).ok());
    // Bounds: 3 to 10 times the error measured with these weights (F16 2e-4, Q8_0 6e-3, Q4_0 5e-2;
    // Q8_0 and Q4_0 also round the activations to 8 bits), well below what a wrong row or a lost
    // term does to unit vectors of 32 components (0.1 and more).
    const std::pair<std::string, double> cases[] = {{"F16", 2e-3}, {"Q8_0", 2e-2}, {"Q4_0", 0.15}};
    for (const auto & [type, bound] : cases) {
        TempFile q("q_" + type);
        auto report = quantize_model(f32.path, q.path, type);
        REQUIRE_MESSAGE(report.ok(), report.error().to_string());
        auto model = open_model(q.path);
        const double err = batch_error(*model, m);
        MESSAGE(type << ": max |runtime - fp64(F32 weights)| = " << err);
        CHECK(err < bound);
        CHECK(err > 0.0);  // the weights really were re-encoded
    }
}

TEST_CASE("a text embeds the same alone and in a batch with longer texts, in one pass or several") {
    TinyBert m = tiny();
    TempFile f("batch");
    REQUIRE(m.write(f.path).ok());
    for (uint32_t budget : {2048u, 16u}) {  // 16 tokens: each text gets a pass of its own
        auto model = open_model(f.path, {.n_threads = 2, .max_batch_tokens = budget});
        auto batch = model->embed(kTexts);
        REQUIRE(batch.ok());
        for (size_t i = 0; i < kTexts.size(); ++i) {
            auto alone = model->embed({kTexts[i]});
            REQUIRE(alone.ok());
            CHECK(max_abs_diff((*alone)[0], (*batch)[i]) < 1e-6);
        }
    }
    auto model = open_model(f.path);
    auto none = model->embed({});
    REQUIRE(none.ok());
    CHECK(none->empty());
}

TEST_CASE("texts use token type 0 and the position rows of their own positions") {
    TinyBert m = tiny();
    const std::vector<int32_t> ids = {101, 7592, 2088, 2088, 7592, 102};
    const std::vector<int32_t> swapped = {101, 2088, 7592, 7592, 2088, 102};
    TempFile base("types_base");
    REQUIRE(m.write(base.path).ok());
    auto ref = open_model(base.path)->embed_tokens(std::vector<std::vector<int32_t>>{ids});
    REQUIRE(ref.ok());
    CHECK(max_abs_diff((*ref)[0], reference_embed(m, ids, 0)) < 1e-6);
    CHECK(max_abs_diff((*ref)[0], reference_embed(m, ids, 1)) > 1e-2);  // type 1 would be visible

    // Changing the type-1 row changes nothing; changing the type-0 row changes the vector.
    TinyBert t1 = m;
    for (size_t i = 0; i < m.n_embd; ++i) {
        t1.w["token_types.weight"][m.n_embd + i] += 1.0f;
    }
    TempFile f1("types_1");
    REQUIRE(t1.write(f1.path).ok());
    auto v1 = open_model(f1.path)->embed_tokens(std::vector<std::vector<int32_t>>{ids});
    REQUIRE(v1.ok());
    CHECK(max_abs_diff((*v1)[0], (*ref)[0]) == 0.0);
    TinyBert t0 = m;
    for (size_t i = 0; i < m.n_embd; ++i) {
        t0.w["token_types.weight"][i] = -t0.w["token_types.weight"][i] + 0.3f;
    }
    TempFile f0("types_0");
    REQUIRE(t0.write(f0.path).ok());
    auto v0 = open_model(f0.path)->embed_tokens(std::vector<std::vector<int32_t>>{ids});
    REQUIRE(v0.ok());
    CHECK(max_abs_diff((*v0)[0], (*ref)[0]) > 1e-2);
    CHECK(max_abs_diff((*v0)[0], reference_embed(t0, ids)) < 1e-6);

    // Without position embeddings a bidirectional encoder with mean pooling cannot tell word
    // order; with them it can.
    auto order = open_model(base.path)->embed_tokens(std::vector<std::vector<int32_t>>{ids, swapped});
    REQUIRE(order.ok());
    CHECK(max_abs_diff((*order)[0], (*order)[1]) > 1e-2);
    TinyBert flat = m;
    std::fill(flat.w["position_embd.weight"].begin(), flat.w["position_embd.weight"].end(), 0.0f);
    TempFile fp("positions");
    REQUIRE(flat.write(fp.path).ok());
    auto same = open_model(fp.path)->embed_tokens(std::vector<std::vector<int32_t>>{ids, swapped});
    REQUIRE(same.ok());
    CHECK(max_abs_diff((*same)[0], (*same)[1]) < 1e-6);
    CHECK(max_abs_diff((*same)[1], reference_embed(flat, swapped)) < 1e-6);
}

TEST_CASE("CLS pooling takes the first token's row when bert.pooling_type says 2") {
    TinyBert m = tiny();
    m.pooling = 2;
    TempFile f("cls");
    REQUIRE(m.write(f.path).ok());
    auto model = open_model(f.path);
    CHECK(model->config().pooling == Pooling::kCls);
    auto v = model->embed({kTexts[0]});
    REQUIRE(v.ok());
    const std::vector<int32_t> ids = model->tokenize(kTexts[0]);
    CHECK(max_abs_diff((*v)[0], reference_embed(m, ids, 0, /*cls=*/true)) < 1e-6);
    CHECK(max_abs_diff((*v)[0], reference_embed(m, ids, 0, /*cls=*/false)) > 1e-2);
}

TEST_CASE("identity carries general.name and the file's sha256; info names the bert architecture") {
    TinyBert m = tiny();
    m.name = "MiniLM-test";
    TempFile f("identity");
    REQUIRE(m.write(f.path).ok());
    auto model = open_model(f.path);
    auto id = model->identity();
    REQUIRE(id.ok());
    CHECK(id->name == "MiniLM-test");
    CHECK(id->architecture == "bert");
    CHECK(id->file_sha256 == core::sha256_file_hex(f.path).value());
    CHECK(id->file_sha256.size() == 64);
    const std::string info = model->info();
    CHECK(info.find("architecture: bert (sentence embedding encoder)\n") != std::string::npos);
    CHECK(info.find("embedding_length: 32\n") != std::string::npos);
    CHECK(info.find("pooling: mean, L2-normalised\n") != std::string::npos);
    CHECK(info.find("  blk.1.layer_output_norm.bias f32 [32]\n") != std::string::npos);
}

TEST_CASE("files that are not a complete BERT are refused naming the file and the tensor or key") {
    TinyBert m = tiny();
    {
        // A language model.
        const fs::path llama = fs::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf";
        auto e = EmbeddingModel::open(llama);
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().code() == core::ErrorCode::kUnsupported);
        CHECK(e.error().message().find("stories260K.gguf: architecture 'llama' is not a sentence-embedding model") !=
              std::string::npos);
    }
    {
        TempFile f("missing");
        REQUIRE(m.write(f.path, {"blk.1.ffn_up.bias"}).ok());
        const std::string e = open_error(f.path);
        CHECK(e.find(f.path.string() + ": tensor 'blk.1.ffn_up.bias' is missing") != std::string::npos);
    }
    {
        TinyBert bad = m;
        bad.shape["blk.0.attn_k.weight"] = {32, 16};
        bad.w["blk.0.attn_k.weight"].resize(32 * 16);
        TempFile f("shape");
        REQUIRE(bad.write(f.path).ok());
        CHECK(open_error(f.path).find(f.path.string() + ": tensor 'blk.0.attn_k.weight' has shape [32, 16], "
                                                        "expected [32, 32]") != std::string::npos);
    }
    {
        TempFile f("position");
        TinyBert bad = m;
        bad.shape["position_embd.weight"] = {32, 8};
        bad.w["position_embd.weight"].resize(32 * 8);
        REQUIRE(bad.write(f.path).ok());
        CHECK(open_error(f.path).find("tensor 'position_embd.weight' has shape [32, 8], expected [32, 64]") !=
              std::string::npos);
    }
    {
        TempFile f("key");
        REQUIRE(m.write(f.path, {}, [](GgufWriter & w) { w.remove("bert.block_count"); }).ok());
        CHECK(open_error(f.path).find("metadata key 'bert.block_count' is missing") != std::string::npos);
    }
    {
        TempFile f("heads");
        REQUIRE(m.write(f.path, {}, [](GgufWriter & w) {
                     w.set("bert.attention.head_count", GgufValue::of_uint32(5));
                 }).ok());
        CHECK(open_error(f.path).find("bert.embedding_length 32 is not a multiple of bert.attention.head_count 5") !=
              std::string::npos);
    }
    {
        TempFile f("pooling");
        TinyBert none = m;
        none.pooling = 0;
        REQUIRE(none.write(f.path).ok());
        auto e = EmbeddingModel::open(f.path);
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().code() == core::ErrorCode::kUnsupported);
        CHECK(e.error().message().find("bert.pooling_type 0 (none: per-token vectors) is not supported") !=
              std::string::npos);
    }
    {
        // The language-model loader points BERT files elsewhere.
        TempFile f("as_llm");
        REQUIRE(m.write(f.path).ok());
        auto lm = Model::load(f.path);
        REQUIRE_FALSE(lm.ok());
        CHECK(lm.error().message().find("architecture 'bert' is a sentence-embedding encoder") != std::string::npos);
    }
}

TEST_CASE("token sequences that are empty, too long or outside the vocabulary are refused") {
    TinyBert m = tiny();
    TempFile f("ids");
    REQUIRE(m.write(f.path).ok());
    auto model = open_model(f.path);
    auto empty = model->embed_tokens(std::vector<std::vector<int32_t>>{{101, 102}, {}});
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().code() == core::ErrorCode::kInvalidArgument);
    CHECK(empty.error().message().find("sequence 1 has 0 tokens; it needs 1 to 64") != std::string::npos);
    auto too_long = model->embed_tokens(std::vector<std::vector<int32_t>>{std::vector<int32_t>(65, 101)});
    REQUIRE_FALSE(too_long.ok());
    auto outside = model->embed_tokens(std::vector<std::vector<int32_t>>{{101, 30522, 102}});
    REQUIRE_FALSE(outside.ok());
    CHECK(outside.error().message().find("token id 30522 is outside the vocabulary of 30522") != std::string::npos);
}
