// Fuzz target for tokenizer input: any bytes as text for the three tokenizer kinds, with the
// vocabularies shipped in tests/data/inference (llama SentencePiece, stories260K's 512-piece
// SentencePiece with byte fallback, GPT-2 byte-level BPE, BGE WordPiece), and as a
// `tokenizer.model` file for the ModelProto reader. Byte 0: bit 0 add_bos, bit 1 parse special
// spellings too, bits 2-3 the vocabulary in that order (one per input, so the fuzzer spends its
// time on mutations rather than on four encodings of each; the corpus replay runs all four), bit
// 7 the rest is a tokenizer.model instead of text. For any text:
//   - every id encode() gives is inside the vocabulary, and token_piece() is defined on it;
//   - SentencePiece and byte-level BPE are lossless: decode(encode(s)) == s for valid UTF-8, except
//     that SentencePiece gives back a "▁" (U+2581, its spelling of a space) of the text as a space;
//   - WordPiece output is already normalized: encoding and decoding it again changes nothing
//     (when no word fell back to [UNK]);
//   - decode() of arbitrary ids (the text read as int32s, most out of range) skips the bad ones.
// For any tokenizer.model: parse either fails naming the file, or the model serialized back as
// Strongbox writes it parses to the same pieces, scores, types, special ids and flags.
#include "fuzz_targets.h"

#include "strongbox/core/text.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/tokenizer.h"

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/sentencepiece_proto.h"

namespace strongbox::fuzz {
namespace {

namespace si = strongbox::inference;

struct Vocab {
    si::GgufFile file;
    std::unique_ptr<si::Tokenizer> tok;
    int32_t unk = -1;
};

std::unique_ptr<Vocab> load(const std::string & relative) {
    const std::string path = std::string(SB_TEST_DATA_DIR) + "/inference/" + relative;
    auto file = si::GgufFile::open(path);
    require(file.ok());
    auto v = std::make_unique<Vocab>(Vocab{std::move(file).value(), nullptr, -1});
    auto tok = si::Tokenizer::from_gguf(v->file);
    require(tok.ok());
    v->tok = std::move(tok).value();
    for (const char * unk : {"[UNK]", "<unk>"}) {
        if (auto id = v->tok->find_token(unk)) {
            v->unk = *id;
        }
    }
    return v;
}

const std::vector<std::unique_ptr<Vocab>> & vocabs() {
    static const std::vector<std::unique_ptr<Vocab>> all = [] {
        std::vector<std::unique_ptr<Vocab>> v;
        v.push_back(load("tokenizer/ggml-vocab-llama-spm.gguf"));
        v.push_back(load("stories260K.gguf"));
        v.push_back(load("tokenizer/ggml-vocab-gpt-2.gguf"));
        v.push_back(load("tokenizer/ggml-vocab-bert-bge.gguf"));
        return v;
    }();
    return all;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

int model_file(std::string_view bytes) {
    namespace tk = si::tokenization;
    auto model = tk::parse_sentencepiece_model(bytes, "fuzz.model");
    if (!model.ok()) {
        require(model.error().message().rfind("fuzz.model: ", 0) == 0);
        return 0;
    }
    require(model->pieces.size() == model->scores.size() && model->pieces.size() == model->types.size());
    auto back = tk::parse_sentencepiece_model(tk::serialize_sentencepiece_bpe_model(*model), "written.model");
    require(back.ok());
    require(back->pieces == model->pieces && back->types == model->types);
    for (size_t i = 0; i < model->scores.size(); ++i) {
        require(same_bits(back->scores[i], model->scores[i]));
    }
    require(back->unk_id == model->unk_id && back->bos_id == model->bos_id && back->eos_id == model->eos_id &&
            back->pad_id == model->pad_id);
    require(back->add_dummy_prefix == model->add_dummy_prefix && back->byte_fallback == model->byte_fallback);
    require(back->normalizer_name == "identity" && !back->remove_extra_whitespaces);
    return 0;
}

}  // namespace

int tokenizer_text(const uint8_t * data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
    if ((data[0] & 0x80) != 0) {
        return model_file(text);
    }
    const bool add_bos = (data[0] & 1) != 0;
    const bool special = (data[0] & 2) != 0;

    const Vocab & v = *vocabs()[(data[0] >> 2) & 3];
    const si::Tokenizer & tok = *v.tok;
    const std::vector<int32_t> ids = special ? tok.encode_with_special(text, add_bos) : tok.encode(text, add_bos);
    bool has_unk = false;
    for (int32_t id : ids) {
        require(id >= 0 && id < tok.n_vocab());
        (void)tok.token_piece(id);
        has_unk = has_unk || id == v.unk;
    }
    const std::string back = tok.decode(ids);

    std::vector<int32_t> junk((text.size() + 3) / 4);
    if (!text.empty()) {
        std::memcpy(junk.data(), text.data(), text.size());
    }
    (void)tok.decode(junk);

    if (special || !core::is_valid_utf8(text)) {
        return 0;
    }
    if (tok.kind() == si::TokenizerKind::kSentencePiece) {
        // SentencePiece spells a space as U+2581 "▁", so one in the text itself comes back as a space.
        std::string with_spaces;
        for (size_t i = 0; i < text.size(); ++i) {
            if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
                with_spaces += ' ';
                i += 2;
            } else {
                with_spaces += text[i];
            }
        }
        require(back == with_spaces);
    } else if (tok.kind() == si::TokenizerKind::kBytePairEncoding) {
        require(back == text);
    } else if (!has_unk) {
        require(tok.decode(tok.encode(back, false)) == back);
    }
    return 0;
}

}  // namespace strongbox::fuzz

#ifdef SB_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::fuzz::tokenizer_text(data, size);
}
#endif
