// Log extraction: turns the bytes of one log file into chunks of neighbouring records, each with
// exact 1-based line ranges and [byte_start, byte_end) offsets into the file, so a citation can
// point at "syslog lines 1042-1047".
//
// Design notes:
//  1. The format (syslog RFC 3164 / 5424, JSON lines, web-server access and error logs,
//     application logs with a leading timestamp, Blue Gene/L RAS, free text) is detected per file
//     from its first lines unless LogOptions::format overrides it.
//  2. A record is one header line plus every following line that does not start a record of the
//     file's format (Java stack traces, indented continuations, lines without a timestamp).
//  3. Every record's message is mined into a template (log_template.h); the chunk metadata keeps
//     per record: line, time (UTC ISO 8601) and the original time text, severity, host, app,
//     template id, template and parameters, plus every extra structured field (JSON keys,
//     RFC 5424 structured data, access-log fields) so schema drift never loses data.
//  4. A chunk closes when it holds IngestOptions::log_lines_per_chunk records, when the next
//     record is more than LogOptions::chunk_time_window_seconds after the chunk's first record,
//     or when the next record would take the chunk text over IngestOptions::max_chunk_chars.
//  5. Chunk text is the records' raw text joined by '\n' (a trailing '\r' is dropped; invalid
//     UTF-8 becomes U+FFFD). A record longer than max_chunk_chars is cut in the chunk text with a
//     marker saying how many bytes were left out; its byte range still covers the whole record.
//  6. Bad input: binary data (NUL bytes, mostly non-printable bytes) is an error naming the file;
//     invalid UTF-8 is repaired with a warning naming the lines; a zero-byte or blank file gives
//     an empty document (no chunks, page_count 0) with a warning, because an empty log is a
//     normal state for a freshly rotated file and should not fail a whole ingest run.
//
// Thread-safety: extract_log() keeps no shared state; it may run concurrently.
// Errors: kCorruptInput for binary data; the message names the file.
//
//   SB_ASSIGN_OR_RETURN(std::string bytes, core::read_file(path));
//   SB_ASSIGN_OR_RETURN(auto doc, extract_log(path, bytes, core::sha256_hex(bytes), options));
#pragma once

#include "log_format.h"

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"
#include "strongbox/ingest/ingest.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace strongbox::ingest {

// Log-specific settings that IngestOptions does not carry.
struct LogOptions {
    LogFormat format = LogFormat::kAuto;      // kAuto: detect from the first lines
    int64_t chunk_time_window_seconds = 300;  // 0: no time limit on a chunk
    // RFC 3164 syslog (and other yearless stamps) carry no year. 0 means: the current UTC year,
    // or the year before when that would put the first record more than 31 days in the future.
    // Within a file the year advances when the month goes back (December -> January).
    int assumed_year = 0;
    // Offset from UTC of stamps that carry no zone (3164 syslog, Apache error logs, most
    // application logs). The appliance's logs are written in UTC, hence 0.
    int assumed_utc_offset_minutes = 0;
};

core::Result<core::ExtractedDocument> extract_log(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options);

core::Result<core::ExtractedDocument> extract_log(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options,
                                                  const LogOptions & log_options);

}  // namespace strongbox::ingest
