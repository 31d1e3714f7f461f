#include "strongbox/core/document.h"

#include <filesystem>

namespace strongbox::core {

Json to_json(const Box & box) {
    Json j = Json::object();
    j["x0"] = box.x0;
    j["y0"] = box.y0;
    j["x1"] = box.x1;
    j["y1"] = box.y1;
    if (box.text_begin >= 0) {
        j["text_begin"] = box.text_begin;
        j["text_end"] = box.text_end;
    }
    if (box.confidence >= 0) {
        j["confidence"] = box.confidence;
    }
    return j;
}

namespace {

// Word boxes are many (a full page has hundreds), so each is a bare array
// [x0, y0, x1, y1, text_begin, text_end] with the confidence appended when there is one.
Json word_box_to_json(const Box & b) {
    Json j = Json::array();
    for (double v : {b.x0, b.y0, b.x1, b.y1}) {
        j.push_back(v);
    }
    j.push_back(b.text_begin);
    j.push_back(b.text_end);
    if (b.confidence >= 0) {
        j.push_back(b.confidence);
    }
    return j;
}

Result<Box> word_box_from_json(const Json & j) {
    if (!j.is_array() || j.size() < 6 || j.size() > 7) {
        return Error(ErrorCode::kCorruptInput, "word box is not an array of 6 or 7 numbers");
    }
    const auto & a = j.as_array();
    for (const Json & v : a) {
        if (!v.is_number()) {
            return Error(ErrorCode::kCorruptInput, "word box holds a value that is not a number");
        }
    }
    return Box{a[0].as_double(),
               a[1].as_double(),
               a[2].as_double(),
               a[3].as_double(),
               a[4].as_int(),
               a[5].as_int(),
               a.size() == 7 ? a[6].as_double() : -1.0};
}

}  // namespace

Json to_json(const Provenance & p) {
    Json j = Json::object();
    j["source_path"] = p.source_path;
    j["source_sha256"] = p.source_sha256;
    j["document_version"] = p.document_version;
    if (p.page > 0) {
        j["page"] = p.page;
    }
    if (p.line_start > 0) {
        j["line_start"] = p.line_start;
        j["line_end"] = p.line_end;
    }
    if (p.byte_start >= 0) {
        j["byte_start"] = p.byte_start;
        j["byte_end"] = p.byte_end;
    }
    if (!p.boxes.empty()) {
        Json boxes = Json::array();
        for (const Box & b : p.boxes) {
            boxes.push_back(to_json(b));
        }
        j["boxes"] = std::move(boxes);
    }
    if (!p.word_boxes.empty()) {
        Json words = Json::array();
        for (const Box & b : p.word_boxes) {
            words.push_back(word_box_to_json(b));
        }
        j["word_boxes"] = std::move(words);
    }
    j["extractor"] = p.extractor;
    j["extractor_version"] = p.extractor_version;
    if (!p.ocr_engine.empty()) {
        j["ocr_engine"] = p.ocr_engine;
        j["language"] = p.language;
        j["ocr_confidence"] = p.ocr_confidence;
    }
    if (p.low_confidence) {
        j["low_confidence"] = true;
    }
    if (!p.ingest_job.empty()) {
        j["ingest_job"] = p.ingest_job;
    }
    j["ingested_at"] = p.ingested_at;
    return j;
}

Result<Provenance> provenance_from_json(const Json & j) {
    if (!j.is_object()) {
        return Error(ErrorCode::kCorruptInput, "provenance is not a JSON object");
    }
    Provenance p;
    p.source_path = j.get_string("source_path");
    p.source_sha256 = j.get_string("source_sha256");
    p.document_version = j.get_int("document_version", 1);
    p.page = static_cast<int>(j.get_int("page", 0));
    p.line_start = static_cast<int>(j.get_int("line_start", 0));
    p.line_end = static_cast<int>(j.get_int("line_end", 0));
    p.byte_start = j.get_int("byte_start", -1);
    p.byte_end = j.get_int("byte_end", -1);
    if (const Json * boxes = j.find("boxes"); boxes != nullptr && boxes->is_array()) {
        for (const Json & b : boxes->as_array()) {
            p.boxes.push_back(Box{b.get_double("x0"), b.get_double("y0"), b.get_double("x1"), b.get_double("y1"),
                                  b.get_int("text_begin", -1), b.get_int("text_end", -1),
                                  b.get_double("confidence", -1)});
        }
    }
    if (const Json * words = j.find("word_boxes"); words != nullptr && words->is_array()) {
        for (const Json & w : words->as_array()) {
            SB_ASSIGN_OR_RETURN(Box b, word_box_from_json(w));
            p.word_boxes.push_back(b);
        }
    }
    p.extractor = j.get_string("extractor");
    p.extractor_version = j.get_string("extractor_version");
    p.ocr_engine = j.get_string("ocr_engine");
    p.language = j.get_string("language");
    p.ocr_confidence = j.get_double("ocr_confidence", -1);
    p.low_confidence = j.get_bool("low_confidence", false);
    p.ingest_job = j.get_string("ingest_job");
    p.ingested_at = j.get_string("ingested_at");
    if (p.source_path.empty() || p.source_sha256.empty()) {
        return Error(ErrorCode::kCorruptInput, "provenance lacks source_path or source_sha256");
    }
    return p;
}

namespace {

// to_json(Provenance) leaves out what it treats as unknown or implied (a line_end without a
// line_start, OCR figures without an engine); provenance_from_json() reads those members
// whenever present, so adding back the ones that differ from its defaults makes the document
// encoding lossless without changing the provenance records the store already holds.
Json provenance_to_json_lossless(const Provenance & p) {
    Json j = to_json(p);
    if (p.page < 0) {
        j["page"] = p.page;
    }
    if (p.line_start <= 0 && (p.line_start != 0 || p.line_end != 0)) {
        j["line_start"] = p.line_start;
        j["line_end"] = p.line_end;
    }
    if (p.byte_start < 0 && (p.byte_start != -1 || p.byte_end != -1)) {
        j["byte_start"] = p.byte_start;
        j["byte_end"] = p.byte_end;
    }
    if (p.ocr_engine.empty()) {
        if (!p.language.empty()) {
            j["language"] = p.language;
        }
        if (p.ocr_confidence != -1) {
            j["ocr_confidence"] = p.ocr_confidence;
        }
    }
    return j;
}

}  // namespace

Json to_json(const ExtractedDocument & doc) {
    Json j = Json::object();
    j["source_path"] = doc.source_path;
    j["sha256"] = doc.sha256;
    j["size_bytes"] = doc.size_bytes;
    j["media_type"] = doc.media_type;
    j["page_count"] = doc.page_count;
    Json warnings = Json::array();
    for (const std::string & w : doc.warnings) {
        warnings.push_back(w);
    }
    j["warnings"] = std::move(warnings);
    Json chunks = Json::array();
    for (const Chunk & c : doc.chunks) {
        Json cj = Json::object();
        cj["text"] = c.text;
        cj["provenance"] = provenance_to_json_lossless(c.provenance);
        if (!c.metadata.is_null()) {
            cj["metadata"] = c.metadata;
        }
        chunks.push_back(std::move(cj));
    }
    j["chunks"] = std::move(chunks);
    return j;
}

Result<ExtractedDocument> extracted_document_from_json(const Json & j) {
    if (!j.is_object()) {
        return Error(ErrorCode::kCorruptInput, "extracted document is not a JSON object");
    }
    const Json * chunks = j.find("chunks");
    const Json * warnings = j.find("warnings");
    if (chunks == nullptr || !chunks->is_array() || warnings == nullptr || !warnings->is_array()) {
        return Error(ErrorCode::kCorruptInput, "extracted document lacks its chunks or warnings array");
    }
    ExtractedDocument doc;
    doc.source_path = j.get_string("source_path");
    doc.sha256 = j.get_string("sha256");
    doc.size_bytes = j.get_int("size_bytes");
    doc.media_type = j.get_string("media_type");
    doc.page_count = static_cast<int>(j.get_int("page_count"));
    for (const Json & w : warnings->as_array()) {
        if (!w.is_string()) {
            return Error(ErrorCode::kCorruptInput, "extracted document has a warning that is not a string");
        }
        doc.warnings.push_back(w.as_string());
    }
    doc.chunks.reserve(chunks->size());
    for (const Json & cj : chunks->as_array()) {
        const Json * text = cj.find("text");
        const Json * prov = cj.find("provenance");
        if (text == nullptr || !text->is_string() || prov == nullptr) {
            return Error(ErrorCode::kCorruptInput,
                         "chunk " + std::to_string(doc.chunks.size() + 1) + " lacks its text or provenance");
        }
        Chunk c;
        c.text = text->as_string();
        auto p = provenance_from_json(*prov);
        if (!p.ok()) {
            return std::move(p).error().with_context("chunk " + std::to_string(doc.chunks.size() + 1));
        }
        c.provenance = std::move(p).value();
        if (const Json * meta = cj.find("metadata")) {
            c.metadata = *meta;
        }
        doc.chunks.push_back(std::move(c));
    }
    if (doc.source_path.empty() || doc.sha256.empty()) {
        return Error(ErrorCode::kCorruptInput, "extracted document lacks source_path or sha256");
    }
    return doc;
}

std::vector<Box> boxes_for_span(const Provenance & p, int64_t begin, int64_t end) {
    std::vector<Box> out;
    for (const Box & line : p.boxes) {
        if (line.text_begin < 0 || line.text_end <= begin || line.text_begin >= end) {
            continue;
        }
        bool line_has_words = false;
        for (const Box & w : p.word_boxes) {
            if (w.text_begin < line.text_begin || w.text_end > line.text_end) {
                continue;
            }
            line_has_words = true;
            if (w.text_end > begin && w.text_begin < end) {
                out.push_back(w);
            }
        }
        if (!line_has_words) {
            out.push_back(line);
        }
    }
    return out;
}

std::string describe_location(const Provenance & p) {
    std::string out = std::filesystem::path(p.source_path).filename().string();
    if (p.page > 0) {
        out += " p. " + std::to_string(p.page);
    }
    if (p.line_start > 0) {
        out += p.line_start == p.line_end ? " line " + std::to_string(p.line_start)
                                          : " lines " + std::to_string(p.line_start) + "-" + std::to_string(p.line_end);
    }
    return out;
}

}  // namespace strongbox::core
