// The answer scorer: a logistic model over a candidate sentence's features (answerer.h) giving
// the probability that the sentence answers the question. Its weights are a versioned data file,
// appliance/answer/scorer/answer-scorer.json, trained on the development split of eval/sets by
// `strongbox eval answers --set eval/sets --train-scorer FILE` and built into the binary; every
// answer's audit record names the scorer's version and the sha256 of its weights.
//
// Thread-safety: immutable after construction; shipped() is built once.
//
//   const AnswerScorer & s = AnswerScorer::shipped();
//   double p = s.probability(candidate.features);
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <string>
#include <vector>

namespace strongbox::appliance {

struct AnswerScorer {
    std::string version;                // e.g. "answer-scorer/2"
    std::vector<std::string> features;  // names, in the order of weights
    std::vector<double> weights;
    double bias = 0;
    // Platt scaling of the best sentence's raw score to the chance that it is a right answer,
    // fitted on the same questions: p = 1 / (1 + exp(-(slope * logit(raw) + offset))).
    double calibration_slope = 1;
    double calibration_offset = 0;
    std::string trained_on;  // what it was fitted to, for people

    // The chance that the sentence answers the question: the model's raw score, calibrated.
    double probability(const std::vector<double> & x) const;
    double raw(const std::vector<double> & x) const;

    // {"version", "features", "weights", "bias", "trained_on"}; from_json checks the features
    // are the answerer's, in order (kCorruptInput naming the first that is not).
    core::Json to_json() const;
    static core::Result<AnswerScorer> from_json(const core::Json & j);

    // sha256 of the canonical JSON: what audit records pin.
    std::string sha256() const;

    static const AnswerScorer & shipped();
};

// One question's candidates for training: their feature rows and whether each holds the answer.
struct TrainingQuestion {
    std::vector<std::vector<double>> rows;
    std::vector<int> labels;
};

// Fits the sentence model (logistic, L2-regularised, full-batch gradient descent, positives and
// negatives weighted equally) to every candidate, then the calibration to each question's best
// candidate: right (1) when it holds the answer, else 0, so an unanswerable question counts
// against the score its best sentence got.
AnswerScorer train_scorer(const std::vector<TrainingQuestion> & questions, const std::string & version,
                          const std::string & trained_on);

}  // namespace strongbox::appliance
