// The extractive answerer: answers a question with sentences copied verbatim from the retrieved
// passages, each followed by the citation of the passage it came from, or refuses when no
// sentence is likely enough to answer it.
//
// It never writes a word of its own, so every sentence is supported by construction; what it
// can get wrong is relevance. Candidates (one sentence, or two in a row, since an answer may
// follow the sentence that names its subject) come only from passages that mention every key term
// of the question (names, numbers, identifiers); each is described by features (how much of the
// question it and its context hold, whether it holds the kind of answer asked for, its passage's
// rank, ...) and scored by models trained on the development questions of eval/sets (scorer.h).
// The best candidate's confidence is the answer's score; below AnswerOptions::min_coverage the
// answerer refuses.
//
// Pure function of its inputs; thread-safe.
//
//   core::Answer a = answer_extractively("How long are backups kept?", passages, {});
#pragma once

#include "strongbox/answer/scorer.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/document.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strongbox::appliance {

struct Passage {
    int64_t chunk_id = 0;
    std::string text;
    core::Provenance provenance;
    double score = 0;  // retrieval score, higher is better; passages arrive best first
};

struct AnswerOptions {
    double min_coverage = 0.4;     // the confidence (chance of being right) the best candidate must reach
    double relative_floor = 0.95;  // further candidates need this share of the best one's confidence
    int max_sentences = 3;
    double high_confidence = 0.8;           // an answer this confident is shown as "high"
    const AnswerScorer * scorer = nullptr;  // null: AnswerScorer::shipped()
};

struct Candidates {
    std::vector<Candidate> candidates;  // in passage and text order; unscored (AnswerScorer::score)
    std::string refusal;                // why there are none
};

// Candidate sentences and their features; the answerer scores them, evaluation trains on them.
Candidates candidate_sentences(const std::string & question, const std::vector<Passage> & passages);
const std::vector<std::string> & candidate_feature_names();

core::Answer answer_extractively(const std::string & question, const std::vector<Passage> & passages,
                                 const AnswerOptions & options);

// Sentences of a passage as [begin, end) byte ranges: split at . ! ? before a non-lower-case
// word, at line breaks that end a statement or precede a blank line, and at every line break
// when line_records is set (logs, and PDF chunks where each line has its own box).
std::vector<std::pair<size_t, size_t>> sentence_spans(const std::string & text, bool line_records);

// Narrows citation `c` of passage `p` to the text range [begin, end): its line and word boxes
// (where boxes map to text) and its line range. `first` replaces what the citation held (it was
// copied from the whole passage); later calls add the range to it, without repeating a box.
void narrow_citation(core::Citation & c, const Passage & p, size_t begin, size_t end, bool first);

// Content words of a text as the answerer and the verifier match them: the text analyzer's
// search terms (strongbox/retrieval/analyzer.h), so they meet the words retrieval matched.
std::vector<std::string> content_words(const std::string & text);

}  // namespace strongbox::appliance
