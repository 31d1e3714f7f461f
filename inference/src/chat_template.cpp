#include "strongbox/inference/chat_template.h"

namespace strongbox::inference {
namespace {

bool has(std::string_view s, std::string_view marker) { return s.find(marker) != std::string_view::npos; }

std::string capitalized(std::string_view role) {
    std::string r(role);
    if (!r.empty() && r[0] >= 'a' && r[0] <= 'z') {
        r[0] = static_cast<char>(r[0] - 'a' + 'A');
    }
    return r;
}

// Formats whose system prompt is folded into the first user turn.
std::string render_llama2(std::span<const ChatMessage> messages) {
    std::string out;
    std::string system;
    bool first_user = true;
    for (const ChatMessage & m : messages) {
        if (m.role == "system") {
            system = m.content;
        } else if (m.role == "user") {
            if (!first_user) {
                out += "<s>";
            }
            out += "[INST] ";
            if (!system.empty()) {
                out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
                system.clear();
            }
            out += m.content + " [/INST]";
            first_user = false;
        } else {
            out += " " + m.content + " </s>";
        }
    }
    return out;
}

std::string render_gemma(std::span<const ChatMessage> messages, bool add_generation_prompt) {
    std::string out;
    std::string system;
    for (const ChatMessage & m : messages) {
        if (m.role == "system") {
            system = m.content;
            continue;
        }
        const std::string role = m.role == "assistant" ? "model" : m.role;
        std::string content = m.content;
        if (!system.empty() && role == "user") {
            content = system + "\n\n" + content;
            system.clear();
        }
        out += "<start_of_turn>" + role + "\n" + content + "<end_of_turn>\n";
    }
    if (add_generation_prompt) {
        out += "<start_of_turn>model\n";
    }
    return out;
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

std::string render_chat(ChatTemplate kind, std::span<const ChatMessage> messages, bool add_generation_prompt) {
    std::string out;
    switch (kind) {
        case ChatTemplate::kChatMl:
            for (const ChatMessage & m : messages) {
                out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            }
            if (add_generation_prompt) {
                out += "<|im_start|>assistant\n";
            }
            return out;
        case ChatTemplate::kLlama3:
            for (const ChatMessage & m : messages) {
                out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
            }
            if (add_generation_prompt) {
                out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            }
            return out;
        case ChatTemplate::kZephyr:
            for (const ChatMessage & m : messages) {
                out += "<|" + m.role + "|>\n" + m.content + "</s>\n";
            }
            if (add_generation_prompt) {
                out += "<|assistant|>\n";
            }
            return out;
        case ChatTemplate::kPhi3:
            for (const ChatMessage & m : messages) {
                out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
            }
            if (add_generation_prompt) {
                out += "<|assistant|>\n";
            }
            return out;
        case ChatTemplate::kGemma:
            return render_gemma(messages, add_generation_prompt);
        case ChatTemplate::kLlama2:
            // The assistant's turn starts right after [/INST]; nothing to append.
            return render_llama2(messages);
        case ChatTemplate::kPlain:
            for (const ChatMessage & m : messages) {
                out += m.role == "system" ? m.content + "\n\n" : capitalized(m.role) + ": " + m.content + "\n";
            }
            if (add_generation_prompt) {
                out += "Assistant:";
            }
            return out;
    }
    return out;
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
