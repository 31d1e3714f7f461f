// Tensor element types of GGUF files, with the block layout each one uses on disk.
//
// The numeric values are the GGUF on-disk type ids and must never change. A "block" is the unit
// a quantized row is cut into: block_size elements stored in type_size bytes. Plain data,
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strongbox::inference {

enum class TensorType : uint32_t {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ2_K = 10,
    kQ3_K = 11,
    kQ4_K = 12,
    kQ5_K = 13,
    kQ6_K = 14,
    kQ8_K = 15,
    kIQ4_NL = 20,
    kIQ4_XS = 23,
    kI8 = 24,
    kI16 = 25,
    kI32 = 26,
    kI64 = 27,
    kF64 = 28,
    kBF16 = 30,
};

struct TensorTypeTraits {
    std::string_view name;  // as ggml spells it: "q4_0", "q4_K", "bf16"
    size_t block_size;      // elements per block
    size_t type_size;       // bytes per block
};

// Traits of a type id read from a file; nullopt for ids Strongbox does not know.
std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type_id);

// Name for messages; "type 17" for unknown ids.
std::string tensor_type_name(uint32_t type_id);

// Parses "Q4_0", "q4_k", "F16" ... (case-insensitive).
std::optional<TensorType> parse_tensor_type(std::string_view name);

// Bytes of a row of n elements; nullopt when n is not a whole number of blocks.
std::optional<size_t> row_size(TensorType type, size_t n);

}  // namespace strongbox::inference
