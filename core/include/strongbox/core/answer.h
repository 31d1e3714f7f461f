// What Strongbox tells a user: an answer made of sentences, each tied to the numbered sources it
// rests on, or an explicit refusal when the indexed documents hold no evidence. Produced by the
// appliance, printed by the CLI, served by the web UI, recorded by the audit trail. Plain data.
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strongbox::core {

// One numbered source of an answer: the stored chunk, the exact quoted passage, and where it is.
struct Citation {
    int number = 0;        // the [n] marker used in the answer text
    int64_t chunk_id = 0;  // id of the chunk in the store
    std::string quote;     // the exact passage text the answer relies on
    Provenance provenance;
    double score = 0;  // fused retrieval score
};

enum class Support { kSupported, kPartial, kUnsupported };

struct AnswerSentence {
    std::string text;            // without markers
    std::vector<int> citations;  // citation numbers
    Support support = Support::kSupported;
    double score = -1;  // how well it answers the question, 0..1; -1 when not scored
};

struct Answer {
    std::string question;
    std::vector<AnswerSentence> sentences;
    std::vector<Citation> citations;
    bool refused = false;  // true when the documents hold no evidence
    std::string refusal_reason;
    std::string answerer;  // "extractive" or the model that generated it
    double latency_ms = 0;
    int64_t audit_id = 0;  // the audit record written for this answer, 0 when none
    // The extractive answerer's judgement: the best candidate sentence's score (also when it
    // refused), the threshold it had to reach, and "high" or "medium" for an answer; score -1
    // and confidence empty when the answerer does not score.
    double score = -1;
    double threshold = 0;
    std::string confidence;

    // Sentences with their [n] markers, as shown to people.
    std::string text() const;
};

std::string_view to_string(Support s);
Json to_json(const Citation & c);
Json to_json(const Answer & a);
Result<Answer> answer_from_json(const Json & j);

}  // namespace strongbox::core
