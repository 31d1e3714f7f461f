#include "strongbox/webui/server.h"

#include "test_support.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sb = strongbox;
using sb::core::Json;
using sb::webui::Server;
using sb::webui::ServerOptions;
using namespace sb::webui::testing;

namespace {

// One accounts store for the whole file: requests carry the staff token of its "tester".
TestAccounts & staff() {
    static TestAccounts accounts;
    return accounts;
}

std::string bearer() {
    return "Bearer " + staff().token;
}

struct Reply {
    int status = 0;
    std::string body;
    Poco::Net::HTTPResponse head;
};

Reply exchange(Poco::Net::HTTPClientSession & session, const std::string & method, const std::string & path,
               const std::string & body = {}) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    req.set("Authorization", bearer());
    if (!body.empty() || method == "POST") {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
    Reply reply;
    std::istream & in = session.receiveResponse(reply.head);
    reply.status = static_cast<int>(reply.head.getStatus());
    std::ostringstream out;
    Poco::StreamCopier::copyStream(in, out);
    reply.body = out.str();
    return reply;
}

// Collects access-log lines; the server calls it from worker threads.
struct LogSink {
    std::function<void(std::string_view)> fn() {
        return [this](std::string_view line) {
            std::lock_guard lock(mu);
            lines.emplace_back(line);
        };
    }

    std::vector<Json> parsed() {
        std::lock_guard lock(mu);
        std::vector<Json> out;
        for (const std::string & l : lines) {
            out.push_back(json_of(l));
        }
        return out;
    }

    std::mutex mu;
    std::vector<std::string> lines;
};

ServerOptions ephemeral(LogSink & log) {
    ServerOptions o;
    o.port = 0;
    o.access_log = log.fn();
    return o;
}

}  // namespace

TEST_CASE("the server binds an ephemeral port and serves /healthz and asks over HTTP") {
    CorpusService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.port() == 0);
    sb::core::Status st = server.start();
    REQUIRE_MESSAGE(st.ok(), st.error().to_string());
    REQUIRE(server.port() > 0);

    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    Reply health = exchange(session, "GET", "/healthz");
    CHECK(health.status == 200);
    CHECK(json_of(health.body).get_string("status") == "ok");
    CHECK(health.head.getContentLength() == static_cast<std::streamsize>(health.body.size()));
    CHECK(health.head.get("X-Frame-Options") == "DENY");
    CHECK(health.head.has("X-Request-Id"));

    Reply answer = exchange(session, "POST", "/api/ask",
                            R"({"question":"Can medical students contribute to quality assurance?"})");
    CHECK(answer.status == 200);
    CHECK(json_of(answer.body).find("citations")->size() >= 1);

    Reply bad = exchange(session, "POST", "/api/v1/ask", R"({"question":)");
    CHECK(bad.status == 400);
    CHECK(json_of(bad.body).find("error")->get_string("request_id") == bad.head.get("X-Request-Id"));
    server.stop();
    CHECK(server.port() == 0);
}

TEST_CASE("two requests on one keep-alive connection are both answered on that connection") {
    CorpusService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    session.setKeepAlive(true);
    Reply first = exchange(session, "GET", "/healthz");
    Reply second = exchange(session, "GET", "/api/v1/source/1");
    CHECK(first.status == 200);
    CHECK(second.status == 200);
    CHECK(first.head.getKeepAlive());
    CHECK(second.head.getKeepAlive());
    server.stop();
    // The access log records the client address with its port: one connection means one port.
    std::vector<Json> lines = log.parsed();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].get_string("remote") == lines[1].get_string("remote"));
}

TEST_CASE("starting a second server on a port that is taken fails with a clear error") {
    CorpusService service;
    LogSink log;
    Server first(service, *staff().accounts, ephemeral(log));
    REQUIRE(first.start().ok());
    ServerOptions o = ephemeral(log);
    o.port = first.port();
    Server second(service, *staff().accounts, o);
    sb::core::Status st = second.start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == sb::core::ErrorCode::kUnavailable);
    CHECK(st.error().message().find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
    CHECK(st.error().message().find("in use") != std::string::npos);
    CHECK(second.port() == 0);
}

TEST_CASE("a body declared larger than the limit gets 413 without the server waiting for it") {
    CorpusService service;
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.max_body_bytes = 1024;
    Server server(service, *staff().accounts, o);
    REQUIRE(server.start().ok());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    Poco::Net::HTTPRequest req("POST", "/api/v1/ask", Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.set("Authorization", bearer());
    req.setContentLength(50'000'000);
    session.sendRequest(req);  // headers only: the 50 MB never follow
    Poco::Net::HTTPResponse head;
    std::istream & in = session.receiveResponse(head);
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    CHECK(head.getStatus() == Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
    CHECK(json_of(body.str()).find("error")->get_string("code") == "payload_too_large");
    CHECK_FALSE(head.getKeepAlive());

    // A route that ignores bodies still must not reuse a connection with one left on the wire.
    Poco::Net::HTTPClientSession other("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    Poco::Net::HTTPRequest get("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
    get.setContentLength(4096);
    other.sendRequest(get) << std::string(4096, '{');
    Poco::Net::HTTPResponse health;
    std::ostringstream ignored;
    Poco::StreamCopier::copyStream(other.receiveResponse(health), ignored);
    CHECK(health.getStatus() == Poco::Net::HTTPResponse::HTTP_OK);
    CHECK_FALSE(health.getKeepAlive());
}

TEST_CASE("streamed answers arrive as server-sent events in chunked transfer encoding") {
    CorpusService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    Reply stream = exchange(session, "POST", "/api/v1/ask/stream",
                            R"({"question":"Does loss of consciousness predict decrements after concussion?"})");
    CHECK(stream.status == 200);
    CHECK(stream.head.getChunkedTransferEncoding());
    CHECK(stream.head.getContentType() == "text/event-stream; charset=utf-8");
    CHECK(stream.body.starts_with("event: stage\n"));
    CHECK(stream.body.find("event: text\n") != std::string::npos);
    size_t answer = stream.body.rfind("event: answer\ndata: ");
    REQUIRE(answer != std::string::npos);
    std::string data = stream.body.substr(answer + 20);
    CHECK(json_of(data.substr(0, data.find('\n'))).find("citations")->size() >= 1);
    // The connection survives a chunked response.
    CHECK(exchange(session, "GET", "/healthz").status == 200);
}

TEST_CASE("under overload the server answers 503 with Retry-After at once and stays responsive") {
    HoldingService service;
    load_corpus(service);
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.max_threads = 1;
    o.max_queued = 1;
    o.retry_after_seconds = 5;
    Server server(service, *staff().accounts, o);
    REQUIRE(server.start().ok());
    const auto port = static_cast<Poco::UInt16>(server.port());
    const std::string body = R"({"question":"appendicitis elderly CRP?"})";
    auto ask_on_new_connection = [&] {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        return exchange(session, "POST", "/api/v1/ask", body);
    };

    auto running = std::async(std::launch::async, ask_on_new_connection);
    REQUIRE(eventually([&] { return service.started() == 1; }));
    auto queued = std::async(std::launch::async, ask_on_new_connection);
    REQUIRE(eventually([&] { return server.handler().load().queued == 1; }));

    Reply refused = ask_on_new_connection();
    CHECK(refused.status == 503);
    CHECK(refused.head.get("Retry-After", "") == "5");
    CHECK(json_of(refused.body).find("error")->get_string("code") == "overloaded");
    Poco::Net::HTTPClientSession probe("127.0.0.1", port);
    CHECK(exchange(probe, "GET", "/healthz").status == 200);
    CHECK(exchange(probe, "GET", "/metrics").body.find("strongbox_http_service_queued 1\n") != std::string::npos);

    service.release();
    CHECK(running.get().status == 200);
    CHECK(queued.get().status == 200);
}

TEST_CASE("a connection beyond max_connections gets 503 with Retry-After at once, not a reset or a hang") {
    CorpusService service;
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.max_threads = 1;
    o.max_queued = 0;
    o.max_connections = 5;        // the least allowed with one slot and no queue (1 + 0 + 4 spare)
    o.keep_alive_timeout_s = 60;  // held connections stay held for the whole test
    o.retry_after_seconds = 7;
    Server server(service, *staff().accounts, o);
    REQUIRE(server.start().ok());
    const auto port = static_cast<Poco::UInt16>(server.port());

    // Idle keep-alive connections each hold their place, like browsers that keep theirs open.
    std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> held;
    for (int i = 0; i < o.max_connections; ++i) {
        held.push_back(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port));
        held.back()->setKeepAlive(true);
        Reply r = exchange(*held.back(), "GET", "/healthz");
        REQUIRE(r.status == 200);
        REQUIRE(r.head.getKeepAlive());
    }

    // Bounded, so a connection left waiting for a thread fails here instead of hanging the suite.
    Poco::Net::HTTPClientSession extra("127.0.0.1", port);
    extra.setTimeout(Poco::Timespan(5, 0));
    Reply refused = exchange(extra, "GET", "/healthz");
    CHECK(refused.status == 503);
    CHECK(refused.head.get("Retry-After", "") == "7");
    CHECK(refused.head.getContentLength() == static_cast<std::streamsize>(refused.body.size()));
    CHECK_FALSE(refused.head.getKeepAlive());
    CHECK(refused.head.has("X-Request-Id"));
    const Json body = json_of(refused.body);
    REQUIRE(body.find("error") != nullptr);
    CHECK(body.find("error")->get_string("code") == "overloaded");
    CHECK(body.find("error")->get_string("request_id") == refused.head.get("X-Request-Id"));

    // Once the held connections close, their places are free again.
    held.clear();
    CHECK(eventually([&] {
        Poco::Net::HTTPClientSession again("127.0.0.1", port);
        again.setTimeout(Poco::Timespan(5, 0));
        return exchange(again, "GET", "/healthz").status == 200;
    }));
}

namespace {

// Streams text until the client stops taking it, then reports whether it saw the refusal.
class EndlessStreamService : public CorpusService {
  public:
    sb::core::Status ask_stream(const sb::webui::AskRequest &, const sb::webui::AskSink & sink) override {
        sb::webui::AskProgress piece;
        piece.kind = sb::webui::AskProgress::Kind::kText;
        piece.text = std::string(512, 'x');
        for (int i = 0; i < 100'000; ++i) {
            if (!sink(piece)) {
                refused = true;
                return sb::core::Error(sb::core::ErrorCode::kCancelled, "client went away");
            }
        }
        return sb::core::ok_status();
    }

    std::atomic<bool> refused{false};
};

}  // namespace

namespace {

// Emits a stage event, then waits until the test has seen it on the wire before answering.
class HandshakeStreamService : public CorpusService {
  public:
    sb::core::Status ask_stream(const sb::webui::AskRequest & request, const sb::webui::AskSink & sink) override {
        sb::webui::AskProgress stage;
        stage.kind = sb::webui::AskProgress::Kind::kStage;
        stage.text = "retrieving";
        if (!sink(stage)) {
            return sb::core::Error(sb::core::ErrorCode::kCancelled, "client went away");
        }
        {
            std::unique_lock lock(mu_);
            // Bounded, so a server that buffers the stream fails the test instead of hanging it.
            seen_in_time = cv_.wait_for(lock, std::chrono::seconds(10), [this] { return seen_; });
        }
        return CorpusService::ask_stream(request, sink);
    }

    void client_saw_stage() {
        std::lock_guard lock(mu_);
        seen_ = true;
        cv_.notify_all();
    }

    std::atomic<bool> seen_in_time{false};

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool seen_ = false;
};

void send_raw_ask(Poco::Net::StreamSocket & socket, const std::string & path, const std::string & body) {
    const std::string request =
        "POST " + path +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: " + bearer() +
        "\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
}

}  // namespace

TEST_CASE("streamed events reach the client while the answer is still being produced") {
    HandshakeStreamService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
    send_raw_ask(socket, "/api/v1/ask/stream", R"({"question":"appendicitis elderly CRP?"})");
    std::string received;
    char buf[4096];
    while (received.find("\"stage\":\"retrieving\"") == std::string::npos) {
        int got = socket.receiveBytes(buf, sizeof(buf));
        REQUIRE(got > 0);
        received.append(buf, static_cast<size_t>(got));
    }
    CHECK(received.find("event: answer") == std::string::npos);  // the answer does not exist yet
    service.client_saw_stage();
    while (received.find("event: answer") == std::string::npos) {
        int got = socket.receiveBytes(buf, sizeof(buf));
        REQUIRE(got > 0);
        received.append(buf, static_cast<size_t>(got));
    }
    CHECK(service.seen_in_time.load());
    CHECK(received.starts_with("HTTP/1.1 200"));
    CHECK(received.find("Transfer-Encoding: chunked") != std::string::npos);
}

TEST_CASE("an HTTP/1.0 client gets the stream unchunked, ended by closing the connection") {
    CorpusService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
    const std::string body = R"({"question":"appendicitis elderly CRP?"})";
    const std::string request =
        "POST /api/v1/ask/stream HTTP/1.0\r\nContent-Type: application/json\r\nAuthorization: " + bearer() +
        "\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string received;
    char buf[4096];
    for (int got = 0; (got = socket.receiveBytes(buf, sizeof(buf))) > 0;) {
        received.append(buf, static_cast<size_t>(got));
    }
    CHECK(received.starts_with("HTTP/1.0 200"));
    CHECK(received.find("Transfer-Encoding: chunked") == std::string::npos);
    const size_t head_end = received.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    CHECK(received.compare(head_end + 4, 13, "event: stage\n") == 0);
    CHECK(received.find("event: answer\n") != std::string::npos);
    CHECK(received.ends_with("\n\n"));
}

TEST_CASE("a client that hangs up mid-stream stops the stream and frees its slot") {
    EndlessStreamService service;
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.max_threads = 1;
    o.max_queued = 0;
    Server server(service, *staff().accounts, o);
    REQUIRE(server.start().ok());
    {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
        send_raw_ask(socket, "/api/v1/ask/stream", R"({"question":"anything at all?"})");
        char buf[4096];
        int got = socket.receiveBytes(buf, sizeof(buf));
        REQUIRE(got > 0);
        CHECK(std::string(buf, static_cast<size_t>(got)).starts_with("HTTP/1.1 200"));
        socket.close();  // hang up with the stream still running
    }
    REQUIRE(eventually([&] { return service.refused.load(); }));
    REQUIRE(eventually([&] { return server.handler().load().running == 0; }));
    // The single slot is free again: a new ask is served, not refused as overloaded.
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    CHECK(exchange(session, "GET", "/api/v1/source/1").status == 404);
    CHECK(exchange(session, "GET", "/healthz").status == 200);
}

TEST_CASE("stop() returns promptly while an idle keep-alive connection stays open") {
    CorpusService service;
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.keep_alive_timeout_s = 60;
    Server server(service, *staff().accounts, o);
    REQUIRE(server.start().ok());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    CHECK(exchange(session, "GET", "/healthz").status == 200);
    // Without aborting idle connections stop() would wait out the 60 s keep-alive; the test
    // would then run far past its budget rather than fail on a clock.
    server.stop();
    CHECK(server.port() == 0);
}

TEST_CASE("stop() lets an ask in flight finish while refusing new connections") {
    HoldingService service;
    load_corpus(service);
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    const auto port = static_cast<Poco::UInt16>(server.port());
    auto asked = std::async(std::launch::async, [&] {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        return exchange(session, "POST", "/api/v1/ask", R"({"question":"appendicitis elderly CRP?"})");
    });
    REQUIRE(eventually([&] { return service.started() == 1; }));
    auto stopping = std::async(std::launch::async, [&] { server.stop(); });
    // Once stop() has begun the listening socket is closed.
    REQUIRE(eventually([&] {
        try {
            Poco::Net::StreamSocket probe(Poco::Net::SocketAddress("127.0.0.1", port));
            return false;
        } catch (const Poco::Exception &) {
            return true;
        }
    }));
    service.release();
    Reply reply = asked.get();
    CHECK(reply.status == 200);
    CHECK(json_of(reply.body).find("citations")->size() >= 1);
    stopping.get();
}

TEST_CASE("a server on loopback refuses requests addressed to other host names") {
    CorpusService service;
    LogSink log;
    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    CHECK(exchange(session, "GET", "/healthz").status == 200);
    // What a browser sends after a hostile page rebinds its DNS name to 127.0.0.1.
    Poco::Net::HTTPRequest req("GET", "/api/v1/source/1", Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost("rebound.example", static_cast<Poco::UInt16>(server.port()));
    session.sendRequest(req);
    Poco::Net::HTTPResponse head;
    std::ostringstream body;
    Poco::StreamCopier::copyStream(session.receiveResponse(head), body);
    CHECK(static_cast<int>(head.getStatus()) == 421);
    CHECK(json_of(body.str()).find("error")->get_string("code") == "misdirected_request");
}

TEST_CASE("start() rejects bad options and a second start with clear errors") {
    CorpusService service;
    LogSink log;
    ServerOptions o = ephemeral(log);
    o.port = 70000;
    sb::core::Status st = Server(service, *staff().accounts, o).start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == sb::core::ErrorCode::kInvalidArgument);
    CHECK(st.error().message().find("70000") != std::string::npos);

    o = ephemeral(log);
    o.max_threads = 0;
    CHECK(Server(service, *staff().accounts, o).start().error().code() == sb::core::ErrorCode::kInvalidArgument);

    o = ephemeral(log);
    o.host = "203.0.113.77";  // TEST-NET-3: not an address of this machine
    o.allow_insecure_http = true;
    st = Server(service, *staff().accounts, o).start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == sb::core::ErrorCode::kUnavailable);
    CHECK(st.error().message().find("203.0.113.77") != std::string::npos);

    Server server(service, *staff().accounts, ephemeral(log));
    REQUIRE(server.start().ok());
    CHECK(server.start().error().code() == sb::core::ErrorCode::kInvalidArgument);
}

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;  // it cannot start threads in a child forked from threads
#else
constexpr bool kThreadSanitizer = false;
#endif

TEST_CASE("a one-byte body to a route allowed gigabytes costs the server kilobytes, not the route's limit" *
          doctest::skip(kThreadSanitizer)) {
    // In a child process, so its peak memory is its own: the server there takes uploads of up to
    // 3 GiB and is sent one of a single byte by a caller allowed to upload.
    TestAccounts writer;
    REQUIRE(writer.accounts->set_grant("readers", "alpha", "write").ok());
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        CorpusService service;
        LogSink log;
        ServerOptions o = ephemeral(log);
        o.max_upload_bytes = size_t{3} << 30;
        Server server(service, *writer.accounts, o);
        if (!server.start().ok()) {
            ::_exit(2);
        }
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
        Poco::Net::HTTPRequest req("POST", "/api/v1/documents?collection=alpha&name=one.txt",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
        req.set("Authorization", "Bearer " + writer.token);
        req.setContentLength(1);
        session.sendRequest(req) << "x";
        Poco::Net::HTTPResponse head;
        std::ostringstream out;
        Poco::StreamCopier::copyStream(session.receiveResponse(head), out);
        server.stop();
        ::_exit(head.getStatus() == Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE ? 3 : 0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    rusage usage{};
    REQUIRE(::getrusage(RUSAGE_CHILDREN, &usage) == 0);
    // The whole child, inherited pages included, stays far below the 3 GiB a buffer sized by the
    // route's limit would have taken.
    CHECK_MESSAGE(usage.ru_maxrss < 1024 * 1024, "peak " << usage.ru_maxrss / 1024 << " MiB");
}
