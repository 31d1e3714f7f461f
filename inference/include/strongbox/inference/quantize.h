// Model quantization: rewrite a GGUF model with its weight matrices in a smaller encoding
// (`strongbox model quantize in.gguf out.gguf Q4_K_M`).
//
// Targets are a tensor type name (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL, F16, BF16)
// or a mix: Q4_K_M / Q5_K_M. Our mix rule (in the spirit of llama.cpp's, not a copy of it):
//   - output.weight, or token_embd.weight when the output is tied to it: Q6_K;
//   - attn_v.weight and ffn_down.weight of the first and last eighth of the layers and of every
//     third layer in between: Q6_K (these matrices are the most sensitive to rounding);
//   - every other matrix: Q4_K (Q5_K for Q5_K_M).
// Only 2-D tensors named *.weight are quantized; norms and biases keep their type. A matrix
// whose rows are not whole 256-element super-blocks (Qwen2.5-0.5B's 896) falls back to the
// 32-element type of about the same size (Q2_K/Q3_K -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0), and rows that are not whole 32-element blocks either fall back to F16.
// Source tensors of any decodable type are dequantized row by row first.
// Metadata is copied, with general.file_type set to match.
//
// Thread-safety: quantize_model may run concurrently on different files.
// Errors: kInvalidArgument for an unknown target, the GgufFile/Model errors for the input,
// kIoError naming the output path. The output appears only when complete (atomic rename).
//
//   SB_ASSIGN_OR_RETURN(QuantizeReport r, quantize_model("f32.gguf", "q8.gguf", "Q8_0"));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/tensor_type.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference {

struct QuantizeReport {
    std::map<std::string, uint32_t> tensor_types;  // type name -> tensors written
    std::vector<std::string> fallbacks;            // "blk.0.ffn_down.weight: q8_0 -> f16 (row 172)"
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
};

// The type `target` gives the tensor `name` of `shape` in a model of n_layer layers, or its
// own type `source` when it is not quantized. tied_output: the model has no output.weight.
core::Result<TensorType> plan_tensor_type(std::string_view target, std::string_view name,
                                          std::span<const uint64_t> shape, TensorType source, uint32_t n_layer,
                                          bool tied_output);

core::Result<QuantizeReport> quantize_model(const std::filesystem::path & in, const std::filesystem::path & out,
                                            std::string_view target, int n_threads = 1);

}  // namespace strongbox::inference
