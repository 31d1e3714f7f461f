#include "strongbox/appliance/eval_set.h"

#include "strongbox/core/file.h"
#include "strongbox/core/text.h"
#include "strongbox/retrieval/analyzer.h"

#include <algorithm>
#include <set>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;

// Case (ASCII) and runs of whitespace do not matter when an expected string is looked for.
std::string normalised(std::string_view s) {
    return core::ascii_lower(core::collapse_whitespace(s));
}

core::Result<SetQuestion> parse_question(std::string_view line, const std::string & where) {
    auto j = core::Json::parse(line);
    if (!j.ok() || !j->is_object()) {
        return Error(ErrorCode::kCorruptInput, where + ": not a JSON object");
    }
    SetQuestion q;
    q.id = j->get_string("id");
    q.lang = j->get_string("lang");
    q.split = j->get_string("split");
    q.kind = j->get_string("kind");
    q.doc = j->get_string("doc");
    q.question = j->get_string("question");
    q.answer = j->get_string("answer");
    q.evidence = j->get_string("evidence");
    q.page = static_cast<int>(j->get_int("page"));
    q.line = static_cast<int>(j->get_int("line"));
    q.answerable = j->get_bool("answerable", true);
    auto missing = [&](const char * field) {
        return Error(ErrorCode::kCorruptInput, where + ": \"" + field + "\" is missing or empty");
    };
    for (const auto & [value, field] : {std::pair{&q.id, "id"},
                                        {&q.lang, "lang"},
                                        {&q.split, "split"},
                                        {&q.kind, "kind"},
                                        {&q.doc, "doc"},
                                        {&q.question, "question"}}) {
        if (value->empty()) {
            return missing(field);
        }
    }
    if (q.answerable && q.answer.empty()) {
        return missing("answer");
    }
    if (q.split != "dev" && q.split != "test") {
        return Error(ErrorCode::kCorruptInput, where + ": split must be \"dev\" or \"test\", not \"" + q.split + "\"");
    }
    return q;
}

// Whether a citation points where the question says the answer is.
bool on_target(const core::Citation & c, const SetQuestion & q, const fs::path & root) {
    const fs::path expected = (root / q.doc).lexically_normal();
    if (fs::path(c.provenance.source_path).lexically_normal() != expected) {
        return false;
    }
    if (q.page > 0 && c.provenance.page != q.page) {
        return false;
    }
    if (q.line > 0 && c.provenance.line_start > 0 &&
        (q.line < c.provenance.line_start || q.line > std::max(c.provenance.line_start, c.provenance.line_end))) {
        return false;
    }
    return true;
}

std::string describe(const core::Citation & c, const fs::path & root) {
    std::string out = fs::path(c.provenance.source_path).lexically_relative(root).string();
    if (c.provenance.page > 0) {
        out += " p." + std::to_string(c.provenance.page);
    }
    if (c.provenance.line_start > 0) {
        out += " l." + std::to_string(c.provenance.line_start) + "-" + std::to_string(c.provenance.line_end);
    }
    return out;
}

// The answer as the answerer gives it when its threshold is `t`: refused below it, and without
// the sentences that do not reach it (the answerer's floor for further sentences).
core::Answer at_threshold(const core::Answer & a, double t) {
    core::Answer out = a;
    if (a.refused || a.score < t) {
        out.refused = true;
        out.sentences.clear();
        return out;
    }
    std::erase_if(out.sentences, [&](const core::AnswerSentence & s) { return s.score >= 0 && s.score < t; });
    return out;
}

struct Scored {
    SetOutcome outcome;
    size_t citations = 0;
    size_t on_target = 0;
};

Scored score(const SetQuestion & q, const core::Answer & a, const fs::path & root) {
    if (a.refused) {
        return {q.answerable ? SetOutcome::kWronglyRefused : SetOutcome::kRightlyRefused};
    }
    if (!q.answerable) {
        return {SetOutcome::kUnanswerableAnswered};
    }
    std::string text;
    for (const core::AnswerSentence & s : a.sentences) {
        text += s.text + " ";
    }
    Scored s{SetOutcome::kWrong, a.citations.size(), 0};
    for (const core::Citation & c : a.citations) {
        s.on_target += on_target(c, q, root) ? 1 : 0;
    }
    if (s.on_target > 0 && normalised(text).find(normalised(q.answer)) != std::string::npos) {
        s.outcome = SetOutcome::kCorrect;
    }
    return s;
}

}  // namespace

void SetCounts::add(SetOutcome outcome, bool answerable_question) {
    (answerable_question ? answerable : unanswerable) += 1;
    switch (outcome) {
    case SetOutcome::kCorrect:
        ++correct;
        break;
    case SetOutcome::kWrong:
        ++wrong;
        break;
    case SetOutcome::kWronglyRefused:
        ++wrongly_refused;
        break;
    case SetOutcome::kUnanswerableAnswered:
        ++unanswerable_answered;
        break;
    case SetOutcome::kRightlyRefused:
        break;
    }
}

core::Result<std::vector<SetQuestion>> load_question_set(const fs::path & file_or_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(file_or_dir, ec)) {
        for (const auto & e : fs::directory_iterator(file_or_dir, ec)) {
            if (e.path().extension() == ".jsonl") {
                files.push_back(e.path());
            }
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            return Error(ErrorCode::kNotFound, file_or_dir.string() + ": no .jsonl question files");
        }
    } else {
        files.push_back(file_or_dir);
    }
    std::vector<SetQuestion> questions;
    std::set<std::string> ids;
    for (const fs::path & file : files) {
        SB_ASSIGN_OR_RETURN(std::string text, core::read_file(file));
        size_t line_no = 0;
        for (std::string_view line : core::split(text, '\n')) {
            ++line_no;
            if (core::trim(line).empty()) {
                continue;
            }
            const std::string where = file.string() + ":" + std::to_string(line_no);
            SB_ASSIGN_OR_RETURN(SetQuestion q, parse_question(line, where));
            if (!ids.insert(q.id).second) {
                return Error(ErrorCode::kCorruptInput, where + ": id \"" + q.id + "\" is used twice");
            }
            questions.push_back(std::move(q));
        }
    }
    return questions;
}

core::Result<SetEvalReport> evaluate_answer_set(const std::vector<SetQuestion> & questions,
                                                const fs::path & documents_root, const SetEvalOptions & options) {
    const fs::path root = fs::absolute(documents_root).lexically_normal();
    std::set<std::string> langs;
    for (const SetQuestion & q : questions) {
        if (!fs::exists(root / q.doc)) {
            return Error(ErrorCode::kNotFound, "question " + q.id + ": document " + (root / q.doc).string() +
                                                   " is missing (run eval/docs.sh)");
        }
        langs.insert(q.lang);
    }
    std::error_code ec;
    fs::remove_all(options.work_dir, ec);
    Settings settings = options.settings;
    settings.data_dir = options.work_dir / "data";
    // Ask everything once with no answer threshold; each threshold is then applied to the
    // answers' scores, which is exactly what the answerer would have refused or left out.
    const double threshold = settings.answer.min_coverage;
    settings.answer.min_coverage = 0;
    SB_ASSIGN_OR_RETURN(auto app, Appliance::open(settings));
    std::vector<fs::path> inputs;
    for (const std::string & lang : langs) {
        inputs.push_back(root / lang);  // every document of the language: the others are distractors
    }
    const IngestReport ingested = app->ingest(inputs, {});

    SetEvalReport report;
    report.answerer = app->health().get_string("answerer");
    report.analyzer = std::string(retrieval::kAnalyzerVersion);
    report.threshold = threshold;
    report.documents = ingested.files.size();
    report.failed_documents = ingested.count(IngestFileResult::Outcome::kFailed);

    std::vector<core::Answer> answers;
    for (const SetQuestion & q : questions) {
        SB_ASSIGN_OR_RETURN(core::Answer a, app->ask(q.question, "eval", "cli", options.top_k));
        answers.push_back(std::move(a));
    }
    // What retrieval handed the answerer, from the audit trail: did it hold the answer at all?
    AuditFilter filter;
    filter.kind = audit_kind::kAsk;
    SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app->audit().list(filter));
    std::map<int64_t, std::vector<Passage>> passages_of;  // audit id -> what the answerer was given
    for (const AuditRecord & r : records) {
        if (const core::Json * retrieved = r.body.find("retrieved"); retrieved != nullptr && retrieved->is_array()) {
            std::vector<Passage> & passages = passages_of[r.id];
            for (const core::Json & c : retrieved->as_array()) {
                if (auto chunk = app->retriever().store().get_chunk(c.get_int("chunk_id")); chunk.ok()) {
                    passages.push_back(Passage{chunk->id, chunk->text, chunk->provenance, c.get_double("score")});
                }
            }
        }
    }
    auto retrieved_text = [&](int64_t audit_id) {
        std::string text;
        for (const Passage & p : passages_of[audit_id]) {
            text += p.text + "\n";
        }
        return normalised(text);
    };

    std::vector<double> latencies;
    for (size_t i = 0; i < questions.size(); ++i) {
        const SetQuestion & q = questions[i];
        const core::Answer & a = answers[i];
        SetResult r;
        r.question = &q;
        r.score = a.score;
        r.latency_ms = a.latency_ms;
        r.answer_retrieved = q.answerable && retrieved_text(a.audit_id).find(normalised(q.answer)) != std::string::npos;
        const core::Answer as_seen = at_threshold(a, threshold);
        const Scored s = score(q, as_seen, root);
        r.outcome = s.outcome;
        if (!as_seen.refused) {
            for (const core::AnswerSentence & sentence : as_seen.sentences) {
                r.answer_text += (r.answer_text.empty() ? "" : " ") + sentence.text;
            }
            r.cited = as_seen.citations.empty() ? "" : describe(as_seen.citations.front(), root);
        } else {
            r.answer_text = a.refused ? a.refusal_reason : "(below the answer threshold)";
        }
        for (const std::string & key : {q.split, q.split + "/" + q.lang, q.split + "/" + q.lang + "/" + q.kind}) {
            SetCounts & c = report.groups[key];
            c.add(s.outcome, q.answerable);
            c.answer_retrieved += r.answer_retrieved ? 1 : 0;
            if (q.answerable && !as_seen.refused) {
                c.citations += s.citations;
                c.citations_on_target += s.on_target;
            }
        }
        for (double t : options.thresholds) {
            auto & curve = report.trade_off[q.split];
            auto point =
                std::find_if(curve.begin(), curve.end(), [&](const TradeOffPoint & p) { return p.threshold == t; });
            if (point == curve.end()) {
                curve.push_back(TradeOffPoint{t, {}});
                point = curve.end() - 1;
            }
            point->counts.add(score(q, at_threshold(a, t), root).outcome, q.answerable);
        }
        latencies.push_back(a.latency_ms);
        report.results.push_back(std::move(r));
    }
    if (!options.train_split.empty()) {
        // Every candidate of the split's questions, labelled by whether it holds the expected
        // answer in the expected place; an unanswerable question's are all negative.
        std::vector<TrainingQuestion> training;
        size_t rows = 0;
        size_t positives = 0;
        for (size_t i = 0; i < questions.size(); ++i) {
            const SetQuestion & q = questions[i];
            if (q.split != options.train_split) {
                continue;
            }
            const std::vector<Passage> & passages = passages_of[answers[i].audit_id];
            TrainingQuestion & t = training.emplace_back();
            for (const Candidate & c : candidate_sentences(q.question, passages).candidates) {
                const Passage & p = passages[c.passage];
                core::Citation where;
                where.provenance = p.provenance;
                const bool holds =
                    q.answerable && on_target(where, q, root) &&
                    normalised(p.text.substr(c.begin, c.end - c.begin)).find(normalised(q.answer)) != std::string::npos;
                t.candidates.push_back(c);
                t.labels.push_back(holds ? 1 : 0);
                positives += holds ? 1 : 0;
                ++rows;
            }
        }
        report.trained = train_scorer(training, options.trained_version,
                                      "eval/sets split " + options.train_split + ": " +
                                          std::to_string(training.size()) + " questions, " + std::to_string(rows) +
                                          " candidate sentences, " + std::to_string(positives) + " answering");
    }
    if (!latencies.empty()) {
        std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(latencies.size() / 2),
                         latencies.end());
        report.median_latency_ms = latencies[latencies.size() / 2];
    }
    return report;
}

}  // namespace strongbox::appliance
