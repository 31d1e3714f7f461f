#include "strongbox/answer/answerer.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace strongbox;
using appliance::Passage;

namespace {

Passage passage(int64_t id, std::string text, int page) {
    Passage p;
    p.chunk_id = id;
    p.text = std::move(text);
    p.provenance.source_path = "/docs/guide.pdf";
    p.provenance.source_sha256 = std::string(64, 'b');
    p.provenance.page = page;
    p.provenance.extractor = "poppler-text";
    return p;
}

}  // namespace

TEST_CASE("the extractive answer quotes the sentence that holds the question's words and cites its page") {
    std::vector<Passage> passages = {
        passage(7,
                "Nightly backups start at 01:30 UTC.\nA nightly backup normally finishes before 04:00 UTC. "
                "Nightly\nbackups are kept for 35 days.",
                2),
        passage(9, "Monthly archive tapes are kept for 7 years.", 2),
    };
    core::Answer a = appliance::answer_extractively("How long are nightly backups kept?", passages, {});
    REQUIRE_FALSE(a.refused);
    REQUIRE_FALSE(a.sentences.empty());
    CHECK(a.sentences[0].text == "Nightly backups are kept for 35 days.");
    REQUIRE(a.citations.size() >= 1);
    CHECK(a.citations[0].number == a.sentences[0].citations[0]);
    CHECK(a.citations[0].chunk_id == 7);
    CHECK(a.citations[0].provenance.page == 2);
    CHECK(a.citations[0].quote.find("35 days") != std::string::npos);
    CHECK(a.text().find("[1]") != std::string::npos);
}

TEST_CASE("the extractive answerer refuses when no passage carries the question") {
    std::vector<Passage> passages = {passage(1, "The server room is cooled by two units.", 1)};
    core::Answer a = appliance::answer_extractively("Who won the football world cup in 1998?", passages, {});
    CHECK(a.refused);
    CHECK(a.sentences.empty());
    CHECK(a.citations.empty());
    CHECK(a.refusal_reason.find("Not found in the indexed documents") != std::string::npos);
}

TEST_CASE("the extractive answerer refuses with no passages and for a question without content words") {
    CHECK(appliance::answer_extractively("What is the retention?", {}, {}).refused);
    CHECK(appliance::answer_extractively("what is it?", {passage(1, "It is.", 1)}, {}).refused);
}

TEST_CASE("log passages are split per line so a citation quotes one record") {
    Passage log = passage(3,
                          "Mar 14 02:47:16 arc-02 kernel: md/raid:md0: Disk failure on sdd, disabling device.\n"
                          "Mar 14 02:49:16 arc-02 bk-agent[2211]: job nightly-arc-02 failed: write error on /dev/md0\n",
                          0);
    log.provenance.extractor = "log-lines";
    log.provenance.line_start = 111;
    log.provenance.line_end = 112;
    core::Answer a = appliance::answer_extractively("Which disk failed on arc-02?", {log}, {});
    REQUIRE_FALSE(a.refused);
    CHECK(a.sentences[0].text.find("Disk failure on sdd") != std::string::npos);
    CHECK(a.sentences[0].text.find("bk-agent") == std::string::npos);
}

TEST_CASE("cited boxes are narrowed to the quoted sentence") {
    Passage p = passage(5, "Spare disks are kept in cabinet B.\nThe rebuild takes about 14 hours.", 3);
    p.provenance.boxes = {core::Box{72, 100, 400, 112, 0, 34}, core::Box{72, 114, 400, 126, 35, 68}};
    core::Answer a = appliance::answer_extractively("How long does the rebuild take?", {p}, {});
    REQUIRE_FALSE(a.refused);
    REQUIRE(a.citations.size() == 1);
    REQUIRE(a.citations[0].provenance.boxes.size() == 1);
    CHECK(a.citations[0].provenance.boxes[0].y0 == doctest::Approx(114));
}

TEST_CASE("cited boxes are the quoted sentence's words where the line has word boxes") {
    Passage p = passage(5, "Spare disks are kept in cabinet B. The rebuild takes about 14 hours.", 3);
    p.provenance.boxes = {core::Box{72, 100, 500, 112, 0, static_cast<int64_t>(p.text.size())}};
    size_t i = 0;
    while (i < p.text.size()) {
        size_t e = std::min(p.text.find(' ', i), p.text.size());
        p.provenance.word_boxes.push_back(core::Box{72.0 + static_cast<double>(i) * 5, 100,
                                                    72.0 + static_cast<double>(e) * 5, 112, static_cast<int64_t>(i),
                                                    static_cast<int64_t>(e)});
        i = e + 1;
    }
    core::Answer a = appliance::answer_extractively("How long does the rebuild take?", {p}, {});
    REQUIRE_FALSE(a.refused);
    REQUIRE(a.citations.size() == 1);
    const std::vector<core::Box> & boxes = a.citations[0].provenance.boxes;
    REQUIRE(boxes.size() == 6);  // The rebuild takes about 14 hours.
    CHECK(boxes.front().text_begin == static_cast<int64_t>(p.text.find("The rebuild")));
    CHECK(boxes.back().text_end == static_cast<int64_t>(p.text.size()));
}

TEST_CASE("a cited line range is narrowed to the lines of the quoted sentence") {
    Passage p = passage(
        6, "# Backups\n\nBackups run nightly.\nEach backup is kept\nfor 30 days.\nRestores go via the desk.", 0);
    p.provenance.source_path = "/docs/backups.md";
    p.provenance.line_start = 10;
    p.provenance.line_end = 15;
    core::Answer a = appliance::answer_extractively("How long is each backup kept?", {p}, {});
    REQUIRE_FALSE(a.refused);
    CHECK(a.sentences[0].text == "Each backup is kept for 30 days.");
    REQUIRE(a.citations.size() == 1);
    CHECK(a.citations[0].provenance.line_start == 13);
    CHECK(a.citations[0].provenance.line_end == 14);
}

TEST_CASE("content words drop stop and question words and meet across inflections") {
    CHECK(appliance::content_words("How long are the Backups kept after failures?") ==
          std::vector<std::string>{"backup", "kept", "fail"});
    CHECK(appliance::content_words("backup failure") == appliance::content_words("Backups' failures"));
    CHECK(appliance::content_words("long options") == std::vector<std::string>{"long", "option"});
}
