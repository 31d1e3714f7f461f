#include "strongbox/webui/handler.h"

#include "assets.h"
#include "metrics.h"

#include "strongbox/core/log.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <random>

namespace strongbox::webui {
namespace {

using Clock = std::chrono::steady_clock;

// No inline script or style anywhere: the page is three static files from this origin.
constexpr const char * kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
constexpr const char * kJsonType = "application/json";
constexpr size_t kMaxQuestionBytes = 4000;
constexpr int kMaxTopK = 50;
constexpr size_t kMaxLoggedPath = 256;

// Route patterns name metrics and access-log lines; raw paths never become label values.
constexpr std::string_view kRouteIndex = "/";
constexpr std::string_view kRouteAssets = "/assets/{file}";
constexpr std::string_view kRouteHealth = "/healthz";
constexpr std::string_view kRouteReady = "/readyz";
constexpr std::string_view kRouteMetrics = "/metrics";
constexpr std::string_view kRouteAsk = "/api/v1/ask";
constexpr std::string_view kRouteAskStream = "/api/v1/ask/stream";
constexpr std::string_view kRouteSource = "/api/v1/source/{id}";
constexpr std::string_view kRouteUnknown = "unmatched";

int status_for(core::ErrorCode code) {
    switch (code) {
        case core::ErrorCode::kInvalidArgument: return 400;
        case core::ErrorCode::kNotFound: return 404;
        case core::ErrorCode::kPermissionDenied: return 403;
        case core::ErrorCode::kResourceExhausted: return 429;
        case core::ErrorCode::kUnavailable: return 503;
        default: return 500;
    }
}

std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

// A proxy in front may already have named the request; keep its id when it is harmless to echo.
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

// "host:port", "[v6]:port", "host" or a bare "v6" -> the host, lower-cased.
std::string host_of(std::string_view header) {
    std::string_view host = header;
    if (host.starts_with('[')) {
        const size_t close = host.find(']');
        host = host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        host = host.substr(0, host.find(':'));
    }
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

core::Json error_json(std::string_view code, std::string_view message, std::string_view request_id) {
    core::Json inner = core::Json::object();
    inner["code"] = code;
    inner["message"] = message;
    inner["request_id"] = request_id;
    core::Json outer = core::Json::object();
    outer["error"] = std::move(inner);
    return outer;
}

HttpResponse json_response(int status, const core::Json & body) {
    HttpResponse res;
    res.status = status;
    res.body = body.dump();
    res.set_header("Content-Type", kJsonType);
    return res;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message, std::string_view request_id) {
    return json_response(status, error_json(code, message, request_id));
}

HttpResponse error_response(const core::Error & error, std::string_view request_id) {
    return error_response(status_for(error.code()), core::to_string(error.code()), error.message(), request_id);
}

core::Json to_json(const SourceView & view) {
    core::Json j = core::Json::object();
    j["chunk_id"] = view.chunk_id;
    j["location"] = view.location.empty() ? core::describe_location(view.provenance) : view.location;
    j["provenance"] = core::to_json(view.provenance);
    core::Json before = core::Json::array();
    for (const std::string & s : view.before) {
        before.push_back(s);
    }
    core::Json after = core::Json::array();
    for (const std::string & s : view.after) {
        after.push_back(s);
    }
    j["before"] = std::move(before);
    j["passage"] = view.passage;
    j["after"] = std::move(after);
    return j;
}

std::string sse_event(std::string_view name, const core::Json & data) {
    // dump() escapes newlines inside strings, so the payload is always one data: line.
    return "event: " + std::string(name) + "\ndata: " + data.dump() + "\n\n";
}

// Bounds the service work in flight: a slot per running call, a bounded waiting line, and an
// immediate refusal beyond it, so overload turns into fast 503s rather than piled-up connections.
class Gate {
  public:
    Gate(int max_running, int max_queued)
        : max_running_(std::max(1, max_running)), max_queued_(std::max(0, max_queued)) {}

    // Held while a service call runs; releasing it admits the next waiter.
    class Permit {
      public:
        explicit Permit(Gate & gate) : gate_(gate) {}
        ~Permit() { gate_.release(); }
        Permit(const Permit &) = delete;
        Permit & operator=(const Permit &) = delete;

      private:
        Gate & gate_;
    };

    // nullptr when the line is full, or when no slot freed up within `timeout`.
    std::shared_ptr<Permit> acquire(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu_);
        if (running_ < max_running_) {
            ++running_;
            return std::make_shared<Permit>(*this);
        }
        if (queued_ >= max_queued_) {
            return nullptr;
        }
        ++queued_;
        bool admitted = cv_.wait_for(lock, timeout, [this] { return running_ < max_running_; });
        --queued_;
        if (!admitted) {
            return nullptr;
        }
        ++running_;
        return std::make_shared<Permit>(*this);
    }

    HandlerLoad load() const {
        std::lock_guard lock(mu_);
        return HandlerLoad{running_, queued_};
    }

  private:
    void release() {
        {
            std::lock_guard lock(mu_);
            --running_;
        }
        cv_.notify_one();
    }

    const int max_running_;
    const int max_queued_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    int running_ = 0;
    int queued_ = 0;
};

}  // namespace

struct Handler::Impl {
    Impl(AppService & s, HandlerOptions o)
        : service(s), options(std::move(o)), gate(options.max_concurrent, options.max_queued) {}

    HttpResponse dispatch(const HttpRequest & req, const std::string & request_id, std::string_view & route);
    std::optional<HttpResponse> serve_asset(const HttpRequest & req, std::string_view name);
    HttpResponse health();
    HttpResponse readiness(const std::string & request_id);
    HttpResponse ask(const HttpRequest & req, const std::string & request_id);
    HttpResponse ask_stream(const HttpRequest & req, const std::string & request_id);
    HttpResponse source(std::string_view id_text, const std::string & request_id);
    core::Result<AskRequest> parse_ask(const HttpRequest & req, int & status, std::string & code);
    HttpResponse overloaded(const std::string & request_id);
    bool host_allowed(const HttpRequest & req) const;
    void finish(const HttpRequest & req, const std::string & request_id, std::string_view route, int status,
                size_t bytes, Clock::time_point start);

    AppService & service;
    HandlerOptions options;
    Gate gate;
    detail::Metrics metrics;
};

std::optional<HttpResponse> Handler::Impl::serve_asset(const HttpRequest & req, std::string_view name) {
    const detail::EmbeddedAsset * asset = detail::find_asset(name);
    if (asset == nullptr) {
        return std::nullopt;
    }
    HttpResponse res;
    res.set_header("ETag", std::string(asset->etag));
    // Revalidate every time: paths are not content-hashed, and a 304 costs one small round trip.
    res.set_header("Cache-Control", "no-cache");
    if (req.header("If-None-Match") == asset->etag) {
        res.status = 304;
        return res;
    }
    res.status = 200;
    res.set_header("Content-Type", std::string(asset->content_type));
    res.body = std::string(asset->bytes);
    return res;
}

HttpResponse Handler::Impl::health() {
    return json_response(200, service.health());
}

HttpResponse Handler::Impl::readiness(const std::string & request_id) {
    core::Result<core::Json> ready = service.readiness();
    if (!ready.ok()) {
        if (ready.error().code() == core::ErrorCode::kUnsupported) {
            // The service has no readiness notion: serving this request is all there is to check.
            core::Json j = core::Json::object();
            j["ready"] = true;
            return json_response(200, j);
        }
        return error_response(503, core::to_string(ready.error().code()), ready.error().message(), request_id);
    }
    core::Json body = std::move(ready).value();
    bool is_ready = body.is_object() && body.get_bool("ready", false);
    return json_response(is_ready ? 200 : 503, body);
}

core::Result<AskRequest> Handler::Impl::parse_ask(const HttpRequest & req, int & status, std::string & code) {
    status = 400;
    code = "invalid_argument";
    if (req.content_length > static_cast<int64_t>(options.max_body_bytes) || req.body.size() > options.max_body_bytes) {
        status = 413;
        code = "payload_too_large";
        return core::Error(core::ErrorCode::kInvalidArgument, "request body is larger than the limit of " +
                                                                  std::to_string(options.max_body_bytes) + " bytes");
    }
    // Requiring JSON also keeps plain cross-site form posts out: they cannot send this type
    // without a CORS preflight, which this server never grants.
    if (!starts_with_ci(req.header("Content-Type"), kJsonType)) {
        status = 415;
        code = "unsupported_media_type";
        return core::Error(core::ErrorCode::kInvalidArgument, "request body must be application/json");
    }
    core::Result<core::Json> parsed = core::Json::parse(req.body);
    if (!parsed.ok()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "request body is not valid JSON: " + parsed.error().message());
    }
    const core::Json & body = parsed.value();
    if (!body.is_object()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "request body must be a JSON object");
    }
    const core::Json * question = body.find("question");
    if (question == nullptr || !question->is_string()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "\"question\" must be a string");
    }
    AskRequest ask;
    ask.question = core::collapse_whitespace(core::trim(question->as_string()));
    if (ask.question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "\"question\" is empty");
    }
    if (ask.question.size() > kMaxQuestionBytes) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "\"question\" is longer than " + std::to_string(kMaxQuestionBytes) + " bytes");
    }
    if (const core::Json * top_k = body.find("top_k"); top_k != nullptr && !top_k->is_null()) {
        if (!top_k->is_int() || top_k->as_int() < 1 || top_k->as_int() > kMaxTopK) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "\"top_k\" must be an integer from 1 to " + std::to_string(kMaxTopK));
        }
        ask.top_k = static_cast<int>(top_k->as_int());
    }
    ask.user = "anonymous";
    return ask;
}

bool Handler::Impl::host_allowed(const HttpRequest & req) const {
    if (options.allowed_hosts.empty()) {
        return true;
    }
    // HTTP/1.0 clients may omit Host; browsers, the only rebinding victims, always send it.
    std::string_view header = req.header("Host");
    if (header.empty()) {
        return true;
    }
    const std::string host = host_of(header);
    return std::any_of(options.allowed_hosts.begin(), options.allowed_hosts.end(),
                       [&](const std::string & allowed) { return host_of(allowed) == host; });
}

HttpResponse Handler::Impl::overloaded(const std::string & request_id) {
    metrics.record_rejected();
    HttpResponse res =
        error_response(503, "overloaded", "the server is busy answering other questions; retry shortly", request_id);
    res.set_header("Retry-After", std::to_string(options.retry_after_seconds));
    return res;
}

HttpResponse Handler::Impl::ask(const HttpRequest & req, const std::string & request_id) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> ask_request = parse_ask(req, status, code);
    if (!ask_request.ok()) {
        HttpResponse res = error_response(status, code, ask_request.error().message(), request_id);
        res.close_connection = status == 413;
        return res;
    }
    std::shared_ptr<Gate::Permit> permit = gate.acquire(std::chrono::milliseconds(options.queue_timeout_ms));
    if (!permit) {
        return overloaded(request_id);
    }
    core::Result<core::Answer> answer = service.ask(ask_request.value());
    if (!answer.ok()) {
        return error_response(answer.error(), request_id);
    }
    return json_response(200, core::to_json(answer.value()));
}

HttpResponse Handler::Impl::ask_stream(const HttpRequest & req, const std::string & request_id) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> parsed = parse_ask(req, status, code);
    if (!parsed.ok()) {
        HttpResponse res = error_response(status, code, parsed.error().message(), request_id);
        res.close_connection = status == 413;
        return res;
    }
    std::shared_ptr<Gate::Permit> permit = gate.acquire(std::chrono::milliseconds(options.queue_timeout_ms));
    if (!permit) {
        return overloaded(request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.set_header("Content-Type", "text/event-stream; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
    // The permit is dropped when the stream ends, not when the response object goes away.
    res.stream = [this, ask_request = std::move(parsed).value(), permit,
                  request_id](const StreamWriter & write) mutable {
        std::shared_ptr<Gate::Permit> held = std::move(permit);
        core::Json started = core::Json::object();
        started["stage"] = "started";
        started["request_id"] = request_id;
        if (!write(sse_event("stage", started))) {
            return;
        }
        AskSink sink = [&write](const AskProgress & event) {
            core::Json data = core::Json::object();
            switch (event.kind) {
                case AskProgress::Kind::kStage: data["stage"] = event.text; return write(sse_event("stage", data));
                case AskProgress::Kind::kText: data["text"] = event.text; return write(sse_event("text", data));
                case AskProgress::Kind::kAnswer: return write(sse_event("answer", core::to_json(event.answer)));
            }
            return false;
        };
        core::Status done = core::ok_status();
        try {
            done = service.ask_stream(ask_request, sink);
        } catch (const std::exception & e) {
            done = core::Error(core::ErrorCode::kInternal, std::string("ask_stream threw: ") + e.what());
        }
        if (!done.ok() && done.error().code() != core::ErrorCode::kCancelled) {
            write(sse_event("error",
                            error_json(core::to_string(done.error().code()), done.error().message(), request_id)));
        }
    };
    return res;
}

HttpResponse Handler::Impl::source(std::string_view id_text, const std::string & request_id) {
    int64_t chunk_id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), chunk_id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || chunk_id <= 0) {
        return error_response(400, "invalid_argument",
                              "chunk id must be a positive integer, got \"" + std::string(id_text.substr(0, 64)) + "\"",
                              request_id);
    }
    std::shared_ptr<Gate::Permit> permit = gate.acquire(std::chrono::milliseconds(options.queue_timeout_ms));
    if (!permit) {
        return overloaded(request_id);
    }
    core::Result<SourceView> view = service.source(chunk_id);
    if (!view.ok()) {
        return error_response(view.error(), request_id);
    }
    return json_response(200, to_json(view.value()));
}

HttpResponse Handler::Impl::dispatch(const HttpRequest & req, const std::string & request_id,
                                     std::string_view & route) {
    const std::string & path = req.path;
    auto only = [&](std::string_view method, std::string_view matched) -> std::optional<HttpResponse> {
        route = matched;
        if (req.method == method) {
            return std::nullopt;
        }
        HttpResponse res = error_response(
            405, "method_not_allowed",
            req.method + " is not allowed on " + std::string(matched) + "; use " + std::string(method), request_id);
        res.set_header("Allow", std::string(method));
        return res;
    };
    auto not_found = [&] {
        return error_response(404, "not_found", "no such resource: " + path.substr(0, kMaxLoggedPath), request_id);
    };

    if (path == "/" || path == "/index.html") {
        if (auto refused = only("GET", kRouteIndex)) {
            return *refused;
        }
        std::optional<HttpResponse> page = serve_asset(req, "index.html");
        SB_CHECK(page.has_value());  // embedded at build time
        return *page;
    }
    if (path.starts_with("/assets/")) {
        if (auto refused = only("GET", kRouteAssets)) {
            return *refused;
        }
        std::optional<HttpResponse> asset = serve_asset(req, std::string_view(path).substr(8));
        return asset ? *asset : not_found();
    }
    if (path == "/healthz") {
        if (auto refused = only("GET", kRouteHealth)) {
            return *refused;
        }
        return health();
    }
    if (path == "/readyz") {
        if (auto refused = only("GET", kRouteReady)) {
            return *refused;
        }
        return readiness(request_id);
    }
    if (path == "/metrics") {
        if (auto refused = only("GET", kRouteMetrics)) {
            return *refused;
        }
        HandlerLoad now = gate.load();
        HttpResponse res;
        res.body = metrics.render(now.running, now.queued);
        res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        return res;
    }
    if (path == "/api/v1/ask" || path == "/api/ask") {
        if (auto refused = only("POST", kRouteAsk)) {
            return *refused;
        }
        return ask(req, request_id);
    }
    if (path == "/api/v1/ask/stream") {
        if (auto refused = only("POST", kRouteAskStream)) {
            return *refused;
        }
        return ask_stream(req, request_id);
    }
    for (std::string_view prefix : {std::string_view("/api/v1/source/"), std::string_view("/api/source/")}) {
        if (path.starts_with(prefix)) {
            if (auto refused = only("GET", kRouteSource)) {
                return *refused;
            }
            return source(std::string_view(path).substr(prefix.size()), request_id);
        }
    }
    route = kRouteUnknown;
    return not_found();
}

void Handler::Impl::finish(const HttpRequest & req, const std::string & request_id, std::string_view route, int status,
                           size_t bytes, Clock::time_point start) {
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // Unknown methods would otherwise make unbounded label values.
    static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"};
    std::string_view method = "other";
    for (std::string_view m : kMethods) {
        if (req.method == m) {
            method = m;
        }
    }
    metrics.record(route, method, status, seconds);

    core::Json line = core::Json::object();
    line["kind"] = "access";
    line["request_id"] = request_id;
    line["method"] = std::string_view(req.method).substr(0, 16);
    line["path"] = std::string_view(req.path).substr(0, kMaxLoggedPath);
    line["route"] = route;
    line["status"] = status;
    line["bytes"] = static_cast<int64_t>(bytes);
    line["duration_ms"] = seconds * 1000.0;
    if (!req.remote_address.empty()) {
        line["remote"] = req.remote_address;
    }
    std::string text = line.dump();
    if (options.access_log) {
        options.access_log(text);
    } else {
        SB_LOG_INFO("%s", text.c_str());
    }
}

Handler::Handler(AppService & service, HandlerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

Handler::~Handler() = default;

const HandlerOptions & Handler::options() const {
    return impl_->options;
}

HandlerLoad Handler::load() const {
    return impl_->gate.load();
}

std::string Handler::metrics_text() const {
    HandlerLoad now = impl_->gate.load();
    return impl_->metrics.render(now.running, now.queued);
}

HttpResponse Handler::handle(const HttpRequest & request) {
    Clock::time_point start = Clock::now();
    std::string_view client_id = request.header("X-Request-Id");
    std::string request_id = acceptable_request_id(client_id) ? std::string(client_id) : new_request_id();
    std::string_view route = kRouteUnknown;

    HttpResponse res;
    try {
        res = impl_->host_allowed(request)
                  ? impl_->dispatch(request, request_id, route)
                  : error_response(421, "misdirected_request",
                                   "this server does not answer for host \"" +
                                       std::string(request.header("Host").substr(0, 128)) + "\"",
                                   request_id);
    } catch (const std::exception & e) {
        // The service broke its contract by throwing; the client still gets a well-formed answer.
        SB_LOG_ERROR("request %s: %s", request_id.c_str(), e.what());
        res = error_response(500, "internal", "internal error while serving the request", request_id);
    } catch (...) {
        SB_LOG_ERROR("request %s: unknown exception", request_id.c_str());
        res = error_response(500, "internal", "internal error while serving the request", request_id);
    }

    res.set_header("X-Request-Id", request_id);
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
    if (res.header("Cache-Control").empty()) {
        res.set_header("Cache-Control", "no-store");
    }

    if (res.stream) {
        // Account for the stream when its last byte is written, not when its headers are.
        auto inner = std::move(res.stream);
        res.stream = [this, inner = std::move(inner), request, request_id, route, start](const StreamWriter & write) {
            size_t bytes = 0;
            StreamWriter counting = [&](std::string_view piece) {
                bytes += piece.size();
                return write(piece);
            };
            try {
                inner(counting);
            } catch (const std::exception & e) {
                SB_LOG_ERROR("request %s: stream: %s", request_id.c_str(), e.what());
            }
            impl_->finish(request, request_id, route, 200, bytes, start);
        };
        return res;
    }
    res.set_header("Content-Length", std::to_string(res.body.size()));
    impl_->finish(request, request_id, route, res.status, res.body.size(), start);
    return res;
}

}  // namespace strongbox::webui
