// Chat templates: turning a list of {role, content} messages into the prompt text a chat model
// was trained on.
//
// GGUF files carry the template as Jinja source (`tokenizer.chat_template`). Strongbox does not
// run Jinja: detect_chat_template recognises the well-known families from marker strings in
// that source and render_chat writes the family's format directly. Unknown or absent templates
// fall back to a plain "Role: content" transcript. The rendered text does not start with BOS;
// the tokenizer adds it. Control-token spellings in the markup ("<|im_start|>") must be encoded
// with Tokenizer::encode_with_special, while message contents stay untrusted text
// (render_chat_segments keeps them apart).
//
// Thread-safety: pure functions.
// Errors: none; every input renders.
//
//   ChatTemplate kind = detect_chat_template(model.gguf().get_string("tokenizer.chat_template").value_or(""));
//   std::string prompt = render_chat(kind, {{"system", "Be brief."}, {"user", "Hi"}}, true);
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference {

enum class ChatTemplate { kPlain, kChatMl, kLlama2, kLlama3, kZephyr, kPhi3, kGemma };

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

ChatTemplate detect_chat_template(std::string_view template_source);

std::string_view chat_template_name(ChatTemplate kind);  // "chatml", "llama2", ..., "plain"

// Renders the conversation; add_generation_prompt appends the opening of the assistant's turn.
std::string render_chat(ChatTemplate kind, std::span<const ChatMessage> messages, bool add_generation_prompt);

// The same text cut into the template's own markup and the messages' contents, so a caller can
// encode markup with control tokens and contents as plain text (a user typing "<|im_end|>"
// must not end the turn). Concatenated, the segments equal render_chat's output.
struct ChatSegment {
    std::string text;
    bool is_content = false;
};
std::vector<ChatSegment> render_chat_segments(ChatTemplate kind, std::span<const ChatMessage> messages,
                                              bool add_generation_prompt);

// Text that marks the end of the assistant's turn in this format, for use as stop strings in
// case the model spells it instead of emitting the end-of-turn token.
std::vector<std::string> chat_stop_strings(ChatTemplate kind);

}  // namespace strongbox::inference
