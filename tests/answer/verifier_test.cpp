// The citation verifier on hand-written model outputs: what is shown as supported must be.

#include "strongbox/answer/verifier.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace strongbox;
using appliance::Passage;
using appliance::VerifierOptions;
using appliance::verify_answer;

namespace {

std::vector<Passage> backup_passages() {
    Passage a;
    a.chunk_id = 101;
    a.text = "Backups run nightly at 02:00. Each backup is kept for 30 days on the NAS-7 appliance.\n"
             "Restores are requested through the service desk.";
    a.provenance.source_path = "/docs/operations-guide.pdf";
    a.provenance.page = 4;
    a.provenance.boxes = {core::Box{10, 10, 100, 20, 0, 29}, core::Box{10, 30, 100, 40, 30, 85},
                          core::Box{10, 50, 100, 60, 86, 134}};
    Passage b;
    b.chunk_id = 202;
    b.text = "Jan 3 10:00:01 host sshd[811]: Accepted key for admin\n"
             "Jan 3 10:00:09 host backupd[77]: job nightly-db finished with status ERR-42\n"
             "Jan 3 10:00:10 host backupd[77]: retry scheduled";
    b.provenance.source_path = "/logs/syslog";
    b.provenance.line_start = 1040;
    b.provenance.line_end = 1042;
    b.provenance.extractor = "log-lines";
    return {a, b};
}

}  // namespace

TEST_CASE("a sentence that restates its cited passage is supported and keeps its citation") {
    auto v = verify_answer("Each backup is kept for 30 days [1].", backup_passages(), {});
    REQUIRE(v.answer.sentences.size() == 1);
    CHECK(v.answer.sentences[0].support == core::Support::kSupported);
    CHECK(v.answer.sentences[0].text == "Each backup is kept for 30 days.");
    REQUIRE(v.answer.citations.size() == 1);
    CHECK(v.answer.citations[0].chunk_id == 101);
}

TEST_CASE("a wrong number makes the sentence unsupported even when the words match") {
    auto v = verify_answer("Each backup is kept for 90 days [1].", backup_passages(), {});
    REQUIRE(v.checks.size() == 1);
    CHECK(v.checks[0].support == core::Support::kUnsupported);
    CHECK(v.checks[0].missing == std::vector<std::string>{"90"});
    CHECK(v.answer.sentences.empty());
}

TEST_CASE("a name, identifier or quoted string absent from the cited passage makes the sentence unsupported") {
    CHECK(verify_answer("The job failed with status ERR-43 [2].", backup_passages(), {}).checks[0].support ==
          core::Support::kUnsupported);
    CHECK(verify_answer("Backups are kept on the NAS-9 appliance [1].", backup_passages(), {}).checks[0].support ==
          core::Support::kUnsupported);
    CHECK(verify_answer("The job was run by Alice [2].", backup_passages(), {}).checks[0].support ==
          core::Support::kUnsupported);
    CHECK(verify_answer("The log says \"job nightly-db finished cleanly\" [2].", backup_passages(), {})
              .checks[0]
              .support == core::Support::kUnsupported);
    CHECK(
        verify_answer("The job nightly-db finished with status ERR-42 [2].", backup_passages(), {}).checks[0].support ==
        core::Support::kSupported);
}

TEST_CASE("a fact supported only by an uncited passage does not count") {
    // ERR-42 is in passage 2, but the sentence cites passage 1.
    auto v = verify_answer("The nightly job finished with status ERR-42 [1].", backup_passages(), {});
    CHECK(v.checks[0].support == core::Support::kUnsupported);
}

TEST_CASE("a sentence without a citation is unsupported and removed by default") {
    auto v = verify_answer("Backups run nightly at 02:00. Each backup is kept for 30 days [1].", backup_passages(), {});
    REQUIRE(v.checks.size() == 2);
    CHECK(v.checks[0].support == core::Support::kUnsupported);
    CHECK(v.checks[0].removed);
    REQUIRE(v.answer.sentences.size() == 1);
    CHECK(v.answer.sentences[0].text == "Each backup is kept for 30 days.");
}

TEST_CASE("unsupported sentences are kept and flagged when removal is off") {
    VerifierOptions o;
    o.remove_unsupported = false;
    auto v = verify_answer("Backups are encrypted with AES-512 [1]. Each backup is kept for 30 days [1].",
                           backup_passages(), o);
    REQUIRE(v.answer.sentences.size() == 2);
    CHECK(v.answer.sentences[0].support == core::Support::kUnsupported);
    CHECK(v.answer.sentences[1].support == core::Support::kSupported);
    CHECK(v.answer.text().find("AES-512") != std::string::npos);
}

TEST_CASE("a citation to a passage that was not in the prompt is rejected") {
    auto v = verify_answer("Each backup is kept for 30 days [7].", backup_passages(), {});
    REQUIRE(v.checks.size() == 1);
    CHECK(v.checks[0].rejected == std::vector<int>{7});
    CHECK(v.checks[0].cited.empty());
    CHECK(v.checks[0].support == core::Support::kUnsupported);
    CHECK(v.answer.citations.empty());

    auto mixed = verify_answer("Each backup is kept for 30 days [1][9].", backup_passages(), {});
    CHECK(mixed.checks[0].rejected == std::vector<int>{9});
    CHECK(mixed.answer.sentences[0].citations == std::vector<int>{1});
}

TEST_CASE("a sentence that shares only some of its words with the passage is partially supported") {
    auto v = verify_answer("Backups run nightly and are verified by checksum against the offsite mirror [1].",
                           backup_passages(), {});
    REQUIRE(v.checks.size() == 1);
    CHECK(v.checks[0].coverage < 0.75);
    CHECK(v.checks[0].support != core::Support::kSupported);
}

TEST_CASE("markers after the full stop and comma lists are read as the sentence's citations") {
    auto v =
        verify_answer("Each backup is kept for 30 days. [1] The job nightly-db finished with status ERR-42 [1, 2].",
                      backup_passages(), {});
    REQUIRE(v.answer.sentences.size() == 2);
    CHECK(v.answer.sentences[0].citations == std::vector<int>{1});
    // Both markers of "[1, 2]" are read; only passage 2 states the claim, so only it is shown.
    CHECK(v.checks[1].cited == std::vector<int>{2});
    CHECK(v.checks[1].unsupporting == std::vector<int>{1});
    CHECK(v.answer.sentences[1].citations == std::vector<int>{2});
    CHECK(v.answer.sentences[1].support == core::Support::kSupported);
}

TEST_CASE("citations are renumbered in order of use and narrowed to the supporting sentence's boxes") {
    auto v = verify_answer("The job nightly-db finished with status ERR-42 [2]. Each backup is kept for 30 days [1].",
                           backup_passages(), {});
    REQUIRE(v.answer.citations.size() == 2);
    CHECK(v.answer.citations[0].chunk_id == 202);
    CHECK(v.answer.citations[1].chunk_id == 101);
    // The PDF citation quotes only its second sentence, and keeps only that sentence's box.
    CHECK(v.answer.citations[1].quote == "Each backup is kept for 30 days on the NAS-7 appliance.");
    REQUIRE(v.answer.citations[1].provenance.boxes.size() == 1);
    CHECK(v.answer.citations[1].provenance.boxes[0].text_begin == 30);
    // The log citation is narrowed to the one line that holds the claim.
    CHECK(v.answer.citations[0].provenance.line_start == 1041);
    CHECK(v.answer.citations[0].provenance.line_end == 1041);
}

TEST_CASE("extractive answers, being quotes, verify as supported") {
    auto passages = backup_passages();
    core::Answer a = appliance::answer_extractively("How long is each backup kept?", passages, {});
    REQUIRE_FALSE(a.refused);
    auto checks = appliance::verify_citations(a, passages);
    REQUIRE_FALSE(checks.empty());
    for (const auto & s : a.sentences) {
        CHECK(s.support == core::Support::kSupported);
    }
    // A tampered quote is caught.
    a.sentences[0].text = "Each backup is kept for 31 days.";
    appliance::verify_citations(a, passages);
    CHECK(a.sentences[0].support == core::Support::kUnsupported);
}

TEST_CASE("key tokens are numbers, identifiers, names and quotes but not the capitalised first word") {
    auto keys = appliance::key_tokens("Backups of db_main on NAS-7 ran 3 times for Alice, said \"all good\".");
    CHECK(std::find(keys.begin(), keys.end(), "Backups") == keys.end());
    for (std::string k : {"db_main", "NAS-7", "3", "Alice", "all good"}) {
        CHECK_MESSAGE(std::find(keys.begin(), keys.end(), k) != keys.end(), k);
    }
}

TEST_CASE("a sentence that negates what its cited passage states is unsupported, and so is the reverse") {
    auto passages = backup_passages();
    Passage c;
    c.chunk_id = 303;
    c.text = "Vitamin D supplementation did not reduce fracture rates in community-dwelling women.";
    passages.push_back(c);

    auto denied = verify_answer("Each backup is not kept for 30 days [1].", passages, {});
    REQUIRE(denied.checks.size() == 1);
    CHECK(denied.checks[0].negation_conflict);
    CHECK(denied.checks[0].support == core::Support::kUnsupported);
    CHECK(denied.answer.sentences.empty());

    auto asserted = verify_answer("Vitamin D supplementation reduced fracture rates in women [3].", passages, {});
    CHECK(asserted.checks[0].negation_conflict);
    CHECK(asserted.checks[0].support == core::Support::kUnsupported);

    auto agreed = verify_answer("Vitamin D supplementation did not reduce fracture rates in women [3].", passages, {});
    CHECK_FALSE(agreed.checks[0].negation_conflict);
    CHECK(agreed.checks[0].support == core::Support::kSupported);
    CHECK(appliance::to_json(agreed.checks[0]).get_bool("negation_conflict", true) == false);
}

TEST_CASE("a negation in another clause of the cited sentence does not reverse the claim") {
    Passage p;
    p.chunk_id = 1;
    p.text = "Each backup is kept for 30 days, not 60 days, and never on tape.";
    auto v = verify_answer("Each backup is kept for 30 days [1].", {p}, {});
    CHECK_FALSE(v.checks[0].negation_conflict);
    CHECK(v.checks[0].support == core::Support::kSupported);
    // The clause the negation governs is caught.
    auto w = verify_answer("Each backup is kept on tape [1].", {p}, {});
    CHECK(w.checks[0].negation_conflict);
    CHECK(w.checks[0].support == core::Support::kUnsupported);
}

TEST_CASE("a citation is narrowed to the word boxes of the claim where the provenance has them") {
    Passage p;
    p.chunk_id = 7;
    p.text = "Backups run nightly at 02:00 and each backup is kept for 30 days on the NAS-7 appliance.";
    p.provenance.source_path = "/docs/scan.pdf";
    p.provenance.page = 2;
    // One line box, and one box per word as OCR and word-level PDF extraction give them.
    p.provenance.boxes = {core::Box{0, 10, 500, 20, 0, static_cast<int64_t>(p.text.size())}};
    size_t i = 0;
    while (i < p.text.size()) {
        size_t e = p.text.find(' ', i);
        e = e == std::string::npos ? p.text.size() : e;
        const double x = static_cast<double>(i) * 5;
        p.provenance.word_boxes.push_back(
            core::Box{x, 10, x + static_cast<double>(e - i) * 5, 20, static_cast<int64_t>(i), static_cast<int64_t>(e)});
        i = e + 1;
    }
    auto v = verify_answer("Each backup is kept for 30 days [1].", {p}, {});
    REQUIRE(v.answer.citations.size() == 1);
    const core::Citation & c = v.answer.citations[0];
    // The quote stays the readable sentence; the boxes are those of "each backup is kept for 30 days".
    CHECK(c.quote == p.text);
    auto words_of = [&](const std::vector<core::Box> & boxes) {
        std::string out;
        for (const core::Box & b : boxes) {
            out += (out.empty() ? "" : " ") +
                   p.text.substr(static_cast<size_t>(b.text_begin), static_cast<size_t>(b.text_end - b.text_begin));
        }
        return out;
    };
    CHECK(words_of(c.provenance.boxes) == "each backup is kept for 30 days");
    CHECK(words_of(c.provenance.word_boxes) == "each backup is kept for 30 days");
}

TEST_CASE("a line citation is narrowed to the lines that hold the claim's words") {
    Passage p;
    p.chunk_id = 8;
    p.text = "Restores are requested through the service desk\n"
             "and each backup is kept for 30 days\n"
             "on the NAS-7 appliance in rack 4.";
    p.provenance.source_path = "/docs/backups.md";
    p.provenance.line_start = 20;
    p.provenance.line_end = 22;
    auto v = verify_answer("Each backup is kept for 30 days [1].", {p}, {});
    REQUIRE(v.answer.citations.size() == 1);
    CHECK(v.answer.citations[0].provenance.line_start == 21);
    CHECK(v.answer.citations[0].provenance.line_end == 21);
}

TEST_CASE("the verifier options given are the ones applied to every sentence") {
    VerifierOptions strict;
    strict.supported_coverage = 1.0;
    // Half the claim's content words are in the passage: partial by default, unsupported when strict.
    const std::string text = "Each backup is kept for 30 days on encrypted offsite tapes [1].";
    CHECK(verify_answer(text, backup_passages(), {}).checks[0].support != core::Support::kSupported);
    CHECK(verify_answer("Each backup is kept for 30 days on the NAS-7 appliance [1].", backup_passages(), strict)
              .checks[0]
              .support == core::Support::kSupported);
    strict.partial_coverage = 0.95;
    CHECK(verify_answer(text, backup_passages(), strict).checks[0].support == core::Support::kUnsupported);
}

TEST_CASE("each cited passage must support the sentence on its own; one that does not is dropped") {
    Passage denies;
    denies.chunk_id = 1;
    denies.text = "Backups are not encrypted on the archive server.";
    Passage other;
    other.chunk_id = 2;
    other.text = "Audit logs are encrypted with the site key.";
    Passage states;
    states.chunk_id = 3;
    states.text = "Backups are encrypted with the site key before they leave the archive server.";

    // Together the first two hold every word of the claim; neither states it.
    auto v = verify_answer("Backups are encrypted [1][2].", {denies, other}, {});
    REQUIRE(v.checks.size() == 1);
    CHECK(v.checks[0].support != core::Support::kSupported);
    const bool shown_supported =
        !v.answer.sentences.empty() && v.answer.sentences[0].support == core::Support::kSupported;
    CHECK_FALSE(shown_supported);

    // With a passage that states it, the claim is supported by that one alone and the citation of
    // the passage that denies it is dropped, recorded as unsupporting.
    auto w = verify_answer("Backups are encrypted with the site key [1][3].", {denies, other, states}, {});
    REQUIRE(w.answer.sentences.size() == 1);
    CHECK(w.answer.sentences[0].support == core::Support::kSupported);
    CHECK(w.checks[0].cited == std::vector<int>{3});
    CHECK(w.checks[0].unsupporting == std::vector<int>{1});
    REQUIRE(w.answer.citations.size() == 1);
    CHECK(w.answer.citations[0].chunk_id == 3);
    CHECK(appliance::to_json(w.checks[0]).find("unsupporting_citations")->size() == 1);
}
