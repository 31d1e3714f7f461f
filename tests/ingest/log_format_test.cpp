#include "log_format.h"

#include "log_time.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace strongbox;
using namespace strongbox::ingest;

namespace {

const TimeAssumptions kTime{2026, 0};

std::string iso(const LogHeader & h) {
    REQUIRE(h.time_us.has_value());
    return core::format_iso8601_utc(*h.time_us);
}

std::vector<std::string_view> lines_of(const std::string & text) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string::npos ? text.size() : nl;
        if (end > pos && text[end - 1] == '\r') {
            out.emplace_back(text.data() + pos, end - pos - 1);
        } else {
            out.emplace_back(text.data() + pos, end - pos);
        }
        pos = end + 1;
    }
    return out;
}

std::string fixture(const std::string & name) {
    auto bytes = core::read_file(std::string(SB_TEST_DATA_DIR) + "/ingest/logs/" + name);
    REQUIRE(bytes.ok());
    return *bytes;
}

}  // namespace

TEST_CASE("each log format is detected from the first lines of a real or sample file") {
    struct Case {
        const char * file;
        LogFormat expected;
    };
    const Case cases[] = {
        {"loghub-OpenSSH_2k.log", LogFormat::kSyslog3164},
        {"loghub-Linux_2k.log", LogFormat::kSyslog3164},
        {"loghub-HDFS_2k.log", LogFormat::kAppLog},
        {"java_app.log", LogFormat::kAppLog},
        {"app.jsonl", LogFormat::kJsonLines},
        {"nginx_access.log", LogFormat::kAccessCombined},
        {"nginx_error.log", LogFormat::kNginxError},
        {"rfc5424.log", LogFormat::kSyslog5424},
    };
    for (const Case & c : cases) {
        CAPTURE(c.file);
        std::string text = fixture(c.file);
        CHECK(detect_log_format(lines_of(text), kTime) == c.expected);
    }
}

TEST_CASE("apache error logs, common access logs and prose are told apart") {
    const std::string apache =
        "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties\n"
        "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6\n";
    CHECK(detect_log_format(lines_of(apache), kTime) == LogFormat::kApacheError);
    const std::string common =
        "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n"
        "127.0.0.1 - - [10/Oct/2000:13:55:37 -0700] \"GET /x HTTP/1.0\" 304 -\n";
    CHECK(detect_log_format(lines_of(common), kTime) == LogFormat::kAccessCommon);
    const std::string prose = "The backup ran overnight.\nIt finished without errors.\nNext run: tomorrow.\n";
    CHECK(detect_log_format(lines_of(prose), kTime) == LogFormat::kFreeText);
    CHECK(detect_log_format({}, kTime) == LogFormat::kFreeText);
}

TEST_CASE("format names round-trip and unknown names are refused") {
    for (LogFormat f : {LogFormat::kSyslog3164, LogFormat::kSyslog5424, LogFormat::kJsonLines, LogFormat::kAccessCommon,
                        LogFormat::kAccessCombined, LogFormat::kApacheError, LogFormat::kNginxError, LogFormat::kAppLog,
                        LogFormat::kBglRas, LogFormat::kFreeText}) {
        CHECK(log_format_from_string(to_string(f)) == f);
    }
    CHECK_FALSE(log_format_from_string("syslog").has_value());
}

TEST_CASE("RFC 3164 syslog header gives host, tag, pid and a UTC time in the assumed year") {
    auto h = parse_log_line(LogFormat::kSyslog3164,
                            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown", kTime);
    REQUIRE(h);
    CHECK(h->host == "combo");
    CHECK(h->app == "sshd(pam_unix)");
    CHECK(h->pid == "19939");
    CHECK(h->message == "check pass; user unknown");
    CHECK(h->time_text == "Jun 14 15:16:01");
    CHECK(iso(*h) == "2026-06-14T15:16:01.000000Z");
    CHECK(h->yearless_month == 6);

    auto padded = parse_log_line(LogFormat::kSyslog3164, "<86>Jul  1 09:00:55 box01 su: session opened", {2026, 120});
    REQUIRE(padded);
    CHECK(padded->severity == "info");  // PRI 86 = facility 10, severity 6
    CHECK(padded->fields.get_int("facility") == 10);
    CHECK(padded->app == "su");
    CHECK(iso(*padded) == "2026-07-01T07:00:55.000000Z");  // written at UTC+02:00

    auto no_tag = parse_log_line(LogFormat::kSyslog3164, "Jun 14 15:16:01 box01 last message repeated 2 times", kTime);
    REQUIRE(no_tag);
    CHECK(no_tag->app.empty());
    CHECK(no_tag->message == "last message repeated 2 times");

    CHECK_FALSE(parse_log_line(LogFormat::kSyslog3164, "Jun 31 15:16:01 box01 x: y", kTime));  // no June 31st
    CHECK_FALSE(parse_log_line(LogFormat::kSyslog3164, "Foo 14 15:16:01 box01 x: y", kTime));
}

TEST_CASE("RFC 5424 syslog keeps structured data with escapes, the zone offset and strips the BOM") {
    std::string text = fixture("rfc5424.log");
    std::vector<std::string_view> lines = lines_of(text);
    REQUIRE(lines.size() == 4);

    auto first = parse_log_line(LogFormat::kSyslog5424, lines[0], kTime);
    REQUIRE(first);
    CHECK(first->severity == "notice");  // 165 = local4.notice
    CHECK(first->host == "box01");
    CHECK(first->app == "strongbox");
    CHECK(first->pid == "2201");
    CHECK(first->fields.get_string("msgid") == "ID47");
    const core::Json * sd = first->fields.find("structured_data");
    REQUIRE(sd);
    CHECK(sd->find("exampleSDID@32473")->get_string("eventID") == "1011");
    CHECK(first->message == "ingest job started");
    CHECK(iso(*first) == "2026-06-14T15:16:01.003000Z");

    auto second = parse_log_line(LogFormat::kSyslog5424, lines[1], kTime);
    REQUIRE(second);
    CHECK(iso(*second) == "2026-06-14T15:16:02.150000Z");
    CHECK(second->time_text == "2026-06-14T17:16:02.150+02:00");

    auto third = parse_log_line(LogFormat::kSyslog5424, lines[2], kTime);
    REQUIRE(third);
    CHECK(third->severity == "warning");
    CHECK(third->fields.find("structured_data")->find("meta")->get_string("note") == "quote \" and ] kept");
    CHECK(third->fields.find("structured_data")->find("origin")->get_string("ip") == "192.0.2.10");
    CHECK(third->message == "Failed password for root from 192.0.2.10 port 52144 ssh2");

    auto nil = parse_log_line(LogFormat::kSyslog5424, lines[3], kTime);
    REQUIRE(nil);
    CHECK_FALSE(nil->time_us.has_value());
    CHECK(nil->host.empty());
    CHECK(nil->message.empty());

    CHECK_FALSE(parse_log_line(LogFormat::kSyslog5424, "<14>1 2026-06-14T15:16:05Z box01 app 1 - [broken", kTime));
}

TEST_CASE("JSON lines map the well-known keys and keep every other field") {
    std::string text = fixture("app.jsonl");
    std::vector<std::string_view> lines = lines_of(text);
    REQUIRE(lines.size() == 4);

    auto a = parse_log_line(LogFormat::kJsonLines, lines[0], kTime);
    REQUIRE(a);
    CHECK(a->message == "request served");
    CHECK(a->severity == "info");
    CHECK(iso(*a) == "2026-06-14T15:16:01.120000Z");
    CHECK(a->fields.get_string("path") == "/api/v1/status");
    CHECK(a->fields.get_int("status") == 200);
    CHECK(a->fields.get_double("duration_ms") == doctest::Approx(3.1));

    auto b = parse_log_line(LogFormat::kJsonLines, lines[1], kTime);
    REQUIRE(b);
    CHECK(b->severity == "warning");
    CHECK(iso(*b) == "2026-06-14T15:16:02.500000Z");      // +02:00 converted
    CHECK(b->fields.get_string("trace_id") == "a3f9c2");  // a field the first line did not have

    auto c = parse_log_line(LogFormat::kJsonLines, lines[2], kTime);
    REQUIRE(c);
    CHECK(c->message == "upstream timeout");
    CHECK(c->severity == "error");
    CHECK(c->time_text == "1781450163");
    CHECK(iso(*c) == "2026-06-14T15:16:03.000000Z");
    CHECK(c->fields.find("upstream")->get_int("port") == 8081);
    CHECK(c->fields.get_bool("retry"));

    auto pino =
        parse_log_line(LogFormat::kJsonLines, R"({"level":50,"time":1781450163123,"msg":"db down","pid":7})", kTime);
    REQUIRE(pino);
    CHECK(pino->severity == "error");
    CHECK(pino->pid == "7");
    CHECK(iso(*pino) == "2026-06-14T15:16:03.123000Z");  // epoch milliseconds

    // A number past year 9999 is kept as text but is no time.
    auto absurd = parse_log_line(LogFormat::kJsonLines, R"({"time":1.7e300,"msg":"x"})", kTime);
    REQUIRE(absurd);
    CHECK_FALSE(absurd->time_us.has_value());
    CHECK(absurd->message == "x");

    CHECK_FALSE(parse_log_line(LogFormat::kJsonLines, "{\"a\":1", kTime));
    CHECK_FALSE(parse_log_line(LogFormat::kJsonLines, "[1,2]", kTime));
}

TEST_CASE("access log lines become client, request, status and bytes fields") {
    std::string text = fixture("nginx_access.log");
    std::vector<std::string_view> lines = lines_of(text);
    auto a = parse_log_line(LogFormat::kAccessCombined, lines[1], kTime);
    REQUIRE(a);
    CHECK(a->host == "198.51.100.23");
    CHECK(a->fields.get_string("user") == "alice");
    CHECK(a->fields.get_string("method") == "POST");
    CHECK(a->fields.get_string("path") == "/api/v1/ask");
    CHECK(a->fields.get_int("status") == 200);
    CHECK(a->fields.get_int("bytes") == 2048);
    CHECK(a->fields.get_string("user_agent") == "Mozilla/5.0 (X11; Linux x86_64)");
    CHECK(a->time_text == "14/Jun/2026:17:16:02 +0200");
    CHECK(iso(*a) == "2026-06-14T15:16:02.000000Z");
    CHECK(a->message == "POST /api/v1/ask HTTP/1.1 200");

    auto bad_gateway = parse_log_line(LogFormat::kAccessCombined, lines[3], kTime);
    REQUIRE(bad_gateway);
    CHECK(bad_gateway->severity == "error");
    auto not_found = parse_log_line(LogFormat::kAccessCombined, lines[2], kTime);
    REQUIRE(not_found);
    CHECK(not_found->severity == "warning");

    auto common = parse_log_line(LogFormat::kAccessCommon,
                                 "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a\\\"b HTTP/1.0\" 304 -", kTime);
    REQUIRE(common);
    CHECK(common->fields.find("bytes")->is_null());
    CHECK(common->fields.get_string("path") == "/a\"b");
    CHECK(iso(*common) == "2000-10-10T20:55:36.000000Z");
}

TEST_CASE("nginx and apache error logs give severity, pid and request context") {
    std::string text = fixture("nginx_error.log");
    std::vector<std::string_view> lines = lines_of(text);
    auto n = parse_log_line(LogFormat::kNginxError, lines[1], kTime);
    REQUIRE(n);
    CHECK(n->severity == "error");
    CHECK(n->pid == "2201");
    CHECK(n->fields.get_int("connection") == 42);
    CHECK(n->fields.get_string("client") == "192.0.2.10");
    CHECK(n->fields.get_string("request") == "GET /api/v1/documents/17 HTTP/1.1");
    CHECK(n->fields.get_string("upstream") == "http://127.0.0.1:8081/api/v1/documents/17");
    CHECK(n->fields.get_string("host") == "box01.local");
    CHECK(n->message.starts_with("upstream timed out (110: Connection timed out)"));

    auto a22 = parse_log_line(LogFormat::kApacheError,
                              "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6", kTime);
    REQUIRE(a22);
    CHECK(a22->severity == "error");
    CHECK(a22->message == "mod_jk child workerEnv in error state 6");
    CHECK(iso(*a22) == "2005-12-04T04:47:44.000000Z");

    auto a24 = parse_log_line(LogFormat::kApacheError,
                              "[Wed Oct 11 14:32:52.123456 2000] [core:warn] [pid 1234:tid 5678] AH00094: Command line",
                              kTime);
    REQUIRE(a24);
    CHECK(a24->app == "core");
    CHECK(a24->severity == "warning");
    CHECK(a24->pid == "1234");
    CHECK(a24->fields.get_string("tid") == "5678");
    CHECK(a24->message == "AH00094: Command line");
    CHECK(iso(*a24) == "2000-10-11T14:32:52.123456Z");
}

TEST_CASE("application log headers of Hadoop, Spark, ZooKeeper, log4j and Python logging are split") {
    auto hdfs = parse_log_line(
        LogFormat::kAppLog,
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865 terminating",
        kTime);
    REQUIRE(hdfs);
    CHECK(iso(*hdfs) == "2008-11-09T20:36:15.000000Z");
    CHECK(hdfs->pid == "148");
    CHECK(hdfs->severity == "info");
    CHECK(hdfs->app == "dfs.DataNode$PacketResponder");
    CHECK(hdfs->message == "PacketResponder 1 for block blk_38865 terminating");

    auto spark = parse_log_line(
        LogFormat::kAppLog, "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi", kTime);
    REQUIRE(spark);
    CHECK(iso(*spark) == "2017-06-09T20:10:40.000000Z");
    CHECK(spark->app == "spark.SecurityManager");
    CHECK(spark->message == "Changing view acls to: yarn,curi");

    auto zk = parse_log_line(
        LogFormat::kAppLog,
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
        "Notification time out: 3200",
        kTime);
    REQUIRE(zk);
    CHECK(iso(*zk) == "2015-07-29T17:41:44.747000Z");
    CHECK(zk->time_text == "2015-07-29 17:41:44,747");
    CHECK(zk->app == "FastLeaderElection");
    CHECK(zk->fields.get_string("thread") == "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181");
    CHECK(zk->message == "Notification time out: 3200");

    auto py =
        parse_log_line(LogFormat::kAppLog, "2026-06-14 15:16:01,120 - strongbox.ingest - WARNING - slow disk", kTime);
    REQUIRE(py);
    CHECK(py->app == "strongbox.ingest");
    CHECK(py->severity == "warning");
    CHECK(py->message == "slow disk");

    auto zoned = parse_log_line(LogFormat::kAppLog, "2026-06-14T17:16:01.5+02:00 ERROR boom", kTime);
    REQUIRE(zoned);
    CHECK(iso(*zoned) == "2026-06-14T15:16:01.500000Z");
    CHECK(zoned->message == "boom");

    CHECK_FALSE(parse_log_line(LogFormat::kAppLog, "2026-13-14 15:16:01 INFO month thirteen", kTime));
    CHECK_FALSE(parse_log_line(LogFormat::kAppLog, "20261314 nothing", kTime));
}

TEST_CASE("Blue Gene/L RAS lines take their UTC time from the epoch column") {
    auto h =
        parse_log_line(LogFormat::kBglRas,
                       "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS "
                       "KERNEL INFO instruction cache parity error corrected",
                       kTime);
    REQUIRE(h);
    CHECK(iso(*h) == "2005-06-03T22:42:50.675872Z");
    CHECK(h->time_text == "2005-06-03-15.42.50.675872");
    CHECK(h->host == "R02-M1-N0-C:J12-U11");
    CHECK(h->app == "KERNEL");
    CHECK(h->severity == "info");
    CHECK(h->fields.get_string("alert") == "-");
    CHECK(h->message == "instruction cache parity error corrected");
}

TEST_CASE("stack frames and indented lines are continuations, ordinary lines are not") {
    CHECK(looks_like_continuation("\tat org.example.Foo.bar(Foo.java:12)"));
    CHECK(looks_like_continuation("at org.example.Foo.bar(Foo.java:12)"));
    CHECK(looks_like_continuation("Caused by: java.io.IOException: disk full"));
    CHECK(looks_like_continuation("... 12 more"));
    CHECK(looks_like_continuation("    File \"x.py\", line 3, in <module>"));
    CHECK_FALSE(looks_like_continuation("at noon the job ran"));
    CHECK_FALSE(looks_like_continuation("Jun 14 15:16:01 combo sshd[1]: x"));
    CHECK(normalise_severity("WARN") == "warning");
    CHECK(normalise_severity("Fatal") == "critical");
    CHECK(normalise_severity("chatty").empty());
}

TEST_CASE("civil dates convert to Unix time across leap days and zone offsets") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(1969, 12, 31) == -1);
    CHECK(civil_to_unix_micros({2024, 2, 29, 12, 0, 0, 0}, 0) == int64_t{1709208000} * 1000000);
    CHECK_FALSE(civil_to_unix_micros({2023, 2, 29, 12, 0, 0, 0}, 0).has_value());
    CHECK(civil_to_unix_micros({2026, 6, 14, 17, 16, 1, 0}, 120) ==
          civil_to_unix_micros({2026, 6, 14, 15, 16, 1, 0}, 0));
    CHECK(month_from_abbrev("dec") == 12);
    CHECK(month_from_abbrev("Dez") == 0);
}

TEST_CASE("truncated and mutated lines of every format are refused or parsed, never crash") {
    std::vector<std::string> seeds;
    for (const char * name : {"rfc5424.log", "app.jsonl", "nginx_access.log", "nginx_error.log", "java_app.log"}) {
        std::string text = fixture(name);
        for (std::string_view l : lines_of(text)) {
            seeds.emplace_back(l);
        }
    }
    seeds.emplace_back("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown");
    seeds.emplace_back("[Wed Oct 11 14:32:52.123456 2000] [core:warn] [pid 1234:tid 5678] AH00094: x");
    seeds.emplace_back("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS "
                       "KERNEL INFO x");
    const LogFormat formats[] = {LogFormat::kSyslog3164,     LogFormat::kSyslog5424,  LogFormat::kJsonLines,
                                 LogFormat::kAccessCombined, LogFormat::kApacheError, LogFormat::kNginxError,
                                 LogFormat::kAppLog,         LogFormat::kBglRas,      LogFormat::kFreeText};
    const char specials[] = {'[', ']', '"', '\\', ' ', '<', '>', ':', '-', '{', '}', '0', '9', '\t', '='};
    uint32_t rng = 7;
    auto next = [&rng]() {
        rng = rng * 1664525u + 1013904223u;
        return rng >> 8;
    };
    size_t parsed = 0;
    size_t refused = 0;
    for (const std::string & seed : seeds) {
        for (size_t cut = 0; cut <= seed.size(); ++cut) {  // every prefix
            for (LogFormat f : formats) {
                (parse_log_line(f, std::string_view(seed).substr(0, cut), kTime) ? parsed : refused) += 1;
            }
        }
        for (int m = 0; m < 200; ++m) {  // random byte edits
            std::string s = seed;
            for (int k = 0; k < 3; ++k) {
                s[next() % s.size()] = specials[next() % sizeof(specials)];
            }
            for (LogFormat f : formats) {
                auto h = parse_log_line(f, s, kTime);
                (h ? parsed : refused) += 1;
                if (h) {
                    CHECK(h->message.size() <= s.size() + 64);
                }
            }
        }
    }
    CHECK(parsed > 0);
    CHECK(refused > 0);
}
