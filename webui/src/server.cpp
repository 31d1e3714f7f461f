#include "strongbox/webui/server.h"

#include "strongbox/core/log.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <exception>
#include <istream>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>

namespace strongbox::webui {
namespace {

// Poco threads beyond the service slots and the waiting line, so cheap requests (/healthz,
// /metrics, assets) and overload 503s are still answered while every slot is busy.
constexpr int kSpareThreads = 4;
// Threads beyond max_connections that answer connections over the limit with 503 (RefusedConnection).
constexpr int kRefusalThreads = 4;
// Accepted connections waiting for a Poco thread; beyond this Poco closes new ones unanswered.
// Every connection passes through this queue: a client opening 32 at once fills it faster than
// Poco starts threads, and a queue of 16 closed some of them during a load run. It is reached
// for good only when every thread, the refusal ones included, is busy.
constexpr int kMaxQueuedConnections = 128;
// A refusal holds its thread at most about this long per read or write, so a slow client cannot
// pin it, and reads at most this much of what the client sent before closing.
constexpr int kRefusalTimeoutMs = 1000;
constexpr size_t kRefusalDrainBytes = 64 * 1024;

// A client closing mid-stream must cost one failed write, not the process.
void ignore_sigpipe_once() {
    static const bool done = [] {
        struct sigaction current {};
        if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            std::signal(SIGPIPE, SIG_IGN);
        }
        return true;
    }();
    (void)done;
}

// Sets body_unread when bytes of the body stay on the wire, so the connection cannot be reused.
// How much body to read is the handler's call, made on the head (see Handler::body_limit).
HttpRequest to_request(Poco::Net::HTTPServerRequest & in, Handler & handler, bool & body_unread) {
    HttpRequest req;
    body_unread = false;
    req.method = in.getMethod();
    try {
        Poco::URI uri(in.getURI());
        req.path = uri.getPath();
        req.query = uri.getRawQuery();
    } catch (const Poco::SyntaxException &) {
        // Undecodable target: keep it raw; no route matches it, so the client gets a JSON 404.
        const std::string & raw = in.getURI();
        req.path = raw.substr(0, raw.find('?'));
    }
    for (const auto & [name, value] : in) {
        req.headers.emplace_back(name, value);
    }
    req.content_length = in.hasContentLength() ? static_cast<int64_t>(in.getContentLength64()) : -1;
    req.remote_address = in.clientAddress().toString();
    const size_t max_body_bytes = handler.body_limit(req);
    // Never read more than one byte past the limit: enough for the handler to see it was exceeded.
    // Memory follows the bytes that arrive, never the route's limit: a one-byte body to a 1 GiB
    // route costs one byte, and a body announced but not sent costs nothing.
    if (req.content_length <= static_cast<int64_t>(max_body_bytes) &&
        (req.content_length > 0 || in.getChunkedTransferEncoding())) {
        constexpr size_t kStep = size_t{1} << 20;
        std::istream & body = in.stream();
        const size_t want = max_body_bytes + 1;
        std::string buf;
        while (buf.size() < want && body) {
            const size_t at = buf.size();
            buf.resize(at + std::min(kStep, want - at));
            body.read(buf.data() + at, static_cast<std::streamsize>(buf.size() - at));
            buf.resize(at + static_cast<size_t>(body.gcount()));
        }
        req.body = std::move(buf);
        body_unread = req.body.size() > max_body_bytes;
    } else if (req.content_length > static_cast<int64_t>(max_body_bytes)) {
        body_unread = true;
    }
    return req;
}

class PocoRequestHandler : public Poco::Net::HTTPRequestHandler {
  public:
    PocoRequestHandler(Handler & handler, std::atomic<int> & active) : handler_(handler), active_(active) {}

    void handleRequest(Poco::Net::HTTPServerRequest & in, Poco::Net::HTTPServerResponse & out) override {
        // Counted so stop() can let requests in flight finish before it cuts connections.
        ++active_;
        struct Done {
            std::atomic<int> & n;
            ~Done() { --n; }
        } done{active_};
        try {
            bool body_unread = false;
            HttpRequest req = to_request(in, handler_, body_unread);
            HttpResponse res = handler_.handle(req);
            out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status));
            for (const auto & [name, value] : res.headers) {
                if (name != "Content-Length") {
                    out.set(name, value);
                }
            }
            if (res.close_connection || body_unread || !in.getKeepAlive()) {
                out.setKeepAlive(false);
            }
            if (res.stream) {
                if (in.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0) {
                    // HTTP/1.0 has no chunked encoding: the end of the connection ends the body.
                    out.setKeepAlive(false);
                } else {
                    out.setChunkedTransferEncoding(true);
                }
                std::ostream & body = out.send();
                body.flush();
                res.stream([&body](std::string_view bytes) {
                    body.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
                    body.flush();
                    return body.good();
                });
                return;
            }
            out.setContentLength64(static_cast<Poco::UInt64>(res.body.size()));
            out.sendBuffer(res.body.data(), res.body.size());
        } catch (const Poco::Exception & e) {
            // Usually the client went away mid-response; nothing more can be sent on this connection.
            SB_LOG_DEBUG("http: %s", e.displayText().c_str());
        } catch (const std::exception & e) {
            SB_LOG_WARN("http: %s", e.what());
        }
    }

  private:
    Handler & handler_;
    std::atomic<int> & active_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    Factory(Handler & handler, std::atomic<int> & active) : handler_(handler), active_(active) {}

    Poco::Net::HTTPRequestHandler * createRequestHandler(const Poco::Net::HTTPServerRequest &) override {
        return new PocoRequestHandler(handler_, active_);
    }

    // Shuts every open HTTP connection, idle keep-alive ones included (what HTTPServer::stopAll
    // does; the event is only reachable from this subclass).
    void abort_connections() { serverStopped(this, true); }

  private:
    Handler & handler_;
    std::atomic<int> & active_;
};

// An HTTP connection that gives its place back when it closes.
class CountedConnection : public Poco::Net::HTTPServerConnection {
  public:
    CountedConnection(const Poco::Net::StreamSocket & socket, const Poco::Net::HTTPServerParams::Ptr & params,
                      const Poco::Net::HTTPRequestHandlerFactory::Ptr & requests, std::atomic<int> & open)
        : HTTPServerConnection(socket, params, requests), open_(open) {}
    ~CountedConnection() override { --open_; }

  private:
    std::atomic<int> & open_;
};

// A connection beyond max_connections: answered at once with the overload 503 (Retry-After,
// Connection: close) instead of waiting unanswered for a thread or being closed bare. The answer
// goes out before the request is read; what the client sent is then drained (bounded) so closing
// does not reset the connection before the client has read the answer. Over HTTPS the TLS
// handshake happens on the first write, under the same timeout.
class RefusedConnection : public Poco::Net::TCPServerConnection {
  public:
    RefusedConnection(const Poco::Net::StreamSocket & socket, Handler & handler)
        : TCPServerConnection(socket), handler_(handler) {}

    void run() override {
        Poco::Net::StreamSocket & s = socket();
        try {
            const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(kRefusalTimeoutMs) * 1000);
            s.setSendTimeout(timeout);
            s.setReceiveTimeout(timeout);
            const HttpResponse res = handler_.connection_overloaded(s.peerAddress().toString());
            Poco::Net::HTTPResponse head(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status));
            head.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
            head.setDate(Poco::Timestamp());
            head.set("Server", "strongbox");
            for (const auto & [name, value] : res.headers) {
                head.set(name, value);
            }
            head.setKeepAlive(false);
            std::ostringstream wire;
            head.write(wire);
            wire << res.body;
            const std::string bytes = wire.str();
            for (size_t sent = 0; sent < bytes.size();) {
                const int n = s.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
                if (n <= 0) {
                    return;
                }
                sent += static_cast<size_t>(n);
            }
            s.shutdownSend();
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRefusalTimeoutMs);
            char buf[4096];
            size_t drained = 0;
            while (drained < kRefusalDrainBytes && std::chrono::steady_clock::now() < until) {
                const int n = s.receiveBytes(buf, sizeof(buf));
                if (n <= 0) {
                    break;  // the client closed after reading the answer
                }
                drained += static_cast<size_t>(n);
            }
        } catch (const Poco::Exception & e) {
            // A timeout or a client already gone: the connection is closed either way.
            SB_LOG_DEBUG("http: refused connection: %s", e.displayText().c_str());
        }
    }

  private:
    Handler & handler_;
};

// Hands each accepted connection to HTTP while fewer than `limit` are open, to RefusedConnection
// otherwise. Runs on the pool thread that then serves the connection.
class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    ConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::SharedPtr<Factory> requests, Handler & handler,
                      int limit)
        : params_(std::move(params)), requests_(std::move(requests)), handler_(handler), limit_(limit) {}

    Poco::Net::TCPServerConnection * createConnection(const Poco::Net::StreamSocket & socket) override {
        if (open_.fetch_add(1) >= limit_) {
            --open_;
            return new RefusedConnection(socket, handler_);
        }
        try {
            return new CountedConnection(socket, params_, requests_, open_);
        } catch (...) {
            --open_;
            throw;
        }
    }

  private:
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr requests_;
    Handler & handler_;
    const int limit_;
    std::atomic<int> open_{0};  // HTTP connections open now
};

bool is_loopback(const std::string & host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

HandlerOptions handler_options(const ServerOptions & o) {
    HandlerOptions h;
    h.allowed_hosts = o.allowed_hosts;
    if (h.allowed_hosts.empty() && is_loopback(o.host)) {
        h.allowed_hosts = {"localhost", "127.0.0.1", "::1", o.host};
    }
    h.max_body_bytes = o.max_body_bytes;
    h.max_upload_bytes = o.max_upload_bytes;
    h.max_update_bytes = o.max_update_bytes;
    h.secure_cookies = !o.tls_cert.empty();
    h.open_metrics_on_loopback = o.open_metrics_on_loopback;
    h.max_concurrent = o.max_threads;
    h.max_queued = o.max_queued;
    h.queue_timeout_ms = o.queue_timeout_ms;
    h.retry_after_seconds = o.retry_after_seconds;
    h.access_log = o.access_log;
    h.setup_code = o.setup_code;
    return h;
}

// NetSSL needs its library state once per process; it is never torn down (other users may remain).
void initialize_ssl_once() {
    static const bool done = [] {
        Poco::Net::initializeSSL();
        return true;
    }();
    (void)done;
}

Poco::Net::Context::Ptr server_context(const ServerOptions & o) {
    Poco::Net::Context::Params params;
    params.privateKeyFile = o.tls_key.string();
    params.certificateFile = o.tls_cert.string();
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // no client certificates
    params.loadDefaultCAs = false;
    // Forward-secret AEAD suites only (TLS 1.3 suites are always on in OpenSSL 3).
    params.cipherList = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!SHA1";
    params.ecdhCurve = "prime256v1";
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    context->preferServerCiphers();
    return context;
}

}  // namespace

struct Server::Impl {
    Impl(Services services, access::Accounts & accounts, ServerOptions o)
        : options(std::move(o)), handler(services, accounts, handler_options(options)) {}

    ServerOptions options;
    Handler handler;
    std::unique_ptr<Poco::ThreadPool> pool;
    Poco::SharedPtr<Factory> requests;  // kept to abort open connections in stop()
    std::unique_ptr<Poco::Net::TCPServer> http;
    Poco::Net::ServerSocket listener;  // shares the socket with `http`, so stop() can close it early
    std::atomic<int> active{0};        // requests being handled now
    int port = 0;
};

Server::Server(Services services, access::Accounts & accounts, ServerOptions options)
    : impl_(std::make_unique<Impl>(services, accounts, std::move(options))) {}

bool Server::tls() const {
    return !impl_->options.tls_cert.empty();
}

Server::~Server() {
    stop();
}

Handler & Server::handler() {
    return impl_->handler;
}

int Server::port() const {
    return impl_->port;
}

core::Status Server::start() {
    const ServerOptions & o = impl_->options;
    if (impl_->http) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "web server already started on port " + std::to_string(impl_->port));
    }
    if (o.port < 0 || o.port > 65535) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "web server port " + std::to_string(o.port) + " is out of range");
    }
    if (o.max_threads < 1 || o.max_queued < 0 || o.max_body_bytes == 0) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "web server options: max_threads must be >= 1, max_queued >= 0, max_body_bytes > 0");
    }
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "web server: give both a TLS certificate and its key");
    }
    if (o.tls_cert.empty() && !is_loopback(o.host) && !o.allow_insecure_http) {
        return core::Error(
            core::ErrorCode::kInvalidArgument,
            "web server: plain HTTP on " + o.host +
                " would send passwords in clear; serve HTTPS (a certificate and key) or allow insecure HTTP "
                "explicitly");
    }
    const std::string where = o.host + ":" + std::to_string(o.port);
    ignore_sigpipe_once();
    Poco::Net::Context::Ptr context;
    if (!o.tls_cert.empty()) {
        initialize_ssl_once();
        try {
            context = server_context(o);
        } catch (const Poco::Exception & e) {
            return core::Error(core::ErrorCode::kInvalidArgument, "web server: cannot use TLS certificate " +
                                                                      o.tls_cert.string() + " and key " +
                                                                      o.tls_key.string() + ": " + e.displayText());
        }
    }
    try {
        Poco::Net::ServerSocket socket = context ? Poco::Net::SecureServerSocket(context) : Poco::Net::ServerSocket();
        // SO_REUSEADDR lets a restart bind past TIME_WAIT; no SO_REUSEPORT, so a second server on a
        // taken port fails here instead of silently sharing it.
        socket.bind(Poco::Net::SocketAddress(o.host, static_cast<Poco::UInt16>(o.port)), true, false);
        socket.listen(128);
        impl_->port = socket.address().port();
        impl_->listener = socket;

        // Poco serves a connection on one thread from accept to close, idle keep-alive time
        // included, so the pool is sized by connections, not by service slots, plus the threads
        // that answer connections beyond the limit with 503 (see ConnectionFactory).
        const int connections = std::max(o.max_connections, o.max_threads + o.max_queued + kSpareThreads);
        const int threads = connections + kRefusalThreads;
        auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
        params->setMaxThreads(threads);
        params->setMaxQueued(kMaxQueuedConnections);
        params->setKeepAlive(true);
        params->setKeepAliveTimeout(Poco::Timespan(o.keep_alive_timeout_s, 0));
        params->setTimeout(Poco::Timespan(o.io_timeout_s, 0));
        params->setMaxKeepAliveRequests(1000);
        params->setServerName("strongbox");
        params->setSoftwareVersion("strongbox");
        impl_->pool = std::make_unique<Poco::ThreadPool>(2, threads);
        impl_->requests = new Factory(impl_->handler, impl_->active);
        impl_->http = std::make_unique<Poco::Net::TCPServer>(
            new ConnectionFactory(params, impl_->requests, impl_->handler, connections), *impl_->pool, socket, params);
        impl_->http->start();
    } catch (const Poco::Net::NetException & e) {
        impl_->http.reset();
        impl_->requests = nullptr;
        impl_->pool.reset();
        impl_->port = 0;
        return core::Error(core::ErrorCode::kUnavailable,
                           "web server cannot listen on " + where + ": " + e.displayText());
    } catch (const Poco::Exception & e) {
        impl_->http.reset();
        impl_->requests = nullptr;
        impl_->pool.reset();
        impl_->port = 0;
        return core::Error(core::ErrorCode::kUnavailable,
                           "web server cannot start on " + where + ": " + e.displayText());
    }
    SB_LOG_INFO("web server listening on %s://%s:%d", context ? "https" : "http", o.host.c_str(), impl_->port);
    return core::ok_status();
}

void Server::stop() {
    if (!impl_->http) {
        return;
    }
    try {
        // Stop accepting, give requests in flight the grace period to finish, then shut every
        // connection, idle keep-alive ones included, so stop() never waits out their timeout.
        impl_->http->stop();
        impl_->listener.close();  // Poco keeps listening until destruction; refuse newcomers now
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, impl_->options.shutdown_grace_ms));
        while (impl_->active.load() > 0 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        impl_->requests->abort_connections();
        impl_->pool->joinAll();  // refusals in progress end within their timeout
    } catch (const Poco::Exception & e) {
        SB_LOG_WARN("web server stop: %s", e.displayText().c_str());
    }
    impl_->http.reset();
    impl_->requests = nullptr;
    impl_->pool.reset();
    impl_->port = 0;
}

}  // namespace strongbox::webui
