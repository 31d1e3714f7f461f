#include "strongbox/inference/tensor_type.h"

#include <array>
#include <string>

namespace strongbox::inference {
namespace {

struct Entry {
    TensorType type;
    TensorTypeTraits traits;
};

constexpr size_t kQK = 32;    // block size of the legacy quants
constexpr size_t kQKK = 256;  // block size of the K-quants

// Sizes follow the GGUF block layouts (fp16 scales, packed nibbles, high bits, K-quant
// super-block scales).
constexpr std::array kTypes = {
    Entry{TensorType::kF32, {"f32", 1, 4}},
    Entry{TensorType::kF16, {"f16", 1, 2}},
    Entry{TensorType::kBF16, {"bf16", 1, 2}},
    Entry{TensorType::kF64, {"f64", 1, 8}},
    Entry{TensorType::kI8, {"i8", 1, 1}},
    Entry{TensorType::kI16, {"i16", 1, 2}},
    Entry{TensorType::kI32, {"i32", 1, 4}},
    Entry{TensorType::kI64, {"i64", 1, 8}},
    Entry{TensorType::kQ4_0, {"q4_0", kQK, 2 + kQK / 2}},
    Entry{TensorType::kQ4_1, {"q4_1", kQK, 4 + kQK / 2}},
    Entry{TensorType::kQ5_0, {"q5_0", kQK, 2 + 4 + kQK / 2}},
    Entry{TensorType::kQ5_1, {"q5_1", kQK, 4 + 4 + kQK / 2}},
    Entry{TensorType::kQ8_0, {"q8_0", kQK, 2 + kQK}},
    Entry{TensorType::kQ8_1, {"q8_1", kQK, 4 + kQK}},
    Entry{TensorType::kQ2_K, {"q2_K", kQKK, kQKK / 16 + kQKK / 4 + 2 + 2}},
    Entry{TensorType::kQ3_K, {"q3_K", kQKK, kQKK / 8 + kQKK / 4 + 12 + 2}},
    Entry{TensorType::kQ4_K, {"q4_K", kQKK, 2 + 2 + 12 + kQKK / 2}},
    Entry{TensorType::kQ5_K, {"q5_K", kQKK, 2 + 2 + 12 + kQKK / 8 + kQKK / 2}},
    Entry{TensorType::kQ6_K, {"q6_K", kQKK, kQKK / 2 + kQKK / 4 + kQKK / 16 + 2}},
    Entry{TensorType::kQ8_K, {"q8_K", kQKK, 4 + kQKK + kQKK / 16 * 2}},
    Entry{TensorType::kIQ4_NL, {"iq4_nl", kQK, 2 + kQK / 2}},
    Entry{TensorType::kIQ4_XS, {"iq4_xs", kQKK, 2 + 2 + kQKK / 64 + kQKK / 2}},
};

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type_id) {
    for (const Entry & e : kTypes) {
        if (static_cast<uint32_t>(e.type) == type_id) {
            return e.traits;
        }
    }
    return std::nullopt;
}

std::string tensor_type_name(uint32_t type_id) {
    auto t = tensor_type_traits(type_id);
    return t ? std::string(t->name) : "type " + std::to_string(type_id);
}

std::optional<TensorType> parse_tensor_type(std::string_view name) {
    for (const Entry & e : kTypes) {
        if (e.traits.name.size() != name.size()) {
            continue;
        }
        bool same = true;
        for (size_t i = 0; i < name.size(); ++i) {
            same = same && lower(name[i]) == lower(e.traits.name[i]);
        }
        if (same) {
            return e.type;
        }
    }
    return std::nullopt;
}

std::optional<size_t> row_size(TensorType type, size_t n) {
    auto t = tensor_type_traits(static_cast<uint32_t>(type));
    if (!t || n % t->block_size != 0) {
        return std::nullopt;
    }
    return n / t->block_size * t->type_size;
}

}  // namespace strongbox::inference
