// The vocabulary every tokenizer kind is built from, and the behaviour the kinds share.
//
// Design notes:
// 1. A Vocabulary is plain data (what a GGUF `tokenizer.ggml.*` block holds), so tokenizers can
//    be built and tested without a file; make_tokenizer() validates it once (array lengths, ids
//    in range) and the tokenizers then rely on it with SB_CHECK only.
// 2. Special tokens are split out of the text before the kind-specific algorithm runs, as
//    llama.cpp does: user-defined tokens always, control tokens only for encode_with_special().
//    The algorithm then only ever sees the text between them ("fragments").
#pragma once

#include "strongbox/inference/tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strongbox::inference::tokenization {

// GGUF `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type); on-disk, never renumber.
enum class TokenType : int32_t {
    kUndefined = 0,
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6,
};

struct Vocabulary {
    std::string source;  // file name for messages
    std::string model;   // tokenizer.ggml.model: "llama", "gpt2", "bert"
    std::string pre;     // tokenizer.ggml.pre: pre-tokenizer name (byte-level BPE)
    std::vector<std::string> tokens;
    std::vector<float> scores;        // empty, or one per token
    std::vector<TokenType> types;     // empty (all normal), or one per token
    std::vector<std::string> merges;  // "left right", best first (byte-level BPE)
    int32_t bos = -1;
    int32_t eos = -1;
    int32_t unk = -1;
    int32_t pad = -1;
    int32_t eot = -1;
    int32_t sep = -1;  // WordPiece: appended after the text when add_bos is asked for
    bool add_bos = false;
    bool add_space_prefix = true;  // SentencePiece: "▁" in front of the text
};

// Checks the vocabulary and builds the tokenizer its `model` names.
core::Result<std::unique_ptr<Tokenizer>> make_tokenizer(Vocabulary vocab);

// State and behaviour shared by the three kinds.
class TokenizerBase : public Tokenizer {
  public:
    std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
    std::vector<int32_t> encode_with_special(std::string_view text, bool add_bos) const override;
    std::string decode(std::span<const int32_t> ids) const override;
    std::string_view token_text(int32_t id) const override;
    std::optional<int32_t> find_token(std::string_view text) const override;
    int32_t bos() const override { return vocab_.bos; }
    int32_t eos() const override { return vocab_.eos; }
    int32_t n_vocab() const override { return static_cast<int32_t>(vocab_.tokens.size()); }
    bool add_bos_by_default() const override { return vocab_.add_bos; }
    bool is_eog(int32_t id) const override;

    const Vocabulary & vocabulary() const { return vocab_; }
    TokenType type_of(int32_t id) const;

  protected:
    explicit TokenizerBase(Vocabulary vocab);

    // Tokenizes text that holds no special token: the whole text, or a stretch that starts it or
    // follows a special token (where SentencePiece puts its space prefix).
    virtual void encode_fragment(std::string_view text, std::vector<int32_t> & out) const = 0;

    // Appends the bytes of `ids` to out (default: token_piece() of each id in range).
    virtual void decode_into(std::span<const int32_t> ids, std::string & out) const;

    const std::unordered_map<std::string_view, int32_t> & ids() const { return ids_; }

  private:
    std::vector<int32_t> encode_impl(std::string_view text, bool add_bos, bool parse_control) const;

    Vocabulary vocab_;
    std::unordered_map<std::string_view, int32_t> ids_;  // views into vocab_.tokens
    std::vector<int32_t> user_defined_;                  // longest spelling first
    std::vector<int32_t> specials_;                      // control + user-defined, longest spelling first
    std::vector<int32_t> eog_;
};

core::Result<std::unique_ptr<Tokenizer>> make_sentencepiece_tokenizer(Vocabulary vocab);
core::Result<std::unique_ptr<Tokenizer>> make_byte_level_bpe_tokenizer(Vocabulary vocab);
core::Result<std::unique_ptr<Tokenizer>> make_wordpiece_tokenizer(Vocabulary vocab);

}  // namespace strongbox::inference::tokenization
