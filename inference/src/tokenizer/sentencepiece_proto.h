// The parts of SentencePiece's ModelProto (a `tokenizer.model` file) that Strongbox reads and
// writes, in protobuf wire format. The Debian SentencePiece package ships no generated protobuf
// header, so the few fields needed are encoded and decoded here directly:
//   ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2;
//                NormalizerSpec normalizer_spec = 3; }
//   SentencePiece { string piece = 1; float score = 2; Type type = 3 [default NORMAL]; }
//   TrainerSpec { ModelType model_type = 3; int32 vocab_size = 4; bool treat_whitespace_as_suffix = 24;
//                 bool byte_fallback = 35; int32 unk_id = 40; int32 bos_id = 41; int32 eos_id = 42;
//                 int32 pad_id = 43; }
//   NormalizerSpec { string name = 1; bool add_dummy_prefix = 3; bool remove_extra_whitespaces = 4;
//                    bool escape_whitespaces = 5; }
// Piece type numbers equal the GGUF token types (NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4,
// UNUSED 5, BYTE 6). Pure functions, thread-safe.
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference::tokenization {

struct SentencePieceModel {
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<int32_t> types;
    std::string normalizer_name;
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
    bool treat_whitespace_as_suffix = false;
    bool byte_fallback = false;
    int32_t unk_id = 0;
    int32_t bos_id = 1;
    int32_t eos_id = 2;
    int32_t pad_id = -1;
};

// Reads pieces, special ids and add_dummy_prefix; every other field is skipped.
core::Result<SentencePieceModel> parse_sentencepiece_model(std::string_view bytes, std::string_view name);

// Serialized normalizer settings that, appended to a serialized ModelProto, turn its dummy
// prefix off (protobuf merges repeated occurrences of a message field).
std::string sentencepiece_no_dummy_prefix_suffix();

// A BPE model with llama's normalization: no Unicode normalization ("identity"), dummy prefix
// as given, whitespace kept as is and escaped to "▁", byte fallback as given.
std::string serialize_sentencepiece_bpe_model(const SentencePieceModel & model);

}  // namespace strongbox::inference::tokenization
