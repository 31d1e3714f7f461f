// WordPiece (BERT): the basic tokenizer cleans, lower-cases, strips accents and splits on
// whitespace, punctuation and CJK ideographs; each word is then cut greedily into the longest
// vocabulary pieces, and a word that cannot be cut completely becomes the unknown token.
//
// Design notes:
// 1. Two spellings of the same vocabulary exist: Hugging Face's (word-initial "hello",
//    continuation "##lo") and llama.cpp's GGUF one (word-initial "▁hello", continuation "lo").
//    The tokenizer detects which one it holds and uses the matching prefixes.
// 2. Accent stripping is Unicode NFD followed by dropping nonspacing marks (Mn), as Hugging
//    Face's BasicTokenizer does; lower-casing is the simple one-to-one mapping.
#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocabulary.h"

namespace strongbox::inference::tokenization {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // "▁"
constexpr size_t kMaxWordChars = 100;                      // longer words become [UNK], as in BERT

bool is_cjk(char32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// BERT counts every ASCII non-alphanumeric printable character as punctuation.
bool is_bert_punctuation(char32_t cp, uint16_t flags) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
        return true;
    }
    return (flags & unicode::kPunctuation) != 0;
}

class WordPieceTokenizer final : public TokenizerBase {
  public:
    explicit WordPieceTokenizer(Vocabulary vocab) : TokenizerBase(std::move(vocab)) {
        const auto & tokens = vocabulary().tokens;
        phantom_space_ = std::any_of(tokens.begin(), tokens.end(),
                                     [](const std::string & t) { return t.starts_with(kSpaceMarker); });
        word_prefix_ = phantom_space_ ? std::string(kSpaceMarker) : std::string();
        continuation_prefix_ = phantom_space_ ? std::string() : std::string("##");
        for (const auto & t : tokens) {
            max_token_bytes_ = std::max(max_token_bytes_, t.size());
        }
        unk_ = vocabulary().unk >= 0 ? vocabulary().unk : find_token("[UNK]").value_or(-1);
        pieces_.reserve(tokens.size());
        for (int32_t id = 0; id < n_vocab(); ++id) {
            pieces_.push_back(make_piece(id));
        }
    }

    TokenizerKind kind() const override { return TokenizerKind::kWordPiece; }

    std::string token_piece(int32_t id) const override {
        SB_CHECK(id >= 0 && id < n_vocab());
        return pieces_[id];
    }

  protected:
    void encode_fragment(std::string_view text, std::vector<int32_t> & out) const override {
        std::string word;
        size_t word_chars = 0;
        std::u32string decomposed;
        auto flush = [&] {
            if (!word.empty()) {
                cut_word(word, word_chars, out);
            }
            word.clear();
            word_chars = 0;
        };
        for (const auto & c : unicode::decode_utf8(text)) {
            const uint16_t flags = unicode::codepoint_flags(c.cp);
            if (flags & unicode::kWhitespace) {
                flush();
                continue;
            }
            if (c.cp == 0 || c.cp == 0xFFFD || (flags & unicode::kControl)) {
                continue;
            }
            decomposed.clear();
            unicode::append_nfd(unicode::to_lower(c.cp), decomposed);
            for (char32_t d : decomposed) {
                const uint16_t dflags = unicode::codepoint_flags(d);
                if (dflags & unicode::kNonspacingMark) {
                    continue;
                }
                if (is_bert_punctuation(d, dflags) || is_cjk(d)) {
                    flush();
                    unicode::append_utf8(word, d);
                    word_chars = 1;
                    flush();
                    continue;
                }
                unicode::append_utf8(word, d);
                ++word_chars;
            }
        }
        flush();
    }

    void decode_into(std::span<const int32_t> ids, std::string & out) const override {
        const size_t start = out.size();
        for (int32_t id : ids) {
            if (id >= 0 && id < n_vocab()) {
                out += pieces_[id];
            }
        }
        if (out.size() > start && out[start] == ' ') {
            out.erase(start, 1);  // the separator before the first word
        }
    }

  private:
    void cut_word(const std::string & word, size_t n_chars, std::vector<int32_t> & out) const {
        const size_t mark = out.size();
        bool complete = n_chars <= kMaxWordChars;
        std::string key;
        for (size_t i = 0; complete && i < word.size();) {
            const std::string & prefix = i == 0 ? word_prefix_ : continuation_prefix_;
            size_t len = std::min(word.size() - i, max_token_bytes_);
            int32_t found = -1;
            for (; len > 0; --len) {
                key.assign(prefix);
                key.append(word, i, len);
                if (auto id = find_token(key)) {
                    found = *id;
                    break;
                }
            }
            if (found < 0) {
                complete = false;
                break;
            }
            out.push_back(found);
            i += len;
        }
        if (!complete) {
            out.resize(mark);
            if (unk_ >= 0) {
                out.push_back(unk_);
            }
        }
    }

    std::string make_piece(int32_t id) const {
        if (id == unk_) {
            return " " + vocabulary().tokens[id];  // shown, so lost words stay visible: "[UNK]"
        }
        if (type_of(id) == TokenType::kControl || type_of(id) == TokenType::kUnused) {
            return {};
        }
        const std::string & text = vocabulary().tokens[id];
        if (phantom_space_) {
            return text.starts_with(kSpaceMarker) ? " " + text.substr(kSpaceMarker.size()) : text;
        }
        return text.starts_with("##") ? text.substr(2) : " " + text;
    }

    bool phantom_space_ = false;
    std::string word_prefix_;
    std::string continuation_prefix_;
    size_t max_token_bytes_ = 0;
    int32_t unk_ = -1;
    std::vector<std::string> pieces_;
};

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> make_wordpiece_tokenizer(Vocabulary vocab) {
    return std::unique_ptr<Tokenizer>(new WordPieceTokenizer(std::move(vocab)));
}

}  // namespace strongbox::inference::tokenization
