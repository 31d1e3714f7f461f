// Sentence-embedding throughput of the BERT encoder on a random-weight model of the
// all-MiniLM-L6-v2 shape (hidden 384, 6 layers, 12 heads, FFN 1536, vocabulary 30522, context 512).
//
// Writes (once, cached under --dir) the model in F32, F16 and Q8_0 with Strongbox's writer and
// quantizer rules, with the bert-bge WordPiece vocabulary (the same bert-base-uncased vocabulary
// MiniLM uses), then embeds batches of --batch synthetic texts made of vocabulary words:
//   - query:   16 words (about 30 tokens with [CLS]/[SEP]: rare words split into pieces);
//   - passage: 128 words (about 220 tokens), the size of a retrieval chunk;
// and prints, per type and thread count, the median over --reps calls of texts/s and tokens/s
// (tokenization included, as the appliance runs it), the encoder's GFLOP/s (projections, FFN and
// attention products), and two ratios measured in the same run: against F32 at the same thread
// count, and 2 threads against 1. On a shared machine the tokens per CPU-second column shows what
// an idle one would give per busy core (spinning pool threads count as CPU time, so at 2 threads it
// understates). Random weights make the numbers about speed only. Prints only.
//
//   strongbox_bench_embedding                      (F32/F16/Q8_0, 1 and 2 threads, about a minute)
//   strongbox_bench_embedding --types q8_0 --threads 2 --batch 32 --reps 5
#include "bench_util.h"

#include "strongbox/inference/embedding_model.h"
#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/quantize.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cpu/quants.h"
#include "cpu/thread_pool.h"

using strongbox::bench::cpu_seconds;
using strongbox::bench::median;
using strongbox::bench::now_s;
using strongbox::bench::split;

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kEmbd = 384, kLayers = 6, kHeads = 12, kFf = 1536, kCtx = 512;

struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform() { return static_cast<float>(static_cast<double>(next() >> 11) / 4503599627370496.0 - 1.0); }
};

core::Status write_model(const GgufFile & vocab, const std::string & target, const fs::path & out,
                         cpu::ThreadPool & pool) {
    GgufWriter w;
    w.set("general.architecture", GgufValue::of_string("bert"));
    w.set("general.name", GgufValue::of_string("random all-MiniLM-L6-v2 shape"));
    w.set("bert.context_length", GgufValue::of_uint32(kCtx));
    w.set("bert.embedding_length", GgufValue::of_uint32(kEmbd));
    w.set("bert.feed_forward_length", GgufValue::of_uint32(kFf));
    w.set("bert.block_count", GgufValue::of_uint32(kLayers));
    w.set("bert.attention.head_count", GgufValue::of_uint32(kHeads));
    w.set("bert.attention.layer_norm_epsilon", GgufValue::of_float32(1e-12f));
    w.set("bert.pooling_type", GgufValue::of_uint32(1));
    for (const auto & [k, v] : vocab.metadata()) {
        if (k.rfind("tokenizer.", 0) == 0) {
            w.set(k, v);
        }
    }
    const auto n_vocab = static_cast<uint64_t>(vocab.get_string_array("tokenizer.ggml.tokens")->size());
    uint64_t seed = 1;
    auto add = [&](const std::string & name, std::vector<uint64_t> shape, float scale, float offset) -> core::Status {
        TensorType type = TensorType::kF32;  // the quantizer has no "f32" target: it is the source
        if (target != "f32") {
            SB_ASSIGN_OR_RETURN(type, plan_tensor_type(target, name, shape, TensorType::kF32, kLayers, false));
        }
        const uint64_t tensor_seed = ++seed * 0x9E3779B97F4A7C15ull;
        return w.add_tensor(name, type, shape, [=, &pool](std::span<uint8_t> dst) {
            const auto cols = static_cast<size_t>(shape[0]);
            const size_t rows = shape.size() > 1 ? static_cast<size_t>(shape[1]) : 1;
            const size_t stride = *row_size(type, cols);
            pool.parallel_for(rows, [&](size_t begin, size_t end) {
                std::vector<float> row(cols);
                for (size_t r = begin; r < end; ++r) {
                    Rng rng{tensor_seed ^ (r * 0xBF58476D1CE4E5B9ull + 1)};
                    for (float & x : row) {
                        x = offset + scale * rng.uniform();
                    }
                    SB_CHECK(cpu::quantize_row(type, row.data(), dst.data() + r * stride, cols));
                }
            });
            return core::ok_status();
        });
    };
    const float a_d = std::sqrt(3.0f / kEmbd);
    const float a_ff = std::sqrt(3.0f / kFf);
    SB_TRY(add("token_embd.weight", {kEmbd, n_vocab}, 0.5f, 0.0f));
    SB_TRY(add("token_types.weight", {kEmbd, 2}, 0.5f, 0.0f));
    SB_TRY(add("position_embd.weight", {kEmbd, kCtx}, 0.5f, 0.0f));
    SB_TRY(add("token_embd_norm.weight", {kEmbd}, 0.1f, 1.0f));
    SB_TRY(add("token_embd_norm.bias", {kEmbd}, 0.1f, 0.0f));
    for (uint32_t i = 0; i < kLayers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        for (const char * m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
            SB_TRY(add(p + m + ".weight", {kEmbd, kEmbd}, a_d, 0.0f));
            SB_TRY(add(p + m + ".bias", {kEmbd}, 0.1f, 0.0f));
        }
        SB_TRY(add(p + "attn_output_norm.weight", {kEmbd}, 0.1f, 1.0f));
        SB_TRY(add(p + "attn_output_norm.bias", {kEmbd}, 0.1f, 0.0f));
        SB_TRY(add(p + "ffn_up.weight", {kEmbd, kFf}, a_d, 0.0f));
        SB_TRY(add(p + "ffn_up.bias", {kFf}, 0.1f, 0.0f));
        SB_TRY(add(p + "ffn_down.weight", {kFf, kEmbd}, a_ff, 0.0f));
        SB_TRY(add(p + "ffn_down.bias", {kEmbd}, 0.1f, 0.0f));
        SB_TRY(add(p + "layer_output_norm.weight", {kEmbd}, 0.1f, 1.0f));
        SB_TRY(add(p + "layer_output_norm.bias", {kEmbd}, 0.1f, 0.0f));
    }
    return w.write(out);
}

// Texts of `words` random whole words of the vocabulary (lower-case letters, 3 or more).
std::vector<std::string> make_texts(const GgufFile & vocab, size_t n, size_t words, uint64_t seed) {
    std::vector<std::string> pool;
    for (const std::string & t : *vocab.get_string_array("tokenizer.ggml.tokens")) {
        if (t.size() >= 3 && std::all_of(t.begin(), t.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
            pool.push_back(t);
        }
    }
    Rng rng{seed};
    std::vector<std::string> out(n);
    for (std::string & text : out) {
        for (size_t i = 0; i < words; ++i) {
            text += (i ? " " : "") + pool[rng.next() % pool.size()];
        }
        text += ".";
    }
    return out;
}

// Multiply-adds x2 of one pass: projections and FFN per token, Q K^T and P V per text.
double flops(const std::vector<size_t> & lengths) {
    double f = 0;
    for (size_t n : lengths) {
        const auto nd = static_cast<double>(n);
        f += 2.0 * kLayers * (nd * (4.0 * kEmbd * kEmbd + 2.0 * kEmbd * kFf) + 2.0 * nd * nd * kEmbd);
    }
    return f;
}

}  // namespace

int main(int argc, char ** argv) {
    fs::path dir = fs::temp_directory_path() / "sb_bench_embedding";
    fs::path vocab_path =
        fs::path(__FILE__).parent_path() / "../../tests/data/inference/tokenizer/ggml-vocab-bert-bge.gguf";
    std::string types_arg = "f32,f16,q8_0";
    std::string threads_arg = "1,2";
    size_t batch = 8;
    int reps = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char * v = i + 1 < argc ? argv[i + 1] : "";
        if (a == "--dir") {
            dir = v, ++i;
        } else if (a == "--vocab") {
            vocab_path = v, ++i;
        } else if (a == "--types") {
            types_arg = v, ++i;
        } else if (a == "--threads") {
            threads_arg = v, ++i;
        } else if (a == "--batch") {
            batch = static_cast<size_t>(std::max(1, std::atoi(v))), ++i;
        } else if (a == "--reps") {
            reps = std::max(1, std::atoi(v)), ++i;
        } else {
            std::fprintf(stderr,
                         "usage: %s [--dir D] [--vocab bert.gguf] [--types f32,f16,q8_0,q4_0] [--threads 1,2] "
                         "[--batch N] [--reps N]\n",
                         argv[0]);
            return 2;
        }
    }
    auto vocab = GgufFile::open(vocab_path);
    if (!vocab.ok()) {
        std::fprintf(stderr, "vocabulary: %s\n", vocab.error().to_string().c_str());
        return 1;
    }
    fs::create_directories(dir);
    std::vector<int> threads;
    for (const std::string & t : split(threads_arg)) {
        threads.push_back(std::max(1, std::atoi(t.c_str())));
    }
    const std::vector<std::pair<const char *, std::vector<std::string>>> workloads = {
        {"query", make_texts(*vocab, batch, 16, 7)},
        {"passage", make_texts(*vocab, batch, 128, 11)},
    };

    std::printf("all-MiniLM-L6-v2 shape (384 x 6 layers, 12 heads, FFN 1536, vocab 30522), random weights\n");
    std::printf("batch of %zu texts per call, median of %d calls; tokenization included\n\n", batch, reps);
    std::printf("%-6s %-8s %3s %8s %10s %11s %8s %8s %8s %10s\n", "type", "texts", "thr", "tok/text", "texts/s",
                "tokens/s", "GFLOP/s", "vs f32", "vs 1thr", "tok/cpu-s");
    std::map<std::string, double> f32_rate;  // workload/threads -> texts/s
    std::map<std::string, double> one_rate;  // type/workload -> texts/s at 1 thread
    cpu::ThreadPool writer_pool(2);
    for (const std::string & type : split(types_arg)) {
        const fs::path file = dir / ("minilm-shape-" + type + ".gguf");
        if (!fs::exists(file)) {
            if (core::Status st = write_model(*vocab, type, file, writer_pool); !st.ok()) {
                std::fprintf(stderr, "write %s: %s\n", file.c_str(), st.error().to_string().c_str());
                return 1;
            }
        }
        for (int n_threads : threads) {
            auto model = EmbeddingModel::open(file, {.n_threads = n_threads});
            if (!model.ok()) {
                std::fprintf(stderr, "%s\n", model.error().to_string().c_str());
                return 1;
            }
            for (const auto & [name, texts] : workloads) {
                std::vector<size_t> lengths;
                size_t tokens = 0;
                for (const std::string & t : texts) {
                    lengths.push_back((*model)->tokenize(t).size());
                    tokens += lengths.back();
                }
                (void)(*model)->embed(texts);  // warm-up: page in the weights, size the buffers
                std::vector<double> secs, cpu;
                for (int r = 0; r < reps; ++r) {
                    const double t0 = now_s();
                    const double c0 = cpu_seconds();
                    auto v = (*model)->embed(texts);
                    secs.push_back(now_s() - t0);
                    cpu.push_back(cpu_seconds() - c0);
                    if (!v.ok()) {
                        std::fprintf(stderr, "%s\n", v.error().to_string().c_str());
                        return 1;
                    }
                }
                const double s = median(secs);
                const double rate = static_cast<double>(texts.size()) / s;
                const std::string key = std::string(name) + "/" + std::to_string(n_threads);
                if (type == "f32") {
                    f32_rate[key] = rate;
                }
                if (n_threads == 1) {
                    one_rate[type + "/" + name] = rate;
                }
                char vs_f32[16] = "-";
                char vs_one[16] = "-";
                if (f32_rate.count(key) != 0) {
                    std::snprintf(vs_f32, sizeof vs_f32, "%.2fx", rate / f32_rate[key]);
                }
                if (one_rate.count(type + "/" + name) != 0) {
                    std::snprintf(vs_one, sizeof vs_one, "%.2fx", rate / one_rate[type + "/" + name]);
                }
                std::printf("%-6s %-8s %3d %8.1f %10.1f %11.0f %8.1f %8s %8s %10.0f\n", type.c_str(), name, n_threads,
                            static_cast<double>(tokens) / static_cast<double>(texts.size()), rate,
                            static_cast<double>(tokens) / s, flops(lengths) / s / 1e9, vs_f32, vs_one,
                            static_cast<double>(tokens) / median(cpu));
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
