// Device memory and error helpers shared by the CUDA backend's host code. Private.
#pragma once

#include "strongbox/core/result.h"

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>

namespace strongbox::inference::cuda {

// kUnavailable/kInternal error naming what failed and CUDA's reason, or ok.
inline core::Status check(cudaError_t err, const char * what) {
    if (err == cudaSuccess) {
        return core::ok_status();
    }
    const auto code = err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ? core::ErrorCode::kUnavailable
                                                                                     : core::ErrorCode::kInternal;
    return core::Error(code, std::string("CUDA ") + what + ": " + cudaGetErrorString(err));
}

struct DeviceFree {
    void operator()(void * p) const { cudaFree(p); }
};

// One device allocation, freed with its owner.
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    static core::Result<DeviceBuffer> allocate(size_t bytes) {
        void * p = nullptr;
        SB_TRY(check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc"));
        DeviceBuffer b;
        b.ptr_.reset(p);
        b.bytes_ = bytes;
        return b;
    }
    template <typename T>
    T * as() const {
        return static_cast<T *>(ptr_.get());
    }
    size_t bytes() const { return bytes_; }

  private:
    std::unique_ptr<void, DeviceFree> ptr_;
    size_t bytes_ = 0;
};

// Uploads host bytes into a new device buffer.
inline core::Result<DeviceBuffer> upload(const void * src, size_t bytes) {
    SB_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::allocate(bytes));
    SB_TRY(check(cudaMemcpy(b.as<void>(), src, bytes, cudaMemcpyHostToDevice), "upload"));
    return b;
}

}  // namespace strongbox::inference::cuda
