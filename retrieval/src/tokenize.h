// Word tokenization shared by the lexical query builder, chunk length statistics and the hashed
// embedder. It approximates SQLite's unicode61 tokenizer with remove_diacritics 2: runs of ASCII
// letters/digits and non-ASCII letters form tokens; ASCII punctuation, common Unicode punctuation
// and symbols separate them. Folded forms are lower-cased with Latin diacritics removed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval::detail {

struct Token {
    std::string_view raw;  // the bytes as they appear in the input
    std::string folded;    // lower-case, diacritics removed
};

std::vector<Token> tokenize(std::string_view text);

// Number of tokens, without building them (chunk lengths for BM25).
int count_tokens(std::string_view text);

// Decodes one code point at s[i] and advances i; an invalid byte decodes as U+FFFD and advances one.
uint32_t decode_utf8(std::string_view s, size_t & i);

// How a code point takes part in a word.
enum class CharKind { kSeparator, kTokenChar, kIgnorable };
CharKind classify(uint32_t cp);

// Appends cp lower-cased, with Latin diacritics removed ("É" -> "e", "ß" -> "ss").
void append_folded(std::string & out, uint32_t cp);

// Common English function words that carry no topical evidence on their own.
bool is_stopword(std::string_view folded);

}  // namespace strongbox::retrieval::detail
