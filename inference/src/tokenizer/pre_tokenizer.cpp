#include "tokenizer/pre_tokenizer.h"

#include <array>

#include "tokenizer/unicode.h"

namespace strongbox::inference::tokenization {

namespace {

struct NamedPreTokenizer {
    std::string_view name;
    PreTokenizer kind;
};

// Names llama.cpp's converter writes for vocabularies that use these expressions.
constexpr std::array<NamedPreTokenizer, 11> kNames = {{
    {"gpt-2", PreTokenizer::kGpt2},
    {"gpt2", PreTokenizer::kGpt2},
    {"phi-2", PreTokenizer::kGpt2},
    {"roberta-bpe", PreTokenizer::kGpt2},
    {"llama3", PreTokenizer::kLlama3},
    {"llama-v3", PreTokenizer::kLlama3},
    {"llama-bpe", PreTokenizer::kLlama3},
    {"falcon3", PreTokenizer::kLlama3},
    {"qwen2", PreTokenizer::kQwen2},
    {"deepseek-r1-qwen", PreTokenizer::kQwen2},
    {"megrez", PreTokenizer::kQwen2},
}};

// Code point classes the expressions use, computed once per code point.
enum Class : uint8_t { kLetterClass, kNumberClass, kSpaceClass, kOtherClass };

class Splitter {
  public:
    Splitter(PreTokenizer kind, std::string_view text) : kind_(kind), text_(text), cps_(unicode::decode_utf8(text)) {
        classes_.reserve(cps_.size());
        for (const auto & c : cps_) {
            const uint16_t f = unicode::codepoint_flags(c.cp);
            classes_.push_back((f & unicode::kLetter)       ? kLetterClass
                               : (f & unicode::kNumber)     ? kNumberClass
                               : (f & unicode::kWhitespace) ? kSpaceClass
                                                            : kOtherClass);
        }
    }

    std::vector<std::string_view> run() {
        std::vector<std::string_view> out;
        size_t i = 0;
        while (i < cps_.size()) {
            size_t end = kind_ == PreTokenizer::kGpt2 ? next_gpt2(i) : next_llama3(i);
            if (end <= i) {
                end = i + 1;  // unreachable: the classes cover every code point
            }
            const size_t begin_byte = cps_[i].offset;
            const size_t end_byte = end < cps_.size() ? cps_[end].offset : text_.size();
            out.push_back(text_.substr(begin_byte, end_byte - begin_byte));
            i = end;
        }
        return out;
    }

  private:
    char32_t cp(size_t i) const { return i < cps_.size() ? cps_[i].cp : 0; }
    bool is(size_t i, Class c) const { return i < cps_.size() && classes_[i] == c; }
    static bool is_newline(char32_t c) { return c == '\r' || c == '\n'; }

    size_t run_of(size_t i, Class c) const {
        while (is(i, c)) {
            ++i;
        }
        return i;
    }

    // 's 't 're 've 'm 'll 'd; returns the end, or i when there is none.
    size_t contraction(size_t i, bool ignore_case) const {
        if (cp(i) != '\'' || i + 1 >= cps_.size()) {
            return i;
        }
        auto lower = [&](size_t k) {
            return ignore_case ? unicode::to_lower(cp(k)) : cp(k);
        };
        const char32_t a = lower(i + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return i + 2;
        }
        if (i + 2 < cps_.size()) {
            const char32_t b = lower(i + 2);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return i + 3;
            }
        }
        return i;
    }

    // \s+(?!\S)|\s+ : a run of spaces leaves its last one to the next piece when text follows.
    size_t whitespace(size_t i) const {
        const size_t j = run_of(i, kSpaceClass);
        return (j < cps_.size() && j - i > 1) ? j - 1 : j;
    }

    size_t next_gpt2(size_t i) const {
        if (size_t e = contraction(i, false); e != i) {
            return e;
        }
        const size_t body = (cp(i) == ' ') ? i + 1 : i;  // the optional leading space
        for (Class c : {kLetterClass, kNumberClass, kOtherClass}) {
            if (is(body, c)) {
                return run_of(body, c);
            }
        }
        return whitespace(i);
    }

    size_t next_llama3(size_t i) const {
        if (size_t e = contraction(i, true); e != i) {
            return e;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (is(i, kLetterClass)) {
            return run_of(i, kLetterClass);
        }
        if (!is_newline(cp(i)) && !is(i, kNumberClass) && is(i + 1, kLetterClass)) {
            return run_of(i + 1, kLetterClass);
        }
        // \p{N}{1,3} (qwen2: \p{N})
        if (is(i, kNumberClass)) {
            const size_t max_digits = kind_ == PreTokenizer::kQwen2 ? 1 : 3;
            size_t j = i;
            while (j - i < max_digits && is(j, kNumberClass)) {
                ++j;
            }
            return j;
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        const size_t body = (cp(i) == ' ') ? i + 1 : i;
        if (is(body, kOtherClass)) {
            size_t j = run_of(body, kOtherClass);
            while (j < cps_.size() && is_newline(cp(j))) {
                ++j;
            }
            return j;
        }
        // \s*[\r\n]+ : up to the last line break of the whitespace run
        const size_t j = run_of(i, kSpaceClass);
        for (size_t k = j; k > i; --k) {
            if (is_newline(cp(k - 1))) {
                return k;
            }
        }
        return whitespace(i);
    }

    PreTokenizer kind_;
    std::string_view text_;
    std::vector<unicode::CodepointSpan> cps_;
    std::vector<Class> classes_;
};

}  // namespace

std::optional<PreTokenizer> parse_pre_tokenizer(std::string_view name) {
    for (const auto & n : kNames) {
        if (n.name == name) {
            return n.kind;
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text) {
    return Splitter(kind, text).run();
}

}  // namespace strongbox::inference::tokenization
