// Token ids on the llama.cpp tokenizer vectors (test-tokenizer-0 format): every input of every
// vocabulary that ships with its GGUF, plus decode round trips on the same inputs.
#include "golden_support.h"

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/tokenizer.h"

#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

using namespace strongbox;
using namespace strongbox::inference;

namespace {

const std::string kDir = SB_TEST_DATA_DIR "/inference/tokenizer/";

struct VectorCase {
    std::string input;
    std::vector<int32_t> ids;
};

// Inputs are separated by "\n__ggml_vocab_test__\n" (the file ends with one); line i of the
// .out file holds the ids of input i.
std::vector<VectorCase> load_vectors(const std::string & inp_path, const std::string & out_path) {
    const std::vector<std::string> inputs = inference::testing::read_vocab_test_inputs(inp_path);
    auto out = core::read_file(out_path);
    REQUIRE_MESSAGE(out.ok(), out_path);
    std::vector<VectorCase> cases;
    std::istringstream lines(*out);
    std::string line;
    size_t i = 0;
    while (std::getline(lines, line)) {
        REQUIRE(i < inputs.size());
        VectorCase c{inputs[i++], {}};
        std::istringstream ids(line);
        int32_t id = 0;
        while (ids >> id) {
            c.ids.push_back(id);
        }
        cases.push_back(std::move(c));
    }
    REQUIRE(cases.size() == inputs.size());
    return cases;
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string & path) {
    auto file = GgufFile::open(path);
    REQUIRE_MESSAGE(file.ok(), (file.ok() ? "" : file.error().to_string()));
    auto tok = Tokenizer::from_gguf(*file);
    REQUIRE_MESSAGE(tok.ok(), (tok.ok() ? "" : tok.error().to_string()));
    return std::move(tok).value();
}

std::string join(const std::vector<int32_t> & ids) {
    std::string s;
    for (int32_t id : ids) {
        s += (s.empty() ? "" : " ") + std::to_string(id);
    }
    return s;
}

// Encodes every case and reports each mismatch; returns the number that matched.
size_t count_passing(const Tokenizer & tok, const std::vector<VectorCase> & cases, const std::string & name) {
    size_t passed = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::vector<int32_t> got = tok.encode(cases[i].input, false);
        if (got == cases[i].ids) {
            ++passed;
        } else {
            FAIL_CHECK(name << " case " << i << " \"" << cases[i].input << "\": got [" << join(got) << "], want ["
                            << join(cases[i].ids) << "]");
        }
    }
    MESSAGE(name << ": " << passed << "/" << cases.size() << " cases give the reference ids");
    return passed;
}

void check_vocab(const std::string & vocab, TokenizerKind kind) {
    const std::string base = kDir + "ggml-vocab-" + vocab + ".gguf";
    auto tok = load_gguf_tokenizer(base);
    CHECK(tok->kind() == kind);
    const auto cases = load_vectors(base + ".inp", base + ".out");
    CHECK(cases.size() == 46);
    CHECK(count_passing(*tok, cases, vocab) == cases.size());
}

}  // namespace

TEST_CASE("llama SentencePiece vocabulary gives llama.cpp's ids on all 46 reference inputs") {
    check_vocab("llama-spm", TokenizerKind::kSentencePiece);
}

TEST_CASE("phi-3 SentencePiece vocabulary gives llama.cpp's ids on all 46 reference inputs") {
    check_vocab("phi-3", TokenizerKind::kSentencePiece);
}

TEST_CASE("gpt-2 byte-level BPE vocabulary gives llama.cpp's ids on all 46 reference inputs") {
    check_vocab("gpt-2", TokenizerKind::kBytePairEncoding);
}

TEST_CASE("bert-bge WordPiece vocabulary gives llama.cpp's ids on all 46 reference inputs") {
    check_vocab("bert-bge", TokenizerKind::kWordPiece);
}

TEST_CASE("stories260K's embedded 512-piece vocabulary gives llama.cpp's ids on all 46 reference inputs") {
    auto tok = load_gguf_tokenizer(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    CHECK(tok->n_vocab() == 512);
    CHECK(tok->bos() == 1);
    CHECK(tok->eos() == 2);
    const auto cases = load_vectors(kDir + "stories260K.gguf.inp", kDir + "stories260K.gguf.out");
    CHECK(count_passing(*tok, cases, "stories260K") == cases.size());
}

TEST_CASE("stories260K prompts encode to llama.cpp's prompt ids and its greedy ids spell llama.cpp's text") {
    auto tok = load_gguf_tokenizer(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    auto golden = core::read_file(SB_TEST_DATA_DIR "/inference/stories260K.llamacpp-greedy128.jsonl");
    REQUIRE(golden.ok());
    std::istringstream lines(*golden);
    std::string line;
    size_t n_prompts = 0;
    auto ids_of = [](const core::Json & array) {
        std::vector<int32_t> ids;
        for (const auto & v : array.as_array()) {
            ids.push_back(static_cast<int32_t>(v.as_int()));
        }
        return ids;
    };
    while (std::getline(lines, line)) {
        auto g = core::Json::parse(line);
        REQUIRE(g.ok());
        const std::string prompt = g->get_string("prompt");
        CHECK_MESSAGE(tok->encode(prompt, true) == ids_of(*g->find("prompt_ids")), prompt);
        std::string pieces;
        for (int32_t id : ids_of(*g->find("greedy_ids"))) {
            pieces += tok->token_piece(id);
        }
        CHECK_MESSAGE(pieces == g->get_string("greedy_text"), prompt);
        ++n_prompts;
    }
    CHECK(n_prompts == 5);
}

TEST_CASE("llama-bpe and qwen2 vectors are not checked for ids because their vocabularies are not shipped") {
    // Their GGUFs are over 4 MiB and absent from the data snapshot; only their pre-tokenizers
    // are checked (tokenizer_pre_tokenizer_test.cpp). This case pins that the vocabularies are
    // still absent, so the skip is revisited when they are added.
    CHECK_FALSE(core::read_file(kDir + "ggml-vocab-llama-bpe.gguf").ok());
    CHECK_FALSE(core::read_file(kDir + "ggml-vocab-qwen2.gguf").ok());
    CHECK(load_vectors(kDir + "ggml-vocab-llama-bpe.gguf.inp", kDir + "ggml-vocab-llama-bpe.gguf.out").size() == 46);
    CHECK(load_vectors(kDir + "ggml-vocab-qwen2.gguf.inp", kDir + "ggml-vocab-qwen2.gguf.out").size() == 46);
}

TEST_CASE("llama2 tokenizer.model gives the reference ids and agrees with the GGUF-embedded vocabulary") {
    auto from_model = Tokenizer::from_sentencepiece_model(kDir + "llama2-tokenizer.model");
    REQUIRE_MESSAGE(from_model.ok(), (from_model.ok() ? "" : from_model.error().to_string()));
    auto from_gguf = load_gguf_tokenizer(kDir + "ggml-vocab-llama-spm.gguf");
    const Tokenizer & model = **from_model;
    CHECK(model.kind() == TokenizerKind::kSentencePiece);
    CHECK(model.n_vocab() == 32000);
    CHECK(model.bos() == from_gguf->bos());
    CHECK(model.eos() == from_gguf->eos());
    const auto cases = load_vectors(kDir + "ggml-vocab-llama-spm.gguf.inp", kDir + "ggml-vocab-llama-spm.gguf.out");
    CHECK(count_passing(model, cases, "llama2-tokenizer.model") == cases.size());
    size_t same = 0;
    for (const auto & c : cases) {
        same += model.encode(c.input, true) == from_gguf->encode(c.input, true) ? 1 : 0;
    }
    CHECK(same == cases.size());
    size_t same_pieces = 0;
    for (int32_t id = 0; id < model.n_vocab(); ++id) {
        same_pieces +=
            model.token_text(id) == from_gguf->token_text(id) && model.token_piece(id) == from_gguf->token_piece(id);
    }
    CHECK(same_pieces == 32000);
}

TEST_CASE("decode restores every reference input for the lossless SentencePiece and byte-level vocabularies") {
    const auto cases = load_vectors(kDir + "ggml-vocab-gpt-2.gguf.inp", kDir + "ggml-vocab-gpt-2.gguf.out");
    for (const std::string vocab : {"llama-spm", "phi-3", "gpt-2"}) {
        auto tok = load_gguf_tokenizer(kDir + "ggml-vocab-" + vocab + ".gguf");
        size_t restored = 0;
        for (const auto & c : cases) {
            const std::string back = tok->decode(tok->encode(c.input, true));
            if (back == c.input) {
                ++restored;
            } else {
                FAIL_CHECK(vocab << ": \"" << c.input << "\" decodes to \"" << back << "\"");
            }
        }
        MESSAGE(vocab << ": " << restored << "/" << cases.size() << " inputs round-trip");
        CHECK(restored == cases.size());
    }
}

TEST_CASE("WordPiece decode gives the normalized text: lower-cased, accents stripped, punctuation spaced") {
    auto tok = load_gguf_tokenizer(kDir + "ggml-vocab-bert-bge.gguf");
    CHECK(tok->decode(tok->encode("Hello World", false)) == "hello world");
    CHECK(tok->decode(tok->encode("Führer", false)) == "fuhrer");
    CHECK(tok->decode(tok->encode(" discards", false)) == "discards");
    CHECK(tok->decode(tok->encode("Hello, world!", false)) == "hello , world !");
    // Words the vocabulary cannot cut stay visible as the unknown token.
    CHECK(tok->decode(tok->encode(" this is \xF0\x9F\xA6\x99.cpp", true)) == "this is [UNK] . cpp");
}

TEST_CASE("long SentencePiece inputs encoded in pieces give the ids of one whole-text library call") {
    // Strongbox cuts long text before spaces to keep encoding fast; the library, given the
    // whole text at once, is the reference.
    const auto cases = load_vectors(kDir + "ggml-vocab-llama-spm.gguf.inp", kDir + "ggml-vocab-llama-spm.gguf.out");
    std::string text;
    for (int round = 0; round < 8; ++round) {
        for (const auto & c : cases) {
            text += c.input + (round % 2 == 0 ? " " : "  ");
        }
    }
    REQUIRE(text.size() > 8000);
    sentencepiece::SentencePieceProcessor reference;
    REQUIRE(reference.Load(kDir + "llama2-tokenizer.model").ok());
    std::vector<int> expected;
    REQUIRE(reference.Encode(text, &expected).ok());
    const std::vector<int32_t> want(expected.begin(), expected.end());

    auto from_model = Tokenizer::from_sentencepiece_model(kDir + "llama2-tokenizer.model");
    REQUIRE(from_model.ok());
    CHECK((*from_model)->encode(text, false) == want);
    auto from_gguf = load_gguf_tokenizer(kDir + "ggml-vocab-llama-spm.gguf");
    CHECK(from_gguf->encode(text, false) == want);
    CHECK(from_gguf->decode(from_gguf->encode(text, false)) == text);
}
