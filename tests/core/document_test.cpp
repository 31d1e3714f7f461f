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

TEST_CASE("an extracted document survives a JSON round trip chunk for chunk") {
    ExtractedDocument doc;
    doc.source_path = "/data/scan.pdf";
    doc.sha256 = std::string(64, 'b');
    doc.size_bytes = 5765;
    doc.media_type = "application/pdf";
    doc.page_count = 2;
    doc.warnings = {"page 2: OCR confidence 41.0 is below 60.0", "caf\xc3\xa9 \"quoted\"\n"};

    Chunk ocr;
    ocr.text = "This is a lot of 12 point text\nto test the ocr code";
    ocr.provenance.source_path = doc.source_path;
    ocr.provenance.source_sha256 = doc.sha256;
    ocr.provenance.page = 2;
    ocr.provenance.boxes = {Box{36.125, 40, 300, 52.75, 0, 30, 93.25}};
    ocr.provenance.word_boxes = {Box{36.125, 40, 60, 52.75, 0, 4, 96}, Box{64, 40, 80, 52.75, 5, 7}};
    ocr.provenance.extractor = "tesseract-ocr";
    ocr.provenance.extractor_version = "5.3.0";
    ocr.provenance.ocr_engine = "tesseract";
    ocr.provenance.language = "eng";
    ocr.provenance.ocr_confidence = 0.1 + 0.2;  // not exactly representable in short decimal
    ocr.provenance.low_confidence = true;
    ocr.provenance.ingest_job = "ingest-1";
    ocr.provenance.ingested_at = "2026-11-22T10:00:00.000000Z";
    ocr.metadata = Json::object();
    ocr.metadata["ocr"] = Json::object();
    ocr.metadata["ocr"]["page_confidence"] = 41.03125;
    ocr.metadata["ocr"]["rotation_degrees"] = 90;

    // Values to_json(Provenance) treats as implied must still come back as they were.
    Chunk odd;
    odd.text = "";
    odd.provenance.source_path = doc.source_path;
    odd.provenance.source_sha256 = doc.sha256;
    odd.provenance.line_end = 7;
    odd.provenance.byte_end = 99;
    odd.provenance.language = "deu";
    odd.provenance.ocr_confidence = 12.5;
    odd.provenance.extractor = "plain-text";
    doc.chunks = {ocr, odd};

    auto back = extracted_document_from_json(Json::parse(to_json(doc).dump()).value());
    REQUIRE_MESSAGE(back.ok(), back.error().to_string());
    CHECK(back->source_path == doc.source_path);
    CHECK(back->sha256 == doc.sha256);
    CHECK(back->size_bytes == doc.size_bytes);
    CHECK(back->media_type == doc.media_type);
    CHECK(back->page_count == doc.page_count);
    CHECK(back->warnings == doc.warnings);
    REQUIRE(back->chunks.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(back->chunks[i].text == doc.chunks[i].text);
        CHECK(back->chunks[i].provenance == doc.chunks[i].provenance);
        CHECK(back->chunks[i].metadata.dump() == doc.chunks[i].metadata.dump());
    }
    CHECK(back->chunks[1].metadata.is_null());
}

TEST_CASE("an extracted document without its chunks or with a chunk lacking provenance is corrupt") {
    CHECK(extracted_document_from_json(Json::parse(R"({"source_path":"/a.pdf","sha256":"ab","warnings":[]})").value())
              .error()
              .code() == ErrorCode::kCorruptInput);
    auto no_prov = extracted_document_from_json(
        Json::parse(R"({"source_path":"/a.pdf","sha256":"ab","warnings":[],"chunks":[{"text":"x"}]})").value());
    REQUIRE_FALSE(no_prov.ok());
    CHECK(no_prov.error().message().find("chunk 1") != std::string::npos);
    CHECK_FALSE(extracted_document_from_json(Json::parse("[1,2]").value()).ok());
}
