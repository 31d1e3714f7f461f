// The CUDA backend's entry points in a build without the CUDA Toolkit: no device is ever
// available, and creating a GPU context says why, so callers keep the CPU Context.
#include "strongbox/inference/cuda.h"

namespace strongbox::inference {

struct CudaContext::State {
    CudaDeviceInfo device;
};

bool cuda_available() {
    return false;
}

std::vector<CudaDeviceInfo> cuda_devices() {
    return {};
}

uint64_t cuda_bytes_needed(const Model & /*model*/, const ContextOptions & /*options*/) {
    return 0;
}

CudaContext::CudaContext(std::unique_ptr<State> state) : state_(std::move(state)) {}
CudaContext::~CudaContext() = default;

core::Result<std::unique_ptr<CudaContext>> CudaContext::create(std::shared_ptr<const Model> /*model*/,
                                                               const ContextOptions & /*options*/, int /*device*/) {
    return core::Error(core::ErrorCode::kUnavailable,
                       "this Strongbox build has no CUDA backend (toolkit not found); use the CPU context");
}

core::Result<std::span<const float>> CudaContext::eval(std::span<const int32_t> /*tokens*/) {
    return core::Error(core::ErrorCode::kUnavailable, "this Strongbox build has no CUDA backend");
}

uint32_t CudaContext::n_past() const {
    return 0;
}
uint32_t CudaContext::n_ctx() const {
    return 0;
}
void CudaContext::truncate(uint32_t /*n*/) {}
const CudaDeviceInfo & CudaContext::device() const {
    return state_->device;
}
std::string CudaContext::device_name() const {
    return "cuda:" + std::to_string(device().index) + " (" + device().name + ")";
}

uint64_t CudaContext::device_bytes() const {
    return 0;
}

}  // namespace strongbox::inference
