// The web UI's request handler: authenticates, authorizes and routes an HttpRequest to the
// services (service.h) and builds the HttpResponse, with no socket involved. The Poco server in server.h is a
// thin adaptor around it, so every route, role rule, error body, status mapping, header and limit is
// tested here without a network.
//
// Routes and their role rules are one table in handler.cpp, documented in webui/API.md. Every
// /api/v1 route but /me, /setup and /login needs a session cookie (sb_session) or an API token
// (Authorization: Bearer); cookie-authenticated POST/PUT/PATCH/DELETE also need X-CSRF-Token.
// The handler checks the caller's ROLE and resolves the Caller (groups, readable and writable
// collections from the Accounts grants); the service enforces COLLECTION access with it.
//
// Every response carries Content-Length (except streams, which are chunked), X-Request-Id and the
// security headers. Errors share one body: {"error":{"code","message","request_id"}}.
//
// Thread-safety: handle() may be called from many threads at once. Calls into the service that
// do real work (ask, search, source, document listings, uploads, exports, self-test) pass an
// admission gate: at most max_concurrent run, at most max_queued wait, and anything beyond is
// answered at once with 503 and Retry-After. Logins pass a gate of their own (see
// HandlerOptions::max_concurrent_logins).
// Error contract: handle() never throws and always returns a complete response.
//
//   Handler handler(service, accounts, HandlerOptions{.max_body_bytes = 1 << 16});
//   HttpResponse res = handler.handle(request);
#pragma once

#include "strongbox/access/accounts.h"
#include "strongbox/webui/http.h"
#include "strongbox/webui/service.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::webui {

struct HandlerOptions {
    size_t max_body_bytes = 64 * 1024;  // larger request bodies get 413
    // Bodies of the two upload routes, for callers allowed to use them (others keep max_body_bytes).
    size_t max_upload_bytes = 64 * 1024 * 1024;    // POST /api/v1/documents
    size_t max_update_bytes = 1024 * 1024 * 1024;  // POST /api/v1/admin/update (image bundles)
    int max_concurrent = 4;                        // service calls (ask, stream, source) running at once
    int max_queued = 64;                           // service calls waiting for a slot; more get 503 at once
    int queue_timeout_ms = 30000;                  // a queued call waiting this long gets 503 instead of hanging
    int retry_after_seconds = 2;                   // Retry-After sent with overload 503s (and busy-login 429s)
    // Password checks (argon2id: tens of ms of one core and 64 MiB each) have their own gate, so a
    // login flood takes at most these cores and this memory from questions, /healthz and /readyz.
    // A login beyond max_queued_logins, or queued longer than the timeout, gets 429
    // too_many_attempts with Retry-After at once. Names and addresses already locked by throttling
    // are refused before the gate and take no place in it.
    int max_concurrent_logins = 2;  // password checks running at once
    int max_queued_logins = 8;      // logins waiting for a check
    int login_queue_timeout_ms = 5000;
    // When not empty, a request whose Host header names another host gets 421. A server bound to
    // loopback lists only loopback names, so a web page that rebinds its own DNS name to 127.0.0.1
    // still cannot read the API from a visitor's browser.
    std::vector<std::string> allowed_hosts;
    // Adds Secure to the session cookie; the server sets it when it serves HTTPS.
    bool secure_cookies = false;
    // /metrics answers loopback clients without credentials; anyone else needs an admin session
    // or an admin's API token. False: credentials always.
    bool open_metrics_on_loopback = true;
    // Receives one JSON access-log line per request; when empty, lines go to the Strongbox log.
    std::function<void(std::string_view line)> access_log;
    // First-start setup (POST /api/v1/setup, creating the first admin) is taken from loopback
    // clients, and from elsewhere only with this one-time code ("setup_code" in the body), which
    // `strongbox serve` prints on the box's console. Empty: loopback only. Whoever reaches the port
    // first must not become the admin.
    std::string setup_code;
};

// Admission state, for tests and dashboards.
struct HandlerLoad {
    int running = 0;
    int queued = 0;
    int logins_running = 0;  // password checks in progress
    int logins_queued = 0;
};

class Handler {
  public:
    Handler(Services services, access::Accounts & accounts, HandlerOptions options = {});
    ~Handler();
    Handler(const Handler &) = delete;
    Handler & operator=(const Handler &) = delete;

    HttpResponse handle(const HttpRequest & request);

    // The answer for a connection the server has no room for (ServerOptions::max_connections),
    // sent before any request is read: the overload 503 with Retry-After and the usual headers,
    // counted in /metrics and the access log (route "connection_limit") like any refused request.
    HttpResponse connection_overloaded(std::string_view remote_address);

    // How many body bytes the server should read for a request whose head (method, path, query,
    // headers) is `head`: max_upload_bytes or max_update_bytes for an upload route when the head
    // authenticates a caller allowed to use it, max_body_bytes otherwise.
    size_t body_limit(const HttpRequest & head);

    // "METHOD /pattern" of every /api route in the table, e.g. "GET /api/v1/documents/{id}/versions",
    // so tests and docs can prove they cover them all.
    static std::vector<std::string> api_routes();

    // Prometheus text exposition of the request counters and latency histograms.
    std::string metrics_text() const;
    HandlerLoad load() const;
    const HandlerOptions & options() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::webui
