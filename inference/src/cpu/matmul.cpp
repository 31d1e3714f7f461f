// Weight-matrix times activations, dispatched per weight type and instruction set.
//
// Design notes:
// 1. Activations are converted once per call (8-bit blocks for quantized weights), in parallel
//    over tokens, into a buffer owned by the calling thread and reused across calls.
// 2. Rows are split across the pool in tiles of kRowTile. Within a tile every token is processed
//    before moving on, so the tile's weights (a few tens of KiB) stay in L1/L2 while the tokens
//    stream past: with n_tokens > 1 each weight byte comes from memory once per call.
// 3. The ISA is read once per call, so a concurrent force_isa cannot mix kernels within a call.
#include "cpu/matmul.h"

#include "strongbox/core/result.h"

#include <algorithm>
#include <atomic>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "cpu/kernels.h"

namespace strongbox::inference::cpu {
namespace {

constexpr size_t kRowTile = 16;
constexpr size_t kTokenTile = 64;

#if defined(__x86_64__) || defined(__i386__)
// F16C from cpuid leaf 1 (ECX bit 29): clang 14 rejects __builtin_cpu_supports("f16c"). detect() also
// asks for AVX2 and FMA, which are reported only when the OS saves the AVX state, so it decides as before.
bool has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    const bool f16c = has_f16c();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        f16c) {
        return Isa::kAvx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c) {
        return Isa::kAvx2;
    }
#endif
    return Isa::kScalar;
}

std::atomic<int> & forced_isa() {
    static std::atomic<int> isa{-1};
    return isa;
}

struct Kernels {
    VecDotFn dot = nullptr;
    TileFn tile = nullptr;
};

Kernels select(TensorType type, Isa isa) {
    Kernels k;
    if (isa == Isa::kAvx512) {
        k.dot = vec_dot_avx512(type);
        k.tile = tile_avx512(type);
    }
    if (isa == Isa::kAvx2 || (isa == Isa::kAvx512 && k.dot == nullptr)) {
        k.dot = vec_dot_avx2(type);
        k.tile = k.tile ? k.tile : tile_avx2(type);
    }
    if (k.dot == nullptr) {
        k.dot = vec_dot_scalar(type);
    }
    return k;
}

}  // namespace

Isa detected_isa() {
    static const Isa isa = detect();
    return isa;
}

Isa active_isa() {
    const int forced = forced_isa().load(std::memory_order_relaxed);
    return forced < 0 ? detected_isa() : static_cast<Isa>(forced);
}

void force_isa(Isa isa) {
    const Isa best = detected_isa();
    forced_isa().store(static_cast<int>(std::min(isa, best)), std::memory_order_relaxed);
}

const char * isa_name(Isa isa) {
    switch (isa) {
    case Isa::kScalar:
        return "scalar";
    case Isa::kAvx2:
        return "avx2";
    case Isa::kAvx512:
        return "avx512";
    }
    return "?";
}

bool matmul_supported(TensorType type) {
    return vec_dot_scalar(type) != nullptr;
}

void matmul(TensorType type, const void * w, size_t rows, size_t cols, const float * x, size_t n_tokens, float * y,
            ThreadPool & pool) {
    const ActKind kind = activation_kind(type);
    const auto stride = row_size(type, cols);
    SB_CHECK(kind != ActKind::kNone && stride.has_value());
    if (rows == 0 || n_tokens == 0) {
        return;
    }
    const Isa isa = active_isa();
    const Kernels k = select(type, isa);
    SB_CHECK(k.dot != nullptr);

    const size_t act_stride = activation_row_bytes(kind, cols);
    const uint8_t * act = nullptr;
    thread_local std::vector<uint8_t> act_buffer;
    if (kind == ActKind::kF32) {
        act = reinterpret_cast<const uint8_t *>(x);
    } else {
        if (act_buffer.size() < act_stride * n_tokens) {
            act_buffer.resize(act_stride * n_tokens);
        }
        uint8_t * buf = act_buffer.data();
        auto convert = [&](size_t begin, size_t end) {
            for (size_t t = begin; t < end; ++t) {
                if (isa == Isa::kAvx512) {
                    prepare_activations_avx512(kind, x + t * cols, cols, buf + t * act_stride);
                } else if (isa == Isa::kAvx2) {
                    prepare_activations_avx2(kind, x + t * cols, cols, buf + t * act_stride);
                } else {
                    prepare_activations(kind, x + t * cols, cols, buf + t * act_stride);
                }
            }
        };
        if (n_tokens > 1) {
            pool.parallel_for(n_tokens, convert);
        } else {
            convert(0, 1);
        }
        act = buf;
    }

    const auto * wb = static_cast<const uint8_t *>(w);
    const size_t ws = *stride;
    pool.parallel_for(rows, kRowTile, [&](size_t begin, size_t end) {
        for (size_t r0 = begin; r0 < end; r0 += kRowTile) {
            const size_t nr = std::min(kRowTile, end - r0);
            if (k.tile != nullptr && n_tokens > 1) {
                for (size_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
                    const size_t nt = std::min(kTokenTile, n_tokens - t0);
                    k.tile(cols, wb + r0 * ws, ws, nr, act + t0 * act_stride, act_stride, nt, y + t0 * rows + r0, rows);
                }
                continue;
            }
            for (size_t t = 0; t < n_tokens; ++t) {
                const uint8_t * a = act + t * act_stride;
                float * yt = y + t * rows;
                for (size_t r = r0; r < r0 + nr; ++r) {
                    yt[r] = k.dot(cols, wb + r * ws, a);
                }
            }
        }
    });
}

}  // namespace strongbox::inference::cpu
