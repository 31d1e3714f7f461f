// The answer scorer: two small models over a question's candidate answers (answerer.h).
//
// - Ranking: a linear score over a candidate's features; the softmax of the scores over one
//   question's candidates is the model of which candidate answers it, fitted as such (a
//   conditional logit), so candidates are compared with each other, not with a global scale.
// - Confidence: a logistic model of whether a candidate, given as the answer, is right, from its
//   score, its share of the softmax and its lead over the best candidate that does not overlap it.
//   Unanswerable questions count against it, so it is the number the answer threshold is set on.
//
// Its weights are a versioned data file, appliance/answer/scorer/answer-scorer.json, trained on
// the development split of eval/sets by `strongbox eval answers --set eval/sets --train-scorer
// FILE` and built into the binary; every answer's audit record names the scorer's version and the
// sha256 of its weights.
//
// Thread-safety: immutable after construction; shipped() is built once.
//
//   const AnswerScorer & s = AnswerScorer::shipped();
//   s.score(found.candidates);  // sets score, share and confidence
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <string>
#include <vector>

namespace strongbox::appliance {

// A passage range that might answer the question (one sentence, or two in a row): where it is,
// what the scorer weighs, and what the scorer made of it.
struct Candidate {
    size_t passage = 0;
    size_t begin = 0;  // byte range in the passage text
    size_t end = 0;
    std::vector<double> features;  // in candidate_feature_names() order
    double score = 0;              // the ranking model's score
    double share = 0;              // its share of the softmax over the question's candidates
    double confidence = 0;         // the chance it is a right answer

    bool overlaps(const Candidate & o) const { return passage == o.passage && begin < o.end && o.begin < end; }
};

struct AnswerScorer {
    std::string version;                // e.g. "answer-scorer/2"
    std::vector<std::string> features;  // names, in the order of weights
    std::vector<double> weights;        // the ranking model
    // The confidence model over {score, share, lead}, lead clamped to kMaxLead.
    std::vector<double> confidence_weights;
    double confidence_bias = 0;
    std::string trained_on;  // what it was fitted to, for people

    static constexpr size_t kConfidenceInputs = 3;
    static constexpr double kMaxLead = 3.0;

    // Scores every candidate of one question: score, share and confidence.
    void score(std::vector<Candidate> & candidates) const;
    double rank_score(const std::vector<double> & x) const;
    double confidence(double score, double share, double lead) const;

    // {"version", "features", "weights", "confidence_weights", "confidence_bias", "trained_on"};
    // from_json checks the features are the answerer's, in order (kCorruptInput naming the first
    // that is not).
    core::Json to_json() const;
    static core::Result<AnswerScorer> from_json(const core::Json & j);

    // sha256 of the canonical JSON: what audit records pin.
    std::string sha256() const;

    static const AnswerScorer & shipped();
};

// One question's candidates for training and whether each holds the answer (all 0 when the
// question is unanswerable).
struct TrainingQuestion {
    std::vector<Candidate> candidates;
    std::vector<int> labels;
};

// Fits the ranking model (softmax over each answerable question's candidates, L2-regularised,
// Adam) to the questions that have an answering candidate, then the confidence model to every
// question's best candidate: right (1) when it holds the answer, else 0, so an unanswerable
// question counts against the confidence its best candidate gets.
AnswerScorer train_scorer(const std::vector<TrainingQuestion> & questions, const std::string & version,
                          const std::string & trained_on);

}  // namespace strongbox::appliance
