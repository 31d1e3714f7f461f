// Prompt templates for the grounded answerer, and the prompt built from them: the question and
// numbered evidence passages within a token budget.
//
// A template is a versioned text file in appliance/answer/prompts/ ("id:" and "version:" header lines,
// then "--- system" and "--- user" sections; the user section holds {{passages}} and
// {{question}}). Its sha256 over the file bytes is recorded with every answer, so an auditor
// can tell exactly which wording produced it.
//
// Retrieved text is data, never instructions: passages are rendered inside numbered blocks and
// neutralised first -- bracketed numbers become "(n)" so a document cannot forge a citation
// marker, and chat-template control spellings ("<|im_start|>", "[INST]", "<s>") are broken up so
// a document cannot open a new turn or a fake system prompt.
//
// Thread-safety: PromptTemplate is immutable after load; build_prompt is a pure function.
// Errors: load_prompt_template returns kNotFound / kCorruptInput naming the file and the reason.
//
//   SB_ASSIGN_OR_RETURN(PromptTemplate t, load_prompt_template(find_prompt_dir({}) / "grounded-answer.txt"));
//   BuiltPrompt p = build_prompt(t, question, passages, 1500, count_tokens);
#pragma once

#include "strongbox/answer/answerer.h"
#include "strongbox/core/result.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

inline constexpr const char * kGroundedPromptFile = "grounded-answer.txt";

struct PromptTemplate {
    std::string id;
    int version = 0;
    std::string sha256;  // of the file bytes
    std::string system;
    std::string user;  // with {{passages}} and {{question}}
};

core::Result<PromptTemplate> parse_prompt_template(std::string_view text, const std::string & name);
core::Result<PromptTemplate> load_prompt_template(const std::filesystem::path & path);

// The directory holding the templates: `configured` when not empty, else $STRONGBOX_PROMPTS,
// else <executable dir>/../share/strongbox/prompts, else the source tree's appliance/answer/prompts.
std::filesystem::path find_prompt_dir(const std::filesystem::path & configured);

// Counts tokens the way the model will see them.
using TokenCounter = std::function<size_t(std::string_view)>;

struct BuiltPrompt {
    std::string system;
    std::string user;
    std::vector<Passage> passages;  // as placed in the prompt, numbered 1..n (the last maybe shortened)
    size_t prompt_tokens = 0;       // counted system + user
    bool truncated = false;         // the budget cut passages or shortened the last one
};

// Makes text from a document safe to place in a prompt (see above).
std::string neutralise_passage(std::string_view text);

// Adds passages, best first, while system + user stay within max_prompt_tokens; the last one
// that does not fit whole is shortened at a word boundary when at least a quarter fits.
BuiltPrompt build_prompt(const PromptTemplate & t, const std::string & question, const std::vector<Passage> & passages,
                         size_t max_prompt_tokens, const TokenCounter & count_tokens);

}  // namespace strongbox::appliance
