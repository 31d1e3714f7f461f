// Host-side single-kernel calls for the tests (see ops.h).
#include "cuda/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/device.h"
#include "cuda/kernels.h"

namespace strongbox::inference::cuda {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using core::Status;

Status finish(void * dst, const DeviceBuffer & src, size_t bytes) {
    SB_TRY(check(cudaGetLastError(), "kernel launch"));
    SB_TRY(check(cudaDeviceSynchronize(), "kernel"));
    return check(cudaMemcpy(dst, src.as<void>(), bytes, cudaMemcpyDeviceToHost), "download");
}

int as_int(size_t n) {
    return static_cast<int>(n);
}

}  // namespace

Status matmul_host(TensorType type, const void * w, size_t rows, size_t cols, const float * x, size_t n_tokens,
                   float * y) {
    const auto id = static_cast<uint32_t>(type);
    const auto row_bytes = row_size(type, cols);
    if (!matmul_type_supported(id) || !row_bytes) {
        return Error(ErrorCode::kUnsupported,
                     "no CUDA matmul for " + tensor_type_name(id) + " with " + std::to_string(cols) + " columns");
    }
    SB_ASSIGN_OR_RETURN(DeviceBuffer dw, upload(w, rows * *row_bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dx, upload(x, n_tokens * cols * sizeof(float)));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::allocate(n_tokens * rows * sizeof(float)));
    launch_matmul(id, dw.as<void>(), *row_bytes, as_int(rows), as_int(cols), dx.as<float>(), as_int(n_tokens),
                  dy.as<float>(), nullptr);
    return finish(y, dy, n_tokens * rows * sizeof(float));
}

Status rmsnorm_host(const float * x, const float * weight, float * y, size_t n, size_t n_rows, float eps) {
    SB_ASSIGN_OR_RETURN(DeviceBuffer dx, upload(x, n * n_rows * sizeof(float)));
    DeviceBuffer dw;
    if (weight != nullptr) {
        SB_ASSIGN_OR_RETURN(dw, upload(weight, n * sizeof(float)));
    }
    SB_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::allocate(n * n_rows * sizeof(float)));
    launch_rmsnorm(dx.as<float>(), dw.as<float>(), dy.as<float>(), as_int(n), as_int(n_rows), eps, nullptr);
    return finish(y, dy, n * n_rows * sizeof(float));
}

Status rope_host(float * x, size_t n_tokens, size_t n_heads, size_t head_dim, size_t rope_dim, const float * cos_table,
                 const float * sin_table, size_t pos0, bool neox) {
    const size_t table = (pos0 + n_tokens) * (rope_dim / 2) * sizeof(float);
    const size_t bytes = n_tokens * n_heads * head_dim * sizeof(float);
    SB_ASSIGN_OR_RETURN(DeviceBuffer dx, upload(x, bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dc, upload(cos_table, table));
    SB_ASSIGN_OR_RETURN(DeviceBuffer ds, upload(sin_table, table));
    const int pos = as_int(pos0);
    SB_ASSIGN_OR_RETURN(DeviceBuffer dpos, upload(&pos, sizeof(pos)));
    launch_rope(dx.as<float>(), as_int(n_tokens), as_int(n_heads), as_int(head_dim), as_int(rope_dim),
                as_int(n_heads * head_dim), dpos.as<int>(), dc.as<float>(), ds.as<float>(), neox, nullptr);
    return finish(x, dx, bytes);
}

Status swiglu_host(const float * gate, const float * up, float * out, size_t n) {
    SB_ASSIGN_OR_RETURN(DeviceBuffer dg, upload(gate, n * sizeof(float)));
    SB_ASSIGN_OR_RETURN(DeviceBuffer du, upload(up, n * sizeof(float)));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::allocate(n * sizeof(float)));
    launch_swiglu(dg.as<float>(), du.as<float>(), dout.as<float>(), as_int(n), nullptr);
    return finish(out, dout, n * sizeof(float));
}

Status softmax_host(float * x, size_t n, size_t n_rows) {
    SB_ASSIGN_OR_RETURN(DeviceBuffer dx, upload(x, n * n_rows * sizeof(float)));
    launch_softmax(dx.as<float>(), as_int(n), as_int(n_rows), nullptr);
    return finish(x, dx, n * n_rows * sizeof(float));
}

Status attention_host(const float * q, const uint16_t * k_cache, const uint16_t * v_cache, float * out, size_t n_tokens,
                      size_t n_head, size_t n_head_kv, size_t head_dim, size_t n_ctx, size_t pos0) {
    if (n_ctx > static_cast<size_t>(attention_max_positions()) || pos0 + n_tokens > n_ctx ||
        !attention_supports_head_dim(as_int(head_dim))) {
        return Error(ErrorCode::kUnsupported,
                     "attention over more than " + std::to_string(attention_max_positions()) + " positions");
    }
    const size_t q_bytes = n_tokens * n_head * head_dim * sizeof(float);
    const size_t cache_bytes = n_head_kv * n_ctx * head_dim * sizeof(uint16_t);
    SB_ASSIGN_OR_RETURN(DeviceBuffer dq, upload(q, q_bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dk, upload(k_cache, cache_bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dv, upload(v_cache, cache_bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::allocate(q_bytes));
    const int pos = as_int(pos0);
    SB_ASSIGN_OR_RETURN(DeviceBuffer dpos, upload(&pos, sizeof(pos)));
    launch_attention(dq.as<float>(), dk.as<uint16_t>(), dv.as<uint16_t>(), dout.as<float>(), as_int(n_tokens),
                     as_int(n_head), as_int(n_head_kv), as_int(head_dim), as_int(n_ctx), dpos.as<int>(),
                     1.0f / std::sqrt(static_cast<float>(head_dim)), nullptr);
    return finish(out, dout, q_bytes);
}

}  // namespace strongbox::inference::cuda

namespace strongbox::inference::cuda {

core::Result<double> copy_bandwidth(size_t bytes) {
    SB_ASSIGN_OR_RETURN(DeviceBuffer src, DeviceBuffer::allocate(bytes));
    SB_ASSIGN_OR_RETURN(DeviceBuffer dst, DeviceBuffer::allocate(bytes));
    SB_TRY(check(cudaMemset(src.as<void>(), 1, bytes), "memset"));
    cudaEvent_t start = nullptr, stop = nullptr;
    SB_TRY(check(cudaEventCreate(&start), "event"));
    SB_TRY(check(cudaEventCreate(&stop), "event"));
    std::vector<float> ms;
    for (int rep = 0; rep < 7; ++rep) {
        cudaEventRecord(start);
        cudaMemcpy(dst.as<void>(), src.as<void>(), bytes, cudaMemcpyDeviceToDevice);
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float t = 0.0f;
        cudaEventElapsedTime(&t, start, stop);
        ms.push_back(t);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    SB_TRY(check(cudaGetLastError(), "copy"));
    std::sort(ms.begin(), ms.end());
    return 2.0 * static_cast<double>(bytes) / (static_cast<double>(ms[ms.size() / 2]) * 1e-3);
}

}  // namespace strongbox::inference::cuda
