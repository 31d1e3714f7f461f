// Tokenizer behaviour beyond the reference ids: special tokens, pieces, BOS handling, the BPE
// and WordPiece algorithms on small hand-made vocabularies, and the errors bad vocabularies give.
#include "strongbox/core/file.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/tokenizer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocabulary.h"
#include <unistd.h>

using namespace strongbox;
using namespace strongbox::inference;
using tokenization::TokenType;
using tokenization::Vocabulary;

namespace {

const std::string kDir = SB_TEST_DATA_DIR "/inference/tokenizer/";

std::unique_ptr<Tokenizer> load(const std::string & path) {
    auto file = GgufFile::open(path);
    REQUIRE_MESSAGE(file.ok(), (file.ok() ? "" : file.error().to_string()));
    auto tok = Tokenizer::from_gguf(*file);
    REQUIRE_MESSAGE(tok.ok(), (tok.ok() ? "" : tok.error().to_string()));
    return std::move(tok).value();
}

bool contains(const std::vector<int32_t> & ids, int32_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A GGUF holding only the given metadata, written to a temporary file and opened.
core::Result<std::unique_ptr<Tokenizer>> tokenizer_from_metadata(
    const std::vector<std::pair<std::string, GgufValue>> & metadata) {
    GgufWriter writer;
    for (const auto & [key, value] : metadata) {
        writer.set(key, value);
    }
    static std::atomic<int> counter{0};
    const std::string name =
        "strongbox-tokenizer-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".gguf";
    const auto path = std::filesystem::temp_directory_path() / name;
    REQUIRE(writer.write(path).ok());
    auto file = GgufFile::open(path);
    std::filesystem::remove(path);
    REQUIRE(file.ok());
    return Tokenizer::from_gguf(*file);
}

// The 256 GPT-2 byte characters as tokens, in byte order, then `extra`.
Vocabulary byte_level_vocab(std::vector<std::string> extra, std::vector<std::string> merges) {
    Vocabulary v;
    v.source = "test vocabulary";
    v.model = "gpt2";
    v.pre = "gpt-2";
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const uint32_t cp = printable ? b : next++;
        std::string s;
        if (cp < 0x80) {
            s.push_back(static_cast<char>(cp));
        } else {
            s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        v.tokens.push_back(s);
    }
    for (auto & t : extra) {
        v.tokens.push_back(std::move(t));
    }
    v.merges = std::move(merges);
    return v;
}

std::vector<std::string> texts(const Tokenizer & tok, const std::vector<int32_t> & ids) {
    std::vector<std::string> out;
    for (int32_t id : ids) {
        out.emplace_back(tok.token_text(id));
    }
    return out;
}

}  // namespace

TEST_CASE("encode_with_special turns chat-template spellings into control tokens while encode keeps them as text") {
    auto tok = load(kDir + "ggml-vocab-phi-3.gguf");
    const std::string prompt = "<|user|>\nHi there<|end|>\n<|assistant|>";
    const auto special = tok->encode_with_special(prompt, true);
    REQUIRE(special.size() > 4);
    CHECK(special[0] == 1);      // <s>
    CHECK(special[1] == 32010);  // <|user|>
    CHECK(contains(special, 32007));
    CHECK(special.back() == 32001);
    const auto plain = tok->encode(prompt, false);
    CHECK_FALSE(contains(plain, 32010));
    CHECK_FALSE(contains(plain, 32007));
    CHECK(tok->decode(plain) == prompt);
    // Control tokens stand for no bytes, and the spaces encode() put after them are dropped.
    CHECK(tok->decode(special) == "\nHi there\n");
    // A user-defined token is text: "</s>" is one in phi-3 and round-trips through encode().
    const auto user_defined = tok->encode("a</s>b", false);
    CHECK(contains(user_defined, 2));
    CHECK(tok->decode(user_defined) == "a</s>b");
}

TEST_CASE("end of generation covers eos and end-of-turn control tokens") {
    auto phi3 = load(kDir + "ggml-vocab-phi-3.gguf");
    CHECK(phi3->eos() == 32000);
    CHECK(phi3->is_eog(32000));  // <|endoftext|>
    CHECK(phi3->is_eog(32007));  // <|end|>
    CHECK_FALSE(phi3->is_eog(1));
    CHECK_FALSE(phi3->is_eog(15043));
    auto gpt2 = load(kDir + "ggml-vocab-gpt-2.gguf");
    CHECK(gpt2->is_eog(50256));
    CHECK_FALSE(gpt2->is_eog(262));
}

TEST_CASE("token pieces are the bytes a token stands for in each vocabulary kind") {
    auto stories = load(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    CHECK(stories->token_text(403) == "\xE2\x96\x81Once");
    CHECK(stories->token_piece(403) == " Once");
    CHECK(stories->token_piece(13) == "\n");  // <0x0A>
    CHECK(stories->token_piece(1).empty());   // <s>
    CHECK(stories->token_text(1) == "<s>");
    CHECK(stories->find_token("\xE2\x96\x81upon") == 407);
    CHECK_FALSE(stories->find_token("no such piece").has_value());
    const std::vector<int32_t> once_upon = {1, 403, 407};
    CHECK(stories->decode(once_upon) == "Once upon");

    auto gpt2 = load(kDir + "ggml-vocab-gpt-2.gguf");
    CHECK(gpt2->token_piece(262) == " the");  // "Ġthe"
    CHECK(gpt2->token_piece(15496) == "Hello");
    CHECK(gpt2->token_piece(50256).empty());  // <|endoftext|> is a control token

    auto bert = load(kDir + "ggml-vocab-bert-bge.gguf");
    CHECK(bert->token_piece(7592) == " hello");
    CHECK(bert->token_piece(101).empty());  // [CLS]
}

TEST_CASE("add_bos prepends the vocabulary's BOS, and WordPiece frames the text with CLS and SEP") {
    auto stories = load(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    CHECK(stories->add_bos_by_default());
    CHECK(stories->encode("Once upon", true) == std::vector<int32_t>{1, 403, 407});
    CHECK(stories->encode("Once upon", false) == std::vector<int32_t>{403, 407});
    CHECK(stories->encode("", true) == std::vector<int32_t>{1});

    auto gpt2 = load(kDir + "ggml-vocab-gpt-2.gguf");
    CHECK_FALSE(gpt2->add_bos_by_default());

    auto bert = load(kDir + "ggml-vocab-bert-bge.gguf");
    CHECK(bert->encode("hello world", true) == std::vector<int32_t>{101, 7592, 2088, 102});
}

TEST_CASE("SentencePiece keeps invalid UTF-8 byte for byte through byte tokens") {
    auto tok = load(kDir + "ggml-vocab-llama-spm.gguf");
    for (const std::string text : {"ab\xff cd\xe2\x82", "\xfe start", "end \xc0",
                                   "mid\xed\xa0\x80"
                                   "dle words"}) {
        const auto ids = tok->encode(text, true);
        CHECK(tok->decode(ids) == text);
    }
    const auto ids = tok->encode("ab\xff", false);
    CHECK(ids.back() == 3 + 0xFF);  // <0xFF>
    CHECK(tok->token_text(ids.back()) == "<0xFF>");
}

TEST_CASE("random bytes and random code points round-trip through SentencePiece and byte-level BPE") {
    std::mt19937 rng(20261122);  // fixed seed: the same inputs every run
    auto random_bytes = [&](size_t n) {
        std::string s;
        for (size_t i = 0; i < n; ++i) {
            s.push_back(static_cast<char>(rng() & 0xFF));
        }
        return s;
    };
    auto random_text = [&](size_t n) {
        // ASCII, spaces, Latin-1, CJK and emoji: pieces, byte fallback and whitespace runs
        const char32_t ranges[][2] = {{0x20, 0x7E},  {0x20, 0x20},     {0x09, 0x0A},
                                      {0xA0, 0x17F}, {0x4E00, 0x4FFF}, {0x1F600, 0x1F64F}};
        std::string s;
        for (size_t i = 0; i < n; ++i) {
            const auto & r = ranges[rng() % std::size(ranges)];
            const char32_t cp = r[0] + static_cast<char32_t>(rng() % (r[1] - r[0] + 1));
            if (cp < 0x80) {
                s.push_back(static_cast<char>(cp));
            } else if (cp < 0x800) {
                s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
                s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
                s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
                s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
                s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else {
                s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
                s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
                s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
                s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            }
        }
        return s;
    };
    for (const std::string vocab : {"llama-spm", "gpt-2"}) {
        auto tok = load(kDir + "ggml-vocab-" + vocab + ".gguf");
        size_t restored = 0;
        const size_t n_inputs = 60;
        for (size_t i = 0; i < n_inputs; ++i) {
            // Short and long (over 4 KiB, the per-word path) inputs alike.
            const size_t n = i % 10 == 0 ? 5000 : 1 + rng() % 200;
            const std::string text = i % 2 == 0 ? random_bytes(n) : random_text(n);
            const auto ids = tok->encode(text, false);
            CHECK(std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return id >= 0 && id < tok->n_vocab(); }));
            if (tok->decode(ids) == text) {
                ++restored;
            }
        }
        MESSAGE(vocab << ": " << restored << "/" << n_inputs << " random inputs round-trip");
        CHECK(restored == n_inputs);
    }
}

TEST_CASE("SentencePiece vocabularies with add_space_prefix false put no space in front of the text") {
    auto stories = GgufFile::open(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    REQUIRE(stories.ok());
    auto tokens = stories->get_string_array("tokenizer.ggml.tokens");
    auto scores = stories->get_float32_array("tokenizer.ggml.scores");
    auto types = stories->get_int32_array("tokenizer.ggml.token_type");
    REQUIRE((tokens.ok() && scores.ok() && types.ok()));
    const std::vector<std::pair<std::string, GgufValue>> vocab = {
        {"tokenizer.ggml.model", GgufValue::of_string("llama")},
        {"tokenizer.ggml.tokens", GgufValue::of_string_array({tokens->begin(), tokens->end()})},
        {"tokenizer.ggml.scores", GgufValue::of_float32_array(*scores)},
        {"tokenizer.ggml.token_type", GgufValue::of_int32_array(*types)},
        {"tokenizer.ggml.bos_token_id", GgufValue::of_uint32(1)},
    };
    auto with_prefix = tokenizer_from_metadata(vocab);
    auto no_prefix_vocab = vocab;
    no_prefix_vocab.emplace_back("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(false));
    auto without_prefix = tokenizer_from_metadata(no_prefix_vocab);
    REQUIRE((with_prefix.ok() && without_prefix.ok()));
    CHECK((*with_prefix)->encode("Once upon", false) == std::vector<int32_t>{403, 407});
    CHECK((*without_prefix)->encode(" Once upon", false) == std::vector<int32_t>{403, 407});
    const auto ids = (*without_prefix)->encode("Once upon", false);
    REQUIRE_FALSE(ids.empty());
    CHECK_FALSE((*without_prefix)->token_text(ids[0]).starts_with("\xE2\x96\x81"));
    CHECK((*without_prefix)->decode(ids) == "Once upon");
    CHECK((*without_prefix)->decode((*without_prefix)->encode(" Once upon", true)) == " Once upon");
}

TEST_CASE("decode skips ids outside the vocabulary") {
    auto stories = load(SB_TEST_DATA_DIR "/inference/stories260K.gguf");
    const std::vector<int32_t> ids = {-5, 403, 512, 100000, 407};
    CHECK(stories->decode(ids) == "Once upon");
}

TEST_CASE("byte-level BPE applies merges by rank, leftmost first, across long pieces") {
    auto tok = tokenization::make_tokenizer(
        byte_level_vocab({"lo", "low", "er", "aa", "aaaa"}, {"l o", "lo w", "e r", "a a", "aa aa"}));
    REQUIRE(tok.ok());
    CHECK(texts(**tok, (*tok)->encode("lower", false)) == std::vector<std::string>{"low", "er"});
    CHECK(texts(**tok, (*tok)->encode("aaa", false)) == std::vector<std::string>{"aa", "a"});
    // 100,000 letters form one gpt-2 piece; the merge heap keeps this fast.
    const auto ids = (*tok)->encode(std::string(100000, 'a'), false);
    CHECK(ids.size() == 25000);
    CHECK(std::all_of(ids.begin(), ids.end(), [&](int32_t id) { return (*tok)->token_text(id) == "aaaa"; }));
    // Bytes without merges stay byte tokens and decode back exactly, spaces included.
    const std::string odd = "x\xff y\n";
    CHECK((*tok)->decode((*tok)->encode(odd, false)) == odd);
}

TEST_CASE("long byte-level BPE input gives the ids of its pre-tokenizer pieces encoded one by one") {
    // Inputs over 4 KiB merge each distinct piece once; short ones merge every piece.
    auto tok = load(kDir + "ggml-vocab-gpt-2.gguf");
    auto inp = core::read_file(kDir + "ggml-vocab-gpt-2.gguf.inp");
    REQUIRE(inp.ok());
    std::string text;
    for (int round = 0; round < 6; ++round) {
        text += *inp;
    }
    REQUIRE(text.size() > 8192);
    std::vector<int32_t> piecewise;
    for (std::string_view piece : tokenization::pre_tokenize(tokenization::PreTokenizer::kGpt2, text)) {
        const auto ids = tok->encode(piece, false);
        piecewise.insert(piecewise.end(), ids.begin(), ids.end());
    }
    const auto whole = tok->encode(text, false);
    CHECK(whole.size() > 3000);
    CHECK(whole == piecewise);
    CHECK(tok->decode(whole) == text);
}

TEST_CASE("llama3 vocabularies take a whole pre-tokenizer piece that is a token without merging") {
    // "abc" is a token that no merge produces; llama3 (ignore_merges) uses it, gpt-2 merges.
    Vocabulary v = byte_level_vocab({"ab", "abc", "<tag>"}, {"a b"});
    const auto tag = static_cast<int32_t>(v.tokens.size() - 1);
    v.types.assign(v.tokens.size(), TokenType::kNormal);
    v.types[tag] = TokenType::kUserDefined;
    auto gpt2 = tokenization::make_tokenizer(v);
    v.pre = "llama-bpe";
    auto llama3 = tokenization::make_tokenizer(v);
    REQUIRE((gpt2.ok() && llama3.ok()));
    CHECK(texts(**gpt2, (*gpt2)->encode("abc", false)) == std::vector<std::string>{"ab", "c"});
    CHECK(texts(**llama3, (*llama3)->encode("abc", false)) == std::vector<std::string>{"abc"});
    // User-defined tokens are matched in plain text too, and decode to their spelling.
    const auto ids = (*gpt2)->encode("x<tag>ab", false);
    CHECK(texts(**gpt2, ids) == std::vector<std::string>{"x", "<tag>", "ab"});
    CHECK((*gpt2)->decode(ids) == "x<tag>ab");
}

TEST_CASE("WordPiece with ## continuations cuts words greedily and maps uncuttable words to UNK") {
    Vocabulary v;
    v.source = "test vocabulary";
    v.model = "bert";
    v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", ",", "aff", "##a"};
    v.types = {TokenType::kControl, TokenType::kControl, TokenType::kControl, TokenType::kControl, TokenType::kNormal,
               TokenType::kNormal,  TokenType::kNormal,  TokenType::kNormal,  TokenType::kNormal,  TokenType::kNormal};
    v.unk = 1;
    v.bos = 2;
    v.sep = 3;
    auto tok = tokenization::make_tokenizer(v);
    REQUIRE(tok.ok());
    CHECK((*tok)->encode("UnAffable, xyz", false) == std::vector<int32_t>{4, 5, 6, 7, 1});
    CHECK((*tok)->encode("unaffa", true) == std::vector<int32_t>{2, 4, 5, 9, 3});
    CHECK((*tok)->decode((*tok)->encode("unaffable,aff", false)) == "unaffable , aff");
}

TEST_CASE("tokenizers may be shared by threads encoding at the same time") {
    auto tok = load(kDir + "ggml-vocab-llama-spm.gguf");
    const std::string text = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～";
    const auto expected = tok->encode(text, true);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                if (tok->encode(text, true) != expected) {
                    ++mismatches;
                }
            }
        });
    }
    for (auto & t : threads) {
        t.join();
    }
    CHECK(mismatches.load() == 0);
}

TEST_CASE("a GGUF without tokenizer metadata is rejected naming the missing key") {
    auto tok = tokenizer_from_metadata({{"general.architecture", GgufValue::of_string("llama")}});
    REQUIRE_FALSE(tok.ok());
    CHECK(tok.error().code() == core::ErrorCode::kNotFound);
    CHECK(tok.error().message().find("tokenizer.ggml.model") != std::string::npos);
}

TEST_CASE("inconsistent vocabularies are rejected as corrupt with the reason") {
    const GgufValue tokens = GgufValue::of_string_array({"<unk>", "<s>", "</s>", "a"});
    SUBCASE("scores do not match the tokens") {
        const std::vector<float> two_scores = {0, 0};
        auto tok = tokenizer_from_metadata({{"tokenizer.ggml.model", GgufValue::of_string("llama")},
                                            {"tokenizer.ggml.tokens", tokens},
                                            {"tokenizer.ggml.scores", GgufValue::of_float32_array(two_scores)}});
        REQUIRE_FALSE(tok.ok());
        CHECK(tok.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(tok.error().message().find("2 scores for 4 tokens") != std::string::npos);
    }
    SUBCASE("a special id lies outside the vocabulary") {
        auto tok = tokenizer_from_metadata({{"tokenizer.ggml.model", GgufValue::of_string("llama")},
                                            {"tokenizer.ggml.tokens", tokens},
                                            {"tokenizer.ggml.bos_token_id", GgufValue::of_uint32(9)}});
        REQUIRE_FALSE(tok.ok());
        CHECK(tok.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(tok.error().message().find("bos token id 9") != std::string::npos);
    }
    SUBCASE("a token type is not one of the known values") {
        auto tok = tokenizer_from_metadata(
            {{"tokenizer.ggml.model", GgufValue::of_string("llama")},
             {"tokenizer.ggml.tokens", tokens},
             {"tokenizer.ggml.token_type", GgufValue::of_int32_array(std::vector<int32_t>{2, 3, 3, 42})}});
        REQUIRE_FALSE(tok.ok());
        CHECK(tok.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(tok.error().message().find("token_type[3] is 42") != std::string::npos);
    }
    SUBCASE("SentencePiece pieces repeat") {
        const GgufValue repeated = GgufValue::of_string_array({"<unk>", "a", "a"});
        auto tok = tokenizer_from_metadata(
            {{"tokenizer.ggml.model", GgufValue::of_string("llama")}, {"tokenizer.ggml.tokens", repeated}});
        REQUIRE_FALSE(tok.ok());
        CHECK(tok.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(tok.error().message().find("SentencePiece rejected") != std::string::npos);
    }
    SUBCASE("a merge is not two pieces") {
        auto tok = tokenization::make_tokenizer(byte_level_vocab({}, {"ab"}));
        REQUIRE_FALSE(tok.ok());
        CHECK(tok.error().code() == core::ErrorCode::kCorruptInput);
        CHECK(tok.error().message().find("merge 0") != std::string::npos);
    }
}

TEST_CASE("unknown tokenizer models and pre-tokenizers are reported as unsupported") {
    auto model = tokenizer_from_metadata({{"tokenizer.ggml.model", GgufValue::of_string("rwkv")},
                                          {"tokenizer.ggml.tokens", GgufValue::of_string_array({"a"})}});
    REQUIRE_FALSE(model.ok());
    CHECK(model.error().code() == core::ErrorCode::kUnsupported);
    CHECK(model.error().message().find("\"rwkv\"") != std::string::npos);

    Vocabulary v = byte_level_vocab({}, {"a b"});
    v.pre = "starcoder";
    auto pre = tokenization::make_tokenizer(v);
    REQUIRE_FALSE(pre.ok());
    CHECK(pre.error().code() == core::ErrorCode::kUnsupported);
    CHECK(pre.error().message().find("\"starcoder\"") != std::string::npos);
}

TEST_CASE("truncated or missing SentencePiece model files are rejected") {
    auto bytes = core::read_file(kDir + "llama2-tokenizer.model");
    REQUIRE(bytes.ok());
    const auto path = std::filesystem::temp_directory_path() /
                      ("strongbox-tokenizer-test-" + std::to_string(::getpid()) + "-truncated.model");
    REQUIRE(core::write_file_atomic(path, std::string_view(*bytes).substr(0, 1000)).ok());
    auto truncated = Tokenizer::from_sentencepiece_model(path);
    std::filesystem::remove(path);
    REQUIRE_FALSE(truncated.ok());
    CHECK(truncated.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(truncated.error().message().find("truncated") != std::string::npos);

    auto missing = Tokenizer::from_sentencepiece_model(kDir + "no-such.model");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("no-such.model") != std::string::npos);
}
