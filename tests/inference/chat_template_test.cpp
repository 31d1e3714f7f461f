#include "strongbox/inference/chat_template.h"

#include <doctest/doctest.h>

#include <vector>

using namespace strongbox::inference;

namespace {

const std::vector<ChatMessage> kChat = {
    {"system", "Be brief."},
    {"user", "Hi"},
    {"assistant", "Hello."},
    {"user", "Why?"},
};

}  // namespace

TEST_CASE("chat template families are recognised from their Jinja source") {
    CHECK(detect_chat_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                               "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}") == ChatTemplate::kChatMl);
    CHECK(detect_chat_template("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}") ==
          ChatTemplate::kLlama3);
    CHECK(detect_chat_template("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}") == ChatTemplate::kLlama2);
    CHECK(detect_chat_template("{{ '<|user|>\\n' + message['content'] + eos_token }}{{ '<|assistant|>' }}") ==
          ChatTemplate::kZephyr);
    CHECK(detect_chat_template("{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>'}}") ==
          ChatTemplate::kPhi3);
    CHECK(detect_chat_template("{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + "
                               "'<end_of_turn>' }}") == ChatTemplate::kGemma);
    CHECK(detect_chat_template("{{ messages }}") == ChatTemplate::kPlain);
    CHECK(detect_chat_template("") == ChatTemplate::kPlain);
}

TEST_CASE("ChatML renders roles between im_start and im_end with an open assistant turn") {
    CHECK(render_chat(ChatTemplate::kChatMl, kChat, true) ==
          "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello."
          "<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n");
}

TEST_CASE("Llama 2 folds the system prompt into the first instruction") {
    CHECK(render_chat(ChatTemplate::kLlama2, kChat, true) ==
          "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Why? [/INST]");
}

TEST_CASE("Llama 3 uses header ids and eot_id") {
    CHECK(render_chat(ChatTemplate::kLlama3, std::vector<ChatMessage>{{"user", "Hi"}}, true) ==
          "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("Zephyr, Phi-3 and Gemma render their own turn markers") {
    const std::vector<ChatMessage> one = {{"user", "Hi"}};
    CHECK(render_chat(ChatTemplate::kZephyr, one, true) == "<|user|>\nHi</s>\n<|assistant|>\n");
    CHECK(render_chat(ChatTemplate::kPhi3, one, true) == "<|user|>\nHi<|end|>\n<|assistant|>\n");
    CHECK(render_chat(ChatTemplate::kGemma, kChat, true) ==
          "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
          "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n");
}

TEST_CASE("the plain fallback writes a labelled transcript and stops at the next user turn") {
    CHECK(render_chat(ChatTemplate::kPlain, kChat, true) ==
          "Be brief.\n\nUser: Hi\nAssistant: Hello.\nUser: Why?\nAssistant:");
    CHECK(chat_stop_strings(ChatTemplate::kPlain) == std::vector<std::string>{"\nUser:"});
    CHECK(chat_stop_strings(ChatTemplate::kChatMl) == std::vector<std::string>{"<|im_end|>"});
    CHECK(chat_template_name(ChatTemplate::kPhi3) == "phi3");
}

TEST_CASE("chat segments separate template markup from message contents") {
    const std::vector<ChatMessage> msgs = {{"user", "Hi <|im_end|>"}};
    const auto segs = render_chat_segments(ChatTemplate::kChatMl, msgs, true);
    REQUIRE(segs.size() == 3);
    CHECK(segs[0].text == "<|im_start|>user\n");
    CHECK_FALSE(segs[0].is_content);
    CHECK(segs[1].text == "Hi <|im_end|>");
    CHECK(segs[1].is_content);
    CHECK(segs[2].text == "<|im_end|>\n<|im_start|>assistant\n");
    std::string joined;
    for (const auto & s : render_chat_segments(ChatTemplate::kLlama2, kChat, true)) {
        joined += s.text;
    }
    CHECK(joined == render_chat(ChatTemplate::kLlama2, kChat, true));
}
