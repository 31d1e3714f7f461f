// eval retrieval, eval answers: measured quality on a labelled question set.

#include "commands.h"

#include "strongbox/appliance/eval.h"
#include "strongbox/appliance/eval_set.h"
#include "strongbox/core/file.h"
#include "strongbox/retrieval/embedder.h"
#include "strongbox/retrieval/eval.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

namespace strongbox::appliance {
namespace {

// PubMedQA directory, or its queries file (the corpus is then looked for beside it).
std::filesystem::path dataset_dir(const std::string & arg) {
    std::filesystem::path p(arg);
    return std::filesystem::is_regular_file(p) ? p.parent_path() : p;
}

std::filesystem::path queries_file(const std::string & arg) {
    std::filesystem::path p(arg);
    return std::filesystem::is_regular_file(p) ? p : p / "queries_dev500.jsonl";
}

std::filesystem::path scratch_dir(const std::string & what) {
    return std::filesystem::temp_directory_path() / ("strongbox-eval-" + what + "-" + std::to_string(::getpid()));
}

core::Result<retrieval::EvalDataset> load_dataset(const std::string & arg, size_t limit) {
    const std::filesystem::path dir = dataset_dir(arg);
    auto data =
        std::filesystem::exists(dir / "corpus.jsonl") ? retrieval::load_beir(dir) : retrieval::load_pubmedqa(dir);
    if (data.ok() && limit > 0 && data->queries.size() > limit) {
        data->queries.resize(limit);
    }
    return data;
}

int run_eval_retrieval(const CommandContext & ctx) {
    if (ctx.args.positionals().size() != 1) {
        return fail("eval retrieval", "give the PubMedQA (or BEIR) directory, e.g. ../shared/data/qa-pubmedqa-pqal");
    }
    auto limit = ctx.args.get_int("limit", 0);
    if (!limit.ok()) {
        return fail("eval retrieval", limit.error());
    }
    auto data = load_dataset(ctx.args.positionals()[0], static_cast<size_t>(std::max(0, *limit)));
    if (!data.ok()) {
        return fail("eval retrieval", data.error());
    }
    std::vector<retrieval::EvalRun> runs(3);
    runs[0].name = "bm25";
    runs[0].options.use_dense = false;
    runs[1].name = "dense";
    runs[1].options.use_bm25 = false;
    runs[2].name = "hybrid";
    const std::filesystem::path work = scratch_dir("retrieval");
    auto results = retrieval::evaluate_retrieval(*data, work, runs, std::make_shared<retrieval::HashedEmbedder>());
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    if (!results.ok()) {
        return fail("eval retrieval", results.error());
    }
    std::printf("%s: %zu documents, %zu queries\n", data->name.c_str(), data->corpus.size(), data->queries.size());
    std::printf("%-8s %9s %9s %9s %9s %9s %12s\n", "run", "recall@1", "recall@5", "recall@10", "MRR@10", "nDCG@10",
                "median ms");
    for (const retrieval::EvalResult & r : *results) {
        std::printf("%-8s %9.3f %9.3f %9.3f %9.3f %9.3f %12.2f\n", r.name.c_str(), r.metrics.recall_at_1,
                    r.metrics.recall_at_5, r.metrics.recall_at_10, r.metrics.mrr_at_10, r.metrics.ndcg_at_10,
                    r.median_query_ms);
    }
    return kExitOk;
}

std::string share_cell(size_t n, size_t of) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%zu (%.2f)", n,
                  of == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(of));
    return buf.data();
}

void print_counts_header() {
    std::printf("%-22s %9s %16s %16s %16s %16s %10s %16s\n", "", "questions", "answered right", "wrongly refused",
                "wrongly answered", "unanswerable ans", "cite prec", "in passages");
}

void print_counts(const std::string & name, const SetCounts & c) {
    std::printf("%-22s %9zu %16s %16s %16s %16s %10.3f %16s\n", name.c_str(), c.answerable + c.unanswerable,
                share_cell(c.correct, c.answerable).c_str(), share_cell(c.wrongly_refused, c.answerable).c_str(),
                share_cell(c.wrong, c.answerable).c_str(), share_cell(c.unanswerable_answered, c.unanswerable).c_str(),
                c.citations == 0 ? 0.0 : static_cast<double>(c.citations_on_target) / static_cast<double>(c.citations),
                share_cell(c.answer_retrieved, c.answerable).c_str());
}

const char * outcome_label(SetOutcome o) {
    switch (o) {
    case SetOutcome::kUnanswerableAnswered:
        return "unanswerable answered";
    case SetOutcome::kWrong:
        return "wrongly answered";
    case SetOutcome::kWronglyRefused:
        return "wrongly refused";
    case SetOutcome::kCorrect:
        return "correct";
    case SetOutcome::kRightlyRefused:
        return "rightly refused";
    }
    return "";
}

void print_set_report(const SetEvalReport & r, const std::string & only_split, size_t show) {
    std::printf("answerer: %s; analyzer: %s; answer threshold %.2f\n", r.answerer.c_str(), r.analyzer.c_str(),
                r.threshold);
    std::printf("documents: %zu ingested, %zu failed; median latency per question: %.1f ms\n", r.documents,
                r.failed_documents, r.median_latency_ms);
    std::printf("(answered right, wrongly refused, wrongly answered and in passages (the expected string is in the "
                "passages retrieval gave the answerer) are shares of the answerable questions; unanswerable answered "
                "of the unanswerable ones)\n");
    for (const char * split : {"dev", "test"}) {
        if ((!only_split.empty() && only_split != split) || r.groups.count(split) == 0) {
            continue;
        }
        std::printf("\n== %s ==\n", split);
        print_counts_header();
        for (const auto & [key, counts] : r.groups) {
            if (key == split || key.rfind(std::string(split) + "/", 0) == 0) {
                print_counts(key == split ? "all" : key.substr(std::string(split).size() + 1), counts);
            }
        }
        std::printf("\nanswer-threshold trade-off (%s):\n", split);
        std::printf("%10s %16s %16s %16s %16s\n", "threshold", "answered right", "wrongly refused", "wrongly answered",
                    "unanswerable ans");
        for (const TradeOffPoint & p : r.trade_off.at(split)) {
            const SetCounts & c = p.counts;
            std::printf("%10.2f %16s %16s %16s %16s%s\n", p.threshold, share_cell(c.correct, c.answerable).c_str(),
                        share_cell(c.wrongly_refused, c.answerable).c_str(), share_cell(c.wrong, c.answerable).c_str(),
                        share_cell(c.unanswerable_answered, c.unanswerable).c_str(),
                        p.threshold == r.threshold ? "  <- setting" : "");
        }
        // The worst first: an unanswerable question answered, then a wrong answer, then a refusal.
        std::vector<const SetResult *> failures;
        for (const SetResult & x : r.results) {
            if (x.question->split == split && x.outcome != SetOutcome::kCorrect &&
                x.outcome != SetOutcome::kRightlyRefused) {
                failures.push_back(&x);
            }
        }
        std::stable_sort(failures.begin(), failures.end(), [](const SetResult * a, const SetResult * b) {
            return static_cast<int>(a->outcome) > static_cast<int>(b->outcome);
        });
        std::printf("\nworst failures (%s, %zu in all):\n", split, failures.size());
        for (size_t i = 0; i < failures.size() && i < show; ++i) {
            const SetResult & x = *failures[i];
            std::printf("%2zu. [%s] %s %s: %s\n    expected \"%s\" in %s; got: %.160s%s%s\n", i + 1,
                        outcome_label(x.outcome), x.question->id.c_str(), x.question->doc.c_str(),
                        x.question->question.c_str(), x.question->answer.c_str(), x.question->doc.c_str(),
                        x.answer_text.c_str(), x.cited.empty() ? "" : " cited ", x.cited.c_str());
        }
    }
}

int run_eval_answer_set(const CommandContext & ctx) {
    auto top_k = ctx.args.get_int("top-k", 5);
    if (!top_k.ok()) {
        return fail("eval answers", top_k.error());
    }
    auto set = load_question_set(ctx.args.get("set"));
    if (!set.ok()) {
        return fail("eval answers", set.error());
    }
    const std::string split = ctx.args.get("split");
    if (!split.empty() && split != "dev" && split != "test") {
        return fail("eval answers", "--split must be dev or test");
    }
    SetEvalOptions options;
    options.work_dir = scratch_dir("set");
    options.top_k = *top_k;
    if (ctx.args.has("model")) {
        options.settings.model_path = ctx.args.get("model");
    }
    auto threshold = ctx.args.get_double("threshold", options.settings.answer.min_coverage, 0, 1);
    if (!threshold.ok()) {
        return fail("eval answers", threshold.error());
    }
    options.settings.answer.min_coverage = *threshold;
    auto question_coverage = ctx.args.get_double("question-coverage", options.settings.min_question_coverage, 0, 1);
    if (!question_coverage.ok()) {
        return fail("eval answers", question_coverage.error());
    }
    options.settings.min_question_coverage = *question_coverage;
    options.settings.caps.daily_user_tokens = 0;  // an evaluation is not a user
    const std::string train_to = ctx.args.get("train-scorer");
    if (!train_to.empty()) {
        options.train_split = "dev";  // never the test split: it is what results are reported on
        options.trained_version = ctx.args.get("scorer-version", "answer-scorer/trained");
    }
    auto report = evaluate_answer_set(*set, ctx.args.get("docs", "build/eval-docs"), options);
    std::error_code ec;
    std::filesystem::remove_all(options.work_dir, ec);
    if (!report.ok()) {
        return fail("eval answers", report.error());
    }
    auto show = ctx.args.get_int("show", 10);
    print_set_report(*report, split, static_cast<size_t>(std::max<int64_t>(0, show.value_or(10))));
    if (report->trained) {
        if (auto written = core::write_file_atomic(train_to, report->trained->to_json().dump(2) + "\n");
            !written.ok()) {
            return fail("eval answers", written.error());
        }
        std::printf("\nanswer scorer %s trained on %s; written to %s\n", report->trained->version.c_str(),
                    report->trained->trained_on.c_str(), train_to.c_str());
    }
    return kExitOk;
}

int run_eval_answers(const CommandContext & ctx) {
    if (ctx.args.has("set")) {
        return run_eval_answer_set(ctx);
    }
    if (ctx.args.positionals().size() != 1) {
        return fail("eval answers",
                    "give the PubMedQA directory or its queries file, e.g. ../shared/data/qa-pubmedqa-pqal");
    }
    auto limit = ctx.args.get_int("limit", 0);
    auto top_k = ctx.args.get_int("top-k", 5);
    auto max_new = ctx.args.get_int("max-new-tokens", 256);
    auto max_prompt = ctx.args.get_int("max-prompt-tokens", 1536);
    for (const auto * r : {&limit, &top_k, &max_new, &max_prompt}) {
        if (!r->ok()) {
            return fail("eval answers", r->error().message());
        }
    }
    const std::string arg = ctx.args.positionals()[0];
    auto data = retrieval::load_pubmedqa(dataset_dir(arg));
    if (!data.ok()) {
        return fail("eval answers", data.error());
    }
    auto answerable = load_answer_cases(queries_file(arg), static_cast<size_t>(std::max(0, *limit)));
    if (!answerable.ok()) {
        return fail("eval answers", answerable.error());
    }
    std::vector<AnswerCase> unanswerable;
    if (ctx.args.has("unanswerable")) {
        auto u = load_answer_cases(ctx.args.get("unanswerable"));
        if (!u.ok()) {
            return fail("eval answers", u.error());
        }
        unanswerable = std::move(u).value();
    }
    AnswerEvalOptions options;
    options.work_dir = scratch_dir("answers");
    options.top_k = *top_k;
    if (ctx.args.has("model")) {
        options.settings.model_path = ctx.args.get("model");
    }
    if (ctx.args.has("prompts")) {
        options.settings.prompt_dir = ctx.args.get("prompts");
    }
    auto threshold = ctx.args.get_double("threshold", options.settings.min_question_coverage, 0, 1);
    if (!threshold.ok()) {
        return fail("eval answers", threshold.error());
    }
    options.settings.min_question_coverage = *threshold;
    options.settings.caps.max_new_tokens = *max_new;
    options.settings.caps.max_prompt_tokens = *max_prompt;
    options.settings.caps.daily_user_tokens = 0;  // an evaluation is not a user
    options.settings.verifier.remove_unsupported = !ctx.args.has("flag-unsupported");
    auto report = evaluate_answers(data->corpus, *answerable, unanswerable, options);
    if (!report.ok()) {
        return fail("eval answers", report.error());
    }
    const AnswerEvalReport & r = *report;
    if (ctx.args.has("json")) {
        std::printf("%s\n", r.to_json().dump(2).c_str());
        return kExitOk;
    }
    std::printf("answerer: %s\n", r.answerer.c_str());
    std::printf(
        "answerable questions: %zu, answered %zu (%.3f) at retrieval threshold %.2f\n", r.answerable, r.answered,
        r.answerable == 0 ? 0.0 : static_cast<double>(r.answered) / static_cast<double>(r.answerable), r.threshold);
    std::printf("citation correctness (first citation is the gold abstract): %.3f; gold abstract cited: %.3f\n",
                r.citation_correctness, r.gold_cited);
    std::printf("citation recall (ALCE, verifier as judge): %.3f over %zu sentences\n", r.citation_recall, r.sentences);
    std::printf("citation precision (ALCE, verifier as judge): %.3f over %zu citations\n", r.citation_precision,
                r.citations);
    if (r.unanswerable > 0) {
        std::printf("refusal accuracy on %zu unanswerable questions: %.3f\n", r.unanswerable, r.unanswerable_refused);
    }
    if (r.decisions_scored > 0) {
        std::printf("yes/no/maybe accuracy (first word of the generated text): %.3f over %d\n", r.decision_accuracy,
                    r.decisions_scored);
    }
    std::printf("median latency per question: %.1f ms\n", r.median_latency_ms);
    std::printf("\nthreshold calibration (share of question content words in the best passage):\n");
    std::printf("%10s %18s %20s | %18s %20s %20s\n", "threshold", "answerable passed", "unanswerable stopped",
                "answerable answered", "unanswerable refused", "citation correctness");
    for (const ThresholdPoint & p : r.calibration) {
        std::printf("%10.2f %18.3f %20.3f | %18.3f %20.3f %20.3f\n", p.threshold, p.answerable_passed,
                    p.unanswerable_stopped, p.answerable_answered, p.unanswerable_refused, p.citation_correctness);
    }
    std::printf("(left: the threshold alone; right: the whole pipeline)\n");
    const size_t all = r.answerable + r.unanswerable;
    std::printf("\nrefusal-threshold trade-off over all %zu questions (%zu answerable + %zu unanswerable):\n", all,
                r.answerable, r.unanswerable);
    std::printf("%10s %20s %17s %18s %17s\n", "threshold", "answered correctly", "wrongly refused", "wrongly answered",
                "rightly refused");
    auto cell = [&](double x) {
        std::array<char, 32> buf{};
        std::snprintf(buf.data(), buf.size(), "%lld (%.3f)", static_cast<long long>(x * static_cast<double>(all) + 0.5),
                      x);
        return std::string(buf.data());
    };
    for (const ThresholdPoint & p : r.calibration) {
        std::printf("%10.2f %20s %17s %18s %17s%s\n", p.threshold, cell(p.answered_correctly).c_str(),
                    cell(p.wrongly_refused).c_str(), cell(p.wrongly_answered).c_str(), cell(p.rightly_refused).c_str(),
                    p.threshold == r.best_threshold ? "  <- most right" : "");
    }
    std::printf("(answered correctly: the gold abstract is cited first; wrongly answered: another abstract is cited "
                "first, or an unanswerable question is answered)\n");
    return kExitOk;
}

}  // namespace

std::vector<Command> eval_commands() {
    return {
        {"eval retrieval",
         "DATASET_DIR",
         "Measure retrieval (recall@1/5/10, MRR@10, nDCG@10) for BM25, dense and hybrid search",
         {{"limit", "N", "evaluate the first N questions only"}},
         run_eval_retrieval},
        {"eval answers",
         "DATASET_DIR|QUERIES.jsonl | --set FILE|DIR",
         "Measure answers: on PubMedQA, citation correctness, ALCE citation recall/precision, refusals, yes/no/maybe "
         "accuracy; on a question set (eval/README.md), answered correctly, wrongly refused, wrongly answered and "
         "unanswerable answered per language and document kind",
         {{"set", "FILE|DIR", "a question set (.jsonl, or a folder of them) written on the documents under --docs"},
          {"docs", "DIR", "where eval/docs.sh gathered the set's documents (default build/eval-docs)"},
          {"split", "dev|test", "report one split only (default both)"},
          {"show", "N", "--set: list the N worst failures of each split (default 10)"},
          {"question-coverage", "X",
           "--set: share of question words the best passage must hold (default: the setting)"},
          {"train-scorer", "FILE", "fit the answer scorer to the dev split's candidate sentences and write it to FILE"},
          {"scorer-version", "NAME", "the version the trained scorer is given (e.g. answer-scorer/2)"},
          {"limit", "N", "evaluate the first N questions only"},
          {"unanswerable", "FILE", "JSON lines of questions the corpus cannot answer ({\"question\": ...})"},
          {"model", "FILE", "answer with this GGUF model instead of the extractive answerer"},
          {"prompts", "DIR", "directory of prompt templates (default: the shipped ones)"},
          {"top-k", "N", "passages per question (default 5)"},
          {"threshold", "X",
           "PubMedQA: share of question words the best passage must hold; --set: the score an "
           "answer must reach (default: the setting)"},
          {"max-new-tokens", "N", "cap on generated tokens per answer (default 256)"},
          {"max-prompt-tokens", "N", "cap on prompt tokens per answer (default 1536)"},
          {"flag-unsupported", "", "keep unsupported sentences, flagged, instead of removing them"},
          {"json", "", "print the report as JSON"}},
         run_eval_answers},
    };
}

}  // namespace strongbox::appliance
