#include "strongbox/core/document.h"

#include <doctest/doctest.h>

using namespace strongbox::core;

TEST_CASE("provenance survives a JSON round trip field for field") {
    Provenance p;
    p.source_path = "/data/report.pdf";
    p.source_sha256 = std::string(64, 'a');
    p.document_version = 2;
    p.page = 3;
    p.boxes = {Box{10, 20, 110, 32, 0, 17}};
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
