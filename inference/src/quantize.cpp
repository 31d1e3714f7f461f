#include "strongbox/inference/quantize.h"

#include "strongbox/inference/gguf.h"
#include "strongbox/inference/gguf_writer.h"

#include <cstring>

#include "cpu/matmul.h"
#include "cpu/quants.h"
#include "cpu/thread_pool.h"

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

struct Target {
    TensorType base = TensorType::kQ8_0;
    bool mix = false;  // *_K_M: Q6_K for the sensitive matrices
};

Result<Target> parse_target(std::string_view target) {
    std::string t(target);
    for (char & ch : t) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (t == "Q4_K_M") {
        return Target{TensorType::kQ4_K, true};
    }
    if (t == "Q5_K_M") {
        return Target{TensorType::kQ5_K, true};
    }
    auto type = parse_tensor_type(target);
    if (!type || !cpu::is_quantizable(*type) || *type == TensorType::kF32) {
        return Error(ErrorCode::kInvalidArgument,
                     "quantize: unknown target '" + std::string(target) +
                         "' (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, Q4_K_M, Q5_K_M, IQ4_NL, F16, BF16)");
    }
    return Target{*type, false};
}

// general.file_type values ("mostly X") as the GGUF convention numbers them.
uint32_t file_type_of(const Target & t) {
    if (t.mix) {
        return t.base == TensorType::kQ4_K ? 15 : 17;
    }
    switch (t.base) {
    case TensorType::kF16:
        return 1;
    case TensorType::kQ4_0:
        return 2;
    case TensorType::kQ4_1:
        return 3;
    case TensorType::kQ8_0:
        return 7;
    case TensorType::kQ5_0:
        return 8;
    case TensorType::kQ5_1:
        return 9;
    case TensorType::kQ2_K:
        return 10;
    case TensorType::kQ3_K:
        return 11;
    case TensorType::kQ4_K:
        return 14;
    case TensorType::kQ5_K:
        return 16;
    case TensorType::kQ6_K:
        return 18;
    case TensorType::kIQ4_NL:
        return 25;
    case TensorType::kBF16:
        return 32;
    default:
        return 0;
    }
}

// Layer index of "blk.N.*", or -1.
int layer_of(std::string_view name) {
    if (name.substr(0, 4) != "blk.") {
        return -1;
    }
    int n = 0;
    size_t i = 4;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
        n = n * 10 + (name[i] - '0');
    }
    return i > 4 ? n : -1;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Choice {
    TensorType preferred;
    TensorType chosen;
};

Choice choose(const Target & t, std::string_view name, std::span<const uint64_t> shape, TensorType source,
              uint32_t n_layer, bool tied_output) {
    if (shape.size() != 2 || !ends_with(name, ".weight")) {
        return {source, source};
    }
    TensorType want = t.base;
    if (t.mix) {
        const int il = layer_of(name);
        const auto n = static_cast<int>(n_layer);
        const bool edge_or_third = il >= 0 && (il < n / 8 || il >= 7 * n / 8 || (il - n / 8) % 3 == 2);
        if (name == "output.weight" || (tied_output && name == "token_embd.weight")) {
            want = TensorType::kQ6_K;
        } else if ((ends_with(name, ".attn_v.weight") || ends_with(name, ".ffn_down.weight")) && edge_or_third) {
            want = TensorType::kQ6_K;
        }
    }
    const auto cols = static_cast<size_t>(shape[0]);
    if (row_size(want, cols)) {
        return {want, want};
    }
    // Rows that are not whole 256-element super-blocks: the 32-element type of about the same
    // size, then F16, which fits any row.
    TensorType fallback = TensorType::kF16;
    switch (want) {
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kIQ4_XS:
        fallback = TensorType::kIQ4_NL;
        break;
    case TensorType::kQ4_K:
        fallback = TensorType::kQ5_0;
        break;
    case TensorType::kQ5_K:
        fallback = TensorType::kQ5_1;
        break;
    case TensorType::kQ6_K:
        fallback = TensorType::kQ8_0;
        break;
    default:
        break;
    }
    if (!row_size(fallback, cols)) {
        fallback = TensorType::kF16;
    }
    return {want, fallback};
}

}  // namespace

Result<TensorType> plan_tensor_type(std::string_view target, std::string_view name, std::span<const uint64_t> shape,
                                    TensorType source, uint32_t n_layer, bool tied_output) {
    SB_ASSIGN_OR_RETURN(Target t, parse_target(target));
    return choose(t, name, shape, source, n_layer, tied_output).chosen;
}

Result<QuantizeReport> quantize_model(const std::filesystem::path & in, const std::filesystem::path & out,
                                      std::string_view target, int n_threads) {
    SB_ASSIGN_OR_RETURN(Target t, parse_target(target));
    SB_ASSIGN_OR_RETURN(GgufFile src, GgufFile::open(in));
    const std::string arch = src.get_string("general.architecture").value_or("llama");
    const uint32_t n_layer = src.get_uint32(arch + ".block_count").value_or(0);
    const bool tied = src.find_tensor("output.weight") == nullptr;

    QuantizeReport report;
    report.bytes_in = src.file_size();
    GgufWriter w(src.alignment());
    for (const auto & [key, value] : src.metadata()) {
        if (key != "general.alignment") {
            w.set(key, value);
        }
    }
    w.set("general.file_type", GgufValue::of_uint32(file_type_of(t)));
    w.set("general.quantization_version", GgufValue::of_uint32(2));

    auto pool = std::make_shared<cpu::ThreadPool>(n_threads);
    for (const GgufTensorInfo & info : src.tensors()) {
        const auto source = static_cast<TensorType>(info.type_id);
        const Choice c = choose(t, info.name, info.shape, source, n_layer, tied);
        if (c.chosen != c.preferred) {
            report.fallbacks.push_back(info.name + ": " + tensor_type_name(static_cast<uint32_t>(c.preferred)) +
                                       " -> " + tensor_type_name(static_cast<uint32_t>(c.chosen)) + " (row " +
                                       std::to_string(info.shape[0]) + ")");
        }
        if (c.chosen != source && (!cpu::is_quantizable(source) || !cpu::is_quantizable(c.chosen))) {
            return Error(ErrorCode::kUnsupported, in.string() + ": tensor '" + info.name +
                                                      "' cannot be converted from " + tensor_type_name(info.type_id) +
                                                      " to " + tensor_type_name(static_cast<uint32_t>(c.chosen)));
        }
        if (info.shape.size() == 2 && c.chosen != source && !cpu::matmul_supported(c.chosen)) {
            return Error(ErrorCode::kUnsupported, "quantize: the CPU kernels cannot multiply " +
                                                      tensor_type_name(static_cast<uint32_t>(c.chosen)));
        }
        ++report.tensor_types[tensor_type_name(static_cast<uint32_t>(c.chosen))];
        const GgufTensorInfo * tensor = &info;
        if (c.chosen == source) {
            SB_TRY(w.add_tensor(info.name, source, info.shape, std::span<const uint8_t>(info.data, info.n_bytes)));
            continue;
        }
        const TensorType dst_type = c.chosen;
        // The fill runs during write(), while `src` is still open.
        SB_TRY(w.add_tensor(info.name, dst_type, info.shape, [tensor, source, dst_type, pool](std::span<uint8_t> dst) {
            const auto cols = static_cast<size_t>(tensor->shape[0]);
            const size_t rows = tensor->n_rows();
            const size_t in_stride = *row_size(source, cols);
            const size_t out_stride = *row_size(dst_type, cols);
            SB_CHECK(out_stride * rows == dst.size());
            pool->parallel_for(rows, [&](size_t begin, size_t end) {
                std::vector<float> row(cols);
                for (size_t r = begin; r < end; ++r) {
                    SB_CHECK(cpu::dequantize_row(source, tensor->data + r * in_stride, row.data(), cols));
                    SB_CHECK(cpu::quantize_row(dst_type, row.data(), dst.data() + r * out_stride, cols));
                }
            });
            return core::ok_status();
        }));
    }
    SB_TRY(w.write(out));
    std::error_code ec;
    report.bytes_out = std::filesystem::file_size(out, ec);
    return report;
}

}  // namespace strongbox::inference
