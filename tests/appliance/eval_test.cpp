// Answer evaluation on a small labelled corpus: the figures reflect what the answers did.

#include "strongbox/appliance/eval.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace strongbox;

namespace {

std::vector<retrieval::EvalDocument> corpus() {
    return {
        {"1001",
         {"Statins lower LDL cholesterol by about 35 percent in adults with hyperlipidaemia.",
          "Muscle pain was reported by 9 percent of patients."}},
        {"1002", {"Appendicitis in the elderly presents with a normal leukocyte count in 20 percent of cases."}},
        {"1003", {"Night shift nurses slept 5.8 hours on average, compared with 7.1 hours on day shifts."}},
        {"1004", {"Vitamin D supplementation did not reduce fracture rates in community-dwelling women."}},
    };
}

}  // namespace

TEST_CASE("answer evaluation scores cited gold abstracts, ALCE precision and refusals of unanswerable questions") {
    std::vector<appliance::AnswerCase> answerable = {
        {"q1", "How much do statins lower LDL cholesterol?", "1001", "yes"},
        {"q2", "How long did night shift nurses sleep?", "1003", "no"},
        {"q3", "Did vitamin D supplementation reduce fracture rates?", "1004", "no"},
    };
    std::vector<appliance::AnswerCase> unanswerable = {
        {"u1", "What is the capital city of Mongolia?", "", ""},
        {"u2", "Which port does the SMTP relay listen on?", "", ""},
    };
    appliance::AnswerEvalOptions o;
    o.work_dir = std::filesystem::temp_directory_path() / "sb-eval-answers-test";
    auto r = appliance::evaluate_answers(corpus(), answerable, unanswerable, o);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    CHECK(r->answerer == "extractive");
    CHECK(r->answered == 3);
    CHECK(r->citation_correctness == doctest::Approx(1.0));
    CHECK(r->citation_precision >= 0.95);
    CHECK(r->citation_recall >= 0.95);
    CHECK(r->unanswerable_refused == doctest::Approx(1.0));
    CHECK(r->decisions_scored == 0);  // no model, no yes/no/maybe
    REQUIRE_FALSE(r->calibration.empty());
    CHECK(r->calibration.front().threshold == 0.0);
    CHECK_FALSE(std::filesystem::exists(o.work_dir));
}

TEST_CASE("the refusal-threshold trade-off accounts for every question at every threshold") {
    std::vector<appliance::AnswerCase> answerable = {
        {"q1", "How much do statins lower LDL cholesterol?", "1001", "yes"},
        {"q2", "How long did night shift nurses sleep?", "1003", "no"},
        // Answerable in words, but the gold abstract is another one: answering it is wrong.
        {"q3", "Did vitamin D supplementation reduce fracture rates?", "1002", "no"},
    };
    std::vector<appliance::AnswerCase> unanswerable = {
        {"u1", "What is the capital city of Mongolia?", "", ""},
        {"u2", "Which fracture clinic did the night shift nurses attend?", "", ""},
    };
    appliance::AnswerEvalOptions o;
    o.work_dir = std::filesystem::temp_directory_path() / "sb-eval-tradeoff-test";
    o.thresholds = {0.0, 1.01};
    auto r = appliance::evaluate_answers(corpus(), answerable, unanswerable, o);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    REQUIRE(r->calibration.size() == 2);
    for (const appliance::ThresholdPoint & p : r->calibration) {
        CHECK(p.answered_correctly + p.wrongly_refused + p.wrongly_answered + p.rightly_refused ==
              doctest::Approx(1.0));
    }
    const appliance::ThresholdPoint & open = r->calibration[0];
    CHECK(open.answered_correctly == doctest::Approx(2.0 / 5));
    CHECK(open.wrongly_answered >= doctest::Approx(1.0 / 5));  // q3 at least
    // Nothing passes a threshold above 1: every answerable question is wrongly refused.
    const appliance::ThresholdPoint & closed = r->calibration[1];
    CHECK(closed.answered_correctly == 0);
    CHECK(closed.wrongly_refused == doctest::Approx(3.0 / 5));
    CHECK(closed.rightly_refused == doctest::Approx(2.0 / 5));
    CHECK(r->best_threshold == 0.0);
}

TEST_CASE("question files with a line that is not JSON are rejected naming the file and line") {
    const auto path = std::filesystem::temp_directory_path() / "sb-eval-bad.jsonl";
    REQUIRE(core::write_file_atomic(path, "{\"question\": \"ok?\"}\nnot json\n").ok());
    auto cases = appliance::load_answer_cases(path);
    REQUIRE_FALSE(cases.ok());
    CHECK(cases.error().message().find("sb-eval-bad.jsonl line 2") != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("the shipped unanswerable question set loads") {
    auto cases = appliance::load_answer_cases(std::filesystem::path(SB_TEST_DATA_DIR) / "appliance" /
                                              "unanswerable_questions.jsonl");
    REQUIRE(cases.ok());
    CHECK(cases->size() == 30);
    CHECK(cases->front().gold_document.empty());
}
