// The grounded answerer: answers with a local language model from numbered evidence passages,
// then verifies every sentence's citations before anything is presented as supported.
//
// Pipeline: build the prompt from the versioned template and the best passages that fit the
// prompt-token cap -> generate through the model's chat template under the new-token cap and the
// deadline, streaming verified sentences as they complete -> verify the whole text
// (verifier.h) -> refuse ("not found in the indexed documents") when the model says so or when
// no supported sentence survives, showing the nearest passages instead.
//
// Thread-safety: one answer at a time per GroundedAnswerer (the model serialises generation);
// model_info() and prompt_template() are safe from any thread.
// Errors: open() returns the model's and the template's load errors naming the file; answer()
// returns the model's generation errors (e.g. kResourceExhausted when the prompt cannot fit).
//
//   SB_ASSIGN_OR_RETURN(auto g, GroundedAnswerer::open("qwen.gguf", prompt_dir, 2));
//   SB_ASSIGN_OR_RETURN(GroundedRun run, g->answer(question, passages, request));
#pragma once

#include "strongbox/answer/answerer.h"
#include "strongbox/answer/caps.h"
#include "strongbox/answer/prompt.h"
#include "strongbox/answer/verifier.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/result.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

// Streamed answer text; return false to cancel.
using TextSink = std::function<bool(std::string_view text)>;

struct ModelInfo {
    std::string file_name;
    std::string sha256;
    std::string architecture;
    std::string device;  // where it runs: "cpu", "cuda:0 (<name>)"
};

struct GroundedRequest {
    Caps caps;
    VerifierOptions verifier;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    TextSink on_text;  // receives verified sentences as they complete; may be empty
};

struct GroundedRun {
    core::Answer answer;
    std::vector<SentenceCheck> checks;  // every generated sentence
    std::string raw_text;               // what the model wrote
    size_t prompt_tokens = 0;
    size_t generated_tokens = 0;
    size_t passages_in_prompt = 0;
    std::string stopped_by;   // the cap that stopped generation (caps.h names), empty when none
    std::string stop_reason;  // the generator's stop reason
};

// Text of a refusal that shows the nearest passages (at most three).
std::string refusal_with_nearest(const std::string & reason, const std::vector<Passage> & passages);

class GroundedAnswerer {
  public:
    // `device`: "auto" (the GPU when the model fits), "cpu" or "cuda".
    static core::Result<std::unique_ptr<GroundedAnswerer>> open(const std::filesystem::path & model_path,
                                                                const std::filesystem::path & prompt_dir, int n_threads,
                                                                const std::string & device = "auto");
    ~GroundedAnswerer();
    GroundedAnswerer(const GroundedAnswerer &) = delete;
    GroundedAnswerer & operator=(const GroundedAnswerer &) = delete;

    core::Result<GroundedRun> answer(const std::string & question, const std::vector<Passage> & passages,
                                     const GroundedRequest & request);

    const ModelInfo & model_info() const;
    const PromptTemplate & prompt_template() const;
    size_t count_tokens(std::string_view text) const;

  private:
    struct Impl;
    explicit GroundedAnswerer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::appliance
