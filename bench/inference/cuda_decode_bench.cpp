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
#include "strongbox/inference/cuda.h"
#include "strongbox/inference/model.h"

#include "cpu/thread_pool.h"
#if SB_HAVE_CUDA
#include "cuda/ops.h"
#endif

#include "bench_util.h"
#include "random_model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using strongbox::bench::find_model_shape;
using strongbox::bench::median;
using strongbox::bench::ModelShape;
using strongbox::bench::now_s;
using strongbox::bench::split;
using strongbox::bench::write_random_model;

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

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
        const ModelShape * sh = find_model_shape(shape_name);
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
                auto st = write_random_model(*sh, sh->n_layer, type, file, pool);
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
            const ContextOptions options{.n_ctx = static_cast<uint32_t>(prompt + decode + 8),
                                         .n_threads = threads,
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
