// Log formats: recognising which layout a log file is written in, and splitting a record's first
// line into its header fields (time, severity, host, app, pid, structured fields) and message.
//
// Formats and the name each is reported under (chunk metadata "format"):
//   syslog-3164      "<34>Oct 11 22:14:15 host su[123]: msg" (PRI optional, as rsyslog writes files)
//   syslog-5424      "<165>1 2003-10-11T22:14:15.003Z host app 123 ID47 [sd@1 k="v"] msg"
//   json-lines       one JSON object per line; well-known keys mapped, every other key kept
//   access-common    Apache/nginx "%h %l %u %t \"%r\" %>s %b"
//   access-combined  the same plus "\"%{Referer}i\" \"%{User-agent}i\""
//   apache-error     "[Sun Dec 04 04:47:44 2005] [error] msg" (2.2) and the 2.4 layout
//   nginx-error      "2026/06/14 15:16:01 [error] 1234#0: *5 msg"
//   app-log          a leading date-time stamp, then optional pid, level, [thread], logger (log4j,
//                    logback, Python logging, Hadoop, Spark, ZooKeeper style)
//   bgl-ras          Blue Gene/L RAS event logs
//   free-text        anything else: one record per unindented line
//
// Thread-safety: pure functions. Errors: a line that does not fit a format is "no header"
// (nullopt), which the extractor treats as a continuation of the previous record.
//
//   TimeAssumptions t{2026, 0};
//   auto h = parse_log_line(LogFormat::kSyslog3164, "Jun 14 15:16:01 combo sshd[19939]: x", t);
//   // h->app == "sshd", h->pid == "19939", h->message == "x"
#pragma once

#include "strongbox/core/json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::ingest {

enum class LogFormat {
    kAuto,
    kSyslog3164,
    kSyslog5424,
    kJsonLines,
    kAccessCommon,
    kAccessCombined,
    kApacheError,
    kNginxError,
    kAppLog,
    kBglRas,
    kFreeText,
};

std::string_view to_string(LogFormat format);
std::optional<LogFormat> log_format_from_string(std::string_view name);

// How to read stamps that lack a year or a zone.
struct TimeAssumptions {
    int year = 1970;
    int utc_offset_minutes = 0;
};

struct LogHeader {
    std::optional<int64_t> time_us;  // UTC microseconds; nullopt when the line has no usable stamp
    std::string time_text;           // the stamp exactly as written
    int yearless_month = 0;          // 1..12 when the stamp had no year (the year was assumed)
    std::string severity;            // normalised: trace, debug, info, notice, warning, error, critical, ...
    std::string host;
    std::string app;  // program, syslog tag, logger or component
    std::string pid;
    std::string message;  // what templates are mined from
    core::Json fields;    // format-specific extra fields (object), null when none
};

// Parses `line` (no line terminator) as the first line of a record in `format`. For kFreeText
// every line that does not look like a continuation is a record. kAuto is not a format.
std::optional<LogHeader> parse_log_line(LogFormat format, std::string_view line, const TimeAssumptions & time);

// Picks the format that the most sample lines parse as (more specific formats win ties);
// kFreeText when no format explains at least a fifth of the non-blank lines.
LogFormat detect_log_format(const std::vector<std::string_view> & sample_lines, const TimeAssumptions & time);

// Indented lines, Java stack frames ("at x.y(Z.java:1)", "Caused by: ...", "... 3 more") and
// Python traceback lines continue the record before them whatever the format.
bool looks_like_continuation(std::string_view line);

// Maps level words of the common logging libraries and syslog to one vocabulary; "" when unknown.
std::string normalise_severity(std::string_view word);

}  // namespace strongbox::ingest
