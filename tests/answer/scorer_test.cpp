#include "strongbox/answer/scorer.h"

#include "strongbox/answer/answerer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

using namespace strongbox;
using appliance::AnswerScorer;
using appliance::Passage;

namespace {

Passage passage(int64_t id, std::string text) {
    Passage p;
    p.chunk_id = id;
    p.text = std::move(text);
    p.provenance.source_path = "/docs/guide.md";
    p.provenance.extractor = "markdown";
    return p;
}

}  // namespace

TEST_CASE("the shipped scorer weighs the answerer's features, in order, and its file is pinned by a hash") {
    const AnswerScorer & s = AnswerScorer::shipped();
    CHECK(s.features == appliance::candidate_feature_names());
    CHECK(s.weights.size() == s.features.size());
    CHECK(s.version.rfind("answer-scorer/", 0) == 0);
    CHECK(s.sha256().size() == 64);
    auto again = AnswerScorer::from_json(s.to_json());
    REQUIRE(again.ok());
    CHECK(again->sha256() == s.sha256());
}

TEST_CASE("a scorer file whose features are not the answerer's is refused, naming the feature") {
    core::Json j = AnswerScorer::shipped().to_json();
    core::Json names = core::Json::array();
    for (const std::string & n : appliance::candidate_feature_names()) {
        names.push_back(n == "coverage" ? std::string("overlap") : n);
    }
    j["features"] = names;
    auto s = AnswerScorer::from_json(j);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(s.error().message().find("\"overlap\"") != std::string::npos);
}

TEST_CASE("the sentence that states the answer outscores the sentences that only share its topic") {
    const std::vector<Passage> passages = {
        passage(1,
                "# Backups\n\nBackups are important for every team. Each nightly backup is kept for 35 days on bk-01.\n"
                "Backup jobs are listed in the change log."),
        passage(2, "The change log lists every backup job and its owner."),
    };
    appliance::Candidates found = appliance::candidate_sentences("How many days is a nightly backup kept?", passages);
    REQUIRE(found.candidates.size() >= 3);
    AnswerScorer::shipped().score(found.candidates);
    const appliance::Candidate & best = *std::max_element(
        found.candidates.begin(), found.candidates.end(),
        [](const appliance::Candidate & a, const appliance::Candidate & b) { return a.score < b.score; });
    CHECK(passages[best.passage]
              .text.substr(best.begin, best.end - best.begin)
              .find("Each nightly backup is kept for 35 days on bk-01.") != std::string::npos);
}

TEST_CASE("an answer that follows the sentence naming its subject is a candidate with that sentence") {
    const std::vector<Passage> passages = {
        passage(1, "* `$SYSTEMD_HOME_RECORD_DIR` defines where systemd-homed looks for fixated home records.\n"
                   "When unspecified defaults to `/var/lib/systemd/home/`.\n")};
    const appliance::Candidates found = appliance::candidate_sentences(
        "If $SYSTEMD_HOME_RECORD_DIR is unset, which directory does systemd-homed use?", passages);
    REQUIRE_FALSE(found.candidates.empty());
    const auto names = appliance::candidate_feature_names();
    const size_t two = static_cast<size_t>(std::find(names.begin(), names.end(), "two_sentences") - names.begin());
    const size_t path = static_cast<size_t>(std::find(names.begin(), names.end(), "kind_path") - names.begin());
    bool pair_found = false;
    for (const appliance::Candidate & c : found.candidates) {
        const std::string text = passages[0].text.substr(c.begin, c.end - c.begin);
        if (c.features[two] == 1.0) {
            pair_found = true;
            CHECK(text.find("SYSTEMD_HOME_RECORD_DIR") != std::string::npos);
            CHECK(text.find("/var/lib/systemd/home/") != std::string::npos);
        }
        // The asked-for directory counts only where the candidate names one the question lacks.
        CHECK(c.features[path] == (text.find("/var/lib/") != std::string::npos ? 1.0 : -1.0));
    }
    CHECK(pair_found);
}

TEST_CASE("a question whose key term no passage mentions is refused, naming the term; the answer records its score") {
    const std::vector<Passage> passages = {passage(1,
                                                   "This guide describes how the records archive of the Harbor Valley "
                                                   "water utility is operated.")};
    core::Answer refused =
        appliance::answer_extractively("Who is the CEO of the Harbor Valley water utility?", passages, {});
    CHECK(refused.refused);
    CHECK(refused.refusal_reason.find("no passage mentions \"CEO\".") != std::string::npos);

    core::Answer answered =
        appliance::answer_extractively("Which utility's records archive does the guide describe?", passages, {});
    REQUIRE_FALSE(answered.refused);
    CHECK(answered.score >= answered.threshold);
    CHECK((answered.confidence == "high" || answered.confidence == "medium"));
    CHECK(answered.sentences[0].score == doctest::Approx(answered.score));
}

TEST_CASE("training ranks the answering candidate first and gives unanswerable questions a low confidence") {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    const size_t n = appliance::candidate_feature_names().size();
    std::vector<appliance::TrainingQuestion> questions(200);
    for (size_t q = 0; q < questions.size(); ++q) {
        for (size_t c = 0; c < 8; ++c) {
            appliance::Candidate candidate;
            candidate.passage = c;  // no two overlap
            candidate.features.resize(n);
            for (double & x : candidate.features) {
                x = u(rng);
            }
            // Half the questions have an answering candidate (c == 0), told apart by its coverage.
            const bool answers = q % 2 == 0 && c == 0;
            candidate.features[0] = answers ? 0.7 + 0.3 * u(rng) : 0.6 * u(rng);
            questions[q].candidates.push_back(candidate);
            questions[q].labels.push_back(answers ? 1 : 0);
        }
    }
    const AnswerScorer s = appliance::train_scorer(questions, "answer-scorer/test", "synthetic");
    CHECK(s.weights[0] > 1.0);
    size_t right = 0;
    double answerable_best = 0;
    double unanswerable_best = 0;
    for (size_t q = 0; q < questions.size(); ++q) {
        std::vector<appliance::Candidate> cs = questions[q].candidates;
        s.score(cs);
        const auto top = static_cast<size_t>(
            std::max_element(cs.begin(), cs.end(), [](const auto & a, const auto & b) { return a.score < b.score; }) -
            cs.begin());
        right += questions[q].labels[top] == 1 ? 1 : 0;
        (q % 2 == 0 ? answerable_best : unanswerable_best) += cs[top].confidence;
    }
    CHECK(right == 100);                   // every answerable question's answer ranks first
    CHECK(answerable_best / 100 > 0.8);    // and is given as likely right
    CHECK(unanswerable_best / 100 < 0.2);  // the best of an unanswerable one is not
}
