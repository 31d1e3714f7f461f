// The data model every module shares: what ingest extracts, retrieval stores and ranks, and
// answers cite.
//
// A Chunk is a passage of text plus the Provenance that lets an auditor find it again in the
// exact source bytes: which file (path and sha256), which page, which lines, which bytes, where
// on the page (boxes), and which extractor produced it. Plain data; no thread-safety concerns.
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strongbox::core {

// A region of a PDF page in points (1/72 inch), origin at the page's top-left corner, y down.
// text_begin/text_end map the region to a byte range of the chunk text it produced, so a cited
// span of text can be turned back into the regions to highlight; -1 when unknown.
struct Box {
    double x0 = 0;
    double y0 = 0;
    double x1 = 0;
    double y1 = 0;
    int64_t text_begin = -1;
    int64_t text_end = -1;
    double confidence = -1;  // OCR confidence 0..100 of the text in the box, -1 when not OCR

    bool operator==(const Box &) const = default;
};

struct Provenance {
    std::string source_path;       // absolute path the source was read from
    std::string source_sha256;     // hex sha256 of the whole source file
    int64_t document_version = 1;  // increases when the same path is ingested with new bytes
    int page = 0;                  // 1-based page for paged sources, 0 otherwise
    int line_start = 0;            // 1-based inclusive line range in the source, 0 when n/a
    int line_end = 0;
    int64_t byte_start = -1;  // [byte_start, byte_end) in the source file, -1 when n/a
    int64_t byte_end = -1;
    std::vector<Box> boxes;         // where on the page the text sits, one per line (PDF and OCR sources)
    std::vector<Box> word_boxes;    // the words of lines with more than one word, in text order
    std::string extractor;          // e.g. "poppler-text", "tesseract-ocr", "log-lines", "plain-text"
    std::string extractor_version;  // library version that did the extraction
    std::string ocr_engine;         // empty unless the text came from OCR
    std::string language;           // OCR language(s), e.g. "eng"
    double ocr_confidence = -1;     // mean word confidence 0..100, -1 when not OCR
    bool low_confidence = false;    // OCR'd page read below the ingest's confidence threshold
    std::string ingest_job;         // id of the ingest run that produced it
    std::string ingested_at;        // ISO 8601 UTC

    bool operator==(const Provenance &) const = default;
};

struct Chunk {
    std::string text;
    Provenance provenance;
    // Extractor-specific structure kept with the chunk, e.g. for logs
    // {"format":"syslog","records":[{"line":12,"time":"...","template_id":"T7","params":[...]}]}
    // or for documents {"heading":"Installation"}. Null when there is none.
    Json metadata;
};

// Everything extracted from one source file, ready to be stored in one transaction.
struct ExtractedDocument {
    std::string source_path;
    std::string sha256;
    int64_t size_bytes = 0;
    std::string media_type;  // "application/pdf", "text/plain", "text/markdown", "text/x-log"
    int page_count = 0;      // pages for PDFs, lines for logs and text
    std::vector<Chunk> chunks;
    std::vector<std::string> warnings;  // e.g. "page 3 has no text layer"
};

Json to_json(const Box & box);
Json to_json(const Provenance & p);
Result<Provenance> provenance_from_json(const Json & j);

// The whole document, e.g. to hand it from an extraction worker process to the daemon. Lossless:
// extracted_document_from_json(to_json(d)) equals d, chunk metadata up to its canonical text
// (Json::dump(), which is how the store keeps it).
Json to_json(const ExtractedDocument & doc);
Result<ExtractedDocument> extracted_document_from_json(const Json & j);

// The narrowest regions covering bytes [begin, end) of the chunk text: the word boxes where
// the line has them, else the line box; empty when the boxes do not map to text.
std::vector<Box> boxes_for_span(const Provenance & p, int64_t begin, int64_t end);

// "report.pdf p. 3", "syslog lines 1042-1047", "notes.md lines 4-9"
std::string describe_location(const Provenance & p);

}  // namespace strongbox::core
