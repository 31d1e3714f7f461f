// Pre-tokenizers of byte-level BPE vocabularies: they cut text into the pieces BPE merges run
// inside, as the regular expression of each model family would, written out by hand over
// Unicode categories (no regex engine). The pieces tile the input exactly, invalid UTF-8
// included. Pure functions, thread-safe.
//
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  as llama3 with \p{N} (one digit per piece)
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace strongbox::inference::tokenization {

enum class PreTokenizer {
    kGpt2,
    kLlama3,
    kQwen2,
};

// Maps a GGUF `tokenizer.ggml.pre` name to its pre-tokenizer; nullopt when unknown.
std::optional<PreTokenizer> parse_pre_tokenizer(std::string_view name);

std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace strongbox::inference::tokenization
