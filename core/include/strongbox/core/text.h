// UTF-8 and small text helpers shared by every module. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::core {

bool is_valid_utf8(std::string_view s);

// Replaces each invalid byte sequence with U+FFFD, keeping everything else.
std::string sanitize_utf8(std::string_view s);

void append_utf8(std::string & out, uint32_t code_point);

// ASCII-only lower-casing (multi-byte sequences pass through unchanged).
std::string ascii_lower(std::string_view s);

std::string_view trim(std::string_view s);

std::vector<std::string_view> split(std::string_view s, char sep);

// Collapses runs of whitespace into one space and trims the ends.
std::string collapse_whitespace(std::string_view s);

}  // namespace strongbox::core
