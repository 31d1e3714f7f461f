// Lexical features for the hashed embedder: word unigrams and character 3-5-grams of each word,
// with sublinear term frequency. The hash is fixed (FNV-1a then a SplitMix64 finaliser) so the
// same text maps to the same features on every machine and build: stored vectors depend on it.
#pragma once

#include "tokenize.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strongbox::retrieval::detail {

inline constexpr float kWordWeight = 1.0f;
inline constexpr float kGramWeight = 0.3f;

inline uint64_t stable_hash(std::string_view bytes, uint64_t seed) {
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (char ch : bytes) {
        h ^= static_cast<uint8_t>(ch);
        h *= 1099511628211ULL;
    }
    h += 0x9E3779B97F4A7C15ULL;
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

// Calls on_feature(hash, weight) once per distinct feature of text.
template <typename F>
void for_each_feature(std::string_view text, F && on_feature) {
    std::unordered_map<uint64_t, std::pair<float, int>> counts;  // hash -> (group weight, tf)
    auto add = [&](uint64_t h, float w) {
        auto & slot = counts[h];
        slot.first = w;
        ++slot.second;
    };
    std::string marked;
    for (const auto & token : tokenize(text)) {
        if (is_stopword(token.folded)) {
            continue;
        }
        add(stable_hash(token.folded, 1), kWordWeight);
        marked = "<" + token.folded + ">";
        // n-grams over bytes: folded text is mostly ASCII, and a split multi-byte character
        // still hashes consistently.
        for (size_t n = 3; n <= 5; ++n) {
            if (marked.size() < n) {
                break;
            }
            for (size_t i = 0; i + n <= marked.size(); ++i) {
                add(stable_hash(std::string_view(marked).substr(i, n), 2 + n), kGramWeight);
            }
        }
    }
    for (const auto & [hash, wt] : counts) {
        on_feature(hash, wt.first * (1.0f + std::log(static_cast<float>(wt.second))));
    }
}

inline void l2_normalise(std::vector<float> & v) {
    double norm = 0;
    for (float x : v) {
        norm += static_cast<double>(x) * x;
    }
    if (norm > 0) {
        auto inv = static_cast<float>(1.0 / std::sqrt(norm));
        for (float & x : v) {
            x *= inv;
        }
    }
}

}  // namespace strongbox::retrieval::detail
