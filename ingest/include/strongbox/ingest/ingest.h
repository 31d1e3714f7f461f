// Ingest: turns one source file into chunks of text with provenance. It reads and extracts only;
// storing is the caller's business, so one document can be committed in one transaction.
//
// Supported: PDFs (text layer through Poppler; pages without a usable one are rendered and OCR'd
// through Tesseract, after orientation detection and deskew), logs (syslog, JSON lines,
// web-server and free text; per line, grouped into chunks with exact line ranges and byte
// offsets), plain text / Markdown (per paragraph, exact line and byte ranges), HTML (per block
// element), CSV (per row, line ranges) and DOCX (per paragraph). What each chunk's provenance
// holds (page, lines, bytes, line and word boxes, OCR confidence and flags) is set out in
// ingest/README.md.
//
// Thread-safety: extract_file() may run concurrently on different files. Within one PDF, OCR
// runs on `ocr_workers` threads; the progress callback is called from those threads, one call
// at a time, with `done` increasing.
// Errors: a file that cannot be read or parsed returns an Error whose message names the file
// and the reason (kCorruptInput, kUnsupported, kIoError, kNotFound for missing OCR language
// data); recoverable oddities (a page without text, a low-confidence OCR page, repaired UTF-8)
// come back as warnings in the ExtractedDocument.
//
//   strongbox::ingest::IngestOptions opts;
//   opts.progress = [](size_t done, size_t total) { draw_bar(done, total); };
//   auto doc = strongbox::ingest::extract_file("manual.pdf", opts);
//   if (!doc) { std::cerr << doc.error().to_string() << "\n"; }
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::ingest {

enum class SourceKind { kPdf, kLog, kText, kUnknown, kHtml, kCsv, kDocx };

struct IngestOptions {
    size_t max_chunk_chars = 1200;     // target upper bound of a chunk's text
    size_t log_lines_per_chunk = 20;   // neighbouring log records grouped into one chunk
    std::string ingest_job;            // recorded in every chunk's provenance
    std::string ocr_language = "eng";  // Tesseract language(s), "eng+deu" for several
    int ocr_dpi = 300;                 // rendering resolution of pages that are OCR'd
    std::string pdf_password;          // for password-protected PDFs
    bool ocr_enabled = true;           // false: pages without a usable text layer only get a warning
    int ocr_workers = 0;               // threads OCR'ing pages of one PDF; 0 = one per core
    double ocr_low_confidence = 60;    // pages whose mean word confidence is below are flagged
    std::string tessdata_dir;          // empty: TESSDATA_PREFIX or the system's tessdata folder
    int max_pages = 0;                 // a PDF with more pages is refused (kResourceExhausted); 0: no limit
    // Pages finished / pages in the document, for a progress bar and the API. Called once per
    // page of a PDF, from OCR worker threads but never two calls at once; keep it quick.
    std::function<void(size_t done, size_t total)> progress;
};

// Detects the kind from the name and the first bytes (a PDF is a PDF whatever its name).
SourceKind detect_kind(const std::filesystem::path & path, std::string_view head);

struct CollectedSources {
    std::vector<std::filesystem::path> files;
    // Symbolic links met inside the folders given and not followed: a link can point anywhere
    // (/etc, another user's home), so what it names is ingested only when asked.
    std::vector<std::filesystem::path> skipped_links;
};

// Expands folders (recursively, sorted, hidden entries skipped) into the files to ingest.
// Paths that do not exist are returned too, so extract_file() reports them. Inputs named
// directly are taken as given, links included; links inside folders are followed only when
// `follow_symlinks` (then directory links are walked too).
CollectedSources collect_sources(const std::vector<std::filesystem::path> & inputs, bool follow_symlinks = false);

core::Result<core::ExtractedDocument> extract_file(const std::filesystem::path & path, const IngestOptions & options);

}  // namespace strongbox::ingest
