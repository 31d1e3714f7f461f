// Answer evaluation (`strongbox eval answers`): runs the appliance's whole ask path over
// labelled questions and measures what users would see.
//
// Metrics
// - citation correctness: answered questions whose first citation is the gold document;
// - citation recall / precision in the ALCE sense (Gao et al. 2023): a sentence counts for recall
//   when its citations jointly support it; a citation counts for precision when the sentence is
//   supported and that citation supports it alone or is needed for the joint support. ALCE judges
//   support with an NLI model; here the judge is Strongbox's own verifier (verifier.h), so the
//   figures are a lexical bound, not an entailment judgement;
// - refusal accuracy on unanswerable questions and the answered share of answerable ones, for a
//   sweep of the retrieval threshold (Settings::min_question_coverage) to calibrate it, with the
//   trade-off over all questions: answered correctly / wrongly refused / wrongly answered;
// - yes/no/maybe accuracy from the first word the model wrote, when a model is configured.
//
// Thread-safety: plain functions; evaluate_answers owns the data directory it builds.
// Errors: missing or malformed question files are kNotFound / kCorruptInput naming file and line.
//
//   SB_ASSIGN_OR_RETURN(auto data, retrieval::load_pubmedqa(dir));
//   SB_ASSIGN_OR_RETURN(auto cases, load_answer_cases(dir / "queries_dev500.jsonl"));
//   SB_ASSIGN_OR_RETURN(AnswerEvalReport r, evaluate_answers(data.corpus, cases, options));
#pragma once

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/retrieval/eval.h"

#include <filesystem>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct AnswerCase {
    std::string id;
    std::string question;
    std::string gold_document;  // corpus document id; empty for an unanswerable question
    std::string decision;       // "yes", "no", "maybe"; empty when unlabelled
};

// PubMedQA queries ({qid, question, gold_pmid, final_decision}) or unanswerable questions
// ({question}, optionally {id}); `limit` > 0 keeps the first `limit`.
core::Result<std::vector<AnswerCase>> load_answer_cases(const std::filesystem::path & jsonl, size_t limit = 0);

struct AnswerEvalOptions {
    std::filesystem::path work_dir;  // removed and rebuilt: documents and the data directory
    Settings settings;               // answerer, model, caps; data_dir and the threshold are set by the run
    int top_k = 5;
    std::vector<double> thresholds = {0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
};

struct ThresholdPoint {
    double threshold = 0;
    double answerable_answered = 0;   // share of answerable questions answered
    double unanswerable_refused = 0;  // refusal accuracy
    double citation_correctness = 0;  // over the answered answerable questions
    // The threshold alone, whatever the answerer would then do:
    double answerable_passed = 0;     // answerable questions whose best passage reaches it
    double unanswerable_stopped = 0;  // unanswerable questions it refuses
    // The trade-off over every question (answerable and unanswerable together), as shares:
    double answered_correctly = 0;  // answerable, answered, the gold abstract cited first
    double wrongly_refused = 0;     // answerable, refused
    double wrongly_answered = 0;    // answerable but another abstract cited first, or unanswerable and answered
    double rightly_refused = 0;     // unanswerable, refused
};

struct AnswerEvalReport {
    size_t answerable = 0;
    size_t unanswerable = 0;
    double threshold = 0;             // Settings::min_question_coverage the figures below use
    size_t answered = 0;              // answerable questions answered at the threshold
    double citation_correctness = 0;  // first citation is the gold document
    double gold_cited = 0;            // some citation is the gold document
    size_t sentences = 0;
    size_t citations = 0;
    double citation_recall = 0;  // ALCE-style, verifier as judge
    double citation_precision = 0;
    double unanswerable_refused = 0;
    int decisions_scored = 0;  // answers with a model; 0 for the extractive answerer
    double decision_accuracy = 0;
    double median_latency_ms = 0;
    std::vector<ThresholdPoint> calibration;
    double best_threshold = 0;  // the calibration point with the most answered correctly + rightly refused
    std::string answerer;

    core::Json to_json() const;
};

core::Result<AnswerEvalReport> evaluate_answers(const std::vector<retrieval::EvalDocument> & corpus,
                                                const std::vector<AnswerCase> & answerable,
                                                const std::vector<AnswerCase> & unanswerable,
                                                const AnswerEvalOptions & options);

}  // namespace strongbox::appliance
