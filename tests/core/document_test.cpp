#include "strongbox/core/document.h"

#include <doctest/doctest.h>

using namespace strongbox::core;

TEST_CASE("provenance survives a JSON round trip field for field") {
    Provenance p;
    p.source_path = "/data/report.pdf";
    p.source_sha256 = std::string(64, 'a');
    p.document_version = 2;
    p.page = 3;
    p.boxes = {Box{10, 20, 110, 32, 0, 17, 88.5}};
    p.word_boxes = {Box{10, 20, 52.5, 32, 0, 8, 91}, Box{56, 20.25, 110, 32, 9, 17, 86}, Box{1, 2, 3, 4, 5, 6}};
    p.low_confidence = true;
    p.extractor = "poppler-text";
    p.extractor_version = "22.12.0";
    p.ocr_engine = "tesseract";
    p.language = "eng";
    p.ocr_confidence = 91.5;
    p.ingest_job = "job-1";
    p.ingested_at = "2026-11-22T10:00:00.000000Z";
    auto back = provenance_from_json(Json::parse(to_json(p).dump()).value());
    REQUIRE(back.ok());
    CHECK(*back == p);
    CHECK(describe_location(p) == "report.pdf p. 3");
}

TEST_CASE("a cited span is narrowed to the word boxes it touches, or to line boxes without words") {
    Provenance p;
    // "alpha beta gamma\nsolo": the first line has word boxes, the second is one word.
    p.boxes = {Box{0, 0, 100, 10, 0, 16}, Box{0, 12, 20, 22, 17, 21}};
    p.word_boxes = {Box{0, 0, 30, 10, 0, 5}, Box{35, 0, 60, 10, 6, 10}, Box{65, 0, 100, 10, 11, 16}};
    auto spans = [&](int64_t b, int64_t e) {
        std::vector<double> keys;  // x0 + y0 tells every box of the fixture apart
        for (const Box & box : boxes_for_span(p, b, e)) {
            keys.push_back(box.x0 + box.y0);
        }
        return keys;
    };
    CHECK(spans(6, 10) == std::vector<double>{35});       // "beta"
    CHECK(spans(8, 13) == std::vector<double>{35, 65});   // "ta ga"
    CHECK(spans(12, 19) == std::vector<double>{65, 12});  // "amma\nso": last word, then the line box
    CHECK(spans(5, 6).empty());                           // the space between two words
    CHECK(spans(30, 40).empty());
    p.word_boxes.clear();
    CHECK(spans(6, 10) == std::vector<double>{0});
}

TEST_CASE("a word box that is not an array of numbers makes the provenance corrupt") {
    auto j = Json::parse(R"({"source_path": "/a.pdf", "source_sha256": "ab", "word_boxes": [[1, 2, 3, "x", 0, 1]]})");
    REQUIRE(j.ok());
    CHECK(provenance_from_json(*j).error().code() == ErrorCode::kCorruptInput);
    j = Json::parse(R"({"source_path": "/a.pdf", "source_sha256": "ab", "word_boxes": [[1, 2, 3]]})");
    REQUIRE(j.ok());
    CHECK_FALSE(provenance_from_json(*j).ok());
}

TEST_CASE("provenance without a source is rejected") {
    auto back = provenance_from_json(Json::parse(R"({"page": 1})").value());
    CHECK_FALSE(back.ok());
}

#include "strongbox/core/answer.h"

TEST_CASE("an answer survives a JSON round trip with its citations and support marks") {
    Answer a;
    a.question = "How long are backups kept?";
    a.answerer = "extractive";
    a.sentences = {AnswerSentence{"Backups are kept for 35 days.", {1}, Support::kSupported}};
    Citation c;
    c.number = 1;
    c.chunk_id = 42;
    c.quote = "Backups are kept for 35 days.";
    c.provenance.source_path = "/d/guide.pdf";
    c.provenance.source_sha256 = std::string(64, 'c');
    c.provenance.page = 2;
    a.citations = {c};
    auto back = answer_from_json(to_json(a));
    REQUIRE(back.ok());
    CHECK(back->text() == "Backups are kept for 35 days. [1]");
    CHECK(back->citations.at(0).provenance.page == 2);
    CHECK(back->citations.at(0).chunk_id == 42);
}
