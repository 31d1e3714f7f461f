// AVX2 versions of the row operations (defined in ops_avx2.cpp, compiled with AVX2/F16C/FMA).
// Private to the CPU kernels; called from ops.cpp only when the CPU has AVX2.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strongbox::inference::cpu {

void rmsnorm_avx2(const float * x, const float * weight, float * y, size_t n, float eps);
void fp32_to_fp16_row_avx2(const float * x, uint16_t * y, size_t n);
void fp16_to_fp32_row_avx2(const uint16_t * x, float * y, size_t n);
float dot_f16_avx2(const uint16_t * h, const float * x, size_t n);
void add_scaled_f16_avx2(float alpha, const uint16_t * h, float * y, size_t n);

}  // namespace strongbox::inference::cpu
