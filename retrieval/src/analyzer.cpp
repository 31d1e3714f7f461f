#include "strongbox/retrieval/analyzer.h"

#include "tokenize.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_set>
#include <utility>

#include <libstemmer.h>

namespace strongbox::retrieval {
namespace {

using detail::CharKind;

// ---- Splitting into words ----

bool is_hangul(uint32_t cp) {
    return (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3130 && cp <= 0x318F);
}

// A run of letters and digits of one script, [begin, end) in the text.
struct Word {
    uint32_t begin = 0;
    uint32_t end = 0;
    std::string folded;  // lower-case, diacritics removed; a thousands separator dropped
    bool hangul = false;
};

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<Word> split_words(std::string_view text) {
    std::vector<Word> words;
    Word cur;
    bool open = false;
    auto close = [&] {
        if (open && !cur.folded.empty()) {
            words.push_back(std::move(cur));
        }
        cur = Word{};
        open = false;
    };
    size_t i = 0;
    while (i < text.size()) {
        const size_t at = i;
        const uint32_t cp = detail::decode_utf8(text, i);
        const CharKind kind = detail::classify(cp);
        if (kind == CharKind::kSeparator) {
            // "1,850": a comma between a digit run and exactly three digits joins them.
            if (cp == ',' && open && !cur.hangul && all_digits(cur.folded) && i + 3 <= text.size() &&
                all_digits(text.substr(i, 3)) &&
                (i + 3 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 3])))) {
                continue;
            }
            close();
            continue;
        }
        const bool hangul = is_hangul(cp);
        if (open && hangul != cur.hangul && kind == CharKind::kTokenChar) {
            close();
        }
        if (!open) {
            cur.begin = static_cast<uint32_t>(at);
            cur.hangul = hangul;
            open = true;
        }
        if (kind == CharKind::kTokenChar) {
            detail::append_folded(cur.folded, cp);
        }
        cur.end = static_cast<uint32_t>(i);
    }
    close();
    return words;
}

bool is_joiner(char c) {
    return c == '_' || c == '-' || c == '.';
}

// ---- English ----

bool is_english_stopword(std::string_view w) {
    // Function words, and the words of a question that say what is asked rather than about what.
    static const std::unordered_set<std::string_view> kWords = {
        "a",     "about",   "above",  "after", "again",  "against",  "all",     "also",    "am",     "an",
        "and",   "any",     "are",    "as",    "at",     "be",       "because", "been",    "before", "being",
        "below", "between", "both",   "but",   "by",     "can",      "could",   "did",     "do",     "does",
        "doing", "down",    "during", "each",  "few",    "for",      "from",    "further", "had",    "has",
        "have",  "having",  "he",     "her",   "here",   "hers",     "him",     "his",     "how",    "i",
        "if",    "in",      "into",   "is",    "it",     "its",      "itself",  "just",    "me",     "more",
        "most",  "my",      "no",     "nor",   "not",    "of",       "off",     "on",      "once",   "only",
        "or",    "other",   "our",    "out",   "over",   "own",      "please",  "same",    "she",    "should",
        "so",    "some",    "such",   "tell",  "than",   "that",     "the",     "their",   "them",   "then",
        "there", "these",   "they",   "this",  "those",  "through",  "to",      "too",     "under",  "until",
        "up",    "very",    "was",    "we",    "were",   "what",     "when",    "where",   "which",  "while",
        "who",   "whom",    "why",    "will",  "with",   "would",    "you",     "your",    "yours",  "yourself",
        "s",     "t",       "many",   "much",  "happen", "happened", "may",     "might",   "must",   "shall",
    };
    return kWords.count(w) > 0;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// British spellings folded to American before stemming, so both meet. Roots are replaced where
// a word starts with them ("colours" -> "colors", "licensed" stays).
void fold_spelling(std::string & w) {
    static const std::array<std::pair<std::string_view, std::string_view>, 34> kRoots = {{
        {"licenc", "licens"},     {"colour", "color"},       {"behaviour", "behavior"}, {"favour", "favor"},
        {"honour", "honor"},      {"labour", "labor"},       {"neighbour", "neighbor"}, {"harbour", "harbor"},
        {"humour", "humor"},      {"flavour", "flavor"},     {"rumour", "rumor"},       {"vapour", "vapor"},
        {"armour", "armor"},      {"endeavour", "endeavor"}, {"centre", "center"},      {"metre", "meter"},
        {"litre", "liter"},       {"fibre", "fiber"},        {"theatre", "theater"},    {"catalogue", "catalog"},
        {"dialogue", "dialog"},   {"analogue", "analog"},    {"defence", "defense"},    {"offence", "offense"},
        {"programme", "program"}, {"grey", "gray"},          {"aluminium", "aluminum"}, {"travell", "travel"},
        {"cancell", "cancel"},    {"modell", "model"},       {"labell", "label"},       {"signall", "signal"},
        {"levell", "level"},      {"tunnell", "tunnel"},
    }};
    for (const auto & [from, to] : kRoots) {
        if (w.size() >= from.size() && std::string_view(w).substr(0, from.size()) == from) {
            w.replace(0, from.size(), to);
            break;
        }
    }
    // -ise/-yse and their forms -> -ize/-yze ("organised", "analysing"). Applied to every word
    // alike, so a word that only looks British ("precise" -> "precize") still meets itself.
    static const std::array<std::string_view, 11> kSuffixes = {
        "isations", "isation", "ising", "ised", "ises", "isers", "iser", "ise", "ysing", "ysed", "yse",
    };
    for (std::string_view suffix : kSuffixes) {
        if (ends_with(w, suffix) && w.size() >= suffix.size() + 3) {
            w[w.size() - suffix.size() + 1] = 'z';
            return;
        }
    }
}

struct StemmerDeleter {
    void operator()(sb_stemmer * s) const { sb_stemmer_delete(s); }
};

// Snowball stemmers keep state between calls: one per thread.
std::string stem_english(const std::string & w) {
    thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(sb_stemmer_new("english", "UTF_8"));
    if (!stemmer) {
        return w;  // out of memory while creating it: unstemmed terms still match exactly
    }
    const sb_symbol * out =
        sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol *>(w.data()), static_cast<int>(w.size()));
    if (out == nullptr) {
        return w;
    }
    return std::string(reinterpret_cast<const char *>(out), static_cast<size_t>(sb_stemmer_length(stemmer.get())));
}

bool ascii_letters(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// One non-Hangul word as a term: English words folded and stemmed; numbers and other scripts as
// folded.
Term word_term(const Word & w) {
    Term t;
    t.begin = w.begin;
    t.end = w.end;
    t.stop = is_english_stopword(w.folded);
    if (ascii_letters(w.folded)) {
        std::string folded = w.folded;
        fold_spelling(folded);
        t.text = stem_english(folded);
        // Snowball keeps the -ur of -ure nouns ("failure" -> failur, "failed" -> fail); the noun
        // and the verb should meet. Short stems keep it ("secure", "ensure" stay apart from "sec").
        for (std::string_view ure : {"ure", "ures", "ured", "uring"}) {
            if (ends_with(folded, ure) && ends_with(t.text, "ur") && t.text.size() >= 6) {
                t.text.resize(t.text.size() - 2);
                break;
            }
        }
    } else {
        t.text = w.folded;
    }
    return t;
}

// ---- Korean ----

constexpr size_t kSyllableBytes = 3;  // every Hangul syllable is three UTF-8 bytes

size_t syllables(std::string_view s) {
    return s.size() / kSyllableBytes;
}

// Particles and verb endings, stripped (one, the longest that fits) from the end of a word when
// at least two syllables remain, so a one-syllable noun is never cut ("평가" stays whole).
const std::vector<std::string_view> & korean_suffixes() {
    static const std::vector<std::string_view> kSuffixes = [] {
        std::vector<std::string_view> v = {
            // particles
            "에서는",
            "에서도",
            "에서의",
            "으로는",
            "으로도",
            "으로서",
            "으로써",
            "에게서",
            "에게는",
            "까지는",
            "부터는",
            "이라는",
            "이라고",
            "라는",
            "라고",
            "에서",
            "에게",
            "한테",
            "으로",
            "부터",
            "까지",
            "보다",
            "처럼",
            "만큼",
            "마다",
            "조차",
            "밖에",
            "이나",
            "이란",
            "이며",
            "에는",
            "에도",
            "와는",
            "과는",
            "와의",
            "과의",
            "로는",
            "로서",
            "로써",
            "의",
            "은",
            "는",
            "이",
            "가",
            "을",
            "를",
            "에",
            "도",
            "만",
            "와",
            "과",
            "로",
            "랑",
            // endings of 되다 / 하다 / 이다 / 있다 / 없다 and common polite forms
            "되었습니다",
            "되었습니까",
            "되었나요",
            "되어야",
            "되었다",
            "되었고",
            "되나요",
            "됩니까",
            "됩니다",
            "되어요",
            "돼요",
            "된다",
            "되는",
            "되면",
            "되지",
            "되며",
            "되고",
            "되어",
            "된",
            "될",
            "하였습니다",
            "했습니다",
            "했나요",
            "합니까",
            "합니다",
            "하나요",
            "하세요",
            "하십시오",
            "하려면",
            "하려고",
            "하였다",
            "했다",
            "하는",
            "하면",
            "하지",
            "하며",
            "하고",
            "하여",
            "해야",
            "해서",
            "해요",
            "한다",
            "한",
            "할",
            "해",
            "입니까",
            "입니다",
            "인가요",
            "인지",
            "이었다",
            "이다",
            "였다",
            "있습니까",
            "있습니다",
            "있나요",
            "있어요",
            "있는",
            "있다",
            "있으며",
            "있고",
            "없습니다",
            "없는",
            "없다",
            "습니까",
            "습니다",
            "나요",
            "세요",
            "십시오",
            "려면",
            "으면",
            "는다",
            "니다",
            "어요",
            "아요",
            "지요",
            "죠",
            "면",
            "고",
            "며",
            "다",
        };
        std::stable_sort(v.begin(), v.end(),
                         [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
        return v;
    }();
    return kSuffixes;
}

bool is_korean_particle(std::string_view w) {
    static const std::unordered_set<std::string_view> kParticles = {
        "은",   "는", "이", "가",   "을",     "를",     "의",   "에",     "도",   "만",
        "와",   "과", "로", "으로", "에서",   "에게",   "부터", "까지",   "보다", "처럼",
        "이나", "나", "랑", "에는", "에서는", "으로는", "로는", "이라는", "라는",
    };
    return kParticles.count(w) > 0;
}

bool is_korean_stopword(std::string_view stem) {
    // Question words, and function words that say nothing about the subject.
    static const std::unordered_set<std::string_view> kWords = {
        "무엇", "뭐",   "무엇을", "언제",   "어디",   "어디서", "누구", "누가", "얼마", "얼마나",
        "몇",   "며칠", "어떻게", "어떤",   "무슨",   "왜",     "어느", "것",   "수",   "등",
        "및",   "또는", "그리고", "하지만", "그러나", "또한",   "그",   "이",   "저",   "때",
        "동안", "대한", "대해",   "위해",   "통해",   "있",     "없",   "자주", "다시",
    };
    return kWords.count(stem) > 0;
}

std::string_view strip_korean_suffix(std::string_view w) {
    for (std::string_view suffix : korean_suffixes()) {
        if (ends_with(w, suffix) && syllables(w) - syllables(suffix) >= 2) {
            return w.substr(0, w.size() - suffix.size());
        }
    }
    return w;
}

// A Korean word as syllable bigrams of its stem (a one-syllable stem as itself), each a position.
void add_korean_terms(const Word & w, std::vector<Term> & out) {
    const std::string_view stem = strip_korean_suffix(w.folded);
    // A verb ending written as its own word ("하나요", "됩니까") says nothing about the subject.
    const auto & suffixes = korean_suffixes();
    const bool stop = is_korean_stopword(stem) || is_korean_stopword(w.folded) ||
                      std::find(suffixes.begin(), suffixes.end(), std::string_view(w.folded)) != suffixes.end();
    const size_t n = syllables(stem);
    if (n <= 1 || stem.size() % kSyllableBytes != 0) {
        out.push_back(Term{std::string(stem), w.begin, w.end, false, stop});
        return;
    }
    for (size_t i = 0; i + 1 < n; ++i) {
        const auto b = static_cast<uint32_t>(w.begin + i * kSyllableBytes);
        out.push_back(Term{std::string(stem.substr(i * kSyllableBytes, 2 * kSyllableBytes)), b,
                           static_cast<uint32_t>(b + 2 * kSyllableBytes), false, stop});
    }
}

}  // namespace

std::vector<Term> analyze(std::string_view text) {
    std::vector<Term> terms;
    const std::vector<Word> words = split_words(text);
    for (size_t i = 0; i < words.size();) {
        const Word & w = words[i];
        if (w.hangul) {
            // "USB를": a particle written onto a Latin word belongs to that word.
            const bool attached = i > 0 && !words[i - 1].hangul && words[i - 1].end == w.begin;
            if (!(attached && is_korean_particle(w.folded))) {
                add_korean_terms(w, terms);
            }
            ++i;
            continue;
        }
        // An identifier: words joined by single _ - . characters, or an option led by - or --.
        size_t last = i;
        while (last + 1 < words.size() && !words[last + 1].hangul && words[last + 1].begin == words[last].end + 1 &&
               is_joiner(text[words[last].end])) {
            ++last;
        }
        uint32_t begin = w.begin;
        while (begin > 0 && text[begin - 1] == '-' && w.begin - begin < 2) {
            --begin;
        }
        const bool option =
            begin < w.begin && !std::isdigit(static_cast<unsigned char>(text[w.begin])) &&
            (begin == 0 || std::isspace(static_cast<unsigned char>(text[begin - 1])) != 0 || text[begin - 1] == '(' ||
             text[begin - 1] == '[' || text[begin - 1] == '`' || text[begin - 1] == '"' || text[begin - 1] == '\'');
        if (!option) {
            begin = w.begin;
        }
        if (last == i && !option) {
            Term t = word_term(w);
            // "how long", "how many": the word after "how" asks for a quantity, it is not a topic.
            static const std::unordered_set<std::string_view> kQuantity = {"long", "many",  "much", "often", "old",
                                                                           "big",  "large", "far",  "soon"};
            t.stop = t.stop || (i > 0 && words[i - 1].folded == "how" && kQuantity.count(w.folded) > 0);
            terms.push_back(std::move(t));
            ++i;
            continue;
        }
        Term whole;
        whole.begin = begin;
        whole.end = words[last].end;
        whole.text.assign(w.begin - begin, '-');
        for (size_t k = i; k <= last; ++k) {
            if (k > i) {
                whole.text.push_back(text[words[k].begin - 1]);
            }
            whole.text += words[k].folded;
        }
        terms.push_back(std::move(whole));
        for (size_t k = i; k <= last; ++k) {
            Term part = word_term(words[k]);
            part.colocated = true;
            terms.push_back(std::move(part));
        }
        i = last + 1;
    }
    return terms;
}

int count_positions(std::string_view text) {
    const std::vector<Term> terms = analyze(text);
    return static_cast<int>(std::count_if(terms.begin(), terms.end(), [](const Term & t) { return !t.colocated; }));
}

std::vector<std::string> query_terms(std::string_view text) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (Term & t : analyze(text)) {
        if (!t.stop && seen.insert(t.text).second) {
            out.push_back(std::move(t.text));
        }
    }
    return out;
}

}  // namespace strongbox::retrieval
