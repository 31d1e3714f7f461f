// CudaContext: the llama/qwen2 forward pass with weights, KV cache and activations on the GPU.
//
// Design notes:
// 1. Every weight is uploaded once, in its GGUF encoding, into one device allocation per
//    tensor; norms and biases go up as floats. The token embedding stays on the host: the rows of
//    a batch are decoded there (cpu::dequantize_row) and sent up, a few KB per token.
// 2. One forward pass is a sequence of kernel launches on the context's stream with no host
//    synchronization until the logits are copied back into pinned memory, so the host is free
//    (tokenizing, sampling the previous step) while the GPU works.
// 3. RoPE uses a cos/sin table per position computed on the host exactly as the CPU Context
//    does (linear/YaRN scaling and rope_freqs factors included) and uploaded once.
// 4. Memory is checked before any allocation: weights + KV cache + scratch + a reserve must fit in
//    the free memory cudaMemGetInfo reports, otherwise create fails and the caller keeps the CPU.
#include "strongbox/core/log.h"
#include "strongbox/inference/cuda.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "cpu/quants.h"
#include "cuda/device.h"
#include "cuda/kernels.h"
#include "model/model_impl.h"

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;
using core::Status;
using cuda::DeviceBuffer;

constexpr uint64_t kReserveBytes = uint64_t{256} << 20;  // driver, kernels' stacks, fragmentation

struct DeviceWeight {
    DeviceBuffer buffer;
    uint32_t type = 0;
    size_t rows = 0, cols = 0, row_bytes = 0;
};

struct DeviceLayer {
    DeviceBuffer attn_norm, ffn_norm, bq, bk, bv;
    DeviceWeight wq, wk, wv, wo, gate, up, down;
};

uint32_t effective_n_ctx(const ModelConfig & c, const ContextOptions & o) {
    return o.n_ctx != 0 ? o.n_ctx : std::min<uint32_t>(c.n_ctx_train, 4096);
}

uint64_t weight_bytes(const WeightRef & w) {
    return uint64_t{w.rows} * w.row_bytes;
}

Result<DeviceWeight> upload_weight(const WeightRef & w, const char * what) {
    const auto id = static_cast<uint32_t>(w.type);
    if (!cuda::matmul_type_supported(id)) {
        return Error(ErrorCode::kUnsupported, std::string("no CUDA kernel for ") + what + " (" + tensor_type_name(id) +
                                                  ", " + std::to_string(w.cols) + " columns); use the CPU context");
    }
    DeviceWeight d;
    SB_ASSIGN_OR_RETURN(d.buffer, cuda::upload(w.data, weight_bytes(w)));
    d.type = id;
    d.rows = w.rows;
    d.cols = w.cols;
    d.row_bytes = w.row_bytes;
    return d;
}

Result<DeviceBuffer> upload_floats(const std::vector<float> & v) {
    return cuda::upload(v.data(), v.size() * 4);
}

CudaDeviceInfo query_device(int index) {
    CudaDeviceInfo info;
    info.index = index;
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
        return info;
    }
    info.name = prop.name;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_bytes = prop.totalGlobalMem;
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, index) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, index) == cudaSuccess) {
        // Double data rate: two transfers per clock.
        info.peak_bandwidth_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    }
    int previous = 0;
    size_t free_b = 0, total_b = 0;
    if (cudaGetDevice(&previous) == cudaSuccess && cudaSetDevice(index) == cudaSuccess &&
        cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
        info.free_bytes = free_b;
    }
    cudaSetDevice(previous);
    return info;
}

struct StreamDestroy {
    void operator()(CUstream_st * s) const { cudaStreamDestroy(s); }
};
struct HostFree {
    void operator()(void * p) const { cudaFreeHost(p); }
};
struct GraphExecDestroy {
    void operator()(CUgraphExec_st * g) const { cudaGraphExecDestroy(g); }
};

template <typename T>
Result<std::unique_ptr<T, HostFree>> pinned(size_t count) {
    void * p = nullptr;
    SB_TRY(cuda::check(cudaMallocHost(&p, count * sizeof(T)), "pinned host buffer"));
    return std::unique_ptr<T, HostFree>(static_cast<T *>(p));
}

}  // namespace

bool cuda_available() {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

std::vector<CudaDeviceInfo> cuda_devices() {
    std::vector<CudaDeviceInfo> out;
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        return out;
    }
    for (int i = 0; i < n; ++i) {
        out.push_back(query_device(i));
    }
    return out;
}

uint64_t cuda_bytes_needed(const Model & model, const ContextOptions & options) {
    const Model::Impl & m = model.impl();
    const ModelConfig & c = m.config;
    const uint64_t n_ctx = effective_n_ctx(c, options);
    const uint64_t n_batch = std::max<uint64_t>(1, std::min<uint64_t>(options.n_batch, n_ctx));
    const uint64_t hd = c.head_dim;
    const uint64_t q_dim = uint64_t{c.n_head} * hd;
    const uint64_t kv_dim = uint64_t{c.n_head_kv} * hd;
    uint64_t bytes = weight_bytes(m.output) + (c.n_embd + 0ull) * 4;
    for (const LayerWeights & l : m.layers) {
        bytes += weight_bytes(l.wq) + weight_bytes(l.wk) + weight_bytes(l.wv) + weight_bytes(l.wo);
        bytes += weight_bytes(l.gate) + weight_bytes(l.up) + weight_bytes(l.down);
        bytes += (l.attn_norm.size() + l.ffn_norm.size() + l.bq.size() + l.bk.size() + l.bv.size()) * 4;
    }
    bytes += uint64_t{c.n_layer} * n_ctx * kv_dim * 2 * 2;  // F16 K and V
    bytes += n_ctx * (c.rope_dim / 2) * 2 * 4;              // RoPE table
    bytes +=
        n_batch * (2 * c.n_embd + std::max<uint64_t>(c.n_embd, q_dim) + 2 * q_dim + 2 * kv_dim + 2ull * c.n_ff) * 4;
    bytes += uint64_t{c.n_vocab} * 4;
    return bytes;
}

struct CudaContext::State {
    std::shared_ptr<const Model> model;
    CudaDeviceInfo device;
    uint32_t n_ctx = 0, n_batch = 0, n_past = 0;
    std::unique_ptr<CUstream_st, StreamDestroy> stream;

    std::vector<DeviceLayer> layers;
    DeviceBuffer output_norm, rope_cos, rope_sin;
    DeviceWeight output;
    std::vector<DeviceBuffer> k_cache, v_cache;  // per layer, F16 [kv head][position][dim]
    DeviceBuffer x, xn, q, k, v, attn, gate, up, logits;
    std::unique_ptr<float, HostFree> logits_host, embd_host;  // pinned
    std::unique_ptr<int, HostFree> pos_host;                  // pinned: position of the batch's first token
    DeviceBuffer pos_dev;
    std::unique_ptr<CUgraphExec_st, GraphExecDestroy> graph_exec;
    bool graph_disabled = false;
    uint64_t device_bytes = 0;

    Status enqueue(int n);
    Status decode_step();
    Status forward(std::span<const int32_t> tokens);
};

Status CudaContext::State::enqueue(int n) {
    const Model::Impl & m = model->impl();
    const ModelConfig & c = m.config;
    const int d = static_cast<int>(c.n_embd);
    const int hd = static_cast<int>(c.head_dim);
    const int q_dim = static_cast<int>(c.n_head) * hd;
    const int kv_dim = static_cast<int>(c.n_head_kv) * hd;
    const int n_ff = static_cast<int>(c.n_ff);
    const int * pos = pos_dev.as<int>();
    cudaStream_t s = stream.get();

    SB_TRY(cuda::check(cudaMemcpyAsync(x.as<float>(), embd_host.get(), size_t(n) * d * 4, cudaMemcpyHostToDevice, s),
                       "embedding upload"));
    SB_TRY(cuda::check(cudaMemcpyAsync(pos_dev.as<int>(), pos_host.get(), sizeof(int), cudaMemcpyHostToDevice, s),
                       "position upload"));
    auto mm = [&](const DeviceWeight & w, const float * in, float * out, int n_tokens) {
        cuda::launch_matmul(w.type, w.buffer.as<void>(), w.row_bytes, static_cast<int>(w.rows),
                            static_cast<int>(w.cols), in, n_tokens, out, s);
    };
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const DeviceLayer & l = layers[il];
        cuda::launch_rmsnorm(x.as<float>(), l.attn_norm.as<float>(), xn.as<float>(), d, n, c.rms_eps, s);
        mm(l.wq, xn.as<float>(), q.as<float>(), n);
        mm(l.wk, xn.as<float>(), k.as<float>(), n);
        mm(l.wv, xn.as<float>(), v.as<float>(), n);
        if (c.qkv_bias) {
            cuda::launch_add_bias(q.as<float>(), l.bq.as<float>(), n * q_dim, q_dim, s);
            cuda::launch_add_bias(k.as<float>(), l.bk.as<float>(), n * kv_dim, kv_dim, s);
            cuda::launch_add_bias(v.as<float>(), l.bv.as<float>(), n * kv_dim, kv_dim, s);
        }
        cuda::launch_rope(q.as<float>(), n, static_cast<int>(c.n_head), hd, static_cast<int>(c.rope_dim), q_dim, pos,
                          rope_cos.as<float>(), rope_sin.as<float>(), c.rope_neox, s);
        cuda::launch_rope(k.as<float>(), n, static_cast<int>(c.n_head_kv), hd, static_cast<int>(c.rope_dim), kv_dim,
                          pos, rope_cos.as<float>(), rope_sin.as<float>(), c.rope_neox, s);
        cuda::launch_kv_store(k.as<float>(), v.as<float>(), k_cache[il].as<uint16_t>(), v_cache[il].as<uint16_t>(), n,
                              static_cast<int>(c.n_head_kv), hd, static_cast<int>(n_ctx), pos, s);
        cuda::launch_attention(q.as<float>(), k_cache[il].as<uint16_t>(), v_cache[il].as<uint16_t>(), attn.as<float>(),
                               n, static_cast<int>(c.n_head), static_cast<int>(c.n_head_kv), hd,
                               static_cast<int>(n_ctx), pos, scale, s);
        mm(l.wo, attn.as<float>(), xn.as<float>(), n);
        cuda::launch_add(x.as<float>(), xn.as<float>(), n * d, s);
        cuda::launch_rmsnorm(x.as<float>(), l.ffn_norm.as<float>(), xn.as<float>(), d, n, c.rms_eps, s);
        mm(l.gate, xn.as<float>(), gate.as<float>(), n);
        mm(l.up, xn.as<float>(), up.as<float>(), n);
        cuda::launch_swiglu(gate.as<float>(), up.as<float>(), gate.as<float>(), n * n_ff, s);
        mm(l.down, gate.as<float>(), xn.as<float>(), n);
        cuda::launch_add(x.as<float>(), xn.as<float>(), n * d, s);
    }
    const float * last = x.as<float>() + size_t(n - 1) * d;
    cuda::launch_rmsnorm(last, output_norm.as<float>(), xn.as<float>(), d, 1, c.rms_eps, s);
    mm(output, xn.as<float>(), logits.as<float>(), 1);
    SB_TRY(cuda::check(
        cudaMemcpyAsync(logits_host.get(), logits.as<float>(), size_t{c.n_vocab} * 4, cudaMemcpyDeviceToHost, s),
        "logits download"));
    return cuda::check(cudaGetLastError(), "kernel launch");
}

// One token: replays a graph of the whole pass (captured on first use) so the ~15 launches per
// layer cost one launch; the graph reads the embedding and the position from pinned memory.
Status CudaContext::State::decode_step() {
    if (!graph_exec && !graph_disabled) {
        cudaStream_t s = stream.get();
        cudaGraph_t graph = nullptr;
        Status captured = cuda::check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "graph capture");
        if (captured.ok()) {
            captured = enqueue(1);
            const cudaError_t end = cudaStreamEndCapture(s, &graph);
            if (captured.ok()) {
                captured = cuda::check(end, "graph capture");
            }
        }
        cudaGraphExec_t exec = nullptr;
        if (captured.ok()) {
            captured = cuda::check(cudaGraphInstantiate(&exec, graph, 0), "graph instantiate");
        }
        if (graph != nullptr) {
            cudaGraphDestroy(graph);
        }
        if (captured.ok()) {
            graph_exec.reset(exec);
        } else {
            // Launch directly from now on; the passes are the same, only slower to issue.
            SB_LOG_INFO("CUDA graph not used: %s", captured.error().message().c_str());
            cudaGetLastError();
            graph_disabled = true;
        }
    }
    if (graph_exec) {
        return cuda::check(cudaGraphLaunch(graph_exec.get(), stream.get()), "graph launch");
    }
    return enqueue(1);
}

Status CudaContext::State::forward(std::span<const int32_t> tokens) {
    const Model::Impl & m = model->impl();
    const size_t d = m.config.n_embd;
    for (size_t t = 0; t < tokens.size(); ++t) {
        const uint8_t * row = m.token_embd.data + static_cast<size_t>(tokens[t]) * m.token_embd.row_bytes;
        SB_CHECK(cpu::dequantize_row(m.token_embd.type, row, embd_host.get() + t * d, d));
    }
    *pos_host = static_cast<int>(n_past);
    SB_TRY(tokens.size() == 1 ? decode_step() : enqueue(static_cast<int>(tokens.size())));
    // The pinned embedding and position buffers are reused by the next pass.
    SB_TRY(cuda::check(cudaStreamSynchronize(stream.get()), "forward pass"));
    n_past += static_cast<uint32_t>(tokens.size());
    return core::ok_status();
}

CudaContext::CudaContext(std::unique_ptr<State> state) : state_(std::move(state)) {}
CudaContext::~CudaContext() = default;

Result<std::unique_ptr<CudaContext>> CudaContext::create(std::shared_ptr<const Model> model,
                                                         const ContextOptions & options, int device) {
    SB_CHECK(model != nullptr);
    int n_devices = 0;
    if (cudaGetDeviceCount(&n_devices) != cudaSuccess || n_devices == 0) {
        cudaGetLastError();  // clear the sticky "no device" error for later queries
        return Error(ErrorCode::kUnavailable, "no CUDA device present; use the CPU context");
    }
    if (device < 0 || device >= n_devices) {
        return Error(ErrorCode::kInvalidArgument, "CUDA device " + std::to_string(device) + " does not exist (" +
                                                      std::to_string(n_devices) + " present)");
    }
    SB_TRY(cuda::check(cudaSetDevice(device), "select device"));
    const Model::Impl & m = model->impl();
    const ModelConfig & c = m.config;
    auto s = std::make_unique<State>();
    s->device = query_device(device);
    s->n_ctx = effective_n_ctx(c, options);
    s->n_batch = std::max<uint32_t>(1, std::min(options.n_batch, s->n_ctx));
    if (s->n_ctx > static_cast<uint32_t>(cuda::attention_max_positions())) {
        return Error(ErrorCode::kUnsupported, "CUDA attention handles at most " +
                                                  std::to_string(cuda::attention_max_positions()) +
                                                  " positions, context of " + std::to_string(s->n_ctx) + " asked");
    }
    if (!cuda::attention_supports_head_dim(static_cast<int>(c.head_dim)) || c.rope_dim > c.head_dim) {
        return Error(ErrorCode::kUnsupported, "CUDA backend: head dimension " + std::to_string(c.head_dim));
    }
    // Free memory first, so a model that does not fit fails before it takes the device.
    const uint64_t needed = cuda_bytes_needed(*model, options);
    if (needed + kReserveBytes > s->device.free_bytes) {
        return Error(ErrorCode::kResourceExhausted,
                     "model needs " + std::to_string(needed >> 20) + " MiB on " + s->device.name + " (plus " +
                         std::to_string(kReserveBytes >> 20) + " MiB reserve) but only " +
                         std::to_string(s->device.free_bytes >> 20) + " MiB are free; use the CPU context");
    }

    cudaStream_t stream = nullptr;
    SB_TRY(cuda::check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream"));
    s->stream.reset(stream);
    s->model = model;
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const LayerWeights & l = m.layers[il];
        DeviceLayer dl;
        const std::string p = "blk." + std::to_string(il) + ".";
        SB_ASSIGN_OR_RETURN(dl.wq, upload_weight(l.wq, (p + "attn_q").c_str()));
        SB_ASSIGN_OR_RETURN(dl.wk, upload_weight(l.wk, (p + "attn_k").c_str()));
        SB_ASSIGN_OR_RETURN(dl.wv, upload_weight(l.wv, (p + "attn_v").c_str()));
        SB_ASSIGN_OR_RETURN(dl.wo, upload_weight(l.wo, (p + "attn_output").c_str()));
        SB_ASSIGN_OR_RETURN(dl.gate, upload_weight(l.gate, (p + "ffn_gate").c_str()));
        SB_ASSIGN_OR_RETURN(dl.up, upload_weight(l.up, (p + "ffn_up").c_str()));
        SB_ASSIGN_OR_RETURN(dl.down, upload_weight(l.down, (p + "ffn_down").c_str()));
        SB_ASSIGN_OR_RETURN(dl.attn_norm, upload_floats(l.attn_norm));
        SB_ASSIGN_OR_RETURN(dl.ffn_norm, upload_floats(l.ffn_norm));
        if (c.qkv_bias) {
            SB_ASSIGN_OR_RETURN(dl.bq, upload_floats(l.bq));
            SB_ASSIGN_OR_RETURN(dl.bk, upload_floats(l.bk));
            SB_ASSIGN_OR_RETURN(dl.bv, upload_floats(l.bv));
        }
        s->layers.push_back(std::move(dl));
    }
    SB_ASSIGN_OR_RETURN(s->output, upload_weight(m.output, "output"));
    SB_ASSIGN_OR_RETURN(s->output_norm, upload_floats(m.output_norm));
    std::vector<float> cos_t, sin_t;
    build_rope_table(m, s->n_ctx, cos_t, sin_t);
    SB_ASSIGN_OR_RETURN(s->rope_cos, upload_floats(cos_t));
    SB_ASSIGN_OR_RETURN(s->rope_sin, upload_floats(sin_t));

    const size_t kv_dim = size_t{c.n_head_kv} * c.head_dim;
    const size_t q_dim = size_t{c.n_head} * c.head_dim;
    const size_t cache_bytes = size_t{s->n_ctx} * kv_dim * sizeof(uint16_t);
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        SB_ASSIGN_OR_RETURN(DeviceBuffer kc, DeviceBuffer::allocate(cache_bytes));
        SB_ASSIGN_OR_RETURN(DeviceBuffer vc, DeviceBuffer::allocate(cache_bytes));
        s->k_cache.push_back(std::move(kc));
        s->v_cache.push_back(std::move(vc));
    }
    const size_t b = s->n_batch;
    SB_ASSIGN_OR_RETURN(s->x, DeviceBuffer::allocate(b * c.n_embd * 4));
    SB_ASSIGN_OR_RETURN(s->xn, DeviceBuffer::allocate(b * std::max<size_t>(c.n_embd, q_dim) * 4));
    SB_ASSIGN_OR_RETURN(s->q, DeviceBuffer::allocate(b * q_dim * 4));
    SB_ASSIGN_OR_RETURN(s->k, DeviceBuffer::allocate(b * kv_dim * 4));
    SB_ASSIGN_OR_RETURN(s->v, DeviceBuffer::allocate(b * kv_dim * 4));
    SB_ASSIGN_OR_RETURN(s->attn, DeviceBuffer::allocate(b * q_dim * 4));
    SB_ASSIGN_OR_RETURN(s->gate, DeviceBuffer::allocate(b * c.n_ff * 4));
    SB_ASSIGN_OR_RETURN(s->up, DeviceBuffer::allocate(b * c.n_ff * 4));
    SB_ASSIGN_OR_RETURN(s->logits, DeviceBuffer::allocate(size_t{c.n_vocab} * 4));
    SB_ASSIGN_OR_RETURN(s->logits_host, pinned<float>(c.n_vocab));
    SB_ASSIGN_OR_RETURN(s->embd_host, pinned<float>(b * c.n_embd));
    SB_ASSIGN_OR_RETURN(s->pos_host, pinned<int>(1));
    SB_ASSIGN_OR_RETURN(s->pos_dev, DeviceBuffer::allocate(sizeof(int)));
    s->device_bytes = needed;
    return std::unique_ptr<CudaContext>(new CudaContext(std::move(s)));
}

Result<std::span<const float>> CudaContext::eval(std::span<const int32_t> tokens) {
    State & s = *state_;
    const uint32_t n_vocab = s.model->config().n_vocab;
    SB_TRY(check_eval_tokens(tokens, n_vocab, s.n_past, s.n_ctx));
    SB_TRY(cuda::check(cudaSetDevice(s.device.index), "select device"));
    for (size_t i = 0; i < tokens.size(); i += s.n_batch) {
        SB_TRY(s.forward(tokens.subspan(i, std::min<size_t>(s.n_batch, tokens.size() - i))));
    }
    return std::span<const float>(s.logits_host.get(), n_vocab);
}

uint32_t CudaContext::n_past() const {
    return state_->n_past;
}
uint32_t CudaContext::n_ctx() const {
    return state_->n_ctx;
}
const CudaDeviceInfo & CudaContext::device() const {
    return state_->device;
}
std::string CudaContext::device_name() const {
    return "cuda:" + std::to_string(device().index) + " (" + device().name + ")";
}

uint64_t CudaContext::device_bytes() const {
    return state_->device_bytes;
}

void CudaContext::truncate(uint32_t n) {
    SB_CHECK(n <= state_->n_past);
    state_->n_past = n;
}

}  // namespace strongbox::inference
