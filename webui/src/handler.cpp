#include "strongbox/webui/handler.h"

#include "handler_impl.h"

namespace strongbox::webui {

void Handler::Impl::record(const std::string & kind, const std::string & actor, core::Json body) {
    core::Status st = services.audit.record_event(kind, actor, body);
    if (!st.ok() && st.error().code() != core::ErrorCode::kUnsupported) {
        SB_LOG_ERROR("audit: cannot record %s by %s: %s", kind.c_str(), actor.c_str(), st.error().message().c_str());
    }
}

core::Result<core::Json> Handler::Impl::json_body(const Call & call, int & status, std::string & code) {
    status = 400;
    code = "invalid_argument";
    // Requiring JSON also keeps plain cross-site form posts out: they cannot send this type
    // without a CORS preflight, which this server never grants.
    if (!starts_with_ci(call.req.header("Content-Type"), kJsonType)) {
        status = 415;
        code = "unsupported_media_type";
        return core::Error(core::ErrorCode::kInvalidArgument, "request body must be application/json");
    }
    core::Result<core::Json> parsed = core::Json::parse(call.req.body);
    if (!parsed.ok()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "request body is not valid JSON: " + parsed.error().message());
    }
    if (!parsed.value().is_object()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "request body must be a JSON object");
    }
    return parsed;
}

HttpResponse Handler::Impl::overloaded(const std::string & request_id) {
    metrics.record_rejected();
    HttpResponse res =
        error_response(503, "overloaded", "the server is busy answering other questions; retry shortly", request_id);
    res.set_header("Retry-After", std::to_string(options.retry_after_seconds));
    return res;
}

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

std::optional<std::string> Handler::Impl::role_of(const HttpRequest & req) {
    std::string session_id;
    bool presented = false;
    std::optional<access::Principal> p = authenticate(req, session_id, presented);
    return p ? std::optional<std::string>(p->user.role) : std::nullopt;
}

core::Json Handler::Impl::health_body(const HttpRequest & req) {
    const Health health = services.admin.health();
    const std::optional<std::string> role = role_of(req);
    if (role == access::kRoleAdmin) {
        return to_json(health);
    }
    core::Json j = core::Json::object();
    j["status"] = health.ok ? "ok" : "degraded";
    if (role) {
        // What the console's status line shows a signed-in user: the size of the box and read-only mode.
        j["documents"] = health.documents;
        j["chunks"] = health.chunks;
        core::Json disk = core::Json::object();
        disk["read_only"] = health.disk.read_only;
        if (health.disk.read_only) {
            disk["reason"] = health.disk.reason;
        }
        j["disk"] = std::move(disk);
    }
    return j;
}

HttpResponse Handler::Impl::readiness(const HttpRequest & req, const std::string & request_id) {
    core::Result<Readiness> ready = services.admin.readiness();
    if (!ready.ok()) {
        if (ready.error().code() == core::ErrorCode::kUnsupported) {
            // The service has no readiness notion: serving this request is all there is to check.
            core::Json j = core::Json::object();
            j["ready"] = true;
            return json_response(200, j);
        }
        return error_response(503, core::to_string(ready.error().code()), ready.error().message(), request_id);
    }
    core::Json body = to_json(ready.value());
    if (role_of(req) != access::kRoleAdmin) {
        // The disk's figures and what the answers are pinned to are for admins.
        body = core::Json::object();
        body["ready"] = ready->ready;
        body["read_only"] = ready->disk.read_only;
    }
    return json_response(ready->ready ? 200 : 503, body);
}

HttpResponse Handler::Impl::metrics_page(const HttpRequest & req, const std::string & request_id) {
    if (!(options.open_metrics_on_loopback && access::is_loopback_address(client_ip(req.remote_address)))) {
        std::string session_id;
        bool presented = false;
        std::optional<access::Principal> p = authenticate(req, session_id, presented);
        if (!p) {
            return error_response(401, "unauthenticated", "/metrics needs an admin's session or API token", request_id);
        }
        if (p->user.role != access::kRoleAdmin) {
            return error_response(403, "forbidden", "/metrics is for admins", request_id);
        }
    }
    HandlerLoad now = gate.load();
    HttpResponse res;
    res.body = metrics.render(now.running, now.queued);
    res.body += detail::render_service_metrics(to_json(services.admin.health()));
    res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return res;
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

HttpResponse Handler::Impl::dispatch(const HttpRequest & req, const std::string & request_id,
                                     std::string_view & route) {
    const std::string & path = req.path;
    auto only_get = [&](std::string_view matched) -> std::optional<HttpResponse> {
        route = matched;
        if (req.method == "GET") {
            return std::nullopt;
        }
        HttpResponse res =
            error_response(405, "method_not_allowed",
                           req.method + " is not allowed on " + std::string(matched) + "; use GET", request_id);
        res.set_header("Allow", "GET");
        return res;
    };
    auto not_found = [&] {
        return error_response(404, "not_found", "no such resource: " + path.substr(0, kMaxLoggedPath), request_id);
    };

    if (path == "/" || path == "/index.html") {
        if (auto refused = only_get("/")) {
            return *refused;
        }
        std::optional<HttpResponse> page = serve_asset(req, "index.html");
        SB_CHECK(page.has_value());  // embedded at build time
        return *page;
    }
    if (path.starts_with("/assets/")) {
        if (auto refused = only_get("/assets/{file}")) {
            return *refused;
        }
        std::optional<HttpResponse> asset = serve_asset(req, std::string_view(path).substr(8));
        return asset ? *asset : not_found();
    }
    if (path == "/healthz") {
        if (auto refused = only_get("/healthz")) {
            return *refused;
        }
        return json_response(200, health_body(req));
    }
    if (path == "/readyz") {
        if (auto refused = only_get("/readyz")) {
            return *refused;
        }
        return readiness(req, request_id);
    }
    if (path == "/metrics") {
        if (auto refused = only_get("/metrics")) {
            return *refused;
        }
        return metrics_page(req, request_id);
    }

    Call call{req, request_id, {}, std::nullopt, {}, std::nullopt};
    std::string allow;
    const Route * r = find_route(req, call.params, allow);
    if (r == nullptr) {
        if (allow.empty()) {
            route = kRouteUnknown;
            return not_found();
        }
        route = kRouteUnknown;
        HttpResponse res = error_response(
            405, "method_not_allowed",
            req.method + " is not allowed on " + path.substr(0, kMaxLoggedPath) + "; use " + allow, request_id);
        res.set_header("Allow", allow);
        return res;
    }
    route = r->pattern;

    if (r->roles != kPublic) {
        bool presented = false;
        call.principal = authenticate(req, call.session_id, presented);
        if (!call.principal) {
            HttpResponse res =
                error_response(401, "unauthenticated",
                               presented ? "the session has ended or the token is not valid; log in again"
                                         : "log in first (session cookie or Authorization: Bearer token)",
                               request_id);
            if (presented && !call.session_id.empty()) {
                res.set_header("Set-Cookie", cookie("", 0));
            }
            return res;
        }
        if (state_changing(req.method) && !call.principal->is_token &&
            !equal_secret(req.header("X-CSRF-Token"), call.principal->csrf_token)) {
            return error_response(403, "csrf", "missing or wrong X-CSRF-Token header", request_id);
        }
        if ((r->roles & role_bit(call.principal->user.role)) == 0) {
            return error_response(403, "forbidden",
                                  "the " + call.principal->user.role + " role may not " + req.method + " " +
                                      std::string(r->pattern),
                                  request_id);
        }
    }

    const size_t limit = limit_for(r->body);
    if (req.content_length > static_cast<int64_t>(limit) || req.body.size() > limit) {
        HttpResponse res =
            error_response(413, "payload_too_large",
                           "request body is larger than the limit of " + std::to_string(limit) + " bytes", request_id);
        res.close_connection = true;
        return res;
    }
    return (this->*(r->fn))(call);
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

Handler::Handler(Services services, access::Accounts & accounts, HandlerOptions options)
    : impl_(std::make_unique<Impl>(services, accounts, std::move(options))) {}

Handler::~Handler() = default;

const HandlerOptions & Handler::options() const {
    return impl_->options;
}

HandlerLoad Handler::load() const {
    HandlerLoad out = impl_->gate.load();
    const HandlerLoad logins = impl_->login_gate.load();
    out.logins_running = logins.running;
    out.logins_queued = logins.queued;
    return out;
}

std::string Handler::metrics_text() const {
    HandlerLoad now = impl_->gate.load();
    return impl_->metrics.render(now.running, now.queued);
}

std::vector<std::string> Handler::api_routes() {
    std::vector<std::string> out;
    for (const Impl::Route & r : Impl::routes()) {
        out.push_back(std::string(r.method) + " " + std::string(r.pattern));
    }
    return out;
}

size_t Handler::body_limit(const HttpRequest & head) {
    std::vector<std::string> params;
    std::string allow;
    const Impl::Route * r = impl_->find_route(head, params, allow);
    if (r == nullptr || r->body == Body::kJson || r->body == Body::kNone) {
        return impl_->options.max_body_bytes;
    }
    // Large bodies are read only for callers who may send them, so strangers cannot make the
    // server buffer 64 MiB each.
    try {
        std::string session_id;
        bool presented = false;
        std::optional<access::Principal> p = impl_->authenticate(head, session_id, presented);
        if (p && (r->roles & role_bit(p->user.role)) != 0) {
            return impl_->limit_for(r->body);
        }
    } catch (const std::exception & e) {
        SB_LOG_ERROR("body_limit: %s", e.what());
    }
    return impl_->options.max_body_bytes;
}

void Handler::Impl::add_common_headers(HttpResponse & res, const std::string & request_id) const {
    res.set_header("X-Request-Id", request_id);
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
    if (options.secure_cookies) {
        res.set_header("Strict-Transport-Security", "max-age=31536000");
    }
    if (res.header("Cache-Control").empty()) {
        res.set_header("Cache-Control", "no-store");
    }
}

HttpResponse Handler::connection_overloaded(std::string_view remote_address) {
    const Clock::time_point start = Clock::now();
    const std::string request_id = new_request_id();
    HttpResponse res = impl_->overloaded(request_id);
    impl_->add_common_headers(res, request_id);
    res.set_header("Content-Length", std::to_string(res.body.size()));
    res.close_connection = true;
    HttpRequest unread;  // the request stays on the wire: only who asked is known
    unread.remote_address = std::string(remote_address);
    impl_->finish(unread, request_id, kRouteConnectionLimit, res.status, res.body.size(), start);
    return res;
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
    } catch (const std::bad_alloc &) {
        // Out of memory mid-request: every store write is one transaction, so nothing half-done
        // was kept; say so instead of a bare 500.
        SB_LOG_ERROR("request %s: out of memory", request_id.c_str());
        res = error_response(503, "out_of_memory",
                             "the appliance ran out of memory serving this request; nothing was "
                             "changed, try again shortly",
                             request_id);
    } catch (const std::exception & e) {
        // The service broke its contract by throwing; the client still gets a well-formed answer.
        SB_LOG_ERROR("request %s: %s", request_id.c_str(), e.what());
        res = error_response(500, "internal", "internal error while serving the request", request_id);
    } catch (...) {
        SB_LOG_ERROR("request %s: unknown exception", request_id.c_str());
        res = error_response(500, "internal", "internal error while serving the request", request_id);
    }

    impl_->add_common_headers(res, request_id);

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
