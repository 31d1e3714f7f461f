#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace strongbox::inference::unicode {

namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kMaxCodepoint = 0x10FFFF;

// Hangul syllables decompose arithmetically (Unicode 3.12), so they are not in the table.
constexpr char32_t kHangulBase = 0xAC00;
constexpr char32_t kHangulLeadBase = 0x1100;
constexpr char32_t kHangulVowelBase = 0x1161;
constexpr char32_t kHangulTrailBase = 0x11A7;
constexpr char32_t kHangulVowelCount = 21;
constexpr char32_t kHangulTrailCount = 28;
constexpr char32_t kHangulSyllableCount = 11172;

uint16_t lookup_flags(char32_t cp) {
    const data::FlagRun * begin = data::kFlagRuns;
    const data::FlagRun * end = data::kFlagRuns + data::kFlagRunCount;
    // The last run starting at or before cp.
    const data::FlagRun * it =
        std::upper_bound(begin, end, cp, [](char32_t c, const data::FlagRun & r) { return c < r.first; });
    return it == begin ? 0 : (it - 1)->flags;
}

}  // namespace

uint16_t codepoint_flags(char32_t cp) {
    // Most text is ASCII; skip the binary search for it.
    static const std::array<uint16_t, 128> ascii = [] {
        std::array<uint16_t, 128> t{};
        for (char32_t c = 0; c < 128; ++c) {
            t[c] = lookup_flags(c);
        }
        return t;
    }();
    if (cp < 128) {
        return ascii[cp];
    }
    return cp > kMaxCodepoint ? 0 : lookup_flags(cp);
}

char32_t to_lower(char32_t cp) {
    if (cp < 0x80) {
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    }
    const data::CodepointPair * begin = data::kLowerCase;
    const data::CodepointPair * end = data::kLowerCase + data::kLowerCaseCount;
    const data::CodepointPair * it =
        std::lower_bound(begin, end, cp, [](const data::CodepointPair & p, char32_t c) { return p.from < c; });
    return (it != end && it->from == cp) ? it->to : cp;
}

void append_nfd(char32_t cp, std::u32string & out) {
    if (cp >= kHangulBase && cp < kHangulBase + kHangulSyllableCount) {
        const char32_t index = cp - kHangulBase;
        out.push_back(kHangulLeadBase + index / (kHangulVowelCount * kHangulTrailCount));
        out.push_back(kHangulVowelBase + (index % (kHangulVowelCount * kHangulTrailCount)) / kHangulTrailCount);
        if (index % kHangulTrailCount != 0) {
            out.push_back(kHangulTrailBase + index % kHangulTrailCount);
        }
        return;
    }
    if (cp < 0xC0) {
        out.push_back(cp);  // nothing below U+00C0 decomposes
        return;
    }
    const data::Decomposition * begin = data::kDecompositions;
    const data::Decomposition * end = data::kDecompositions + data::kDecompositionCount;
    const data::Decomposition * it =
        std::lower_bound(begin, end, cp, [](const data::Decomposition & d, char32_t c) { return d.cp < c; });
    if (it == end || it->cp != cp) {
        out.push_back(cp);
        return;
    }
    out.append(data::kDecompositionPool + it->offset, it->length);
}

std::vector<CodepointSpan> decode_utf8(std::string_view text) {
    std::vector<CodepointSpan> out;
    out.reserve(text.size());
    const auto * s = reinterpret_cast<const unsigned char *>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        uint32_t len = 0;
        char32_t cp = 0;
        char32_t min_cp = 0;
        if (c < 0x80) {
            out.push_back({c, static_cast<uint32_t>(i), 1});
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1Fu, min_cp = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0Fu, min_cp = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07u, min_cp = 0x10000;
        }
        bool valid = len != 0 && i + len <= n;
        for (uint32_t k = 1; valid && k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) {
                valid = false;
            } else {
                cp = (cp << 6) | (s[i + k] & 0x3Fu);
            }
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid too.
        valid = valid && cp >= min_cp && cp <= kMaxCodepoint && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!valid) {
            out.push_back({kReplacement, static_cast<uint32_t>(i), 1});
            ++i;
            continue;
        }
        out.push_back({cp, static_cast<uint32_t>(i), len});
        i += len;
    }
    return out;
}

void append_utf8(std::string & out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace strongbox::inference::unicode
