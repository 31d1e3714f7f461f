#include "log_extractor.h"

#include "log_time.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace strongbox;
using namespace strongbox::ingest;

namespace {

std::string fixture(const std::string & name) {
    auto bytes = core::read_file(std::string(SB_TEST_DATA_DIR) + "/ingest/logs/" + name);
    REQUIRE(bytes.ok());
    return *bytes;
}

core::ExtractedDocument extract(const std::string & name, std::string_view bytes, const IngestOptions & options = {},
                                const LogOptions & log_options = {}) {
    auto doc = extract_log(name, bytes, core::sha256_hex(bytes), options, log_options);
    REQUIRE_MESSAGE(doc.ok(), doc.error().to_string());
    return std::move(doc).value();
}

const core::Json::Array & records(const core::Chunk & c) {
    REQUIRE(c.metadata.find("records") != nullptr);
    return c.metadata.find("records")->as_array();
}

std::string slice(std::string_view bytes, const core::Provenance & p) {
    return std::string(bytes.substr(static_cast<size_t>(p.byte_start), static_cast<size_t>(p.byte_end - p.byte_start)));
}

// n syslog lines one second apart, starting at 10:00:00.
std::string syslog_lines(int n, int first_second = 0) {
    std::string out;
    for (int i = 0; i < n; ++i) {
        int s = first_second + i;
        char line[128];
        std::snprintf(line, sizeof(line), "Jun 14 10:%02d:%02d box01 cron[%d]: job %d finished in %d ms\n", s / 60 % 60,
                      s % 60, 100 + i, i, 10 * i);
        out += line;
    }
    return out;
}

}  // namespace

TEST_CASE("log chunks carry exact line ranges and byte offsets into the file") {
    const std::string bytes = syslog_lines(50);
    IngestOptions options;
    options.log_lines_per_chunk = 20;
    options.max_chunk_chars = 100000;
    options.ingest_job = "job-17";
    LogOptions log_options;
    log_options.assumed_year = 2026;
    core::ExtractedDocument doc = extract("cron.log", bytes, options, log_options);

    CHECK(doc.media_type == "text/x-log");
    CHECK(doc.page_count == 50);
    CHECK(doc.size_bytes == static_cast<int64_t>(bytes.size()));
    CHECK(doc.sha256 == core::sha256_hex(bytes));
    CHECK(std::filesystem::path(doc.source_path).is_absolute());
    CHECK(doc.warnings.empty());
    REQUIRE(doc.chunks.size() == 3);
    const int expected[3][2] = {{1, 20}, {21, 40}, {41, 50}};
    for (size_t i = 0; i < 3; ++i) {
        const core::Provenance & p = doc.chunks[i].provenance;
        CHECK(p.line_start == expected[i][0]);
        CHECK(p.line_end == expected[i][1]);
        CHECK(slice(bytes, p) == doc.chunks[i].text);  // the chunk text is the cited bytes
        CHECK(p.extractor == "log-lines");
        CHECK(p.source_sha256 == doc.sha256);
        CHECK(p.source_path == doc.source_path);
        CHECK(p.ingest_job == "job-17");
        CHECK_FALSE(p.ingested_at.empty());
        CHECK(records(doc.chunks[i]).size() == static_cast<size_t>(expected[i][1] - expected[i][0] + 1));
    }
    CHECK(doc.chunks[1].provenance.byte_start == doc.chunks[0].provenance.byte_end + 1);

    const core::Json & r = records(doc.chunks[1]).front();
    CHECK(doc.chunks[1].metadata.get_string("format") == "syslog-3164");
    CHECK(r.get_int("line") == 21);
    CHECK(r.get_string("time") == "2026-06-14T10:00:20.000000Z");
    CHECK(r.get_string("time_text") == "Jun 14 10:00:20");
    CHECK(r.get_string("host") == "box01");
    CHECK(r.get_string("app") == "cron");
    CHECK(r.get_string("pid") == "120");
    CHECK(r.get_string("template_id") == "T1");
    CHECK(r.get_string("template") == "job <*> finished in <*> ms");
    REQUIRE(r.find("params")->size() == 2);
    CHECK(r.find("params")->as_array()[0].as_string() == "20");
    CHECK(r.find("params")->as_array()[1].as_string() == "200");
}

TEST_CASE("a Java stack trace stays inside the record that logged it") {
    const std::string bytes = fixture("java_app.log");
    IngestOptions options;
    options.max_chunk_chars = 100000;
    core::ExtractedDocument doc = extract("java_app.log", bytes, options);
    REQUIRE(doc.chunks.size() == 1);
    const core::Json::Array & recs = records(doc.chunks[0]);
    REQUIRE(recs.size() == 7);
    CHECK(doc.chunks[0].metadata.get_string("format") == "app-log");
    const core::Json & failure = recs[3];
    CHECK(failure.get_int("line") == 4);
    CHECK(failure.get_int("line_end") == 11);
    CHECK(failure.get_string("severity") == "error");
    CHECK(failure.get_string("app") == "org.strongbox.demo.OrderService");
    CHECK(failure.get_string("template") == "Failed to process order <*>");
    CHECK(failure.find("fields")->get_string("thread") == "pool-1-thread-7");
    CHECK(failure.get_string("time") == "2026-06-14T15:16:03.517000Z");
    CHECK(recs[4].get_int("line") == 12);
    // The two "processed" records share a template; the retry record has its own.
    CHECK(recs[5].get_string("template_id") == recs[6].get_string("template_id"));
    CHECK(recs[4].get_string("template_id") != recs[5].get_string("template_id"));
    CHECK(doc.chunks[0].text == bytes.substr(0, bytes.size() - 1));  // everything but the final newline
}

TEST_CASE("chunks close when the next record is outside the time window") {
    // Records at 10:00:00..10:00:04, then 10:20:00..10:20:02.
    std::string bytes = syslog_lines(5) + syslog_lines(3, 1200);
    IngestOptions options;
    options.max_chunk_chars = 100000;
    LogOptions log_options;
    log_options.assumed_year = 2026;
    log_options.chunk_time_window_seconds = 60;
    core::ExtractedDocument doc = extract("cron.log", bytes, options, log_options);
    REQUIRE(doc.chunks.size() == 2);
    CHECK(doc.chunks[0].provenance.line_end == 5);
    CHECK(doc.chunks[1].provenance.line_start == 6);

    log_options.chunk_time_window_seconds = 0;  // no time limit
    CHECK(extract("cron.log", bytes, options, log_options).chunks.size() == 1);
}

TEST_CASE("chunk text stays within max_chunk_chars by closing chunks early") {
    const std::string bytes = syslog_lines(40);
    IngestOptions options;
    options.max_chunk_chars = 300;
    options.log_lines_per_chunk = 100;
    core::ExtractedDocument doc = extract("cron.log", bytes, options);
    REQUIRE(doc.chunks.size() > 1);
    int next_line = 1;
    for (const core::Chunk & c : doc.chunks) {
        CHECK(c.text.size() <= 300);
        CHECK(c.provenance.line_start == next_line);
        next_line = c.provenance.line_end + 1;
    }
    CHECK(next_line == 41);
}

TEST_CASE("JSON-lines fields that come and go are all kept in the chunk metadata") {
    const std::string bytes = fixture("app.jsonl");
    core::ExtractedDocument doc = extract("app.jsonl", bytes);
    REQUIRE(doc.chunks.size() == 1);
    const core::Json::Array & recs = records(doc.chunks[0]);
    REQUIRE(recs.size() == 4);
    CHECK(doc.chunks[0].metadata.get_string("format") == "json-lines");
    CHECK(recs[1].find("fields")->get_string("trace_id") == "a3f9c2");
    CHECK(recs[2].find("fields")->find("upstream")->get_string("host") == "10.0.0.7");
    CHECK(recs[3].find("fields")->get_string("user") == "auditor");
    CHECK(recs[2].get_string("time") == "2026-06-14T15:16:03.000000Z");
    CHECK(recs[0].get_string("template_id") == recs[3].get_string("template_id"));
    CHECK(recs[0].get_string("template") == "request served");
}

TEST_CASE("a format given in the options overrides detection") {
    const std::string bytes = fixture("nginx_access.log");
    LogOptions log_options;
    log_options.format = LogFormat::kFreeText;
    core::ExtractedDocument doc = extract("access.log", bytes, {}, log_options);
    REQUIRE_FALSE(doc.chunks.empty());
    CHECK(doc.chunks[0].metadata.get_string("format") == "free-text");
    CHECK_FALSE(records(doc.chunks[0])[0].contains("time"));

    core::ExtractedDocument detected = extract("access.log", bytes);
    CHECK(detected.chunks[0].metadata.get_string("format") == "access-combined");
    CHECK(records(detected.chunks[0])[0].get_string("time") == "2026-06-14T15:16:01.000000Z");
}

TEST_CASE("RFC 3164 stamps assume the configured year and advance it at New Year") {
    const std::string bytes =
        "Dec 31 23:59:58 box01 cron[1]: rotate logs\nJan  1 00:00:01 box01 cron[1]: rotate logs\n";
    LogOptions log_options;
    log_options.assumed_year = 2025;
    core::ExtractedDocument doc = extract("messages", bytes, {}, log_options);
    REQUIRE(doc.chunks.size() == 1);
    const core::Json::Array & recs = records(doc.chunks[0]);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].get_string("time") == "2025-12-31T23:59:58.000000Z");
    CHECK(recs[1].get_string("time") == "2026-01-01T00:00:01.000000Z");
    CHECK(recs[1].get_string("time_text") == "Jan  1 00:00:01");

    log_options.assumed_utc_offset_minutes = -300;  // written in UTC-05:00
    core::ExtractedDocument shifted = extract("messages", bytes, {}, log_options);
    CHECK(records(shifted.chunks[0])[0].get_string("time") == "2026-01-01T04:59:58.000000Z");
}

TEST_CASE("binary data is rejected with an error naming the file") {
    std::string garbage;
    uint32_t x = 12345;
    for (int i = 0; i < 4096; ++i) {
        x = x * 1103515245u + 12345u;
        garbage += static_cast<char>(x >> 24);
    }
    auto doc = extract_log("core.dump", garbage, "abc", IngestOptions{});
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(doc.error().message().find("core.dump") != std::string::npos);
    CHECK(doc.error().message().find("binary data, not a log") != std::string::npos);

    std::string with_nuls = "Jun 14 10:00:00 box01 app: ok\n" + std::string(64, '\0');
    auto nul_doc = extract_log("app.log", with_nuls, "abc", IngestOptions{});
    REQUIRE_FALSE(nul_doc.ok());
    CHECK(nul_doc.error().message().find("app.log") != std::string::npos);
}

TEST_CASE("invalid UTF-8 is replaced with U+FFFD and the warning names the lines") {
    std::string bytes = "Jun 14 10:00:00 box01 app: caf\xe9 opened\n"
                        "Jun 14 10:00:01 box01 app: all fine\n"
                        "Jun 14 10:00:02 box01 app: bad \xff\xfe bytes\n";
    core::ExtractedDocument doc = extract("latin1.log", bytes);
    REQUIRE(doc.warnings.size() == 1);
    CHECK(doc.warnings[0].find("latin1.log") != std::string::npos);
    CHECK(doc.warnings[0].find("lines 1, 3") != std::string::npos);
    REQUIRE(doc.chunks.size() == 1);
    CHECK(doc.chunks[0].text.find("caf\xef\xbf\xbd opened") != std::string::npos);
    // Offsets still count the original bytes.
    CHECK(doc.chunks[0].provenance.byte_end == static_cast<int64_t>(bytes.size() - 1));
}

TEST_CASE("a 10 MB single-line log is cut in chunk text while its byte range stays exact") {
    std::string bytes = "2026-06-14 15:16:01,120 INFO  [main] org.strongbox.Dump - payload ";
    const size_t header = bytes.size();
    bytes += std::string(10 * 1024 * 1024, 'x');
    IngestOptions options;
    options.max_chunk_chars = 1200;
    core::ExtractedDocument doc = extract("huge.log", bytes, options);
    REQUIRE(doc.chunks.size() == 1);
    const core::Chunk & c = doc.chunks[0];
    CHECK(c.provenance.byte_start == 0);
    CHECK(c.provenance.byte_end == static_cast<int64_t>(bytes.size()));
    CHECK(c.provenance.line_start == 1);
    CHECK(c.provenance.line_end == 1);
    CHECK(c.text.size() < 1400);
    CHECK(c.text.starts_with(bytes.substr(0, header)));
    CHECK(c.text.find("record truncated") != std::string::npos);
    const core::Json & r = records(c)[0];
    CHECK(r.get_bool("truncated"));
    CHECK(r.get_int("size_bytes") == static_cast<int64_t>(bytes.size()));
    CHECK(r.get_string("template") == "payload <*>");
    CHECK(r.find("params")->as_array()[0].as_string().size() <= 4096);
    REQUIRE(doc.warnings.size() == 1);
    CHECK(doc.warnings[0].find("huge.log") != std::string::npos);
}

TEST_CASE("an empty log gives an empty document with a warning") {
    core::ExtractedDocument doc = extract("empty.log", "");
    CHECK(doc.chunks.empty());
    CHECK(doc.page_count == 0);
    CHECK(doc.size_bytes == 0);
    REQUIRE(doc.warnings.size() == 1);
    CHECK(doc.warnings[0].find("empty.log") != std::string::npos);

    core::ExtractedDocument blank = extract("blank.log", "\n  \n");
    CHECK(blank.chunks.empty());
    CHECK(blank.page_count == 2);
    CHECK(blank.warnings.size() == 1);
}

TEST_CASE("CRLF line ends are left out of chunk text and out of the byte range") {
    const std::string bytes = "Jun 14 10:00:00 box01 app: one\r\nJun 14 10:00:01 box01 app: two\r\n";
    core::ExtractedDocument doc = extract("crlf.log", bytes);
    REQUIRE(doc.chunks.size() == 1);
    CHECK(doc.chunks[0].text == "Jun 14 10:00:00 box01 app: one\nJun 14 10:00:01 box01 app: two");
    CHECK(doc.chunks[0].provenance.byte_end == static_cast<int64_t>(bytes.size() - 2));
    CHECK(doc.page_count == 2);
}

TEST_CASE("free text keeps indented continuation lines with the line above") {
    const std::string bytes = "backup started\n  volume /srv: 12 GB\n  volume /home: 3 GB\nbackup finished\n";
    core::ExtractedDocument doc = extract("notes.log", bytes);
    REQUIRE(doc.chunks.size() == 1);
    const core::Json::Array & recs = records(doc.chunks[0]);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].get_int("line") == 1);
    CHECK(recs[0].get_int("line_end") == 3);
    CHECK(recs[1].get_int("line") == 4);
    CHECK(doc.chunks[0].metadata.get_string("format") == "free-text");
}

TEST_CASE("extract_file hands .log files to the log extractor") {
    const std::string path = std::string(SB_TEST_DATA_DIR) + "/ingest/logs/nginx_error.log";
    auto doc = extract_file(path, IngestOptions{});
    REQUIRE_MESSAGE(doc.ok(), doc.error().to_string());
    CHECK(doc->media_type == "text/x-log");
    CHECK(doc->page_count == 3);
    REQUIRE(doc->chunks.size() == 1);
    CHECK(doc->chunks[0].provenance.extractor == "log-lines");
    CHECK(doc->chunks[0].metadata.get_string("format") == "nginx-error");
    const core::Json::Array & recs = records(doc->chunks[0]);
    REQUIRE(recs.size() == 3);
    CHECK(recs[2].get_string("severity") == "warning");
    CHECK(recs[2].find("fields")->get_string("client") == "198.51.100.23");
}

TEST_CASE("without an assumed year a yearless stamp lands within the past year, never over a month ahead") {
    const int64_t day = int64_t{86400} * 1000000;
    for (const char * stamp : {"Jan  1 00:00:00", "Jun 15 12:00:00", "Dec 31 23:59:59"}) {
        CAPTURE(stamp);
        core::ExtractedDocument doc = extract("messages", std::string(stamp) + " box01 app: tick\n");
        REQUIRE(doc.chunks.size() == 1);
        const std::string time = records(doc.chunks[0])[0].get_string("time");
        REQUIRE(time.size() >= 19);
        CivilTime t{std::stoi(time.substr(0, 4)),
                    std::stoi(time.substr(5, 2)),
                    std::stoi(time.substr(8, 2)),
                    std::stoi(time.substr(11, 2)),
                    std::stoi(time.substr(14, 2)),
                    std::stoi(time.substr(17, 2)),
                    0};
        const int64_t when = civil_to_unix_micros(t, 0).value();
        const int64_t now = core::unix_micros_now();
        CHECK(when <= now + 31 * day);
        CHECK(when > now - 366 * day);
    }
}
