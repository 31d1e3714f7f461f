// The extractors extract_file() dispatches to, one per source kind, and what they share.
//
// Each takes the absolute path (for provenance and messages), the file's bytes (read once by
// extract_file), their sha256 and the options. Errors carry only the reason; extract_file()
// prefixes the file name. Thread-safe: no shared mutable state except Poppler's process-wide
// error hook, which is installed once.
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"
#include "strongbox/ingest/ingest.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::ingest {

using ExtractFn = core::Result<core::ExtractedDocument> (*)(const std::filesystem::path & path, std::string_view bytes,
                                                            const std::string & sha256, const IngestOptions & options);

core::Result<core::ExtractedDocument> extract_pdf(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options);
core::Result<core::ExtractedDocument> extract_text(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options);
core::Result<core::ExtractedDocument> extract_html(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options);
core::Result<core::ExtractedDocument> extract_csv(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options);
core::Result<core::ExtractedDocument> extract_docx(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options);

// Provenance fields every chunk of one document shares.
core::Provenance base_provenance(const std::filesystem::path & path, const std::string & sha256,
                                 const IngestOptions & options, std::string extractor, std::string version);

// An empty document carrying the file-level fields.
core::ExtractedDocument new_document(const std::filesystem::path & path, std::string_view bytes,
                                     const std::string & sha256, std::string media_type);

// NUL bytes or mostly bytes that are neither text nor UTF-8.
bool looks_binary(std::string_view bytes);

// "3, 7-9, 12" for sorted 1-based line numbers.
std::string describe_numbers(const std::vector<int> & numbers);

// 1-based line number of each line start: line_starts()[i] is the byte offset of line i+1.
std::vector<size_t> line_starts(std::string_view bytes);

// 1-based line containing byte offset `pos`.
int line_of(const std::vector<size_t> & starts, size_t pos);

}  // namespace strongbox::ingest
