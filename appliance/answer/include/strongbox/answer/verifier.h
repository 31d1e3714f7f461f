// Citation verification: the check that stands between a generated answer and the user. The
// model is asked to end every sentence with markers such as [1] or [2][3] naming the numbered
// passages of its prompt; the verifier does not trust them. For each sentence it
//   - drops markers that name no passage of the prompt (recorded as rejected, never shown),
//   - requires every number, date, identifier, capitalised name and quoted string of the
//     sentence to occur in one of the passages it cites,
//   - measures content-word support: the share of the sentence's content words found in the
//     cited passages,
//   - checks polarity: a sentence that negates what its cited passages state where they state
//     it ("not", "no", "never", "n't", "without" ... among or just before the claim's words), or
//     states what they negate, is unsupported whatever its word overlap,
// and marks it supported, partial or unsupported. Each cited passage must support the sentence on
// its own: a citation that does not is dropped (recorded as unsupporting), and the sentence is
// graded by the best of the rest, so two passages that each hold half a claim do not make it
// supported. A sentence without a valid citation is unsupported. Each citation is narrowed to the passage sentences
// that support the claim (its quote) and, inside them, to the claim's words: the boxes kept are those of these words
// where the provenance has word boxes (core::boxes_for_span), else those of their lines, and a line range shrinks to
// their lines. That span is what the UI highlights and the audit trail records.
//
// Pure functions of their inputs; thread-safe.
//
//   std::vector<Passage> passages = ...;  // numbered 1..n in the prompt, in this order
//   VerifiedAnswer v = verify_answer("Backups are kept 30 days [1].", passages, {});
//   v.answer.sentences[0].support == core::Support::kSupported
#pragma once

#include "strongbox/answer/answerer.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"

#include <string>
#include <vector>

namespace strongbox::appliance {

struct VerifierOptions {
    double supported_coverage = 0.75;  // content-word share for "supported"
    double partial_coverage = 0.4;     // and for "partial"; below it a sentence is unsupported
    bool remove_unsupported = true;    // false: keep unsupported sentences, visibly flagged
};

// One generated sentence as the verifier saw it, for the audit trail and the evaluation.
struct SentenceCheck {
    std::string text;                  // without markers
    std::vector<int> cited;            // valid prompt passage numbers (1-based) that support it on their own
    std::vector<int> rejected;         // markers naming no passage of the prompt
    std::vector<int> unsupporting;     // valid markers whose passage on its own does not support it (not shown)
    std::vector<std::string> missing;  // numbers, names, identifiers or quotes no cited passage holds
    double coverage = 0;               // content-word support in [0, 1]
    bool negation_conflict = false;    // the claim is negated where its cited passages are not, or vice versa
    core::Support support = core::Support::kUnsupported;
    bool removed = false;  // dropped from the answer (remove_unsupported)
};

struct VerifiedAnswer {
    core::Answer answer;                // kept sentences; citations renumbered 1..m in order of use
    std::vector<SentenceCheck> checks;  // every sentence of the raw text, in order
    size_t supported = 0;
    size_t partial = 0;
    size_t unsupported = 0;
};

// Splits raw model output into sentences with their citation markers and verifies each against
// `passages` (passage i is marker [i+1]). Does not refuse; the caller decides what an answer
// without a supported sentence becomes.
VerifiedAnswer verify_answer(const std::string & raw_text, const std::vector<Passage> & passages,
                             const VerifierOptions & options);

// Verifies one sentence (markers already removed) against the given passages jointly and grades
// it; `cited` numbers are left empty for the caller to fill. The answer paths check each citation
// on its own (verify_answer, verify_citations); the joint check is what citation recall measures.
SentenceCheck check_sentence(const std::string & sentence, const std::vector<const Passage *> & cited,
                             const VerifierOptions & options = {});

// The tokens that must occur verbatim in a cited passage: numbers, dates, identifiers,
// capitalised names (not the sentence's first word) and quoted strings. Exposed for tests.
std::vector<std::string> key_tokens(const std::string & sentence);

// Re-checks an answer's own sentences against its own citations (for the extractive answerer,
// whose sentences are verbatim quotes): updates each sentence's support and returns the checks.
std::vector<SentenceCheck> verify_citations(core::Answer & answer, const std::vector<Passage> & passages);

core::Json to_json(const SentenceCheck & check);

}  // namespace strongbox::appliance
