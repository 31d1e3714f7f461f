// The text analyzer: how every part of Strongbox that matches words sees text. BM25 indexing and
// queries (chunks_fts is tokenized by it), answer selection, citation verification and narrowing
// all call it, so two words that meet in one place meet in all of them.
//
// What it does, in order:
//  - Splits text into words: runs of letters and digits. Hangul and other scripts split apart
//    ("USB를" -> "USB" + "를"), thousands separators join digits ("1,850" -> "1850").
//  - Identifiers and options (words joined by _ - . or led by - or --) give the whole, lower-cased,
//    and then each part at the same position:
//    "asn1_delete_structure" -> asn1_delete_structure, asn1, delet, structur.
//  - English words are lower-cased, diacritics removed, British spellings folded to American
//    (licence -> license, organise -> organize, colour -> color) and stemmed with Snowball's
//    English stemmer ("redistributed" and "redistribute" -> redistribut).
//  - Korean words lose one trailing particle or verb ending when two syllables remain
//    (백업은 -> 백업, 보관되나요 -> 보관) and are indexed as syllable bigrams, so compounds and
//    spacing variants still meet (데이터베이스 -> 데이 이터 터베 베이 이스). A particle written
//    straight after a Latin word ("USB를") is dropped.
//
// kAnalyzerVersion names this behaviour. The index records the version it was built with and
// rebuilds itself when they differ, and answers record it, so a change can never mix silently.
//
// Thread-safety: free functions, safe to call from any thread.
//
//   for (const Term & t : analyze("Licences are redistributed")) { ... }   // licens, are, redistribut
//   query_terms("야간 백업은 며칠 동안 보관되나요?")                       // 야간, 백업, 동안, 보관
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

inline constexpr std::string_view kAnalyzerVersion = "strongbox-analyzer/1 (snowball-english, hangul-bigram)";

struct Term {
    std::string text;    // the normalised term
    uint32_t begin = 0;  // byte range of the word it came from in the analyzed text
    uint32_t end = 0;
    bool colocated = false;  // at the position of the previous term (the parts of an identifier)
    bool stop = false;       // a function or question word: indexed, never searched for
};

// Every term of `text` in order, as the index stores it.
std::vector<Term> analyze(std::string_view text);

// The number of positions `text` occupies (terms that are not colocated): BM25's document length.
int count_positions(std::string_view text);

// The distinct search terms of `text`, in order of first appearance, without stop terms.
std::vector<std::string> query_terms(std::string_view text);

}  // namespace strongbox::retrieval
