// Word tokenization shared by the lexical query builder, chunk length statistics and the hashed
// embedder. It approximates SQLite's unicode61 tokenizer with remove_diacritics 2: runs of ASCII
// letters/digits and non-ASCII letters form tokens; ASCII punctuation, common Unicode punctuation
// and symbols separate them. Folded forms are lower-cased with Latin diacritics removed.
#pragma once

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

// Common English function words that carry no topical evidence on their own.
bool is_stopword(std::string_view folded);

}  // namespace strongbox::retrieval::detail
