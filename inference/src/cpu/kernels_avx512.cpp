// The x86 dot-product kernels of kernels_x86.h built for avx512 (this file is compiled with the
// avx512 flags and only called when cpuid reports the instruction set).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/blocks.h"
#include "cpu/kernels.h"
#include <immintrin.h>

namespace strongbox::inference::cpu {
namespace {

// Included inside the unnamed namespace on purpose: see kernels_x86.h.
#include "cpu/kernels_x86.h"  // NOLINT(bugprone-suspicious-include)

}  // namespace

void prepare_activations_avx512(ActKind kind, const float * x, size_t n, void * dst) {
    x86_prepare_activations(kind, x, n, dst);
}

VecDotFn vec_dot_avx512(TensorType type) {
    return x86_vec_dot(type);
}

TileFn tile_avx512(TensorType type) {
    return x86_tile(type);
}

}  // namespace strongbox::inference::cpu
