#include "strongbox/inference/chat_template.h"

namespace strongbox::inference {
namespace {

// Collects markup and content segments, merging neighbours of the same kind.
class Out {
  public:
    Out & lit(std::string_view text) { return add(text, false); }
    Out & content(std::string_view text) { return add(text, true); }
    std::vector<ChatSegment> take() { return std::move(segments_); }

  private:
    Out & add(std::string_view text, bool is_content) {
        if (text.empty()) {
            return *this;
        }
        if (!segments_.empty() && segments_.back().is_content == is_content) {
            segments_.back().text += text;
        } else {
            segments_.push_back(ChatSegment{std::string(text), is_content});
        }
        return *this;
    }
    std::vector<ChatSegment> segments_;
};

bool has(std::string_view s, std::string_view marker) {
    return s.find(marker) != std::string_view::npos;
}

std::string capitalized(std::string_view role) {
    std::string r(role);
    if (!r.empty() && r[0] >= 'a' && r[0] <= 'z') {
        r[0] = static_cast<char>(r[0] - 'a' + 'A');
    }
    return r;
}

// Llama 2 folds the system prompt into the first user turn.
void render_llama2(std::span<const ChatMessage> messages, Out & out) {
    std::string_view system;
    bool first_user = true;
    for (const ChatMessage & m : messages) {
        if (m.role == "system") {
            system = m.content;
        } else if (m.role == "user") {
            if (!first_user) {
                out.lit("<s>");
            }
            out.lit("[INST] ");
            if (!system.empty()) {
                out.lit("<<SYS>>\n").content(system).lit("\n<</SYS>>\n\n");
                system = {};
            }
            out.content(m.content).lit(" [/INST]");
            first_user = false;
        } else {
            out.lit(" ").content(m.content).lit(" </s>");
        }
    }
}

// Gemma has no system role: the system prompt opens the first user turn.
void render_gemma(std::span<const ChatMessage> messages, bool add_generation_prompt, Out & out) {
    std::string_view system;
    for (const ChatMessage & m : messages) {
        if (m.role == "system") {
            system = m.content;
            continue;
        }
        const std::string role = m.role == "assistant" ? "model" : m.role;
        out.lit("<start_of_turn>" + role + "\n");
        if (!system.empty() && role == "user") {
            out.content(system).content("\n\n");
            system = {};
        }
        out.content(m.content).lit("<end_of_turn>\n");
    }
    if (add_generation_prompt) {
        out.lit("<start_of_turn>model\n");
    }
}

}  // namespace

ChatTemplate detect_chat_template(std::string_view src) {
    if (has(src, "<|im_start|>")) {
        return ChatTemplate::kChatMl;
    }
    if (has(src, "<|start_header_id|>") && has(src, "<|end_header_id|>")) {
        return ChatTemplate::kLlama3;
    }
    if (has(src, "<|assistant|>") && has(src, "<|end|>")) {
        return ChatTemplate::kPhi3;
    }
    if (has(src, "<|user|>") && has(src, "<|assistant|>")) {
        return ChatTemplate::kZephyr;
    }
    if (has(src, "<start_of_turn>")) {
        return ChatTemplate::kGemma;
    }
    if (has(src, "[INST]")) {
        return ChatTemplate::kLlama2;
    }
    return ChatTemplate::kPlain;
}

std::string_view chat_template_name(ChatTemplate kind) {
    switch (kind) {
    case ChatTemplate::kPlain:
        return "plain";
    case ChatTemplate::kChatMl:
        return "chatml";
    case ChatTemplate::kLlama2:
        return "llama2";
    case ChatTemplate::kLlama3:
        return "llama3";
    case ChatTemplate::kZephyr:
        return "zephyr";
    case ChatTemplate::kPhi3:
        return "phi3";
    case ChatTemplate::kGemma:
        return "gemma";
    }
    return "plain";
}

std::vector<ChatSegment> render_chat_segments(ChatTemplate kind, std::span<const ChatMessage> messages,
                                              bool add_generation_prompt) {
    Out out;
    switch (kind) {
    case ChatTemplate::kChatMl:
        for (const ChatMessage & m : messages) {
            out.lit("<|im_start|>" + m.role + "\n").content(m.content).lit("<|im_end|>\n");
        }
        if (add_generation_prompt) {
            out.lit("<|im_start|>assistant\n");
        }
        break;
    case ChatTemplate::kLlama3:
        for (const ChatMessage & m : messages) {
            out.lit("<|start_header_id|>" + m.role + "<|end_header_id|>\n\n").content(m.content).lit("<|eot_id|>");
        }
        if (add_generation_prompt) {
            out.lit("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        break;
    case ChatTemplate::kZephyr:
        for (const ChatMessage & m : messages) {
            out.lit("<|" + m.role + "|>\n").content(m.content).lit("</s>\n");
        }
        if (add_generation_prompt) {
            out.lit("<|assistant|>\n");
        }
        break;
    case ChatTemplate::kPhi3:
        for (const ChatMessage & m : messages) {
            out.lit("<|" + m.role + "|>\n").content(m.content).lit("<|end|>\n");
        }
        if (add_generation_prompt) {
            out.lit("<|assistant|>\n");
        }
        break;
    case ChatTemplate::kGemma:
        render_gemma(messages, add_generation_prompt, out);
        break;
    case ChatTemplate::kLlama2:
        // The assistant's turn starts right after [/INST]; nothing to append.
        render_llama2(messages, out);
        break;
    case ChatTemplate::kPlain:
        for (const ChatMessage & m : messages) {
            if (m.role == "system") {
                out.content(m.content).lit("\n\n");
            } else {
                out.lit(capitalized(m.role) + ": ").content(m.content).lit("\n");
            }
        }
        if (add_generation_prompt) {
            out.lit("Assistant:");
        }
        break;
    }
    return out.take();
}

std::string render_chat(ChatTemplate kind, std::span<const ChatMessage> messages, bool add_generation_prompt) {
    std::string text;
    for (const ChatSegment & s : render_chat_segments(kind, messages, add_generation_prompt)) {
        text += s.text;
    }
    return text;
}

std::vector<std::string> chat_stop_strings(ChatTemplate kind) {
    switch (kind) {
    case ChatTemplate::kChatMl:
        return {"<|im_end|>"};
    case ChatTemplate::kLlama3:
        return {"<|eot_id|>"};
    case ChatTemplate::kZephyr:
        return {"</s>"};
    case ChatTemplate::kPhi3:
        return {"<|end|>"};
    case ChatTemplate::kGemma:
        return {"<end_of_turn>"};
    case ChatTemplate::kLlama2:
        return {"</s>", "[INST]"};
    case ChatTemplate::kPlain:
        return {"\nUser:"};
    }
    return {};
}

}  // namespace strongbox::inference
