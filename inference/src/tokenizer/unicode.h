// Unicode support for the tokenizers: UTF-8 decoding that keeps byte offsets, general-category
// flags, lower-casing and canonical decomposition. Tables are generated from the Unicode Character
// Database by scripts/gen_unicode_tables.py into unicode_data.cpp. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference::unicode {

enum CodepointFlag : uint16_t {
    kLetter = 1 << 0,          // L*
    kNumber = 1 << 1,          // N*
    kPunctuation = 1 << 2,     // P*
    kSymbol = 1 << 3,          // S*
    kSeparator = 1 << 4,       // Z*
    kControl = 1 << 5,         // Cc, Cf, Cs, Co (not unassigned Cn)
    kMark = 1 << 6,            // M*
    kNonspacingMark = 1 << 7,  // Mn
    kWhitespace = 1 << 8,      // the White_Space property
};

uint16_t codepoint_flags(char32_t cp);

inline bool is_letter(char32_t cp) {
    return (codepoint_flags(cp) & kLetter) != 0;
}
inline bool is_number(char32_t cp) {
    return (codepoint_flags(cp) & kNumber) != 0;
}
inline bool is_whitespace(char32_t cp) {
    return (codepoint_flags(cp) & kWhitespace) != 0;
}

// Simple (one code point to one code point) lower-case mapping; cp itself when there is none.
char32_t to_lower(char32_t cp);

// Appends the full canonical decomposition of cp (cp itself when it has none).
void append_nfd(char32_t cp, std::u32string & out);

// One decoded code point and the bytes it came from. Invalid UTF-8 decodes byte by byte to
// U+FFFD with n_bytes 1, so the byte ranges always tile the input exactly.
struct CodepointSpan {
    char32_t cp;
    uint32_t offset;
    uint32_t n_bytes;
};

std::vector<CodepointSpan> decode_utf8(std::string_view text);

void append_utf8(std::string & out, char32_t cp);

// Data tables (unicode_data.cpp).
namespace data {
struct FlagRun {
    char32_t first;
    uint16_t flags;
};
struct CodepointPair {
    char32_t from;
    char32_t to;
};
struct Decomposition {
    char32_t cp;
    uint32_t offset;  // into kDecompositionPool
    uint32_t length;
};
extern const char kUnicodeVersion[];
extern const FlagRun kFlagRuns[];
extern const size_t kFlagRunCount;
extern const CodepointPair kLowerCase[];
extern const size_t kLowerCaseCount;
extern const char32_t kDecompositionPool[];
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
}  // namespace data

}  // namespace strongbox::inference::unicode
