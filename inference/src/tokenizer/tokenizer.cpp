#include "strongbox/inference/tokenizer.h"

#include "strongbox/inference/gguf.h"

#include <algorithm>
#include <array>

#include "tokenizer/vocabulary.h"

namespace strongbox::inference {

namespace tokenization {

namespace {

// Spellings of end-of-turn control tokens in the chat formats Strongbox supports.
constexpr std::array<std::string_view, 7> kEogSpellings = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "</s>",
};

bool id_in_range(int32_t id, size_t n) {
    return id >= -1 && (id < 0 || static_cast<size_t>(id) < n);
}

void sort_longest_first(std::vector<int32_t> & ids, const std::vector<std::string> & tokens) {
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return tokens[a].size() > tokens[b].size(); });
}

}  // namespace

TokenizerBase::TokenizerBase(Vocabulary vocab) : vocab_(std::move(vocab)) {
    const auto & tokens = vocab_.tokens;
    ids_.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        // First spelling wins, as in llama.cpp, when a vocabulary repeats one.
        ids_.emplace(tokens[i], static_cast<int32_t>(i));
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        const auto id = static_cast<int32_t>(i);
        const TokenType type = type_of(id);
        if (tokens[i].empty()) {
            continue;
        }
        if (type == TokenType::kUserDefined) {
            user_defined_.push_back(id);
            specials_.push_back(id);
        } else if (type == TokenType::kControl) {
            specials_.push_back(id);
            if (std::find(kEogSpellings.begin(), kEogSpellings.end(), tokens[i]) != kEogSpellings.end()) {
                eog_.push_back(id);
            }
        }
    }
    for (int32_t id : {vocab_.eos, vocab_.eot}) {
        if (id >= 0 && std::find(eog_.begin(), eog_.end(), id) == eog_.end()) {
            eog_.push_back(id);
        }
    }
    sort_longest_first(user_defined_, tokens);
    sort_longest_first(specials_, tokens);
}

TokenType TokenizerBase::type_of(int32_t id) const {
    SB_CHECK(id >= 0 && static_cast<size_t>(id) < vocab_.tokens.size());
    return vocab_.types.empty() ? TokenType::kNormal : vocab_.types[id];
}

std::string_view TokenizerBase::token_text(int32_t id) const {
    SB_CHECK(id >= 0 && static_cast<size_t>(id) < vocab_.tokens.size());
    return vocab_.tokens[id];
}

std::optional<int32_t> TokenizerBase::find_token(std::string_view text) const {
    auto it = ids_.find(text);
    if (it == ids_.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool TokenizerBase::is_eog(int32_t id) const {
    return std::find(eog_.begin(), eog_.end(), id) != eog_.end();
}

std::vector<int32_t> TokenizerBase::encode(std::string_view text, bool add_bos) const {
    return encode_impl(text, add_bos, false);
}

std::vector<int32_t> TokenizerBase::encode_with_special(std::string_view text, bool add_bos) const {
    return encode_impl(text, add_bos, true);
}

std::vector<int32_t> TokenizerBase::encode_impl(std::string_view text, bool add_bos, bool parse_control) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_bos && vocab_.bos >= 0) {
        out.push_back(vocab_.bos);
    }
    const std::vector<int32_t> & specials = parse_control ? specials_ : user_defined_;
    // Only positions whose byte starts some special spelling need the (longest-first) search.
    std::array<bool, 256> starts{};
    for (int32_t id : specials) {
        starts[static_cast<unsigned char>(vocab_.tokens[id][0])] = true;
    }
    size_t fragment_begin = 0;
    size_t i = 0;
    while (i < text.size()) {
        int32_t match = -1;
        if (starts[static_cast<unsigned char>(text[i])]) {
            for (int32_t id : specials) {
                if (text.substr(i).starts_with(vocab_.tokens[id])) {
                    match = id;
                    break;
                }
            }
        }
        if (match < 0) {
            ++i;
            continue;
        }
        if (i > fragment_begin) {
            encode_fragment(text.substr(fragment_begin, i - fragment_begin), out);
        }
        out.push_back(match);
        i += vocab_.tokens[match].size();
        fragment_begin = i;
    }
    if (fragment_begin < text.size()) {
        encode_fragment(text.substr(fragment_begin), out);
    }
    if (add_bos && vocab_.sep >= 0) {
        out.push_back(vocab_.sep);
    }
    return out;
}

std::string TokenizerBase::decode(std::span<const int32_t> ids) const {
    std::string out;
    decode_into(ids, out);
    return out;
}

void TokenizerBase::decode_into(std::span<const int32_t> ids, std::string & out) const {
    for (int32_t id : ids) {
        if (id >= 0 && id < n_vocab()) {
            out += token_piece(id);
        }
    }
}

core::Result<std::unique_ptr<Tokenizer>> make_tokenizer(Vocabulary vocab) {
    const std::string where = "tokenizer of " + vocab.source;
    const size_t n = vocab.tokens.size();
    if (n == 0) {
        return core::Error(core::ErrorCode::kCorruptInput, where + ": the vocabulary is empty");
    }
    if (n > static_cast<size_t>(INT32_MAX)) {
        return core::Error(core::ErrorCode::kCorruptInput, where + ": the vocabulary is too large");
    }
    if (!vocab.scores.empty() && vocab.scores.size() != n) {
        return core::Error(core::ErrorCode::kCorruptInput, where + ": " + std::to_string(vocab.scores.size()) +
                                                               " scores for " + std::to_string(n) + " tokens");
    }
    if (!vocab.types.empty() && vocab.types.size() != n) {
        return core::Error(core::ErrorCode::kCorruptInput, where + ": " + std::to_string(vocab.types.size()) +
                                                               " token types for " + std::to_string(n) + " tokens");
    }
    const std::pair<const char *, int32_t> ids[] = {{"bos", vocab.bos},     {"eos", vocab.eos},
                                                    {"unknown", vocab.unk}, {"padding", vocab.pad},
                                                    {"eot", vocab.eot},     {"separator", vocab.sep}};
    for (const auto & [what, id] : ids) {
        if (!id_in_range(id, n)) {
            return core::Error(core::ErrorCode::kCorruptInput, where + ": " + what + " token id " + std::to_string(id) +
                                                                   " is outside the vocabulary of " +
                                                                   std::to_string(n));
        }
    }
    if (vocab.model == "llama") {
        return make_sentencepiece_tokenizer(std::move(vocab));
    }
    if (vocab.model == "gpt2") {
        return make_byte_level_bpe_tokenizer(std::move(vocab));
    }
    if (vocab.model == "bert") {
        return make_wordpiece_tokenizer(std::move(vocab));
    }
    return core::Error(core::ErrorCode::kUnsupported,
                       where + ": tokenizer model \"" + vocab.model + "\" is not supported (llama, gpt2 and bert are)");
}

}  // namespace tokenization

namespace {

// Reads an optional token id; -1 when the key is absent.
core::Result<int32_t> optional_id(const GgufFile & file, std::string_view key) {
    if (file.find(key) == nullptr) {
        return -1;
    }
    SB_ASSIGN_OR_RETURN(uint32_t id, file.get_uint32(key));
    if (id > static_cast<uint32_t>(INT32_MAX)) {
        return core::Error(core::ErrorCode::kCorruptInput, file.name() + ": " + std::string(key) + " is out of range");
    }
    return static_cast<int32_t>(id);
}

core::Result<bool> optional_bool(const GgufFile & file, std::string_view key, bool fallback) {
    if (file.find(key) == nullptr) {
        return fallback;
    }
    return file.get_bool(key);
}

core::Result<tokenization::Vocabulary> read_vocabulary(const GgufFile & file) {
    using tokenization::TokenType;
    tokenization::Vocabulary v;
    v.source = file.name();
    SB_ASSIGN_OR_RETURN(v.model, file.get_string("tokenizer.ggml.model"));
    SB_ASSIGN_OR_RETURN(std::span<const std::string> tokens, file.get_string_array("tokenizer.ggml.tokens"));
    v.tokens.assign(tokens.begin(), tokens.end());
    if (file.find("tokenizer.ggml.scores") != nullptr) {
        SB_ASSIGN_OR_RETURN(v.scores, file.get_float32_array("tokenizer.ggml.scores"));
    }
    if (file.find("tokenizer.ggml.token_type") != nullptr) {
        SB_ASSIGN_OR_RETURN(std::vector<int32_t> types, file.get_int32_array("tokenizer.ggml.token_type"));
        v.types.reserve(types.size());
        for (size_t i = 0; i < types.size(); ++i) {
            if (types[i] < 0 || types[i] > static_cast<int32_t>(TokenType::kByte)) {
                return core::Error(core::ErrorCode::kCorruptInput, file.name() + ": tokenizer.ggml.token_type[" +
                                                                       std::to_string(i) + "] is " +
                                                                       std::to_string(types[i]) + ", not a token type");
            }
            v.types.push_back(static_cast<TokenType>(types[i]));
        }
    }
    if (file.find("tokenizer.ggml.merges") != nullptr) {
        SB_ASSIGN_OR_RETURN(std::span<const std::string> merges, file.get_string_array("tokenizer.ggml.merges"));
        v.merges.assign(merges.begin(), merges.end());
    }
    if (file.find("tokenizer.ggml.pre") != nullptr) {
        SB_ASSIGN_OR_RETURN(v.pre, file.get_string("tokenizer.ggml.pre"));
    }
    SB_ASSIGN_OR_RETURN(v.bos, optional_id(file, "tokenizer.ggml.bos_token_id"));
    SB_ASSIGN_OR_RETURN(v.eos, optional_id(file, "tokenizer.ggml.eos_token_id"));
    SB_ASSIGN_OR_RETURN(v.unk, optional_id(file, "tokenizer.ggml.unknown_token_id"));
    SB_ASSIGN_OR_RETURN(v.pad, optional_id(file, "tokenizer.ggml.padding_token_id"));
    SB_ASSIGN_OR_RETURN(v.eot, optional_id(file, "tokenizer.ggml.eot_token_id"));
    // SentencePiece vocabularies want BOS by default; byte-level BPE ones say so explicitly.
    SB_ASSIGN_OR_RETURN(v.add_bos, optional_bool(file, "tokenizer.ggml.add_bos_token", v.model != "gpt2"));
    SB_ASSIGN_OR_RETURN(v.add_space_prefix, optional_bool(file, "tokenizer.ggml.add_space_prefix", true));
    if (v.model == "bert") {
        // BERT frames a sequence as [CLS] ... [SEP]; the GGUF key is spelled "seperator".
        SB_ASSIGN_OR_RETURN(int32_t cls, optional_id(file, "tokenizer.ggml.cls_token_id"));
        SB_ASSIGN_OR_RETURN(v.sep, optional_id(file, "tokenizer.ggml.seperator_token_id"));
        if (cls >= 0) {
            v.bos = cls;
        }
        if (v.eos < 0) {
            v.eos = v.sep;
        }
    }
    return v;
}

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile & file) {
    auto vocab = read_vocabulary(file);
    if (!vocab.ok()) {
        return std::move(vocab).error().with_context("read tokenizer");
    }
    return tokenization::make_tokenizer(std::move(vocab).value());
}

}  // namespace strongbox::inference
