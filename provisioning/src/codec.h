// Byte-level encoding for the provisioning parsers: little-endian fields and strict lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace strongbox::provisioning::detail {

inline void put_u32(std::string & out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
    }
}

inline void put_u64(std::string & out, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
    }
}

inline uint32_t get_u32(std::string_view in, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
        v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
    }
    return v;
}

inline uint64_t get_u64(std::string_view in, size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
    }
    return v;
}

// Lowercase hex only: a canonical document has exactly one spelling of every value.
inline std::optional<std::string> hex_decode(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]);
        const int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> hex_to_array(std::string_view hex) {
    if (hex.size() != 2 * N) {
        return std::nullopt;
    }
    auto bytes = hex_decode(hex);
    if (!bytes) {
        return std::nullopt;
    }
    std::array<uint8_t, N> out{};
    for (size_t i = 0; i < N; ++i) {
        out[i] = static_cast<uint8_t>((*bytes)[i]);
    }
    return out;
}

inline std::string_view as_chars(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

}  // namespace strongbox::provisioning::detail
