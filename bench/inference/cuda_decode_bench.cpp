// GPU prefill and decode speed (CudaContext) on random-weight models of real shapes, next to the
// memory-bandwidth bound and the CPU Context measured in the same run.
//
// For each shape (Qwen2.5-0.5B: 896 hidden, 24 layers, 14/2 heads, FFN 4864, vocab 32000;
// TinyLlama-1.1B: 2048, 22, 32/4, 5632, 32000) and weight type it writes a GGUF with Strongbox's
// quantizer under --dir, then prints
//   - GPU prefill: one batch of --prompt tokens (default 512), tokens/s (median of 3);
//   - GPU decode: --decode tokens (default 128) one at a time after the prompt, median tokens/s;
//   - the bound: device-to-device copy bandwidth (bytes read + written, measured now) divided by
//     the weight bytes one decoded token reads, and decode as a percentage of it; also against
//     the peak bandwidth the device reports;
//   - CPU prefill (--cpu-prompt tokens, default 64) and decode (16 tokens) with --threads.
// Prints only; asserts nothing about time.
//
//   strongbox_bench_cuda_decode --shape qwen0.5b --type q4_0,q4_k_m,q8_0 --threads 16
#include "cpu/quants.h"
#include "cpu/thread_pool.h"
#include "strongbox/inference/cuda.h"
#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/model.h"
#include "strongbox/inference/quantize.h"
#if SB_HAVE_CUDA
#include "cuda/ops.h"
#endif

#include "bench_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using strongbox::bench::median;
using strongbox::bench::now_s;
using strongbox::bench::split;

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

struct Shape {
    const char * name;
    const char * arch;
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
};

constexpr Shape kShapes[] = {
    {"qwen0.5b", "qwen2", 896, 24, 14, 2, 4864, 32000},
    {"tinyllama1.1b", "llama", 2048, 22, 32, 4, 5632, 32000},
};

// xorshift with a sum of uniforms: reproducible, roughly normal weights.
struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
    float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};

core::Status write_model(const Shape & sh, const std::string & target, const fs::path & out, cpu::ThreadPool & pool) {
    GgufWriter w;
    const std::string a = std::string(sh.arch) + ".";
    w.set("general.architecture", GgufValue::of_string(sh.arch));
    w.set(a + "context_length", GgufValue::of_uint32(4096));
    w.set(a + "embedding_length", GgufValue::of_uint32(sh.n_embd));
    w.set(a + "block_count", GgufValue::of_uint32(sh.n_layer));
    w.set(a + "feed_forward_length", GgufValue::of_uint32(sh.n_ff));
    w.set(a + "attention.head_count", GgufValue::of_uint32(sh.n_head));
    w.set(a + "attention.head_count_kv", GgufValue::of_uint32(sh.n_head_kv));
    w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::of_float32(1e-6f));
    w.set(a + "rope.freq_base", GgufValue::of_float32(10000.0f));
    const uint64_t hd = sh.n_embd / sh.n_head;
    const uint64_t q_dim = hd * sh.n_head;
    const uint64_t kv_dim = hd * sh.n_head_kv;
    uint64_t seed = 1;
    auto add = [&](const std::string & name, std::vector<uint64_t> shape, float scale) -> core::Status {
        SB_ASSIGN_OR_RETURN(TensorType type, plan_tensor_type(target, name, shape, TensorType::kF32, sh.n_layer, false));
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
                        x = scale == 0.0f ? 1.0f : rng.normal() * scale;
                    }
                    SB_CHECK(cpu::quantize_row(type, row.data(), dst.data() + r * stride, cols));
                }
            });
            return core::ok_status();
        });
    };
    const float ws = 1.0f / std::sqrt(static_cast<float>(sh.n_embd));
    SB_TRY(add("token_embd.weight", {sh.n_embd, sh.n_vocab}, 1.0f));
    SB_TRY(add("output_norm.weight", {sh.n_embd}, 0.0f));
    SB_TRY(add("output.weight", {sh.n_embd, sh.n_vocab}, ws));
    for (uint32_t i = 0; i < sh.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        SB_TRY(add(p + "attn_norm.weight", {sh.n_embd}, 0.0f));
        SB_TRY(add(p + "attn_q.weight", {sh.n_embd, q_dim}, ws));
        SB_TRY(add(p + "attn_k.weight", {sh.n_embd, kv_dim}, ws));
        SB_TRY(add(p + "attn_v.weight", {sh.n_embd, kv_dim}, ws));
        if (std::string(sh.arch) == "qwen2") {
            SB_TRY(add(p + "attn_q.bias", {q_dim}, 0.02f));
            SB_TRY(add(p + "attn_k.bias", {kv_dim}, 0.02f));
            SB_TRY(add(p + "attn_v.bias", {kv_dim}, 0.02f));
        }
        SB_TRY(add(p + "attn_output.weight", {q_dim, sh.n_embd}, ws));
        SB_TRY(add(p + "ffn_norm.weight", {sh.n_embd}, 0.0f));
        SB_TRY(add(p + "ffn_gate.weight", {sh.n_embd, sh.n_ff}, ws));
        SB_TRY(add(p + "ffn_up.weight", {sh.n_embd, sh.n_ff}, ws));
        SB_TRY(add(p + "ffn_down.weight", {sh.n_ff, sh.n_embd}, 1.0f / std::sqrt(static_cast<float>(sh.n_ff))));
    }
    return w.write(out);
}

// Weight bytes one decoded token reads: every matrix except the embedding table (one row).
uint64_t decode_bytes(const Model & m) {
    uint64_t total = 0;
    for (const GgufTensorInfo & t : m.gguf().tensors()) {
        if (t.name != "token_embd.weight") {
            total += t.n_bytes;
        }
    }
    return total;
}

template <typename Ctx>
void run(Ctx & ctx, size_t prompt, size_t decode, int reps, double & prefill_tps, double & decode_tps) {
    std::vector<int32_t> tokens(prompt);
    for (size_t i = 0; i < prompt; ++i) {
        tokens[i] = static_cast<int32_t>((i * 7919 + 1) % 32000);
    }
    std::vector<double> pre;
    for (int r = 0; r < reps; ++r) {
        ctx.reset();
        const double t0 = now_s();
        SB_CHECK(ctx.eval(tokens).ok());
        pre.push_back(static_cast<double>(prompt) / (now_s() - t0));
    }
    prefill_tps = median(pre);
    std::vector<double> dec;
    int32_t next = 17;
    for (size_t i = 0; i < decode; ++i) {
        const double t0 = now_s();
        auto logits = ctx.eval(std::span<const int32_t>(&next, 1));
        SB_CHECK(logits.ok());
        dec.push_back(1.0 / (now_s() - t0));
        next = static_cast<int32_t>(std::max_element(logits->begin(), logits->end()) - logits->begin());
    }
    decode_tps = median(dec);
}

}  // namespace

int main(int argc, char ** argv) {
    std::string shapes = "qwen0.5b", types = "q4_0,q4_k_m,q8_0";
    fs::path dir = fs::temp_directory_path() / "strongbox-cuda-bench";
    size_t prompt = 512, decode = 128, cpu_prompt = 64;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--shape") {
            shapes = v;
        } else if (k == "--type") {
            types = v;
        } else if (k == "--dir") {
            dir = v;
        } else if (k == "--prompt") {
            prompt = std::stoul(v);
        } else if (k == "--decode") {
            decode = std::stoul(v);
        } else if (k == "--cpu-prompt") {
            cpu_prompt = std::stoul(v);
        } else if (k == "--threads") {
            threads = std::stoi(v);
        }
    }
    const auto devices = cuda_devices();
    if (devices.empty()) {
        std::printf("no CUDA device (or no CUDA backend in this build): nothing to measure\n");
        return 0;
    }
    const CudaDeviceInfo & dev = devices[0];
    double copy_bw = 0.0;
#if SB_HAVE_CUDA
    auto bw = cuda::copy_bandwidth(size_t{1} << 30);
    copy_bw = bw.ok() ? *bw : 0.0;
#endif
    std::printf("device: %s (sm_%d%d, %d SMs, %.1f GiB), peak %.0f GB/s, device-to-device copy %.0f GB/s\n",
                dev.name.c_str(), dev.compute_major, dev.compute_minor, dev.multiprocessors,
                static_cast<double>(dev.total_bytes) / (1ull << 30), dev.peak_bandwidth_gbs, copy_bw / 1e9);
    std::printf("%-14s %-7s %8s | %10s %10s %8s %8s | %9s %9s (CPU, %d threads)\n", "shape", "type", "MiB/tok",
                "GPU pp/s", "GPU tg/s", "%copy", "%peak", "CPU pp/s", "CPU tg/s", threads);
    fs::create_directories(dir);
    for (const std::string & shape_name : split(shapes)) {
        const Shape * sh = nullptr;
        for (const Shape & s : kShapes) {
            if (shape_name == s.name) {
                sh = &s;
            }
        }
        if (sh == nullptr) {
            std::fprintf(stderr, "unknown shape %s\n", shape_name.c_str());
            return 2;
        }
        for (const std::string & type : split(types)) {
            const fs::path file = dir / (std::string(sh->name) + "-" + type + ".gguf");
            if (!fs::exists(file)) {
                // A pool only while writing: idle pool threads spin, and would compete with the
                // thread that waits on the GPU.
                cpu::ThreadPool pool(threads);
                auto st = write_model(*sh, type, file, pool);
                if (!st.ok()) {
                    std::fprintf(stderr, "writing %s: %s\n", file.c_str(), st.error().message().c_str());
                    return 1;
                }
            }
            auto model = Model::load(file);
            if (!model.ok()) {
                std::fprintf(stderr, "%s\n", model.error().message().c_str());
                return 1;
            }
            const uint64_t bytes = decode_bytes(**model);
            const ContextOptions options{.n_ctx = static_cast<uint32_t>(prompt + decode + 8), .n_threads = threads,
                                         .n_batch = static_cast<uint32_t>(prompt)};
            auto gpu = CudaContext::create(*model, options);
            if (!gpu.ok()) {
                std::printf("%-14s %-7s GPU context: %s\n", sh->name, type.c_str(), gpu.error().message().c_str());
                continue;
            }
            double gpu_pp = 0.0, gpu_tg = 0.0, cpu_pp = 0.0, cpu_tg = 0.0;
            run(**gpu, prompt, decode, 3, gpu_pp, gpu_tg);
            gpu->reset();
            auto cpu = Context::create(*model, {.n_ctx = options.n_ctx, .n_threads = threads});
            SB_CHECK(cpu.ok());
            run(**cpu, cpu_prompt, 16, 1, cpu_pp, cpu_tg);
            const double bound_copy = copy_bw / static_cast<double>(bytes);
            const double bound_peak = dev.peak_bandwidth_gbs * 1e9 / static_cast<double>(bytes);
            std::printf("%-14s %-7s %8.1f | %10.0f %10.1f %7.0f%% %7.0f%% | %9.1f %9.1f\n", sh->name, type.c_str(),
                        static_cast<double>(bytes) / (1 << 20), gpu_pp, gpu_tg,
                        bound_copy > 0 ? 100.0 * gpu_tg / bound_copy : 0.0,
                        bound_peak > 0 ? 100.0 * gpu_tg / bound_peak : 0.0, cpu_pp, cpu_tg);
            std::fflush(stdout);
        }
    }
    return 0;
}
