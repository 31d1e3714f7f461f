#include "tokenize.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace strongbox::retrieval::detail {

uint32_t decode_utf8(std::string_view s, size_t & i) {
    auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int len = 0;
    uint32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        ++i;
        return 0xFFFD;
    }
    if (i + static_cast<size_t>(len) > s.size()) {
        ++i;
        return 0xFFFD;
    }
    for (int k = 1; k < len; ++k) {
        auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    i += static_cast<size_t>(len);
    return cp;
}

CharKind classify(uint32_t cp) {
    if (cp < 0x80) {
        bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
        return alnum ? CharKind::kTokenChar : CharKind::kSeparator;
    }
    if (cp >= 0x300 && cp <= 0x36F) {
        return CharKind::kIgnorable;  // combining diacritics: folded away, they do not split words
    }
    if (cp == 0xAA || cp == 0xB5 || cp == 0xBA) {
        return CharKind::kTokenChar;
    }
    if ((cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x2BFF) ||
        (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF) || cp == 0xFFFD || cp == 0xFEFF) {
        return CharKind::kSeparator;
    }
    return CharKind::kTokenChar;
}

namespace {

// Latin-1 letters U+00C0..U+00FF folded to ASCII (nullptr: not a letter).
constexpr std::array<const char *, 64> kLatin1Fold = {
    "a", "a", "a", "a", "a", "a", "ae", "c",     "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  nullptr, "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c",     "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  nullptr, "o", "u", "u", "u", "u", "y", "th", "y",
};

}  // namespace

void append_folded(std::string & out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    if (cp >= 0xC0 && cp <= 0xFF && kLatin1Fold[cp - 0xC0] != nullptr) {
        out += kLatin1Fold[cp - 0xC0];
        return;
    }
    if (cp >= 0x100 && cp <= 0x17F) {
        // Latin Extended-A alternates upper/lower case; fold to the lower code point. The base
        // letter is not recovered here: rare in our corpora and harmless for hashing.
        bool upper_even = !(cp >= 0x139 && cp <= 0x148) && !(cp >= 0x179 && cp <= 0x17E);
        if (upper_even ? (cp % 2 == 0) : (cp % 2 == 1)) {
            cp += 1;
        }
    } else if (cp >= 0x391 && cp <= 0x3A9) {
        cp += 0x20;  // Greek capitals
    } else if (cp >= 0x410 && cp <= 0x42F) {
        cp += 0x20;  // Cyrillic capitals
    } else if (cp >= 0x400 && cp <= 0x40F) {
        cp += 0x50;
    }
    core::append_utf8(out, cp);
}

namespace {

template <typename F>
void for_each_token(std::string_view text, F && on_token) {
    size_t i = 0;
    size_t start = std::string_view::npos;
    std::string folded;
    while (i < text.size()) {
        size_t at = i;
        uint32_t cp = decode_utf8(text, i);
        CharKind kind = classify(cp);
        if (kind == CharKind::kSeparator) {
            if (start != std::string_view::npos) {
                on_token(text.substr(start, at - start), folded);
                folded.clear();
                start = std::string_view::npos;
            }
            continue;
        }
        if (start == std::string_view::npos) {
            start = at;
        }
        if (kind == CharKind::kTokenChar) {
            append_folded(folded, cp);
        }
    }
    if (start != std::string_view::npos) {
        on_token(text.substr(start), folded);
    }
}

}  // namespace

std::vector<Token> tokenize(std::string_view text) {
    std::vector<Token> tokens;
    for_each_token(text, [&](std::string_view raw, const std::string & folded) {
        if (!folded.empty()) {
            tokens.push_back(Token{raw, folded});
        }
    });
    return tokens;
}

int count_tokens(std::string_view text) {
    int n = 0;
    for_each_token(text, [&](std::string_view, const std::string & folded) { n += folded.empty() ? 0 : 1; });
    return n;
}

bool is_stopword(std::string_view folded) {
    // Sorted for binary search.
    static constexpr std::array<std::string_view, 119> kStopwords = {
        "a",      "about", "above", "after",   "again",   "against",  "all",    "am",     "an",    "and",     "any",
        "are",    "as",    "at",    "be",      "because", "been",     "before", "being",  "below", "between", "both",
        "but",    "by",    "can",   "could",   "did",     "do",       "does",   "doing",  "down",  "during",  "each",
        "few",    "for",   "from",  "further", "had",     "has",      "have",   "having", "he",    "her",     "here",
        "hers",   "him",   "his",   "how",     "i",       "if",       "in",     "into",   "is",    "it",      "its",
        "itself", "me",    "more",  "most",    "my",      "no",       "nor",    "not",    "of",    "off",     "on",
        "once",   "only",  "or",    "other",   "our",     "out",      "over",   "own",    "same",  "she",     "should",
        "so",     "some",  "such",  "than",    "that",    "the",      "their",  "them",   "then",  "there",   "these",
        "they",   "this",  "those", "through", "to",      "too",      "under",  "until",  "up",    "very",    "was",
        "we",     "were",  "what",  "when",    "where",   "which",    "while",  "who",    "whom",  "why",     "will",
        "with",   "would", "you",   "your",    "yours",   "yourself", "s",      "t",      "just",
    };
    static const std::vector<std::string_view> sorted = [] {
        std::vector<std::string_view> v(kStopwords.begin(), kStopwords.end());
        std::sort(v.begin(), v.end());
        return v;
    }();
    return std::binary_search(sorted.begin(), sorted.end(), folded);
}

}  // namespace strongbox::retrieval::detail
