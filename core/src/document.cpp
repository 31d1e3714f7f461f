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
    return j;
}

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
    j["extractor"] = p.extractor;
    j["extractor_version"] = p.extractor_version;
    if (!p.ocr_engine.empty()) {
        j["ocr_engine"] = p.ocr_engine;
        j["language"] = p.language;
        j["ocr_confidence"] = p.ocr_confidence;
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
                                  b.get_int("text_begin", -1), b.get_int("text_end", -1)});
        }
    }
    p.extractor = j.get_string("extractor");
    p.extractor_version = j.get_string("extractor_version");
    p.ocr_engine = j.get_string("ocr_engine");
    p.language = j.get_string("language");
    p.ocr_confidence = j.get_double("ocr_confidence", -1);
    p.ingest_job = j.get_string("ingest_job");
    p.ingested_at = j.get_string("ingested_at");
    if (p.source_path.empty() || p.source_sha256.empty()) {
        return Error(ErrorCode::kCorruptInput, "provenance lacks source_path or source_sha256");
    }
    return p;
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
