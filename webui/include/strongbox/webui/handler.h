// The web UI's request handler: routes an HttpRequest to the AppService and builds the
// HttpResponse, with no socket involved. The Poco server in server.h is a thin adaptor around it,
// so every route, error body, status mapping, header and limit is tested here without a network.
//
// Routes (see webui/API.md): GET /, GET /assets/<file>, GET /healthz, GET /readyz, GET /metrics,
// POST /api/v1/ask (alias /api/ask), POST /api/v1/ask/stream (server-sent events),
// GET /api/v1/source/<chunk_id> (alias /api/source/<chunk_id>).
//
// Every response carries Content-Length (except streams, which are chunked), X-Request-Id and the
// security headers. Errors share one body: {"error":{"code","message","request_id"}}.
//
// Thread-safety: handle() may be called from many threads at once. Calls into the service that
// do real work (ask, stream, source) pass an admission gate: at most max_concurrent run, at most
// max_queued wait, and anything beyond is answered at once with 503 and Retry-After.
// Error contract: handle() never throws and always returns a complete response.
//
//   Handler handler(service, HandlerOptions{.max_body_bytes = 1 << 16});
//   HttpResponse res = handler.handle(request);
#pragma once

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
    int max_concurrent = 4;             // service calls (ask, stream, source) running at once
    int max_queued = 16;                // service calls waiting for a slot; more get 503 at once
    int queue_timeout_ms = 30000;       // a queued call waiting this long gets 503 instead of hanging
    int retry_after_seconds = 2;        // Retry-After sent with overload 503s
    // When not empty, a request whose Host header names another host gets 421. A server bound to
    // loopback lists only loopback names, so a web page that rebinds its own DNS name to 127.0.0.1
    // still cannot read the API from a visitor's browser.
    std::vector<std::string> allowed_hosts;
    // Receives one JSON access-log line per request; when empty, lines go to the Strongbox log.
    std::function<void(std::string_view line)> access_log;
};

// Admission state, for tests and dashboards.
struct HandlerLoad {
    int running = 0;
    int queued = 0;
};

class Handler {
  public:
    explicit Handler(AppService & service, HandlerOptions options = {});
    ~Handler();
    Handler(const Handler &) = delete;
    Handler & operator=(const Handler &) = delete;

    HttpResponse handle(const HttpRequest & request);

    // Prometheus text exposition of the request counters and latency histograms.
    std::string metrics_text() const;
    HandlerLoad load() const;
    const HandlerOptions & options() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::webui
