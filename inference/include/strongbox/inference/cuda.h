// The CUDA backend of the inference runtime: device discovery and CudaContext, a GPU-resident
// forward pass with the same contract as Context (model.h).
//
// CudaContext::create uploads every weight of the model once (in its GGUF encoding), allocates an
// F16 KV cache on the device and runs the whole forward pass there; only the token ids go in and
// the logits of the last token come back. Before allocating anything it checks that the weights,
// KV cache and scratch fit in the device's free memory. The backend is compiled only when the
// CUDA Toolkit is found; without it (or without a device) cuda_available() is false and create
// returns kUnavailable, so a caller tries the GPU first and keeps the CPU Context otherwise:
//
//   std::unique_ptr<CudaContext> gpu;
//   if (cuda_available()) {
//       if (auto r = CudaContext::create(model, {.n_ctx = 2048}); r.ok()) {
//           gpu = std::move(r).value();
//       } else {
//           SB_LOG_INFO("GPU not used: %s", r.error().message().c_str());  // CPU Context instead
//       }
//   }
//
// Thread-safety: the free functions are safe from any thread. A CudaContext is used by one thread
// at a time; several may share a Model (each uploads its own copy of the weights).
// Errors: create returns kUnavailable (no toolkit at build time, no device, driver error),
// kUnsupported (a weight type or shape the GPU kernels do not handle: use the CPU Context), and
// kResourceExhausted naming the bytes needed and free when the model does not fit. eval returns
// the same errors as Context::eval, and kInternal when a kernel fails.
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/model.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace strongbox::inference {

struct CudaDeviceInfo {
    int index = 0;
    std::string name;
    int compute_major = 0;  // compute capability, e.g. 9.0 for Hopper
    int compute_minor = 0;
    int multiprocessors = 0;
    uint64_t total_bytes = 0;
    uint64_t free_bytes = 0;          // at the time of the query
    double peak_bandwidth_gbs = 0.0;  // from the memory clock and bus width; 0 when unknown
};

// True when this build has the CUDA backend and at least one device answers.
bool cuda_available();

// The devices present; empty when none (or no CUDA backend in this build).
std::vector<CudaDeviceInfo> cuda_devices();

// Device bytes a CudaContext for this model and these options needs (weights, KV cache, scratch).
uint64_t cuda_bytes_needed(const Model & model, const ContextOptions & options);

class CudaContext final : public Evaluator {
  public:
    struct State;

    static core::Result<std::unique_ptr<CudaContext>> create(std::shared_ptr<const Model> model,
                                                             const ContextOptions & options, int device = 0);
    ~CudaContext();
    CudaContext(const CudaContext &) = delete;
    CudaContext & operator=(const CudaContext &) = delete;

    // As Context::eval: runs `tokens` at positions n_past() ... and returns the logits after the
    // last one, valid until the next eval.
    core::Result<std::span<const float>> eval(std::span<const int32_t> tokens) override;
    uint32_t n_past() const override;
    uint32_t n_ctx() const override;
    void truncate(uint32_t n) override;
    std::string device_name() const override;
    const CudaDeviceInfo & device() const;
    uint64_t device_bytes() const;  // allocated on the device by this context

  private:
    explicit CudaContext(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace strongbox::inference
