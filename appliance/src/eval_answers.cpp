#include "strongbox/answer/verifier.h"
#include "strongbox/appliance/eval.h"
#include "strongbox/core/file.h"
#include "strongbox/core/text.h"
#include "strongbox/webui/service.h"

#include <algorithm>
#include <map>

namespace strongbox::appliance {
namespace {

std::string document_file_name(const std::string & id) {
    return "pmid-" + id + ".txt";
}

bool cites_document(const core::Citation & c, const std::string & id) {
    return std::filesystem::path(c.provenance.source_path).filename().string() == document_file_name(id);
}

double share(size_t n, size_t d) {
    return d == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(d);
}

std::string first_word(const std::string & text) {
    std::string w;
    for (char c : text) {
        if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
            w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!w.empty()) {
            break;
        }
    }
    return w;
}

// One asked question as the evaluation needs it.
struct Outcome {
    bool answerable = true;
    const AnswerCase * item = nullptr;
    core::Answer answer;
    double coverage = 0;
    std::string generated;
};

}  // namespace

core::Result<std::vector<AnswerCase>> load_answer_cases(const std::filesystem::path & jsonl, size_t limit) {
    SB_ASSIGN_OR_RETURN(std::string text, core::read_file(jsonl));
    std::vector<AnswerCase> cases;
    size_t line_no = 0;
    for (std::string_view line : core::split(text, '\n')) {
        ++line_no;
        if (core::trim(line).empty()) {
            continue;
        }
        auto j = core::Json::parse(line);
        if (!j.ok() || !j->is_object()) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               jsonl.string() + " line " + std::to_string(line_no) + ": not a JSON object");
        }
        AnswerCase c;
        c.question = j->get_string("question");
        c.id = j->get_string("qid", j->get_string("id", std::to_string(line_no)));
        c.gold_document = j->get_string("gold_pmid");
        c.decision = j->get_string("final_decision");
        if (c.question.empty()) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               jsonl.string() + " line " + std::to_string(line_no) + ": no \"question\"");
        }
        cases.push_back(std::move(c));
        if (limit > 0 && cases.size() >= limit) {
            break;
        }
    }
    return cases;
}

core::Json AnswerEvalReport::to_json() const {
    core::Json j = core::Json::object();
    j["answerer"] = answerer;
    j["answerable"] = static_cast<uint64_t>(answerable);
    j["unanswerable"] = static_cast<uint64_t>(unanswerable);
    j["threshold"] = threshold;
    j["answered"] = static_cast<uint64_t>(answered);
    j["citation_correctness"] = citation_correctness;
    j["gold_cited"] = gold_cited;
    j["sentences"] = static_cast<uint64_t>(sentences);
    j["citations"] = static_cast<uint64_t>(citations);
    j["citation_recall"] = citation_recall;
    j["citation_precision"] = citation_precision;
    j["unanswerable_refused"] = unanswerable_refused;
    j["decisions_scored"] = decisions_scored;
    j["decision_accuracy"] = decision_accuracy;
    j["median_latency_ms"] = median_latency_ms;
    core::Json cal = core::Json::array();
    for (const ThresholdPoint & p : calibration) {
        core::Json x = core::Json::object();
        x["threshold"] = p.threshold;
        x["answerable_answered"] = p.answerable_answered;
        x["unanswerable_refused"] = p.unanswerable_refused;
        x["citation_correctness"] = p.citation_correctness;
        x["answerable_passed"] = p.answerable_passed;
        x["unanswerable_stopped"] = p.unanswerable_stopped;
        x["answered_correctly"] = p.answered_correctly;
        x["wrongly_refused"] = p.wrongly_refused;
        x["wrongly_answered"] = p.wrongly_answered;
        x["rightly_refused"] = p.rightly_refused;
        cal.push_back(std::move(x));
    }
    j["calibration"] = std::move(cal);
    j["best_threshold"] = best_threshold;
    return j;
}

core::Result<AnswerEvalReport> evaluate_answers(const std::vector<retrieval::EvalDocument> & corpus,
                                                const std::vector<AnswerCase> & answerable,
                                                const std::vector<AnswerCase> & unanswerable,
                                                const AnswerEvalOptions & options) {
    std::error_code ec;
    std::filesystem::remove_all(options.work_dir, ec);
    const std::filesystem::path docs = options.work_dir / "documents";
    std::filesystem::create_directories(docs, ec);
    if (ec) {
        return core::Error(core::ErrorCode::kIoError, "create " + docs.string() + ": " + ec.message());
    }
    for (const retrieval::EvalDocument & d : corpus) {
        std::string text;
        for (const std::string & p : d.passages) {
            text += p + "\n\n";
        }
        SB_TRY(core::write_file_atomic(docs / document_file_name(d.id), text));
    }
    Settings settings = options.settings;
    settings.data_dir = options.work_dir / "data";
    // Ask everything once with no retrieval threshold; each threshold is then applied to the
    // recorded coverage, which is exactly what the appliance would have refused.
    settings.min_question_coverage = 0;
    SB_ASSIGN_OR_RETURN(auto app, Appliance::open(settings));
    IngestReport ingested = app->ingest({docs}, {});
    if (ingested.count(IngestFileResult::Outcome::kFailed) > 0) {
        return core::Error(core::ErrorCode::kInternal,
                           "ingesting the evaluation corpus failed for " +
                               std::to_string(ingested.count(IngestFileResult::Outcome::kFailed)) + " documents");
    }

    std::vector<Outcome> outcomes;
    std::vector<double> latencies;
    auto run = [&](const std::vector<AnswerCase> & cases, bool is_answerable) -> core::Status {
        for (const AnswerCase & c : cases) {
            SB_ASSIGN_OR_RETURN(core::Answer a, app->ask(c.question, "eval", "cli", options.top_k));
            latencies.push_back(a.latency_ms);
            outcomes.push_back(Outcome{is_answerable, &c, std::move(a), 0, ""});
        }
        return core::ok_status();
    };
    SB_TRY(run(answerable, true));
    SB_TRY(run(unanswerable, false));

    // The audit trail holds what ask() saw: the retrieval coverage and the raw generated text.
    AuditFilter filter;
    filter.kind = audit_kind::kAsk;
    SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app->audit().list(filter));
    std::map<int64_t, const AuditRecord *> by_id;
    for (const AuditRecord & r : records) {
        by_id[r.id] = &r;
    }
    for (Outcome & o : outcomes) {
        auto it = by_id.find(o.answer.audit_id);
        if (it != by_id.end()) {
            o.coverage = it->second->body.get_double("question_coverage");
            o.generated = it->second->body.get_string("generated_text");
        }
    }

    AnswerEvalReport report;
    report.answerer = app->health().get_string("answerer");
    report.answerable = answerable.size();
    report.unanswerable = unanswerable.size();
    report.threshold = options.settings.min_question_coverage;
    auto answered_at = [](const Outcome & o, double t) {
        return !o.answer.refused && o.coverage >= t;
    };
    ThresholdPoint best;
    for (double t : options.thresholds) {
        ThresholdPoint p;
        p.threshold = t;
        size_t answered = 0;
        size_t correct = 0;
        size_t refused = 0;
        size_t passed = 0;
        size_t stopped = 0;
        size_t wrong_answers = 0;
        for (const Outcome & o : outcomes) {
            passed += o.answerable && o.coverage >= t ? 1 : 0;
            stopped += !o.answerable && o.coverage < t ? 1 : 0;
            if (o.answerable && answered_at(o, t)) {
                ++answered;
                const bool right =
                    !o.answer.citations.empty() && cites_document(o.answer.citations.front(), o.item->gold_document);
                correct += right ? 1 : 0;
                wrong_answers += right ? 0 : 1;
            } else if (!o.answerable && !answered_at(o, t)) {
                ++refused;
            } else if (!o.answerable) {
                ++wrong_answers;
            }
        }
        const size_t all = outcomes.size();
        p.answered_correctly = share(correct, all);
        p.wrongly_refused = share(answerable.size() - answered, all);
        p.wrongly_answered = share(wrong_answers, all);
        p.rightly_refused = share(refused, all);
        // Ties go to the higher threshold: the same figures with fewer weak passages let through.
        if (report.calibration.empty() ||
            p.answered_correctly + p.rightly_refused >= best.answered_correctly + best.rightly_refused) {
            best = p;
        }
        p.answerable_answered = share(answered, answerable.size());
        p.unanswerable_refused = share(refused, unanswerable.size());
        p.citation_correctness = share(correct, answered);
        p.answerable_passed = share(passed, answerable.size());
        p.unanswerable_stopped = share(stopped, unanswerable.size());
        report.calibration.push_back(p);
    }
    report.best_threshold = best.threshold;

    // Full passage texts of cited chunks, for the support judge.
    std::map<int64_t, Passage> passage_of;
    auto passage = [&](const core::Citation & c) -> const Passage * {
        auto it = passage_of.find(c.chunk_id);
        if (it == passage_of.end()) {
            auto view = app->source(c.chunk_id);
            if (!view.ok()) {
                return nullptr;
            }
            it = passage_of.emplace(c.chunk_id, Passage{c.chunk_id, view->passage, view->provenance, c.score}).first;
        }
        return &it->second;
    };
    size_t correct = 0;
    size_t gold = 0;
    size_t recalled = 0;
    size_t precise = 0;
    size_t refused = 0;
    int decisions_right = 0;
    for (const Outcome & o : outcomes) {
        if (!o.answerable) {
            refused += answered_at(o, report.threshold) ? 0 : 1;
            continue;
        }
        if (!o.generated.empty() || report.answerer != "extractive") {
            if (!o.item->decision.empty()) {
                ++report.decisions_scored;
                decisions_right += first_word(o.generated) == o.item->decision ? 1 : 0;
            }
        }
        if (!answered_at(o, report.threshold)) {
            continue;
        }
        ++report.answered;
        const auto & cites = o.answer.citations;
        correct += !cites.empty() && cites_document(cites.front(), o.item->gold_document);
        gold += std::any_of(cites.begin(), cites.end(),
                            [&](const core::Citation & c) { return cites_document(c, o.item->gold_document); });
        for (const core::AnswerSentence & s : o.answer.sentences) {
            ++report.sentences;
            std::vector<const Passage *> cited;
            for (int n : s.citations) {
                if (n >= 1 && static_cast<size_t>(n) <= cites.size()) {
                    if (const Passage * p = passage(cites[static_cast<size_t>(n - 1)])) {
                        cited.push_back(p);
                    }
                }
            }
            report.citations += s.citations.size();
            const bool joint = check_sentence(s.text, cited).support == core::Support::kSupported;
            recalled += joint ? 1 : 0;
            if (!joint) {
                continue;
            }
            for (size_t i = 0; i < cited.size(); ++i) {
                const bool alone = check_sentence(s.text, {cited[i]}).support != core::Support::kUnsupported;
                std::vector<const Passage *> rest = cited;
                rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
                const bool needed = check_sentence(s.text, rest).support != core::Support::kSupported;
                precise += (alone || needed) ? 1 : 0;
            }
        }
    }
    report.citation_correctness = share(correct, report.answered);
    report.gold_cited = share(gold, report.answered);
    report.citation_recall = share(recalled, report.sentences);
    report.citation_precision = share(precise, report.citations);
    report.unanswerable_refused = share(refused, unanswerable.size());
    report.decision_accuracy = report.decisions_scored == 0 ? 0.0
                                                            : static_cast<double>(decisions_right) /
                                                                  static_cast<double>(report.decisions_scored);
    if (!latencies.empty()) {
        std::sort(latencies.begin(), latencies.end());
        report.median_latency_ms = latencies[latencies.size() / 2];
    }
    std::filesystem::remove_all(options.work_dir, ec);
    return report;
}

}  // namespace strongbox::appliance
