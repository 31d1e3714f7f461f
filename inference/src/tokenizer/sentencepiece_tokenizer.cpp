// SentencePiece tokenizer: the SentencePiece library encodes; pieces, ids and decoding are ours.
//
// Design notes:
// 1. GGUF "llama" vocabularies carry pieces, scores and types but no model file, so we write the
//    ModelProto the library loads (sentencepiece_proto.cpp) with llama's settings: BPE over
//    scored pieces, identity normalization, dummy prefix, "▁" for spaces, byte fallback.
// 2. GGUF token types do not always fit the library's rules: Phi-3 marks <unk> as CONTROL and
//    its padding pieces as UNKNOWN, while the library wants exactly one UNKNOWN piece. The piece
//    at the vocabulary's unknown id becomes UNKNOWN and the other UNKNOWN-typed ones UNUSED
//    (never produced by encoding, as in llama.cpp).
// 3. The library's own handling of user-defined pieces is never reached: TokenizerBase splits
//    them out first, so each fragment gets the dummy prefix exactly where llama.cpp puts it.
// 4. The library's BPE slows down sharply on long inputs (9 s for 1 MiB of English in one
//    call), so long fragments are cut before a space that follows a non-space and encoded piece
//    by piece, the later pieces by a second processor without the dummy prefix; long texts
//    encode each distinct word once. That gives the
//    same ids only when no piece can span such a cut (no piece holds "▁" right after another
//    character) and the normalizer leaves spaces alone (identity, no whitespace collapsing, "▁"
//    as prefix); the constructor checks both and otherwise encodes in one call.
#include "strongbox/core/file.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "tokenizer/sentencepiece_proto.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocabulary.h"
#include <sentencepiece_processor.h>

namespace strongbox::inference {

namespace tokenization {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";       // U+2581 "▁"
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", as SentencePiece renders <unk>
constexpr size_t kChunkBytes = 256;                             // short text: library calls of about this size
constexpr size_t kCacheFromBytes = 4096;                        // longer text: one call per distinct word

// Whether some piece holds "▁" right after another character, so BPE could merge across a cut
// placed before a space.
bool has_inner_space_marker(const std::vector<std::string> & pieces) {
    for (const std::string & p : pieces) {
        const size_t m = kSpaceMarker.size();
        for (size_t at = p.find(kSpaceMarker, 1); at != std::string::npos; at = p.find(kSpaceMarker, at + 1)) {
            if (at < m || std::string_view(p).substr(at - m, m) != kSpaceMarker) {
                return true;
            }
        }
    }
    return false;
}

// "<0x0A>" -> 0x0A; -1 when the piece is not a byte piece.
int parse_byte_piece(std::string_view piece) {
    if (piece.size() != 6 || !piece.starts_with("<0x") || piece[5] != '>') {
        return -1;
    }
    int value = 0;
    for (char c : piece.substr(3, 2)) {
        value <<= 4;
        if (c >= '0' && c <= '9') {
            value |= c - '0';
        } else if (c >= 'A' && c <= 'F') {
            value |= c - 'A' + 10;
        } else if (c >= 'a' && c <= 'f') {
            value |= c - 'a' + 10;
        } else {
            return -1;
        }
    }
    return value;
}

class SentencePieceTokenizer final : public TokenizerBase {
  public:
    // `continuation` encodes the pieces of a cut fragment after the first one (no dummy prefix);
    // null disables cutting.
    SentencePieceTokenizer(Vocabulary vocab, std::unique_ptr<sentencepiece::SentencePieceProcessor> processor,
                           std::unique_ptr<sentencepiece::SentencePieceProcessor> continuation)
        : TokenizerBase(std::move(vocab)), processor_(std::move(processor)), continuation_(std::move(continuation)) {
        if (continuation_ && has_inner_space_marker(vocabulary().tokens)) {
            continuation_.reset();
        }
        pieces_.reserve(vocabulary().tokens.size());
        byte_ids_.fill(-1);
        for (int32_t id = 0; id < n_vocab(); ++id) {
            pieces_.push_back(make_piece(id));
            if (type_of(id) == TokenType::kByte) {
                const int byte = parse_byte_piece(vocabulary().tokens[id]);
                if (byte >= 0 && byte_ids_[byte] < 0) {
                    byte_ids_[byte] = id;
                }
            }
        }
        space_id_ = find_token(kSpaceMarker).value_or(-1);
    }

    TokenizerKind kind() const override { return TokenizerKind::kSentencePiece; }

    std::string token_piece(int32_t id) const override {
        SB_CHECK(id >= 0 && id < n_vocab());
        return pieces_[id];
    }

  protected:
    void encode_fragment(std::string_view text, std::vector<int32_t> & out) const override {
        // The library adds the dummy prefix to every call; fragments always start the text or
        // follow a special token, which is where llama.cpp adds it too.
        if (!continuation_ || core::is_valid_utf8(text)) {
            encode_valid(text, true, out);
            return;
        }
        // The library would read invalid UTF-8 as U+FFFD. No piece holds an invalid byte, so
        // nothing merges across one: encode the valid runs around it and give the byte its byte
        // token, which keeps such text (binary junk in logs) lossless.
        bool first = true;
        size_t run_begin = 0;
        for (const auto & c : unicode::decode_utf8(text)) {
            const bool invalid = c.n_bytes == 1 && static_cast<unsigned char>(text[c.offset]) >= 0x80;
            if (!invalid) {
                continue;
            }
            if (c.offset > run_begin) {
                encode_valid(text.substr(run_begin, c.offset - run_begin), first, out);
            } else if (first && vocabulary().add_space_prefix && space_id_ >= 0) {
                out.push_back(space_id_);  // the dummy prefix in front of a leading invalid byte
            }
            first = false;
            const int32_t byte_id = byte_ids_[static_cast<unsigned char>(text[c.offset])];
            if (byte_id >= 0 || vocabulary().unk >= 0) {
                out.push_back(byte_id >= 0 ? byte_id : vocabulary().unk);
            }
            run_begin = c.offset + 1;
        }
        if (run_begin < text.size()) {
            encode_valid(text.substr(run_begin), first, out);
        }
    }

    void decode_into(std::span<const int32_t> ids, std::string & out) const override {
        // encode() puts a space in front of the text and after every special token; those
        // spaces are not part of the text, so the first normal piece after one loses its own.
        bool after_special = true;
        for (int32_t id : ids) {
            if (id < 0 || id >= n_vocab()) {
                continue;
            }
            const TokenType type = type_of(id);
            if (type == TokenType::kControl || type == TokenType::kUserDefined) {
                out += pieces_[id];
                after_special = true;
                continue;
            }
            if (pieces_[id].empty()) {
                continue;
            }
            const bool strip =
                after_special && vocabulary().add_space_prefix && type == TokenType::kNormal && pieces_[id][0] == ' ';
            out.append(pieces_[id], strip ? 1 : 0);
            after_special = false;
        }
    }

  private:
    // Valid UTF-8 only. `with_prefix`: the text starts the fragment and gets the dummy prefix.
    void encode_valid(std::string_view text, bool with_prefix, std::vector<int32_t> & out) const {
        if (!continuation_) {
            encode_call(*processor_, text, out);
            return;
        }
        // Cut before each space that follows a non-space (design note 4). Long text repeats its
        // words, so each distinct word goes to the library once per call.
        const bool use_cache = text.size() > kCacheFromBytes;
        std::unordered_map<std::string_view, std::pair<size_t, size_t>> cache;  // word -> range in `cached`
        std::vector<int32_t> cached;
        size_t begin = 0;
        while (begin < text.size()) {
            size_t end = begin + 1;
            while (end < text.size() && !(text[end] == ' ' && text[end - 1] != ' ')) {
                ++end;
            }
            if (!use_cache) {
                // Short text: fewer, longer library calls are faster than one per word.
                while (end < text.size() && end - begin < kChunkBytes) {
                    ++end;
                    while (end < text.size() && !(text[end] == ' ' && text[end - 1] != ' ')) {
                        ++end;
                    }
                }
            }
            const std::string_view word = text.substr(begin, end - begin);
            if (begin == 0 && with_prefix) {
                encode_call(*processor_, word, out);
            } else if (!use_cache) {
                encode_call(*continuation_, word, out);
            } else {
                auto [it, inserted] = cache.try_emplace(word);
                if (inserted) {
                    const size_t from = cached.size();
                    encode_call(*continuation_, word, cached);
                    it->second = {from, cached.size()};
                }
                out.insert(out.end(), cached.begin() + static_cast<ptrdiff_t>(it->second.first),
                           cached.begin() + static_cast<ptrdiff_t>(it->second.second));
            }
            begin = end;
        }
    }

    static void encode_call(const sentencepiece::SentencePieceProcessor & processor, std::string_view text,
                            std::vector<int32_t> & out) {
        std::vector<int> ids;
        const auto status = processor.Encode(text, &ids);
        SB_CHECK(status.ok());  // fails only when no model is loaded
        out.insert(out.end(), ids.begin(), ids.end());
    }

    std::string make_piece(int32_t id) const {
        const std::string & text = vocabulary().tokens[id];
        switch (type_of(id)) {
        case TokenType::kControl:
        case TokenType::kUnused:
            return {};
        case TokenType::kUnknown:
            return id == vocabulary().unk ? std::string(kUnknownSurface) : std::string();
        case TokenType::kByte: {
            const int byte = parse_byte_piece(text);
            return byte >= 0 ? std::string(1, static_cast<char>(byte)) : std::string();
        }
        case TokenType::kUserDefined:
            return text;
        case TokenType::kNormal:
        case TokenType::kUndefined:
            break;
        }
        std::string piece;
        piece.reserve(text.size());
        for (size_t i = 0; i < text.size();) {
            if (std::string_view(text).substr(i).starts_with(kSpaceMarker)) {
                piece.push_back(' ');
                i += kSpaceMarker.size();
            } else {
                piece.push_back(text[i++]);
            }
        }
        return piece;
    }

    std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
    std::unique_ptr<sentencepiece::SentencePieceProcessor> continuation_;
    std::vector<std::string> pieces_;      // token_piece() of every id
    std::array<int32_t, 256> byte_ids_{};  // "<0xXX>" token of each byte, -1 when absent
    int32_t space_id_ = -1;                // the "▁" piece  // token_piece() of every id
};

core::Result<std::unique_ptr<sentencepiece::SentencePieceProcessor>> load_processor(const std::string & serialized,
                                                                                    const std::string & source) {
    auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = processor->LoadFromSerializedProto(serialized);
    if (!status.ok()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           source + ": SentencePiece rejected the vocabulary: " + status.ToString());
    }
    return processor;
}

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> make_sentencepiece_tokenizer(Vocabulary vocab) {
    const size_t n = vocab.tokens.size();
    if (vocab.types.empty()) {
        vocab.types.assign(n, TokenType::kNormal);
    }
    if (vocab.unk < 0) {
        // llama.cpp's default: the first UNKNOWN-typed piece, else id 0.
        auto it = std::find(vocab.types.begin(), vocab.types.end(), TokenType::kUnknown);
        vocab.unk = it == vocab.types.end() ? 0 : static_cast<int32_t>(it - vocab.types.begin());
    }
    SentencePieceModel model;
    model.pieces = vocab.tokens;
    model.scores = vocab.scores;
    model.types.resize(n);
    for (size_t i = 0; i < n; ++i) {
        TokenType t = vocab.types[i];
        if (static_cast<int32_t>(i) == vocab.unk) {
            t = TokenType::kUnknown;
        } else if (t == TokenType::kUnknown) {
            t = TokenType::kUnused;
        } else if (t == TokenType::kUndefined) {
            t = TokenType::kNormal;
        } else if (t == TokenType::kByte) {
            model.byte_fallback = true;
        }
        vocab.types[i] = t;
        model.types[i] = static_cast<int32_t>(t);
    }
    model.add_dummy_prefix = vocab.add_space_prefix;
    model.unk_id = vocab.unk;
    model.bos_id = vocab.bos;
    model.eos_id = vocab.eos;
    model.pad_id = -1;
    SB_ASSIGN_OR_RETURN(auto processor, load_processor(serialize_sentencepiece_bpe_model(model), vocab.source));
    model.add_dummy_prefix = false;
    SB_ASSIGN_OR_RETURN(auto continuation, load_processor(serialize_sentencepiece_bpe_model(model), vocab.source));
    return std::unique_ptr<Tokenizer>(
        new SentencePieceTokenizer(std::move(vocab), std::move(processor), std::move(continuation)));
}

}  // namespace tokenization

core::Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece_model(const std::filesystem::path & path) {
    using namespace tokenization;
    SB_ASSIGN_OR_RETURN(std::string bytes, core::read_file(path));
    const std::string source = path.string();
    SB_ASSIGN_OR_RETURN(SentencePieceModel model, parse_sentencepiece_model(bytes, source));
    SB_ASSIGN_OR_RETURN(auto processor, load_processor(bytes, source));
    Vocabulary vocab;
    vocab.source = source;
    vocab.model = "llama";
    vocab.tokens = std::move(model.pieces);
    vocab.scores = std::move(model.scores);
    vocab.types.reserve(model.types.size());
    for (int32_t t : model.types) {
        vocab.types.push_back(t >= 1 && t <= 6 ? static_cast<TokenType>(t) : TokenType::kNormal);
    }
    // The library accepted the model, so its special ids are pieces of it or negative.
    const auto n = static_cast<int32_t>(vocab.tokens.size());
    auto id_or_none = [n](int32_t id) {
        return id >= 0 && id < n ? id : -1;
    };
    vocab.bos = id_or_none(model.bos_id);
    vocab.eos = id_or_none(model.eos_id);
    vocab.unk = id_or_none(processor->unk_id());
    vocab.pad = id_or_none(model.pad_id);
    vocab.add_bos = true;
    vocab.add_space_prefix = model.add_dummy_prefix;
    // Cutting long fragments (design note 4) needs spaces left alone by the normalizer.
    std::unique_ptr<sentencepiece::SentencePieceProcessor> continuation;
    if (model.normalizer_name == "identity" && !model.remove_extra_whitespaces && !model.treat_whitespace_as_suffix) {
        SB_ASSIGN_OR_RETURN(continuation, load_processor(bytes + sentencepiece_no_dummy_prefix_suffix(), source));
    }
    return std::unique_ptr<Tokenizer>(
        new SentencePieceTokenizer(std::move(vocab), std::move(processor), std::move(continuation)));
}

}  // namespace strongbox::inference
