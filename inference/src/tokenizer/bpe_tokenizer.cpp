// Byte-level BPE (GPT-2 family): pre-tokenize, map bytes to GPT-2's printable alphabet, apply
// ranked merges.
//
// Design notes:
// 1. Symbols are token ids from the start: the 256 byte characters are tokens of every
//    byte-level vocabulary, and each merge is stored as (left id, right id) -> (rank, result
//    id). A merge whose parts or result are not tokens can never fire and is dropped.
// 2. Merging uses a min-heap of adjacent pairs keyed by (rank, position) with lazy invalidation,
//    so a long piece (a base64 blob, a digit run under the gpt-2 expression) costs O(n log n),
//    not O(n^2). Ties go to the leftmost pair, as in llama.cpp and Hugging Face tokenizers.
// 3. llama3 vocabularies skip merging for a piece that is itself a token ("ignore_merges").
#include "strongbox/core/log.h"

#include <array>
#include <queue>
#include <unordered_map>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocabulary.h"

namespace strongbox::inference::tokenization {

namespace {

// GPT-2's byte -> code point table: printable Latin-1 bytes stand for themselves, the other 68
// bytes are moved to U+0100 and up, in byte order.
std::array<char32_t, 256> make_byte_alphabet() {
    std::array<char32_t, 256> table{};
    char32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        table[b] = printable ? b : next++;
    }
    return table;
}

const std::array<char32_t, 256> kByteAlphabet = make_byte_alphabet();

// Inverse of kByteAlphabet; -1 for code points outside the alphabet.
int byte_of(char32_t cp) {
    static const std::array<int16_t, 324> inverse = [] {
        std::array<int16_t, 324> t{};
        t.fill(-1);
        for (int b = 0; b < 256; ++b) {
            t[kByteAlphabet[b]] = static_cast<int16_t>(b);
        }
        return t;
    }();
    return cp < inverse.size() ? inverse[cp] : -1;
}

constexpr size_t kCacheFromBytes = 4096;

struct Merge {
    int32_t rank;
    int32_t result;
};

class BytePairTokenizer final : public TokenizerBase {
  public:
    BytePairTokenizer(Vocabulary vocab, PreTokenizer pre)
        : TokenizerBase(std::move(vocab)), pre_(pre), ignore_merges_(pre == PreTokenizer::kLlama3) {}

    // Returns the number of merges that could not be used (parts or result missing).
    core::Result<size_t> init() {
        for (int b = 0; b < 256; ++b) {
            std::string s;
            unicode::append_utf8(s, kByteAlphabet[b]);
            auto id = find_token(s);
            byte_token_[b] = id ? *id : -1;
        }
        const auto & merges = vocabulary().merges;
        merges_.reserve(merges.size());
        size_t unusable = 0;
        std::string joined;
        for (size_t rank = 0; rank < merges.size(); ++rank) {
            const std::string & m = merges[rank];
            const size_t space = m.find(' ', 1);
            if (space == std::string::npos || space + 1 >= m.size()) {
                return core::Error(core::ErrorCode::kCorruptInput, vocabulary().source + ": merge " +
                                                                       std::to_string(rank) + " (\"" + m +
                                                                       "\") is not \"left right\"");
            }
            auto left = find_token(std::string_view(m).substr(0, space));
            auto right = find_token(std::string_view(m).substr(space + 1));
            joined.assign(m, 0, space);
            joined.append(m, space + 1);
            auto result = find_token(joined);
            if (!left || !right || !result) {
                ++unusable;
                continue;
            }
            // First (best) rank wins when a vocabulary lists a pair twice.
            merges_.try_emplace(pair_key(*left, *right), Merge{static_cast<int32_t>(rank), *result});
        }
        pieces_.reserve(vocabulary().tokens.size());
        for (int32_t id = 0; id < n_vocab(); ++id) {
            pieces_.push_back(make_piece(id));
        }
        return unusable;
    }

    TokenizerKind kind() const override { return TokenizerKind::kBytePairEncoding; }

    std::string token_piece(int32_t id) const override {
        SB_CHECK(id >= 0 && id < n_vocab());
        return pieces_[id];
    }

  protected:
    void encode_fragment(std::string_view text, std::vector<int32_t> & out) const override {
        // Long text repeats its pieces; merge each distinct piece once per call.
        const bool use_cache = text.size() > kCacheFromBytes;
        std::unordered_map<std::string_view, std::pair<size_t, size_t>> cache;  // piece -> range in `cached`
        std::vector<int32_t> cached;
        for (std::string_view word : pre_tokenize(pre_, text)) {
            if (!use_cache) {
                encode_word(word, out);
                continue;
            }
            auto [it, inserted] = cache.try_emplace(word);
            if (inserted) {
                const size_t from = cached.size();
                encode_word(word, cached);
                it->second = {from, cached.size()};
            }
            out.insert(out.end(), cached.begin() + static_cast<ptrdiff_t>(it->second.first),
                       cached.begin() + static_cast<ptrdiff_t>(it->second.second));
        }
    }

  private:
    void encode_word(std::string_view word, std::vector<int32_t> & out) const {
        if (ignore_merges_) {
            std::string encoded;
            for (char c : word) {
                unicode::append_utf8(encoded, kByteAlphabet[static_cast<unsigned char>(c)]);
            }
            if (auto id = find_token(encoded)) {
                out.push_back(*id);
                return;
            }
        }
        merge_word(word, out);
    }

    static uint64_t pair_key(int32_t left, int32_t right) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    }

    const Merge * find_merge(int32_t left, int32_t right) const {
        auto it = merges_.find(pair_key(left, right));
        return it == merges_.end() ? nullptr : &it->second;
    }

    void merge_word(std::string_view word, std::vector<int32_t> & out) const {
        struct Symbol {
            int32_t id;
            int32_t prev;
            int32_t next;
        };
        struct Candidate {
            int32_t rank;
            int32_t left;  // symbol index
            int32_t left_id;
            int32_t right_id;
            bool operator>(const Candidate & o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
        };
        std::vector<Symbol> symbols;
        symbols.reserve(word.size());
        for (size_t i = 0; i < word.size(); ++i) {
            const auto n = static_cast<int32_t>(symbols.size());
            symbols.push_back({byte_token_[static_cast<unsigned char>(word[i])], n - 1, n + 1});
        }
        if (symbols.empty()) {
            return;
        }
        symbols.back().next = -1;
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
        auto consider = [&](int32_t left) {
            if (left < 0) {
                return;
            }
            const int32_t right = symbols[left].next;
            if (right < 0 || symbols[left].id < 0 || symbols[right].id < 0) {
                return;
            }
            if (const Merge * m = find_merge(symbols[left].id, symbols[right].id)) {
                queue.push({m->rank, left, symbols[left].id, symbols[right].id});
            }
        };
        for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) {
            consider(i);
        }
        while (!queue.empty()) {
            const Candidate c = queue.top();
            queue.pop();
            Symbol & left = symbols[c.left];
            // Stale entry: one side was merged into something else since it was queued.
            if (left.id != c.left_id || left.next < 0 || symbols[left.next].id != c.right_id) {
                continue;
            }
            const int32_t right_index = left.next;
            left.id = find_merge(c.left_id, c.right_id)->result;
            left.next = symbols[right_index].next;
            if (left.next >= 0) {
                symbols[left.next].prev = c.left;
            }
            symbols[right_index].id = -2;  // dead
            consider(left.prev);
            consider(c.left);
        }
        for (int32_t i = 0; i >= 0; i = symbols[i].next) {
            if (symbols[i].id >= 0) {
                out.push_back(symbols[i].id);
            } else if (vocabulary().unk >= 0) {
                out.push_back(vocabulary().unk);  // a byte the vocabulary has no token for
            }
        }
    }

    std::string make_piece(int32_t id) const {
        const TokenType type = type_of(id);
        if (type == TokenType::kControl || type == TokenType::kUnused) {
            return {};
        }
        const std::string & text = vocabulary().tokens[id];
        if (type == TokenType::kUserDefined) {
            return text;
        }
        std::string piece;
        for (const auto & c : unicode::decode_utf8(text)) {
            const int b = byte_of(c.cp);
            if (b >= 0) {
                piece.push_back(static_cast<char>(b));
            } else {
                piece.append(text, c.offset, c.n_bytes);  // outside the byte alphabet: keep as is
            }
        }
        return piece;
    }

    PreTokenizer pre_;
    bool ignore_merges_;
    std::array<int32_t, 256> byte_token_{};
    std::unordered_map<uint64_t, Merge> merges_;
    std::vector<std::string> pieces_;
};

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> make_byte_level_bpe_tokenizer(Vocabulary vocab) {
    auto pre = parse_pre_tokenizer(vocab.pre);
    if (!pre) {
        return core::Error(core::ErrorCode::kUnsupported,
                           vocab.source + ": pre-tokenizer \"" + vocab.pre +
                               "\" is not supported (gpt-2, llama3/llama-bpe and qwen2 families are)");
    }
    if (vocab.merges.empty()) {
        return core::Error(core::ErrorCode::kCorruptInput, vocab.source + ": byte-level BPE vocabulary has no merges");
    }
    auto tokenizer = std::make_unique<BytePairTokenizer>(std::move(vocab), *pre);
    SB_ASSIGN_OR_RETURN(size_t unusable, tokenizer->init());
    if (unusable > 0) {
        SB_LOG_WARN("%s: %zu merges name pieces that are not tokens and are ignored",
                    tokenizer->vocabulary().source.c_str(), unusable);
    }
    return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace strongbox::inference::tokenization
