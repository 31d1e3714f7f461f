#include "strongbox/webui/handler.h"

#include "test_support.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace sb = strongbox;
using sb::core::ErrorCode;
using sb::core::Json;
using sb::webui::Handler;
using sb::webui::HandlerOptions;
using sb::webui::HttpRequest;
using sb::webui::HttpResponse;
using namespace sb::webui::testing;

namespace {

struct Fixture {
    Fixture() { load_corpus(service); }

    HandlerOptions quiet_options() {
        HandlerOptions o;
        o.access_log = [this](std::string_view line) {
            log_lines.emplace_back(line);
        };
        return o;
    }

    CorpusService service;
    std::vector<std::string> log_lines;
};

// Options that drop access-log lines instead of printing them.
HandlerOptions quiet() {
    HandlerOptions o;
    o.access_log = [](std::string_view) {
    };
    return o;
}

// A service whose every call fails with one code, for the status mapping.
class FailingService : public sb::webui::testing::UnsupportedServices {
  public:
    explicit FailingService(ErrorCode code) : code_(code) {}

    sb::core::Result<sb::core::Answer> ask(const sb::webui::AskRequest &) override {
        return sb::core::Error(code_, "ask failed on purpose");
    }

    sb::core::Result<sb::webui::SourceView> source(int64_t, const sb::webui::Caller &) override {
        return sb::core::Error(code_, "source failed on purpose");
    }

    sb::webui::Health health() override { return {}; }

  private:
    ErrorCode code_;
};

class ThrowingService : public FailingService {
  public:
    ThrowingService() : FailingService(ErrorCode::kInternal) {}

    sb::core::Result<sb::core::Answer> ask(const sb::webui::AskRequest &) override { throw std::runtime_error("boom"); }
};

// Streams through stream_whole_answer and reports no readiness of its own (UnsupportedServices).
class PlainService : public sb::webui::testing::UnsupportedServices {
  public:
    sb::core::Result<sb::core::Answer> ask(const sb::webui::AskRequest & r) override {
        sb::core::Answer a;
        a.question = r.question;
        a.refused = true;
        a.refusal_reason = "nothing indexed";
        return a;
    }

    sb::core::Result<sb::webui::SourceView> source(int64_t, const sb::webui::Caller &) override {
        return sb::core::Error(ErrorCode::kNotFound, "none");
    }
};

class ReadinessService : public PlainService {
  public:
    explicit ReadinessService(sb::core::Result<sb::webui::Readiness> r) : r_(std::move(r)) {}

    sb::core::Result<sb::webui::Readiness> readiness() override { return r_; }

  private:
    sb::core::Result<sb::webui::Readiness> r_;
};

void check_error_body(const HttpResponse & res, int status, const std::string & code) {
    CHECK(res.status == status);
    CHECK(res.header("Content-Type") == "application/json");
    Json body = json_of(res.body);
    const Json * error = body.find("error");
    REQUIRE(error != nullptr);
    CHECK(error->get_string("code") == code);
    CHECK_FALSE(error->get_string("message").empty());
    CHECK(error->get_string("request_id") == std::string(res.header("X-Request-Id")));
}

struct SseEvent {
    std::string name;
    Json data;
};

std::vector<SseEvent> parse_events(const std::string & text) {
    std::vector<SseEvent> out;
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find("\n\n", at);
        REQUIRE(end != std::string::npos);
        std::string block = text.substr(at, end - at);
        SseEvent e;
        for (std::string_view line : sb::core::split(block, '\n')) {
            if (line.starts_with("event: ")) {
                e.name = std::string(line.substr(7));
            } else if (line.starts_with("data: ")) {
                e.data = json_of(std::string(line.substr(6)));
            }
        }
        out.push_back(std::move(e));
        at = end + 2;
    }
    return out;
}

std::string run_stream(const HttpResponse & res) {
    REQUIRE(static_cast<bool>(res.stream));
    std::string body;
    res.stream([&](std::string_view piece) {
        body += piece;
        return true;
    });
    return body;
}

}  // namespace

TEST_CASE("GET /healthz returns the service health as JSON with length, request id and security headers") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res = handler.handle(get("/healthz"));
    CHECK(res.status == 200);
    Json body = json_of(res.body);
    CHECK(body.get_string("status") == "ok");
    CHECK(body.get_int("documents") == 3);
    CHECK(res.header("Content-Length") == std::to_string(res.body.size()));
    CHECK(res.header("X-Request-Id").size() == 16);
    CHECK(res.header("Content-Security-Policy").find("default-src 'self'") != std::string_view::npos);
    CHECK(res.header("Content-Security-Policy").find("unsafe-inline") == std::string_view::npos);
    CHECK(res.header("X-Content-Type-Options") == "nosniff");
    CHECK(res.header("X-Frame-Options") == "DENY");
    CHECK(res.header("Referrer-Policy") == "no-referrer");
}

TEST_CASE("POST /api/v1/ask answers with sentences and numbered citations that carry provenance") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res = handler.handle(post_json(
        "/api/v1/ask", R"({"question":"Is CRP useful for diagnosing acute appendicitis in the elderly?","top_k":5})"));
    REQUIRE(res.status == 200);
    Json answer = json_of(res.body);
    CHECK_FALSE(answer.get_bool("refused", true));
    REQUIRE(answer.find("citations") != nullptr);
    const Json::Array & citations = answer.find("citations")->as_array();
    REQUIRE_FALSE(citations.empty());
    CHECK(citations[0].get_int("number") == 1);
    CHECK(citations[0].get_int("chunk_id") > 0);
    CHECK(citations[0].get_string("location").starts_with("pubmed-10340286.txt lines "));
    CHECK(citations[0].get_string("quote").find("appendicitis") != std::string::npos);
    CHECK(answer.get_string("answer").find("[1]") != std::string::npos);
    CHECK(res.header("Content-Length") == std::to_string(res.body.size()));
}

TEST_CASE("/api/ask is an alias of /api/v1/ask") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    const std::string body = R"({"question":"Can medical students contribute to quality assurance in day surgery?"})";
    Json a = json_of(handler.handle(post_json("/api/ask", body)).body);
    Json b = json_of(handler.handle(post_json("/api/v1/ask", body)).body);
    a["latency_ms"] = 0;
    b["latency_ms"] = 0;
    CHECK(a == b);
    CHECK_FALSE(a.get_bool("refused", true));
}

TEST_CASE("a question the documents do not address is answered as a refusal with its reason") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res =
        handler.handle(post_json("/api/v1/ask", R"({"question":"What is the boiling point of tungsten?"})"));
    REQUIRE(res.status == 200);
    Json answer = json_of(res.body);
    CHECK(answer.get_bool("refused"));
    CHECK_FALSE(answer.get_string("refusal_reason").empty());
    CHECK(answer.find("citations")->as_array().empty());
}

TEST_CASE("malformed JSON, non-objects and bad questions are rejected with 400 and the error body") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    for (const char * body : {R"({"question": )", "[1,2]", "{}", R"({"question": 42})", R"({"question": "   \n "})",
                              R"({"question":"ok?","top_k":0})", R"({"question":"ok?","top_k":"five"})",
                              R"({"question":"ok?","top_k":51})", ""}) {
        CAPTURE(body);
        check_error_body(handler.handle(post_json("/api/v1/ask", body)), 400, "invalid_argument");
    }
    HttpResponse res = handler.handle(post_json("/api/v1/ask", R"({"question": )"));
    CHECK(json_of(res.body).find("error")->get_string("message").find("not valid JSON") != std::string::npos);
}

TEST_CASE("a body over the size limit is rejected with 413 and the connection is closed") {
    Fixture f;
    HandlerOptions o = f.quiet_options();
    o.max_body_bytes = 100;
    StaffHandler handler(f.service, o);
    HttpRequest big = post_json("/api/v1/ask", R"({"question":")" + std::string(200, 'a') + R"("})");
    HttpResponse res = handler.handle(big);
    check_error_body(res, 413, "payload_too_large");
    CHECK(res.close_connection);

    // Declared but not read: the server never buffers a body it is going to refuse.
    HttpRequest declared = post_json("/api/v1/ask", "");
    declared.content_length = 10'000'000;
    check_error_body(handler.handle(declared), 413, "payload_too_large");

    HttpRequest fits = post_json("/api/v1/ask", R"({"question":"appendicitis elderly CRP?"})");
    CHECK(handler.handle(fits).status == 200);
}

TEST_CASE("an ask without a JSON content type is rejected with 415") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpRequest form = post_json("/api/v1/ask", R"({"question":"appendicitis?"})");
    form.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    check_error_body(handler.handle(form), 415, "unsupported_media_type");
    HttpRequest with_charset = post_json("/api/v1/ask", R"({"question":"appendicitis elderly CRP?"})");
    with_charset.headers = {{"content-type", "Application/JSON; charset=utf-8"}};
    CHECK(handler.handle(with_charset).status == 200);
}

TEST_CASE("service error codes map to HTTP statuses as the service contract says") {
    const std::vector<std::tuple<ErrorCode, int, std::string>> cases = {
        {ErrorCode::kInvalidArgument, 400, "invalid_argument"},
        {ErrorCode::kNotFound, 404, "not_found"},
        {ErrorCode::kPermissionDenied, 403, "permission_denied"},
        {ErrorCode::kResourceExhausted, 429, "resource_exhausted"},
        {ErrorCode::kReadOnly, 507, "insufficient_storage"},
        {ErrorCode::kDiskFull, 507, "insufficient_storage"},
        {ErrorCode::kUnavailable, 503, "unavailable"},
        {ErrorCode::kIoError, 500, "io_error"},
        {ErrorCode::kInternal, 500, "internal"},
        {ErrorCode::kCorruptInput, 500, "corrupt_input"},
    };
    for (const auto & [code, status, name] : cases) {
        CAPTURE(name);
        FailingService service(code);
        StaffHandler handler(service, quiet());
        check_error_body(handler.handle(post_json("/api/v1/ask", R"({"question":"anything?"})")), status, name);
        check_error_body(handler.handle(get("/api/v1/source/7")), status, name);
    }
}

TEST_CASE("a service that throws is answered with a 500 error body, not a crash") {
    ThrowingService service;
    StaffHandler handler(service, quiet());
    check_error_body(handler.handle(post_json("/api/v1/ask", R"({"question":"anything?"})")), 500, "internal");
}

TEST_CASE("GET /api/v1/source/<id> returns the passage with the paragraphs around it") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res = handler.handle(get("/api/v1/source/2"));
    REQUIRE(res.status == 200);
    Json view = json_of(res.body);
    CHECK(view.get_int("chunk_id") == 2);
    CHECK(view.get_string("passage").starts_with("METHODS Eighty-three consecutive elderly patients"));
    CHECK(view.get_string("location") == "pubmed-10340286.txt lines 10-16");
    REQUIRE(view.find("before")->size() == 1);
    CHECK(view.find("before")->as_array()[0].as_string().starts_with("OBJECTIVES"));
    REQUIRE(view.find("after")->size() == 1);
    CHECK(view.find("after")->as_array()[0].as_string().starts_with("RESULTS"));
    CHECK(view.find("provenance")->get_int("line_start") == 10);
    CHECK(json_of(handler.handle(get("/api/source/2")).body) == view);
}

TEST_CASE("a source id that does not exist is 404 and one that is not a positive number is 400") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    check_error_body(handler.handle(get("/api/v1/source/999")), 404, "not_found");
    for (const char * id : {"abc", "-3", "0", "12x", "99999999999999999999999"}) {
        CAPTURE(id);
        check_error_body(handler.handle(get(std::string("/api/v1/source/") + id)), 400, "invalid_argument");
    }
    check_error_body(handler.handle(get("/api/v1/source/")), 404, "not_found");
}

TEST_CASE("an unknown path is a JSON 404 and a wrong method is 405 with Allow") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    check_error_body(handler.handle(get("/api/v1/nothing")), 404, "not_found");
    // Routes match whole segments: one more, one fewer or an empty one is another path.
    for (const char * path :
         {"/api/v1/ask/", "/api/v1", "/api/v1/source/7/more", "/api/v1/source//7", "api/v1/ask", ""}) {
        CAPTURE(path);
        check_error_body(handler.handle(get(path)), 404, "not_found");
    }
    HttpResponse res = handler.handle(get("/api/v1/ask"));
    check_error_body(res, 405, "method_not_allowed");
    CHECK(res.header("Allow") == "POST");
    HttpRequest del = get("/healthz");
    del.method = "DELETE";
    HttpResponse del_res = handler.handle(del);
    check_error_body(del_res, 405, "method_not_allowed");
    CHECK(del_res.header("Allow") == "GET");
}

TEST_CASE("GET / serves the embedded page, which loads its script and style from this origin only") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res = handler.handle(get("/"));
    REQUIRE(res.status == 200);
    CHECK(res.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(res.body.find("src=\"/assets/app.js\"") != std::string::npos);
    CHECK(res.body.find("<link rel=\"stylesheet\" href=\"/assets/app.css\">") != std::string::npos);
    // The CSP forbids inline script, so every script tag must have a src.
    size_t at = 0;
    int scripts = 0;
    while ((at = res.body.find("<script", at)) != std::string::npos) {
        const std::string tag = res.body.substr(at, res.body.find('>', at) - at);
        CHECK_MESSAGE(tag.find(" src=\"/assets/") != std::string::npos, tag);
        ++scripts;
        ++at;
    }
    CHECK(scripts == 1);
    CHECK(res.body.find("http://") == std::string::npos);
    CHECK(res.body.find("https://") == std::string::npos);
}

TEST_CASE("assets are served with their content types and revalidate with ETag") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse js = handler.handle(get("/assets/app.js"));
    REQUIRE(js.status == 200);
    CHECK(js.header("Content-Type") == "text/javascript; charset=utf-8");
    CHECK_FALSE(js.body.empty());
    CHECK(handler.handle(get("/assets/app.css")).header("Content-Type") == "text/css; charset=utf-8");
    CHECK(handler.handle(get("/assets/favicon.svg")).header("Content-Type") == "image/svg+xml");
    REQUIRE_FALSE(js.header("ETag").empty());

    HttpRequest again = get("/assets/app.js");
    again.headers.emplace_back("If-None-Match", std::string(js.header("ETag")));
    HttpResponse cached = handler.handle(again);
    CHECK(cached.status == 304);
    CHECK(cached.body.empty());
    CHECK(cached.header("Content-Length") == "0");

    check_error_body(handler.handle(get("/assets/missing.js")), 404, "not_found");
    check_error_body(handler.handle(get("/assets/../handler.cpp")), 404, "not_found");
}

TEST_CASE("a safe client request id is echoed and otherwise each request gets a fresh one") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpRequest tagged = get("/healthz");
    tagged.headers.emplace_back("X-Request-Id", "lb-7f3a.2");
    CHECK(handler.handle(tagged).header("X-Request-Id") == "lb-7f3a.2");
    HttpRequest hostile = get("/healthz");
    hostile.headers.emplace_back("X-Request-Id", "a\r\nSet-Cookie: x=1");
    CHECK(handler.handle(hostile).header("X-Request-Id").size() == 16);
    CHECK(handler.handle(get("/healthz")).header("X-Request-Id") !=
          handler.handle(get("/healthz")).header("X-Request-Id"));
}

TEST_CASE("the stream route sends stage, text and answer events in order") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res = handler.handle(post_json(
        "/api/v1/ask/stream",
        R"({"question":"Does loss of consciousness predict neuropsychological decrements after concussion?"})"));
    REQUIRE(res.status == 200);
    CHECK(res.header("Content-Type") == "text/event-stream; charset=utf-8");
    CHECK(res.header("Content-Length").empty());
    std::vector<SseEvent> events = parse_events(run_stream(res));
    REQUIRE(events.size() >= 4);
    CHECK(events[0].name == "stage");
    CHECK(events[0].data.get_string("request_id") == std::string(res.header("X-Request-Id")));
    CHECK(events[1].name == "stage");
    CHECK(events[1].data.get_string("stage") == "retrieving");
    CHECK(events[2].name == "text");
    CHECK(events.back().name == "answer");
    CHECK(events.back().data.find("citations")->size() >= 1);
    CHECK(events[2].data.get_string("text").starts_with(
        events.back().data.find("sentences")->as_array()[0].get_string("text")));
}

TEST_CASE("a service without its own streaming sends the whole answer as one event") {
    PlainService service;
    StaffHandler handler(service, quiet());
    std::vector<SseEvent> events =
        parse_events(run_stream(handler.handle(post_json("/api/v1/ask/stream", R"({"question":"anything?"})"))));
    REQUIRE(events.size() == 2);
    CHECK(events[1].name == "answer");
    CHECK(events[1].data.get_bool("refused"));
    CHECK(events[1].data.get_string("refusal_reason") == "nothing indexed");
}

TEST_CASE("a stream whose service fails ends with an error event carrying the error body") {
    FailingService service(ErrorCode::kUnavailable);
    StaffHandler handler(service, quiet());
    HttpResponse res = handler.handle(post_json("/api/v1/ask/stream", R"({"question":"anything?"})"));
    std::vector<SseEvent> events = parse_events(run_stream(res));
    REQUIRE(events.size() == 2);
    CHECK(events[1].name == "error");
    CHECK(events[1].data.find("error")->get_string("code") == "unavailable");
    // Bad requests are still refused before the stream starts, with a status the client can act on.
    check_error_body(handler.handle(post_json("/api/v1/ask/stream", "{}")), 400, "invalid_argument");
}

TEST_CASE("a stream stops producing events once the client has gone away") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpResponse res =
        handler.handle(post_json("/api/v1/ask/stream", R"({"question":"appendicitis elderly CRP leukocyte?"})"));
    int writes = 0;
    res.stream([&](std::string_view) {
        ++writes;
        return writes < 2;  // the second write finds the client gone
    });
    CHECK(writes == 2);
    CHECK(handler.load().running == 0);
}

TEST_CASE("/readyz follows the service's readiness and treats no readiness notion as ready") {
    PlainService plain;
    StaffHandler h1(plain, quiet());
    HttpResponse res = h1.handle(get("/readyz"));
    CHECK(res.status == 200);
    CHECK(json_of(res.body).get_bool("ready"));

    sb::webui::Readiness loading;
    loading.ready = false;
    ReadinessService not_ready(loading);
    StaffHandler h2(not_ready, quiet());
    res = h2.handle(get("/readyz"));
    CHECK(res.status == 503);
    CHECK_FALSE(json_of(res.body).get_bool("ready", true));

    sb::webui::Readiness up;
    up.ready = true;
    up.disk.read_only = true;
    up.disk.reason = "the disk is full";
    up.salt.fingerprint = "ab12";
    ReadinessService ready(up);
    StaffHandler h3(ready, quiet());
    res = h3.handle(get("/readyz"));
    CHECK(res.status == 200);
    CHECK(json_of(res.body).get_bool("read_only"));  // read-only is still ready
    // The disk's figures and the pinned fingerprint are for admins; this handler's caller is staff.
    CHECK_FALSE(json_of(res.body).contains("fingerprint"));
    CHECK_FALSE(json_of(res.body).contains("disk"));

    ReadinessService broken(sb::core::Error(ErrorCode::kUnavailable, "model not loaded"));
    StaffHandler h4(broken, quiet());
    check_error_body(h4.handle(get("/readyz")), 503, "unavailable");
}

TEST_CASE("/metrics counts requests per route and status and keeps latency histograms per route") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    handler.handle(get("/healthz"));
    handler.handle(get("/healthz"));
    handler.handle(get("/api/v1/source/1"));
    handler.handle(get("/api/v1/source/4242"));
    handler.handle(get("/no/such/page"));
    HttpRequest local = get("/metrics");
    local.remote_address = "127.0.0.1:40000";  // loopback scrapers need no credentials
    HttpResponse res = handler.handle(local);
    REQUIRE(res.status == 200);
    CHECK(res.header("Content-Type").starts_with("text/plain; version=0.0.4"));
    const std::string & m = res.body;
    CHECK(m.find("strongbox_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n") !=
          std::string::npos);
    CHECK(m.find("strongbox_http_requests_total{route=\"/api/v1/source/{id}\",method=\"GET\",status=\"200\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("strongbox_http_requests_total{route=\"/api/v1/source/{id}\",method=\"GET\",status=\"404\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("strongbox_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("strongbox_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2\n") !=
          std::string::npos);
    CHECK(m.find("strongbox_http_request_duration_seconds_count{route=\"/api/v1/source/{id}\"} 2\n") !=
          std::string::npos);
    CHECK(m.find("# TYPE strongbox_http_request_duration_seconds histogram\n") != std::string::npos);
    CHECK(m.find("/no/such/page") == std::string::npos);  // raw paths never become labels
}

TEST_CASE("every request writes one JSON access-log line with its request id, route and status") {
    Fixture f;
    StaffHandler handler(f.service, f.quiet_options());
    HttpRequest req = get("/api/v1/source/3");
    req.remote_address = "10.0.0.9:51000";
    HttpResponse res = handler.handle(req);
    REQUIRE(f.log_lines.size() == 1);
    Json line = json_of(f.log_lines[0]);
    CHECK(line.get_string("kind") == "access");
    CHECK(line.get_string("request_id") == std::string(res.header("X-Request-Id")));
    CHECK(line.get_string("route") == "/api/v1/source/{id}");
    CHECK(line.get_string("path") == "/api/v1/source/3");
    CHECK(line.get_int("status") == 200);
    CHECK(line.get_int("bytes") == static_cast<int64_t>(res.body.size()));
    CHECK(line.get_string("remote") == "10.0.0.9:51000");

    // A stream is logged once, when it ends.
    HttpResponse stream = handler.handle(post_json("/api/v1/ask/stream", R"({"question":"appendicitis elderly?"})"));
    CHECK(f.log_lines.size() == 1);
    std::string body = run_stream(stream);
    REQUIRE(f.log_lines.size() == 2);
    CHECK(json_of(f.log_lines[1]).get_int("bytes") == static_cast<int64_t>(body.size()));
}

namespace {

// One service slot and `max_queued` waiting places, Retry-After 3, no access log: the admission tests.
HandlerOptions one_slot(int max_queued) {
    HandlerOptions o;
    o.max_concurrent = 1;
    o.max_queued = max_queued;
    o.retry_after_seconds = 3;
    o.access_log = [](std::string_view) {
    };
    return o;
}

}  // namespace

TEST_CASE("with every service slot busy and the queue full, another ask gets 503 with Retry-After at once") {
    HoldingService service;
    load_corpus(service);
    StaffHandler handler(service, one_slot(1));
    const std::string body = R"({"question":"appendicitis elderly CRP?"})";

    auto running = std::async(std::launch::async, [&] { return handler.handle(post_json("/api/v1/ask", body)); });
    REQUIRE(eventually([&] { return service.started() == 1; }));
    auto queued = std::async(std::launch::async, [&] { return handler.handle(post_json("/api/v1/ask", body)); });
    REQUIRE(eventually([&] { return handler.load().queued == 1; }));

    HttpResponse refused = handler.handle(post_json("/api/v1/ask", body));
    check_error_body(refused, 503, "overloaded");
    CHECK(refused.header("Retry-After") == "3");
    check_error_body(handler.handle(post_json("/api/v1/ask/stream", body)), 503, "overloaded");
    // Cheap routes bypass the gate and keep answering.
    CHECK(handler.handle(get("/healthz")).status == 200);
    CHECK(handler.metrics_text().find("strongbox_http_rejected_total 2\n") != std::string::npos);

    service.release();
    CHECK(running.get().status == 200);
    CHECK(queued.get().status == 200);  // the queued ask ran once the slot freed up
    CHECK(service.started() == 2);
    CHECK(handler.load().running == 0);
    CHECK(handler.load().queued == 0);
}

// Holds asks like HoldingService and lists one document per collection, counting the listings.
class ListingService : public HoldingService {
  public:
    sb::core::Result<std::vector<sb::webui::DocumentEntry>> documents(const std::string & collection,
                                                                      const sb::webui::Caller &) override {
        ++listings;
        sb::webui::DocumentEntry doc;
        doc.name = "runbook.md";
        doc.collection = collection;
        return std::vector<sb::webui::DocumentEntry>{doc};
    }
    std::atomic<int> listings{0};
};

TEST_CASE("a document listing waits in the same line as asks, and gets 503 with Retry-After at once when it is full") {
    ListingService service;
    load_corpus(service);
    StaffHandler handler(service, one_slot(1));
    const std::string listing = "/api/v1/documents";
    auto list = [&] {
        HttpRequest r = get(listing);
        r.query = "collection=alpha";
        return handler.handle(r);
    };
    std::future<HttpResponse> running;
    std::future<HttpResponse> queued;
    struct ReleaseAtExit {  // a failed REQUIRE must not leave the held ask blocking the futures above
        HoldingService & s;
        ~ReleaseAtExit() { s.release(); }
    } release_at_exit{service};
    running = std::async(std::launch::async, [&] {
        return handler.handle(post_json("/api/v1/ask", R"({"question":"appendicitis elderly CRP?"})"));
    });
    REQUIRE(eventually([&] { return service.started() == 1; }));
    queued = std::async(std::launch::async, list);
    REQUIRE(eventually([&] { return handler.load().queued == 1; }));  // the listing took the waiting place

    HttpResponse refused = list();
    check_error_body(refused, 503, "overloaded");
    CHECK(refused.header("Retry-After") == "3");
    CHECK(service.listings == 0);

    service.release();
    CHECK(running.get().status == 200);
    HttpResponse listed = queued.get();
    CHECK(listed.status == 200);
    CHECK(json_of(listed.body).find("documents")->size() == 1);
    CHECK(service.listings == 1);
    CHECK(list().status == 200);
    CHECK(handler.load().running == 0);
}

// Lets asks through one at a time and records the order in which they started.
class TurnstileService : public CorpusService {
  public:
    sb::core::Result<sb::core::Answer> ask(const sb::webui::AskRequest & request) override {
        {
            std::unique_lock lock(mu_);
            order_.push_back(request.question);
            cv_.wait(lock, [this] { return passes_ > 0; });
            --passes_;
        }
        return CorpusService::ask(request);
    }

    void let_through(int n) {
        std::lock_guard lock(mu_);
        passes_ += n;
        cv_.notify_all();
    }

    std::vector<std::string> order() {
        std::lock_guard lock(mu_);
        return order_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> order_;
    int passes_ = 0;
};

TEST_CASE("queued asks are served in arrival order and a newcomer never overtakes a waiting one") {
    TurnstileService service;
    load_corpus(service);
    StaffHandler handler(service, one_slot(8));
    auto ask = [&](const std::string & question) {
        return std::async(std::launch::async, [&handler, question] {
            return handler.handle(post_json("/api/v1/ask", R"({"question":")" + question + R"("})"));
        });
    };
    std::vector<std::future<HttpResponse>> calls;
    calls.push_back(ask("appendicitis first"));
    REQUIRE(eventually([&] { return service.order().size() == 1; }));
    for (int i = 1; i <= 4; ++i) {
        calls.push_back(ask("appendicitis waiting " + std::to_string(i)));
        REQUIRE(eventually([&] { return handler.load().queued == i; }));
    }
    // The running ask finishes; a newcomer arrives while the first waiter is being woken.
    service.let_through(1);
    calls.push_back(ask("appendicitis newcomer"));
    REQUIRE(eventually([&] { return service.order().size() == 2; }));
    service.let_through(5);
    for (auto & call : calls) {
        CHECK(call.get().status == 200);
    }
    CHECK(service.order() == std::vector<std::string>{"appendicitis first", "appendicitis waiting 1",
                                                      "appendicitis waiting 2", "appendicitis waiting 3",
                                                      "appendicitis waiting 4", "appendicitis newcomer"});
    CHECK(handler.load().running == 0);
    CHECK(handler.load().queued == 0);
}

TEST_CASE("a queued ask that waits past the queue timeout gets 503 instead of hanging") {
    HoldingService service;
    load_corpus(service);
    HandlerOptions o = one_slot(4);
    o.queue_timeout_ms = 50;
    StaffHandler handler(service, o);
    const std::string body = R"({"question":"appendicitis elderly CRP?"})";
    auto running = std::async(std::launch::async, [&] { return handler.handle(post_json("/api/v1/ask", body)); });
    REQUIRE(eventually([&] { return service.started() == 1; }));
    // The slot stays taken until release(), so this wait can only end by timing out.
    HttpResponse waited = handler.handle(post_json("/api/v1/ask", body));
    check_error_body(waited, 503, "overloaded");
    CHECK_FALSE(waited.header("Retry-After").empty());
    CHECK(handler.load().queued == 0);
    service.release();
    CHECK(running.get().status == 200);
}

TEST_CASE("with allowed hosts set, a request naming another host gets 421") {
    Fixture f;
    HandlerOptions o = f.quiet_options();
    o.allowed_hosts = {"localhost", "127.0.0.1", "::1"};
    StaffHandler handler(f.service, o);
    auto with_host = [](const char * host) {
        HttpRequest r = get("/healthz");
        r.headers.emplace_back("Host", host);
        return r;
    };
    CHECK(handler.handle(with_host("127.0.0.1:8080")).status == 200);
    CHECK(handler.handle(with_host("LocalHost")).status == 200);
    CHECK(handler.handle(with_host("[::1]:8080")).status == 200);
    CHECK(handler.handle(get("/healthz")).status == 200);  // no Host at all: not a browser
    HttpResponse res = handler.handle(with_host("rebound.example:8080"));
    check_error_body(res, 421, "misdirected_request");
    CHECK(json_of(res.body).find("error")->get_string("message").find("rebound.example:8080") != std::string::npos);
    check_error_body(handler.handle(with_host("127.0.0.2")), 421, "misdirected_request");
}
