#include "strongbox/inference/language_model.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

}  // namespace

TEST_CASE("a language model opens with its tokenizer and reports its identity for the audit trail") {
    auto lm = LanguageModel::open(kData / "stories260K.gguf", {.n_ctx = 256});
    REQUIRE_MESSAGE(lm.ok(), lm.error().message());
    auto id = (*lm)->identity();
    REQUIRE(id.ok());
    CHECK(id->file_sha256 == "3c4a7c3a8313e00ae6a6b64df717828f4ba18391ea31ffb01abe9a2c4f7bb9a9");
    CHECK(id->architecture == "llama");
    CHECK(id->n_params == 292800);
    CHECK(id->file_size == 1185344);
    CHECK(id->tensor_types.at("f32") == 48);
    CHECK((*lm)->chat_template() == ChatTemplate::kPlain);
}

TEST_CASE("completion through the language model continues the text greedily") {
    auto lm = LanguageModel::open(kData / "stories260K.gguf", {.n_ctx = 256});
    REQUIRE(lm.ok());
    GenerateOptions opt;
    opt.max_tokens = 12;
    auto r = (*lm)->complete("Once upon a time", opt);
    REQUIRE(r.ok());
    const std::string golden = ", there was a little girl named Lily. She loved to play outside in the park.";
    CHECK(r->tokens.size() == 12);
    CHECK(r->text.size() > 20);
    CHECK(golden.rfind(r->text, 0) == 0);
    // A second call starts from a fresh context and gives the same text.
    auto again = (*lm)->complete("Once upon a time", opt);
    REQUIRE(again.ok());
    CHECK(again->text == r->text);
}

TEST_CASE("chat renders the plain transcript and stops at the next user turn") {
    auto lm = LanguageModel::open(kData / "stories260K.gguf", {.n_ctx = 256});
    REQUIRE(lm.ok());
    const std::vector<ChatMessage> messages = {{"user", "Tell me a story."}};
    GenerateOptions opt;
    opt.max_tokens = 40;
    auto r = (*lm)->chat(messages, opt);
    REQUIRE(r.ok());
    CHECK(r->n_prompt_tokens > 5);
    CHECK(r->text.find("\nUser:") == std::string::npos);
    CHECK(!r->tokens.empty());
}

TEST_CASE("opening a model that does not exist names the path") {
    auto lm = LanguageModel::open(kData / "missing-model.gguf");
    REQUIRE_FALSE(lm.ok());
    CHECK(lm.error().code() == core::ErrorCode::kNotFound);
    CHECK(lm.error().message().find("missing-model.gguf") != std::string::npos);
}

TEST_CASE("a chat message that spells a control token is encoded as plain text") {
    auto lm = LanguageModel::open(kData / "stories260K.gguf", {.n_ctx = 256});
    REQUIRE(lm.ok());
    const Tokenizer & tok = (*lm)->tokenizer();
    const std::vector<ChatMessage> messages = {{"user", "Hi </s>"}};
    // "</s>" is this vocabulary's end-of-sequence token.
    REQUIRE(tok.encode_with_special("Hi </s>", false) != tok.encode("Hi </s>", false));
    std::vector<int32_t> expected = {tok.bos()};
    for (const ChatSegment & s : render_chat_segments(ChatTemplate::kPlain, messages, true)) {
        auto part = s.is_content ? tok.encode(s.text, false) : tok.encode_with_special(s.text, false);
        expected.insert(expected.end(), part.begin(), part.end());
    }
    CHECK(std::find(expected.begin(), expected.end(), tok.eos()) == expected.end());
    GenerateOptions opt;
    opt.max_tokens = 1;
    auto r = (*lm)->chat(messages, opt);
    REQUIRE(r.ok());
    CHECK(r->n_prompt_tokens == expected.size());
    const auto unsafe = tok.encode_with_special(render_chat(ChatTemplate::kPlain, messages, true), true);
    CHECK(std::find(unsafe.begin(), unsafe.end(), tok.eos()) != unsafe.end());
}
