// Answer evaluation over a question set written on real documents (`strongbox eval answers
// --set`; the format is eval/README.md): every question is asked through the appliance's whole
// ask path, over every document of the set's languages, and scored as a user would see it.
//
// Outcomes
// - answerable: answered correctly (the answer's text holds the expected string and a citation
//   is of the expected document, on the expected page or over the expected line when the set
//   names one), wrongly answered (anything else that is not a refusal) or wrongly refused;
// - unanswerable: rightly refused, or answered (the worst failure);
// - citation precision: the share of the citations of answered answerable questions that are of
//   the expected document (and page or line).
// The answer threshold (Settings::answer.min_coverage) is swept after the run over the score of
// each answer and its sentences, giving the trade-off curve without asking again.
//
// Thread-safety: plain functions; evaluate_answer_set owns the data directory it builds.
// Errors: an unreadable set, or a line that is not a valid question, is kCorruptInput naming the
// file and line.
//
//   SB_ASSIGN_OR_RETURN(auto set, load_question_set("eval/sets"));
//   SB_ASSIGN_OR_RETURN(SetEvalReport r, evaluate_answer_set(set, "build/eval-docs", options));
#pragma once

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/result.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct SetQuestion {
    std::string id;
    std::string lang;   // "en", "ko"
    std::string split;  // "dev", "test"
    std::string kind;   // "html", "pdf", "scan", "log", "markdown", "csv"
    std::string doc;    // path under the documents root
    std::string question;
    std::string answer;    // what a correct answer's text holds; empty when unanswerable
    std::string evidence;  // the passage around it in the document
    int page = 0;          // 0: not named
    int line = 0;
    bool answerable = true;
};

// One .jsonl file, or every .jsonl file of a folder (sorted by name).
core::Result<std::vector<SetQuestion>> load_question_set(const std::filesystem::path & file_or_dir);

enum class SetOutcome { kCorrect, kWrong, kWronglyRefused, kRightlyRefused, kUnanswerableAnswered };

struct SetCounts {
    size_t answerable = 0;
    size_t unanswerable = 0;
    size_t correct = 0;
    size_t wrong = 0;
    size_t wrongly_refused = 0;
    size_t unanswerable_answered = 0;
    size_t citations = 0;  // of answered answerable questions
    size_t citations_on_target = 0;
    size_t answer_retrieved = 0;  // answerable questions whose expected string is in the retrieved passages

    void add(SetOutcome outcome, bool answerable_question);
};

struct SetResult {
    const SetQuestion * question = nullptr;
    SetOutcome outcome = SetOutcome::kWronglyRefused;
    std::string answer_text;  // the sentences, or the refusal reason
    std::string cited;        // the first citation: document, page or lines
    double score = 0;         // the answer's score, which the answer threshold is compared with
    double latency_ms = 0;
    bool answer_retrieved = false;  // the expected string is in the passages the answerer was given
};

struct TradeOffPoint {
    double threshold = 0;
    SetCounts counts;  // over the questions of the split, as if the threshold had been set
};

struct SetEvalReport {
    std::string answerer;
    std::string analyzer;
    double threshold = 0;  // the answer threshold the results use
    std::vector<SetResult> results;
    // "split", "split/lang" and "split/lang/kind" -> counts
    std::map<std::string, SetCounts> groups;
    std::map<std::string, std::vector<TradeOffPoint>> trade_off;  // by split
    size_t documents = 0;
    size_t failed_documents = 0;
    double median_latency_ms = 0;
    std::optional<AnswerScorer> trained;  // when SetEvalOptions::train_split is set
};

struct SetEvalOptions {
    std::filesystem::path work_dir;  // removed and rebuilt: the data directory
    Settings settings;               // answerer and caps; data_dir is set by the run
    int top_k = 5;
    std::vector<double> thresholds = {0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97};
    // Fit a new answer scorer to the candidate sentences of this split's questions ("dev"; empty:
    // none), named trained_version.
    std::string train_split;
    std::string trained_version;
};

core::Result<SetEvalReport> evaluate_answer_set(const std::vector<SetQuestion> & questions,
                                                const std::filesystem::path & documents_root,
                                                const SetEvalOptions & options);

}  // namespace strongbox::appliance
