// Matrix products of a weight matrix (any supported GGUF encoding) with float activations: the
// hot loop of the forward pass.
//
// y[t][r] = sum_c w[r][c] * x[t][c] for t < n_tokens, r < rows. Quantized weights are multiplied
// against activations quantized to 8 bits once per call (32-element blocks for the legacy and
// IQ4_NL types, 256-element blocks for the K-quants and IQ4_XS), with integer dot products; F32,
// F16 and BF16 weights use float dot products. Every type has a plain scalar implementation that
// defines the result; AVX2 and AVX-512 (VNNI) versions are chosen at run time from cpuid and agree
// with it up to float summation order. With n_tokens > 1 (prefill) a tile of weight rows is reused
// across a tile of tokens so the weights are read from memory once per call.
//
// Thread-safety: matmul may be called concurrently with different pools and outputs. force_isa is
// a process-wide switch for tests and benchmarks; do not flip it while kernels run.
// Errors: the caller guarantees the shapes (cols a whole number of blocks of `type`, rows of
// w stored back to back with stride row_size(type, cols)); an unsupported type or a bad shape is
// a broken invariant (SB_CHECK). matmul_supported tells a loader in advance.
//
//   ThreadPool pool(2);
//   matmul(TensorType::kQ4_K, w, 4864, 896, x, 1, y, pool);  // y: 1 x 4864
#pragma once

#include "strongbox/inference/tensor_type.h"

#include <cstddef>

#include "cpu/thread_pool.h"

namespace strongbox::inference::cpu {

enum class Isa { kScalar, kAvx2, kAvx512 };

// Best instruction set this CPU offers (AVX-512 means F+BW+VL+VNNI).
Isa detected_isa();

// Isa the kernels use now: detected_isa() unless force_isa chose another.
Isa active_isa();

// Makes the kernels use `isa`; a request above detected_isa() is lowered to it.
void force_isa(Isa isa);

const char * isa_name(Isa isa);

// True when matmul accepts weights of this type.
bool matmul_supported(TensorType type);

void matmul(TensorType type, const void * w, size_t rows, size_t cols, const float * x, size_t n_tokens, float * y,
            ThreadPool & pool);

}  // namespace strongbox::inference::cpu
