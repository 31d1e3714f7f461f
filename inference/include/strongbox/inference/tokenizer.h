// Tokenizer: turns text into the token ids a model was trained on, and ids back into bytes.
//
// Three kinds, chosen by the GGUF key `tokenizer.ggml.model`:
//   - "llama": SentencePiece (BPE over pieces with scores, byte fallback, "▁" for spaces), run by
//     the SentencePiece library from a model built out of the GGUF vocabulary, or loaded from a
//     `tokenizer.model` file;
//   - "gpt2": byte-level BPE (GPT-2 byte-to-unicode alphabet, ranked merges) after a
//     pre-tokenizer chosen by `tokenizer.ggml.pre` ("gpt-2", "llama3"/"llama-bpe", "qwen2", ...);
//   - "bert": WordPiece (BERT basic tokenizer: lower-case, strip accents, split punctuation and
//     CJK, then greedy longest match with continuation pieces).
// Ids match llama.cpp's tokenizer on the same vocabulary (add_special = false,
// parse_special = false) for every vocabulary in tests/data/inference/tokenizer.
//
// Thread-safety: a Tokenizer is immutable after construction; every method is const and may be
// called from many threads at once.
// Errors: the factories return kNotFound (missing file or vocabulary key), kCorruptInput
// (inconsistent vocabulary: array lengths differ, ids out of range, unparsable merges) or
// kUnsupported (unknown tokenizer model). encode() never fails: bytes no piece covers become
// byte tokens or the unknown token. Ids outside [0, n_vocab()) are a caller bug (SB_CHECK) in
// token_piece()/token_text(); decode() skips them.
//
//   SB_ASSIGN_OR_RETURN(GgufFile model, GgufFile::open("stories260K.gguf"));
//   SB_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::from_gguf(model));
//   std::vector<int32_t> ids = tok->encode("Once upon a time", /*add_bos=*/true);
//   std::string text = tok->decode(ids);  // "Once upon a time"
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference {

class GgufFile;

enum class TokenizerKind {
    kSentencePiece,
    kBytePairEncoding,
    kWordPiece,
};

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    static core::Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile & file);
    // A SentencePiece `tokenizer.model` (serialized ModelProto).
    static core::Result<std::unique_ptr<Tokenizer>> from_sentencepiece_model(const std::filesystem::path & path);

    virtual TokenizerKind kind() const = 0;

    // Plain text: spellings of special tokens ("<|im_end|>") are tokenized as ordinary text.
    // add_bos prepends bos() when the vocabulary has one; WordPiece frames the text as BERT
    // expects, [CLS] ... [SEP].
    virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;

    // Like encode(), but the exact spelling of a control or user-defined token becomes that
    // token. For prompts built from chat templates; never use it on untrusted user text.
    virtual std::vector<int32_t> encode_with_special(std::string_view text, bool add_bos) const = 0;

    // Concatenated token bytes, without control tokens, and for SentencePiece without the space
    // that encode() put in front of the text and after each special token. decode(encode(s)) == s
    // for SentencePiece (identity-normalized vocabularies) and byte-level BPE; WordPiece gives
    // the normalized words separated by spaces. The result may hold invalid UTF-8 when the ids
    // end inside a multi-byte character (byte tokens).
    virtual std::string decode(std::span<const int32_t> ids) const = 0;

    // The raw bytes the token stands for: "▁Once" -> " Once", "<0x0A>" -> "\n", "Ġthe" -> " the";
    // WordPiece: word-initial pieces get a space ("▁hello" or "hello" -> " hello"), continuations
    // do not ("ing" or "##ing" -> "ing"). Control tokens stand for no bytes (""); the unknown token
    // shows as " ⁇ " (SentencePiece) or " [UNK]" (WordPiece) so lost text stays visible.
    virtual std::string token_piece(int32_t id) const = 0;

    // The token as spelled in the vocabulary ("▁Once", "<s>", "Ġthe").
    virtual std::string_view token_text(int32_t id) const = 0;

    // Id of the token spelled exactly `text` in the vocabulary.
    virtual std::optional<int32_t> find_token(std::string_view text) const = 0;

    virtual int32_t bos() const = 0;  // -1 when the vocabulary has none
    virtual int32_t eos() const = 0;  // -1 when the vocabulary has none
    virtual int32_t n_vocab() const = 0;
    // Whether the vocabulary asks for bos() in front of every prompt (`tokenizer.ggml.add_bos_token`).
    virtual bool add_bos_by_default() const = 0;
    // End of generation: eos(), the end-of-turn token, or a control token spelled like one
    // ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>").
    virtual bool is_eog(int32_t id) const = 0;
};

}  // namespace strongbox::inference
