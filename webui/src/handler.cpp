#include "strongbox/webui/handler.h"

#include "assets.h"
#include "metrics.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <span>

#include <sodium.h>

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

constexpr std::string_view kRouteUnknown = "unmatched";
constexpr std::string_view kRouteConnectionLimit = "connection_limit";  // refused before a request was read
constexpr std::string_view kSessionCookie = "sb_session";

int status_for(core::ErrorCode code) {
    switch (code) {
        case core::ErrorCode::kInvalidArgument: return 400;
        case core::ErrorCode::kNotFound: return 404;
        case core::ErrorCode::kPermissionDenied: return 403;
        case core::ErrorCode::kAlreadyExists: return 409;
        case core::ErrorCode::kResourceExhausted: return 429;
        case core::ErrorCode::kUnsupported: return 501;
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
    if (error.code() == core::ErrorCode::kReadOnly) {
        return error_response(507, "insufficient_storage", error.message(), request_id);
    }
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
    j["kind"] = view.kind.empty() ? "text" : view.kind;
    if (view.kind == "pdf") {
        j["page_width"] = view.page_width;
        j["page_height"] = view.page_height;
    }
    core::Json boxes = core::Json::array();
    for (const core::Box & b : view.boxes) {
        core::Json box = core::Json::object();
        box["page"] = static_cast<int64_t>(view.provenance.page);
        box["x0"] = b.x0;
        box["y0"] = b.y0;
        box["x1"] = b.x1;
        box["y1"] = b.y1;
        boxes.push_back(std::move(box));
    }
    j["boxes"] = std::move(boxes);
    if (!view.log_template.empty()) {
        j["template"] = view.log_template;
    }
    if (!view.collection.empty()) {
        j["collection"] = view.collection;
    }
    if (view.document_id != 0) {
        j["document_id"] = view.document_id;
    }
    return j;
}

std::string sse_event(std::string_view name, const core::Json & data) {
    // dump() escapes newlines inside strings, so the payload is always one data: line.
    return "event: " + std::string(name) + "\ndata: " + data.dump() + "\n\n";
}

// Bounds the service work in flight: a slot per running call, a bounded waiting line, and an
// immediate refusal beyond it, so overload turns into fast 503s rather than piled-up connections.
// The line is first come, first served: a freed slot passes straight to the oldest waiter, and a
// newcomer runs at once only when nobody is waiting. With a shared condition variable instead, a
// newcomer could take the slot between the release and the waiter's wake-up, and under steady
// load the unlucky waiters made the latency tail (search p99 at 32 connections was 4x its p50).
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
        if (running_ < max_running_ && waiting_.empty()) {
            ++running_;
            return std::make_shared<Permit>(*this);
        }
        if (static_cast<int>(waiting_.size()) >= max_queued_) {
            return nullptr;
        }
        Waiter me;
        waiting_.push_back(&me);
        if (!me.cv.wait_for(lock, timeout, [&me] { return me.admitted; })) {
            waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &me));
            return nullptr;
        }
        return std::make_shared<Permit>(*this);  // release() counted the slot as ours already
    }

    HandlerLoad load() const {
        std::lock_guard lock(mu_);
        return HandlerLoad{running_, static_cast<int>(waiting_.size())};
    }

  private:
    struct Waiter {
        std::condition_variable cv;
        bool admitted = false;
    };

    void release() {
        std::lock_guard lock(mu_);
        if (waiting_.empty()) {
            --running_;
            return;
        }
        Waiter * next = waiting_.front();
        waiting_.pop_front();
        next->admitted = true;  // the slot changes hands without ever looking free
        next->cv.notify_one();  // under the lock: once it is released the waiter may return and be gone
    }

    const int max_running_;
    const int max_queued_;
    mutable std::mutex mu_;
    std::deque<Waiter *> waiting_;  // oldest first; each lives on its caller's stack while queued
    int running_ = 0;
};


// ---- small request helpers -----------------------------------------------------------------------

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The decoded value of `name` in a query string; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    for (std::string_view pair : core::split(query, '&')) {
        const size_t eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        }
    }
    return std::nullopt;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
    for (std::string_view part : core::split(header, ';')) {
        part = core::trim(part);
        if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
            return part.substr(name.size() + 1);
        }
    }
    return {};
}

// "10.0.0.7:53122" -> "10.0.0.7"; "[::1]:53122" -> "::1".
std::string client_ip(std::string_view remote) {
    if (remote.starts_with('[')) {
        const size_t close = remote.find(']');
        return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    }
    if (std::count(remote.begin(), remote.end(), ':') == 1) {
        return std::string(remote.substr(0, remote.find(':')));
    }
    return std::string(remote);
}

bool is_loopback_ip(const std::string & ip) {
    return ip.starts_with("127.") || ip == "::1" || ip.starts_with("::ffff:127.");
}

bool equal_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

core::Json user_json(const access::User & u) {
    core::Json j = core::Json::object();
    j["name"] = u.name;
    j["role"] = u.role;
    core::Json groups = core::Json::array();
    for (const std::string & g : u.groups) {
        groups.push_back(g);
    }
    j["groups"] = std::move(groups);
    j["language"] = u.language;
    j["disabled"] = u.disabled;
    j["created_at"] = core::format_iso8601_utc(u.created_at * 1000000);
    return j;
}

core::Json token_json(const access::ApiToken & t) {
    core::Json j = core::Json::object();
    j["id"] = t.id;
    j["name"] = t.name;
    j["user"] = t.user;
    j["created_at"] = core::format_iso8601_utc(t.created_at * 1000000);
    j["last_used_at"] = t.last_used_at == 0 ? core::Json() : core::Json(core::format_iso8601_utc(t.last_used_at * 1000000));
    return j;
}

std::optional<int64_t> positive_id(std::string_view text) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
        return std::nullopt;
    }
    return id;
}

// A file name safe inside a quoted Content-Disposition parameter.
std::string safe_file_name(std::string_view name) {
    std::string out;
    for (char c : name.substr(0, 128)) {
        out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ? c : '_';
    }
    return out.empty() ? "download" : out;
}

// ---- the route table -----------------------------------------------------------------------------

// Who may call a route. kPublic routes run without credentials (they may still look at them).
enum Roles : unsigned {
    kPublic = 0,
    kAdmin = 1u << 0,
    kStaff = 1u << 1,
    kAuditor = 1u << 2,
    kAnyRole = kAdmin | kStaff | kAuditor,
};

unsigned role_bit(std::string_view role) {
    if (role == access::kRoleAdmin) {
        return kAdmin;
    }
    if (role == access::kRoleStaff) {
        return kStaff;
    }
    if (role == access::kRoleAuditor) {
        return kAuditor;
    }
    return 0;
}

enum class Body { kJson, kUpload, kUpdate, kNone };

// Everything a route function needs about the request in hand.
struct Call {
    const HttpRequest & req;
    const std::string & request_id;
    std::vector<std::string> params;     // the {x} segments of the pattern, in order
    std::optional<access::Principal> principal;  // set for authenticated calls
    std::string session_id;              // raw cookie value, for logout
    std::optional<Caller> caller_cache;
};

// Walks pattern and path segment by segment ("/api/v1/documents/{id}" against
// "/api/v1/documents/7"). It runs for every route on every request, so it allocates only for the
// parameters it captures.
bool match_pattern(std::string_view pattern, std::string_view path, std::vector<std::string> & params) {
    params.clear();
    size_t p = 0;  // where the current segment starts in pattern and in path
    size_t q = 0;
    while (true) {
        const size_t p_end = std::min(pattern.find('/', p), pattern.size());
        const size_t q_end = std::min(path.find('/', q), path.size());
        const std::string_view want = pattern.substr(p, p_end - p);
        const std::string_view have = path.substr(q, q_end - q);
        if (want.starts_with('{')) {
            if (have.empty()) {
                return false;
            }
            params.emplace_back(have);
        } else if (want != have) {
            return false;
        }
        const bool pattern_ends = p_end == pattern.size();
        const bool path_ends = q_end == path.size();
        if (pattern_ends || path_ends) {
            return pattern_ends && path_ends;
        }
        p = p_end + 1;
        q = q_end + 1;
    }
}

bool state_changing(std::string_view method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

struct Handler::Impl {
    using RouteFn = HttpResponse (Impl::*)(Call & call);
    struct Route {
        std::string_view method;
        std::string_view pattern;  // "/api/v1/documents/{id}/versions"; also the metrics label
        unsigned roles;
        RouteFn fn;
        Body body = Body::kJson;
    };
    static std::span<const Route> routes();

    Impl(AppService & s, access::Accounts & a, HandlerOptions o)
        : service(s), accounts(a), options(std::move(o)), gate(options.max_concurrent, options.max_queued),
          login_gate(options.max_concurrent_logins, options.max_queued_logins) {}

    HttpResponse dispatch(const HttpRequest & req, const std::string & request_id, std::string_view & route);
    const Route * find_route(const HttpRequest & req, std::vector<std::string> & params, std::string & allow) const;
    std::optional<access::Principal> authenticate(const HttpRequest & req, std::string & session_id, bool & presented);
    std::optional<HttpResponse> serve_asset(const HttpRequest & req, std::string_view name);
    HttpResponse readiness(const std::string & request_id);
    HttpResponse metrics_page(const HttpRequest & req, const std::string & request_id);
    HttpResponse overloaded(const std::string & request_id);
    void add_common_headers(HttpResponse & res, const std::string & request_id) const;
    bool host_allowed(const HttpRequest & req) const;
    void finish(const HttpRequest & req, const std::string & request_id, std::string_view route, int status,
                size_t bytes, Clock::time_point start);
    size_t limit_for(Body body) const;

    core::Result<core::Json> json_body(const Call & call, int & status, std::string & code);
    const Caller & caller(Call & call);
    void record(const std::string & kind, const std::string & actor, core::Json body);
    HttpResponse session_response(const access::Session & s, const std::string & request_id);
    std::string cookie(const std::string & value, int64_t max_age) const;
    HttpResponse bad_request(const Call & call, std::string message) {
        return error_response(400, "invalid_argument", message, call.request_id);
    }
    std::shared_ptr<Gate::Permit> admit() {
        return gate.acquire(std::chrono::milliseconds(options.queue_timeout_ms));
    }
    // Accounts, groups, grants and tokens are stored here rather than by the service, so each such
    // change asks the service first whether the appliance is read-only (disk full): refused up front
    // with 507 and the reason, like the service's own writes, instead of failing half-way with 500.
    // Logins, logouts, token revocations and disabling a user are not asked: see the route functions.
    std::optional<HttpResponse> read_only_refusal(const Call & call) {
        core::Status st = service.writable();
        return st.ok() ? std::nullopt : std::optional<HttpResponse>(error_response(st.error(), call.request_id));
    }

    // Route functions.
    HttpResponse me(Call & call);
    HttpResponse setup(Call & call);
    HttpResponse login(Call & call);
    HttpResponse logout(Call & call);
    HttpResponse set_language(Call & call);
    HttpResponse ask(Call & call);
    HttpResponse ask_stream(Call & call);
    HttpResponse search(Call & call);
    HttpResponse history(Call & call);
    HttpResponse source(Call & call);
    HttpResponse page_image(Call & call);
    HttpResponse collections(Call & call);
    HttpResponse create_collection(Call & call);
    HttpResponse set_grants(Call & call);
    HttpResponse documents(Call & call);
    HttpResponse upload(Call & call);
    HttpResponse job(Call & call);
    HttpResponse versions(Call & call);
    HttpResponse remove_document(Call & call);
    HttpResponse quarantine(Call & call);
    HttpResponse audit_search(Call & call);
    HttpResponse audit_record(Call & call);
    HttpResponse audit_export(Call & call);
    HttpResponse list_users(Call & call);
    HttpResponse add_user(Call & call);
    HttpResponse change_user(Call & call);
    HttpResponse delete_user(Call & call);
    HttpResponse list_groups(Call & call);
    HttpResponse add_group(Call & call);
    HttpResponse create_token(Call & call);
    HttpResponse list_tokens(Call & call);
    HttpResponse revoke_token(Call & call);
    HttpResponse admin_status(Call & call);
    HttpResponse selftest(Call & call);
    HttpResponse get_settings(Call & call);
    HttpResponse put_settings(Call & call);
    HttpResponse install_update(Call & call);

    core::Result<AskRequest> parse_ask(Call & call, int & status, std::string & code);

    AppService & service;
    access::Accounts & accounts;
    HandlerOptions options;
    Gate gate;
    Gate login_gate;  // password checks only: see HandlerOptions::max_concurrent_logins
    detail::Metrics metrics;
};

// The one place that says who may call what. Order matters where a literal segment and a {param}
// could both match ("/audit/export" before "/audit/{id}").
std::span<const Handler::Impl::Route> Handler::Impl::routes() {
    using I = Impl;
    static const Route kRoutes[] = {
    {"GET", "/api/v1/me", kPublic, &I::me, Body::kNone},
    {"POST", "/api/v1/setup", kPublic, &I::setup},
    {"POST", "/api/v1/login", kPublic, &I::login},
    {"POST", "/api/v1/logout", kAnyRole, &I::logout, Body::kNone},
    {"PUT", "/api/v1/me/language", kAnyRole, &I::set_language},
    {"POST", "/api/v1/ask", kStaff | kAdmin, &I::ask},
    {"POST", "/api/ask", kStaff | kAdmin, &I::ask},
    {"POST", "/api/v1/ask/stream", kStaff | kAdmin, &I::ask_stream},
    {"POST", "/api/v1/search", kStaff | kAdmin, &I::search},
    {"GET", "/api/v1/history", kStaff | kAdmin, &I::history, Body::kNone},
    {"GET", "/api/v1/source/{id}", kAnyRole, &I::source, Body::kNone},
    {"GET", "/api/source/{id}", kAnyRole, &I::source, Body::kNone},
    {"GET", "/api/v1/source/{id}/page.png", kAnyRole, &I::page_image, Body::kNone},
    {"GET", "/api/v1/collections", kAnyRole, &I::collections, Body::kNone},
    {"POST", "/api/v1/collections", kAdmin, &I::create_collection},
    {"PUT", "/api/v1/collections/{name}/grants", kAdmin, &I::set_grants},
    {"GET", "/api/v1/documents", kStaff | kAdmin | kAuditor, &I::documents, Body::kNone},
    {"POST", "/api/v1/documents", kStaff | kAdmin, &I::upload, Body::kUpload},
    {"GET", "/api/v1/documents/{id}/versions", kStaff | kAdmin | kAuditor, &I::versions, Body::kNone},
    {"DELETE", "/api/v1/documents/{id}", kStaff | kAdmin, &I::remove_document, Body::kNone},
    {"GET", "/api/v1/jobs/{id}", kStaff | kAdmin, &I::job, Body::kNone},
    {"GET", "/api/v1/quarantine", kAdmin, &I::quarantine, Body::kNone},
    {"GET", "/api/v1/audit", kAuditor | kAdmin, &I::audit_search, Body::kNone},
    {"GET", "/api/v1/audit/export", kAuditor | kAdmin, &I::audit_export, Body::kNone},
    {"GET", "/api/v1/audit/{id}", kAuditor | kAdmin, &I::audit_record, Body::kNone},
    {"GET", "/api/v1/users", kAdmin, &I::list_users, Body::kNone},
    {"POST", "/api/v1/users", kAdmin, &I::add_user},
    {"PATCH", "/api/v1/users/{name}", kAdmin, &I::change_user},
    {"DELETE", "/api/v1/users/{name}", kAdmin, &I::delete_user, Body::kNone},
    {"GET", "/api/v1/groups", kAdmin, &I::list_groups, Body::kNone},
    {"POST", "/api/v1/groups", kAdmin, &I::add_group},
    {"POST", "/api/v1/tokens", kAnyRole, &I::create_token},
    {"GET", "/api/v1/tokens", kAnyRole, &I::list_tokens, Body::kNone},
    {"DELETE", "/api/v1/tokens/{id}", kAnyRole, &I::revoke_token, Body::kNone},
    {"GET", "/api/v1/admin/status", kAdmin, &I::admin_status, Body::kNone},
    {"POST", "/api/v1/admin/selftest", kAdmin, &I::selftest, Body::kNone},
    {"GET", "/api/v1/settings", kAdmin, &I::get_settings, Body::kNone},
    {"PUT", "/api/v1/settings", kAdmin, &I::put_settings},
    {"POST", "/api/v1/admin/update", kAdmin, &I::install_update, Body::kUpdate},
};
    return kRoutes;
}


size_t Handler::Impl::limit_for(Body body) const {
    switch (body) {
        case Body::kUpload: return options.max_upload_bytes;
        case Body::kUpdate: return options.max_update_bytes;
        default: return options.max_body_bytes;
    }
}

const Handler::Impl::Route * Handler::Impl::find_route(const HttpRequest & req, std::vector<std::string> & params,
                                        std::string & allow) const {
    allow.clear();
    std::vector<std::string> scratch;
    for (const Route & r : routes()) {
        if (!match_pattern(r.pattern, req.path, scratch)) {
            continue;
        }
        if (r.method == req.method) {
            params = std::move(scratch);
            return &r;
        }
        // A literal route answering another method must not hide a {param} route of this one.
        if (allow.find(r.method) == std::string::npos) {
            allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        }
    }
    return nullptr;
}

std::optional<access::Principal> Handler::Impl::authenticate(const HttpRequest & req, std::string & session_id,
                                                     bool & presented) {
    presented = false;
    std::string_view auth = req.header("Authorization");
    if (starts_with_ci(auth, "Bearer ")) {
        presented = true;
        core::Result<access::Principal> p = accounts.token(core::trim(auth.substr(7)));
        if (!p.ok()) {
            if (p.error().code() != core::ErrorCode::kNotFound) {
                SB_LOG_ERROR("auth: %s", p.error().message().c_str());
            }
            return std::nullopt;
        }
        return std::move(p).value();
    }
    std::string_view id = cookie_value(req.header("Cookie"), kSessionCookie);
    if (id.empty()) {
        return std::nullopt;
    }
    presented = true;
    session_id = std::string(id);
    core::Result<access::Principal> p = accounts.session(id);
    if (!p.ok()) {
        if (p.error().code() != core::ErrorCode::kNotFound) {
            SB_LOG_ERROR("auth: %s", p.error().message().c_str());
        }
        return std::nullopt;
    }
    return std::move(p).value();
}

const Caller & Handler::Impl::caller(Call & call) {
    if (call.caller_cache) {
        return *call.caller_cache;
    }
    Caller c;
    const access::User & u = call.principal->user;
    c.user = u.name;
    c.role = u.role;
    c.groups = u.groups;
    if (u.role == access::kRoleAdmin) {
        // Admins reach every collection the service knows. This runs on every request: names only,
        // not collections(), which counts every collection's documents.
        core::Result<std::vector<std::string>> names = service.collection_names();
        if (names.ok()) {
            c.readable = std::move(names).value();
        } else if (names.error().code() == core::ErrorCode::kUnsupported) {
            core::Result<core::Json> all = service.collections(c);
            const core::Json * list = all.ok() ? all.value().find("collections") : nullptr;
            for (size_t i = 0; list != nullptr && list->is_array() && i < list->as_array().size(); ++i) {
                c.readable.push_back(list->as_array()[i].get_string("name"));
            }
        }
        c.writable = c.readable;
    } else {
        std::set<std::string> readable;
        std::set<std::string> writable;
        core::Result<std::vector<access::Grant>> grants = accounts.grants_of(u.groups);
        if (grants.ok()) {
            for (const access::Grant & g : grants.value()) {
                readable.insert(g.collection);
                // Auditors change nothing, whatever their groups may write.
                if (g.access == "write" && u.role == access::kRoleStaff) {
                    writable.insert(g.collection);
                }
            }
        } else {
            SB_LOG_ERROR("auth: %s", grants.error().message().c_str());
        }
        c.readable.assign(readable.begin(), readable.end());
        c.writable.assign(writable.begin(), writable.end());
    }
    call.caller_cache = std::move(c);
    return *call.caller_cache;
}

void Handler::Impl::record(const std::string & kind, const std::string & actor, core::Json body) {
    core::Status st = service.record_event(kind, actor, body);
    if (!st.ok() && st.error().code() != core::ErrorCode::kUnsupported) {
        SB_LOG_ERROR("audit: cannot record %s by %s: %s", kind.c_str(), actor.c_str(), st.error().message().c_str());
    }
}

std::string Handler::Impl::cookie(const std::string & value, int64_t max_age) const {
    std::string c = std::string(kSessionCookie) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
                    "; HttpOnly; SameSite=Strict";
    if (options.secure_cookies) {
        c += "; Secure";
    }
    return c;
}

HttpResponse Handler::Impl::session_response(const access::Session & s, const std::string & request_id) {
    (void)request_id;
    core::Json body = core::Json::object();
    body["user"] = user_json(s.user);
    body["csrf_token"] = s.csrf_token;
    HttpResponse res = json_response(200, body);
    res.set_header("Set-Cookie", cookie(s.id, std::max<int64_t>(1, s.expires_at - s.issued_at)));
    return res;
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
        return core::Error(core::ErrorCode::kInvalidArgument, "request body is not valid JSON: " + parsed.error().message());
    }
    if (!parsed.value().is_object()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "request body must be a JSON object");
    }
    return parsed;
}

// Parses the body or answers the error; used as: SB_BODY(body) at the top of a route.
#define SB_JSON_BODY(var)                                                               \
    core::Json var;                                                                     \
    {                                                                                   \
        int sb_status = 0;                                                              \
        std::string sb_code;                                                            \
        core::Result<core::Json> sb_parsed = json_body(call, sb_status, sb_code);       \
        if (!sb_parsed.ok()) {                                                          \
            return error_response(sb_status, sb_code, sb_parsed.error().message(), call.request_id); \
        }                                                                               \
        var = std::move(sb_parsed).value();                                             \
    }

namespace {

core::Result<std::vector<std::string>> string_list(const core::Json & body, std::string_view key) {
    std::vector<std::string> out;
    const core::Json * list = body.find(key);
    if (list == nullptr || list->is_null()) {
        return out;
    }
    if (!list->is_array()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "\"" + std::string(key) + "\" must be an array of strings");
    }
    for (const core::Json & item : list->as_array()) {
        if (!item.is_string()) {
            return core::Error(core::ErrorCode::kInvalidArgument, "\"" + std::string(key) + "\" must be an array of strings");
        }
        out.push_back(item.as_string());
    }
    return out;
}

}  // namespace

// ---- session routes ------------------------------------------------------------------------------

HttpResponse Handler::Impl::me(Call & call) {
    core::Result<bool> any = accounts.has_users();
    if (!any.ok()) {
        return error_response(any.error(), call.request_id);
    }
    std::string session_id;
    bool presented = false;
    std::optional<access::Principal> p = authenticate(call.req, session_id, presented);
    core::Json body = core::Json::object();
    body["setup_required"] = !any.value();
    body["user"] = p ? user_json(p->user) : core::Json();
    body["csrf_token"] = p && !p->is_token ? core::Json(p->csrf_token) : core::Json();
    return json_response(200, body);
}

HttpResponse Handler::Impl::setup(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    const std::string password = body.get_string("password");
    core::Status made = accounts.create_first_admin(name, password);
    if (!made.ok()) {
        if (made.error().code() == core::ErrorCode::kAlreadyExists) {
            return error_response(409, "already_set_up", "setup is done; log in instead", call.request_id);
        }
        return error_response(made.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "setup";
    event["user"] = name;
    event["role"] = access::kRoleAdmin;
    event["client"] = client_ip(call.req.remote_address);
    record("user_change", name, event);
    return login(call);
}

HttpResponse Handler::Impl::login(Call & call) {
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    const std::string password = body.get_string("password");
    const std::string ip = client_ip(call.req.remote_address);
    if (name.empty() || password.empty()) {
        return bad_request(call, "\"name\" and \"password\" are required");
    }
    // A locked name or address is refused by login() before any password check, so only checks
    // that will run wait for the gate; beyond it the refusal is immediate, like the 503s of asks.
    std::shared_ptr<Gate::Permit> permit;
    if (accounts.retry_after(name, ip) == 0) {
        permit = login_gate.acquire(std::chrono::milliseconds(options.login_queue_timeout_ms));
        if (!permit) {
            metrics.record_login("busy");
            HttpResponse res = error_response(429, "too_many_attempts",
                                              "the server is checking other logins; try again shortly", call.request_id);
            res.set_header("Retry-After", std::to_string(options.retry_after_seconds));
            return res;
        }
    }
    core::Result<access::LoginAttempt> attempt = accounts.login(name, password, ip);
    if (!attempt.ok()) {
        return error_response(attempt.error(), call.request_id);
    }
    const std::string actor = access::Accounts::valid_name(name) ? name : "(invalid name)";
    core::Json event = core::Json::object();
    event["user"] = actor;
    event["client"] = ip;
    switch (attempt.value().outcome) {
        case access::LoginAttempt::Outcome::kThrottled: {
            metrics.record_login("throttled");
            HttpResponse res = error_response(429, "too_many_attempts",
                                              "too many failed logins; try again later", call.request_id);
            res.set_header("Retry-After", std::to_string(attempt.value().retry_after_s));
            return res;
        }
        case access::LoginAttempt::Outcome::kBadCredentials:
            metrics.record_login("failed");
            record("login_failed", actor, event);
            return error_response(401, "invalid_credentials", "wrong user name or password", call.request_id);
        case access::LoginAttempt::Outcome::kOk: break;
    }
    // Logging in stores a session row even in read-only mode: a few hundred bytes, written like the
    // audit records of answers into the space the disk reserve freed (read_only.h note 2), so staff
    // can still log in to search and auditors to audit. Should even that fail, Accounts reports the
    // full disk as the read-only refusal and the login gets 507 with the reason, never a 500.
    metrics.record_login("ok");
    record("login", name, event);
    return session_response(attempt.value().session, call.request_id);
}

// Never refused in read-only mode: ending a session deletes a row and must always work.
HttpResponse Handler::Impl::logout(Call & call) {
    HttpResponse res;
    res.status = 204;
    if (!call.principal->is_token) {
        if (core::Status st = accounts.logout(call.session_id); !st.ok()) {
            return error_response(st.error(), call.request_id);
        }
        core::Json event = core::Json::object();
        event["client"] = client_ip(call.req.remote_address);
        record("logout", call.principal->user.name, event);
    }
    res.set_header("Set-Cookie", cookie("", 0));
    return res;
}

HttpResponse Handler::Impl::set_language(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    access::UserChange change;
    change.language = body.get_string("language");
    if (core::Status st = accounts.update_user(call.principal->user.name, change); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Result<access::User> u = accounts.user(call.principal->user.name);
    if (!u.ok()) {
        return error_response(u.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["user"] = user_json(u.value());
    return json_response(200, out);
}

// ---- asking and reading --------------------------------------------------------------------------

core::Result<AskRequest> Handler::Impl::parse_ask(Call & call, int & status, std::string & code) {
    SB_ASSIGN_OR_RETURN(core::Json body, json_body(call, status, code));
    status = 400;
    code = "invalid_argument";
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
    SB_ASSIGN_OR_RETURN(ask.collections, string_list(body, "collections"));
    ask.caller = caller(call);
    ask.user = ask.caller.user;
    return ask;
}

HttpResponse Handler::Impl::overloaded(const std::string & request_id) {
    metrics.record_rejected();
    HttpResponse res =
        error_response(503, "overloaded", "the server is busy answering other questions; retry shortly", request_id);
    res.set_header("Retry-After", std::to_string(options.retry_after_seconds));
    return res;
}

HttpResponse Handler::Impl::ask(Call & call) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> ask_request = parse_ask(call, status, code);
    if (!ask_request.ok()) {
        return error_response(status, code, ask_request.error().message(), call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Answer> answer = service.ask(ask_request.value());
    if (!answer.ok()) {
        return error_response(answer.error(), call.request_id);
    }
    return json_response(200, core::to_json(answer.value()));
}

HttpResponse Handler::Impl::ask_stream(Call & call) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> parsed = parse_ask(call, status, code);
    if (!parsed.ok()) {
        return error_response(status, code, parsed.error().message(), call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.set_header("Content-Type", "text/event-stream; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
    // The permit is dropped when the stream ends, not when the response object goes away.
    res.stream = [this, ask_request = std::move(parsed).value(), permit,
                  request_id = call.request_id](const StreamWriter & write) mutable {
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

HttpResponse Handler::Impl::search(Call & call) {
    SB_JSON_BODY(body);
    const std::string query = core::collapse_whitespace(core::trim(body.get_string("query")));
    if (query.empty() || query.size() > kMaxQuestionBytes) {
        return bad_request(call, "\"query\" must be a string of 1 to " + std::to_string(kMaxQuestionBytes) + " bytes");
    }
    int top_k = 10;
    if (const core::Json * k = body.find("top_k"); k != nullptr && !k->is_null()) {
        if (!k->is_int() || k->as_int() < 1 || k->as_int() > kMaxTopK) {
            return bad_request(call, "\"top_k\" must be an integer from 1 to " + std::to_string(kMaxTopK));
        }
        top_k = static_cast<int>(k->as_int());
    }
    core::Result<std::vector<std::string>> collections = string_list(body, "collections");
    if (!collections.ok()) {
        return bad_request(call, collections.error().message());
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Json> hits = service.search(query, top_k, collections.value(), caller(call));
    return hits.ok() ? json_response(200, hits.value()) : error_response(hits.error(), call.request_id);
}

HttpResponse Handler::Impl::history(Call & call) {
    core::Result<core::Json> out = service.history(caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::source(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "chunk id must be a positive integer, got \"" + call.params[0].substr(0, 64) + "\"");
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<SourceView> view = service.source(*id, caller(call));
    return view.ok() ? json_response(200, to_json(view.value())) : error_response(view.error(), call.request_id);
}

HttpResponse Handler::Impl::page_image(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "chunk id must be a positive integer, got \"" + call.params[0].substr(0, 64) + "\"");
    }
    int dpi = 100;
    if (std::optional<std::string> d = query_param(call.req.query, "dpi")) {
        std::optional<int64_t> v = positive_id(*d);
        if (!v || *v < 36 || *v > 300) {
            return bad_request(call, "dpi must be an integer from 36 to 300");
        }
        dpi = static_cast<int>(*v);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<std::string> png = service.page_image(*id, dpi, caller(call));
    if (!png.ok()) {
        return error_response(png.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.body = std::move(png).value();
    res.set_header("Content-Type", "image/png");
    res.set_header("Cache-Control", "private, max-age=300");
    return res;
}

// ---- collections and documents -------------------------------------------------------------------

HttpResponse Handler::Impl::collections(Call & call) {
    core::Result<core::Json> out = service.collections(caller(call));
    if (!out.ok()) {
        return error_response(out.error(), call.request_id);
    }
    core::Json body = std::move(out).value();
    if (call.principal->user.role == access::kRoleAdmin) {
        // Admins manage grants on the same page: attach them.
        core::Result<std::vector<access::Grant>> grants = accounts.grants();
        core::Json * list = body.is_object() ? &body["collections"] : nullptr;
        if (grants.ok() && list != nullptr && list->is_array()) {
            for (core::Json & col : list->as_array()) {
                core::Json gs = core::Json::array();
                for (const access::Grant & g : grants.value()) {
                    if (g.collection == col.get_string("name")) {
                        core::Json gj = core::Json::object();
                        gj["group"] = g.group;
                        gj["access"] = g.access;
                        gs.push_back(std::move(gj));
                    }
                }
                col["grants"] = std::move(gs);
            }
        }
    }
    return json_response(200, body);
}

HttpResponse Handler::Impl::create_collection(Call & call) {
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    if (core::Status st = service.create_collection(name, caller(call)); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    // The service records the creation on the audit trail (as the command line does); recording it
    // here as well would put every web-created collection on the trail twice.
    core::Json out = core::Json::object();
    out["collection"] = core::Json::object();
    out["collection"]["name"] = name;
    return json_response(201, out);
}

HttpResponse Handler::Impl::set_grants(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    const std::string & collection = call.params[0];
    const core::Json * list = body.find("grants");
    if (list == nullptr || !list->is_array()) {
        return bad_request(call, "\"grants\" must be an array of {\"group\",\"access\"}");
    }
    std::vector<access::Grant> grants;
    for (const core::Json & g : list->as_array()) {
        if (!g.is_object()) {
            return bad_request(call, "\"grants\" must be an array of {\"group\",\"access\"}");
        }
        grants.push_back({g.get_string("group"), collection, g.get_string("access")});
    }
    const Caller & admin = caller(call);
    if (std::find(admin.readable.begin(), admin.readable.end(), collection) == admin.readable.end()) {
        return error_response(404, "not_found", "no collection named \"" + collection.substr(0, 64) + "\"",
                              call.request_id);
    }
    if (core::Status st = accounts.replace_grants(collection, grants); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "set_grants";
    event["collection"] = collection;
    event["grants"] = *list;
    record("grant_change", call.principal->user.name, event);
    core::Json out = core::Json::object();
    out["collection"] = collection;
    out["grants"] = *list;
    return json_response(200, out);
}

HttpResponse Handler::Impl::documents(Call & call) {
    std::optional<std::string> collection = query_param(call.req.query, "collection");
    if (!collection || collection->empty()) {
        return bad_request(call, "query parameter \"collection\" is required");
    }
    // A listing reads every current document of the collection (thousands of rows with their
    // warnings), so it takes a slot like a search: a burst of listings gets fast 503s rather than
    // piling up connections in the store.
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Json> out = service.documents(*collection, caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::upload(Call & call) {
    std::optional<std::string> collection = query_param(call.req.query, "collection");
    std::optional<std::string> name = query_param(call.req.query, "name");
    if (!collection || collection->empty() || !name || name->empty()) {
        return bad_request(call, "query parameters \"collection\" and \"name\" are required");
    }
    if (call.req.body.empty()) {
        return bad_request(call, "the request body (the file's bytes) is empty");
    }
    const Caller & c = caller(call);
    if (std::find(c.writable.begin(), c.writable.end(), *collection) == c.writable.end()) {
        // Readable but not writable: say so; not even readable: as if it did not exist.
        const bool readable = std::find(c.readable.begin(), c.readable.end(), *collection) != c.readable.end();
        return readable ? error_response(403, "forbidden", "you may not add documents to \"" + *collection + "\"",
                                         call.request_id)
                        : error_response(404, "not_found", "no collection named \"" + collection->substr(0, 64) + "\"",
                                         call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<std::string> job = service.start_upload(*collection, *name, call.req.body, c);
    if (!job.ok()) {
        return error_response(job.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["job_id"] = job.value();
    return json_response(202, out);
}

HttpResponse Handler::Impl::job(Call & call) {
    core::Result<core::Json> out = service.job(call.params[0], caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::versions(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "document id must be a positive integer");
    }
    core::Result<core::Json> out = service.document_versions(*id, caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::remove_document(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "document id must be a positive integer");
    }
    if (core::Status st = service.remove_document(*id, caller(call)); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 204;
    return res;
}

HttpResponse Handler::Impl::quarantine(Call & call) {
    core::Result<core::Json> out = service.quarantine(caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

// ---- audit ---------------------------------------------------------------------------------------

namespace {

core::Result<core::Json> audit_filters(std::string_view query) {
    core::Json f = core::Json::object();
    for (const char * key : {"since", "until", "user", "document", "text", "kind"}) {
        if (std::optional<std::string> v = query_param(query, key); v && !v->empty()) {
            f[key] = *v;
        }
    }
    if (std::optional<std::string> limit = query_param(query, "limit"); limit && !limit->empty()) {
        std::optional<int64_t> n = positive_id(*limit);
        if (!n || *n > 10000) {
            return core::Error(core::ErrorCode::kInvalidArgument, "limit must be an integer from 1 to 10000");
        }
        f["limit"] = *n;
    }
    return f;
}

}  // namespace

HttpResponse Handler::Impl::audit_search(Call & call) {
    core::Result<core::Json> filters = audit_filters(call.req.query);
    if (!filters.ok()) {
        return bad_request(call, filters.error().message());
    }
    core::Result<core::Json> out = service.audit_search(filters.value(), caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::audit_record(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "audit record id must be a positive integer");
    }
    core::Result<core::Json> out = service.audit_record(*id, caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::audit_export(Call & call) {
    const std::string format = query_param(call.req.query, "format").value_or("jsonl");
    if (format != "bundle" && format != "jsonl" && format != "csv") {
        return bad_request(call, "format must be bundle, jsonl or csv");
    }
    core::Result<core::Json> filters = audit_filters(call.req.query);
    if (!filters.ok()) {
        return bad_request(call, filters.error().message());
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<Download> out = service.audit_export(format, filters.value(), caller(call));
    if (!out.ok()) {
        return error_response(out.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.body = std::move(out.value().bytes);
    res.set_header("Content-Type", out.value().content_type.empty() ? "application/octet-stream" : out.value().content_type);
    res.set_header("Content-Disposition", "attachment; filename=\"" + safe_file_name(out.value().file_name) + "\"");
    return res;
}

// ---- users, groups, tokens -----------------------------------------------------------------------

HttpResponse Handler::Impl::list_users(Call & call) {
    core::Result<std::vector<access::User>> users = accounts.users();
    if (!users.ok()) {
        return error_response(users.error(), call.request_id);
    }
    core::Json list = core::Json::array();
    for (const access::User & u : users.value()) {
        list.push_back(user_json(u));
    }
    core::Json out = core::Json::object();
    out["users"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::add_user(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    access::User u;
    u.name = body.get_string("name");
    u.role = body.get_string("role");
    u.language = body.get_string("language", "en");
    core::Result<std::vector<std::string>> groups = string_list(body, "groups");
    if (!groups.ok()) {
        return bad_request(call, groups.error().message());
    }
    u.groups = groups.value();
    if (core::Status st = accounts.add_user(u, body.get_string("password")); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create";
    event["user"] = u.name;
    event["role"] = u.role;
    core::Json groups_json = core::Json::array();
    for (const std::string & g : u.groups) {
        groups_json.push_back(g);
    }
    event["groups"] = std::move(groups_json);
    record("user_change", call.principal->user.name, event);
    core::Result<access::User> made = accounts.user(u.name);
    if (!made.ok()) {
        return error_response(made.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["user"] = user_json(made.value());
    return json_response(201, out);
}

HttpResponse Handler::Impl::change_user(Call & call) {
    SB_JSON_BODY(body);
    const std::string & name = call.params[0];
    access::UserChange change;
    core::Json event = core::Json::object();
    event["action"] = "update";
    event["user"] = name;
    if (const core::Json * role = body.find("role"); role != nullptr && !role->is_null()) {
        change.role = role->is_string() ? role->as_string() : std::string();
        event["role"] = *role;
    }
    if (const core::Json * groups = body.find("groups"); groups != nullptr && !groups->is_null()) {
        core::Result<std::vector<std::string>> list = string_list(body, "groups");
        if (!list.ok()) {
            return bad_request(call, list.error().message());
        }
        change.groups = list.value();
        event["groups"] = *groups;
    }
    if (const core::Json * password = body.find("password"); password != nullptr && !password->is_null()) {
        change.password = password->is_string() ? password->as_string() : std::string();
        event["password_changed"] = true;  // never the password itself
    }
    if (const core::Json * disabled = body.find("disabled"); disabled != nullptr && !disabled->is_null()) {
        if (!disabled->is_bool()) {
            return bad_request(call, "\"disabled\" must be true or false");
        }
        change.disabled = disabled->as_bool();
        event["disabled"] = disabled->as_bool();
    }
    if (const core::Json * language = body.find("language"); language != nullptr && !language->is_null()) {
        change.language = language->is_string() ? language->as_string() : std::string();
    }
    // Disabling alone is a revocation (the user's sessions and tokens stop at once), and like
    // logout and token revocation it must not wait for disk space: a one-row update. Anything else
    // is a change and is refused in read-only mode.
    const bool only_disabling = change.disabled.value_or(false) && !change.role && !change.groups &&
                                !change.password && !change.language;
    if (!only_disabling) {
        if (auto refused = read_only_refusal(call)) {
            return *refused;
        }
    }
    if (core::Status st = accounts.update_user(name, change); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    record("user_change", call.principal->user.name, event);
    core::Result<access::User> u = accounts.user(name);
    if (!u.ok()) {
        return error_response(u.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["user"] = user_json(u.value());
    return json_response(200, out);
}

HttpResponse Handler::Impl::delete_user(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;  // disabling revokes as much and is still allowed
    }
    const std::string & name = call.params[0];
    if (core::Status st = accounts.delete_user(name); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "delete";
    event["user"] = name;
    record("user_change", call.principal->user.name, event);
    HttpResponse res;
    res.status = 204;
    return res;
}

HttpResponse Handler::Impl::list_groups(Call & call) {
    core::Result<std::vector<std::string>> groups = accounts.groups();
    core::Result<std::vector<access::User>> users = accounts.users();
    core::Result<std::vector<access::Grant>> grants = accounts.grants();
    for (const core::Error * e : {groups.ok() ? nullptr : &groups.error(), users.ok() ? nullptr : &users.error(),
                                  grants.ok() ? nullptr : &grants.error()}) {
        if (e != nullptr) {
            return error_response(*e, call.request_id);
        }
    }
    core::Json list = core::Json::array();
    for (const std::string & g : groups.value()) {
        core::Json members = core::Json::array();
        for (const access::User & u : users.value()) {
            if (std::find(u.groups.begin(), u.groups.end(), g) != u.groups.end()) {
                members.push_back(u.name);
            }
        }
        core::Json gs = core::Json::array();
        for (const access::Grant & gr : grants.value()) {
            if (gr.group == g) {
                core::Json gj = core::Json::object();
                gj["collection"] = gr.collection;
                gj["access"] = gr.access;
                gs.push_back(std::move(gj));
            }
        }
        core::Json item = core::Json::object();
        item["name"] = g;
        item["members"] = std::move(members);
        item["grants"] = std::move(gs);
        list.push_back(std::move(item));
    }
    core::Json out = core::Json::object();
    out["groups"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::add_group(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    if (core::Status st = accounts.add_group(name); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create_group";
    event["group"] = name;
    record("user_change", call.principal->user.name, event);
    core::Json out = core::Json::object();
    out["group"] = core::Json::object();
    out["group"]["name"] = name;
    return json_response(201, out);
}

HttpResponse Handler::Impl::create_token(Call & call) {
    // A leaked token must not be able to mint more of itself: new tokens need a password login.
    if (call.principal->is_token) {
        return error_response(403, "forbidden", "API tokens are created from a logged-in session, not with a token",
                              call.request_id);
    }
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    core::Result<access::ApiToken> t = accounts.create_token(call.principal->user.name, body.get_string("name"));
    if (!t.ok()) {
        return error_response(t.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create_token";
    event["token_id"] = t.value().id;
    event["name"] = t.value().name;
    record("user_change", call.principal->user.name, event);
    core::Json out = token_json(t.value());
    out["token"] = t.value().token;
    return json_response(201, out);
}

HttpResponse Handler::Impl::list_tokens(Call & call) {
    const bool admin = call.principal->user.role == access::kRoleAdmin;
    core::Result<std::vector<access::ApiToken>> tokens = accounts.tokens(admin ? "" : call.principal->user.name);
    if (!tokens.ok()) {
        return error_response(tokens.error(), call.request_id);
    }
    core::Json list = core::Json::array();
    for (const access::ApiToken & t : tokens.value()) {
        list.push_back(token_json(t));
    }
    core::Json out = core::Json::object();
    out["tokens"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::revoke_token(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "token id must be a positive integer");
    }
    // Revocation is never refused in read-only mode (a one-row delete): a leaked token must be
    // stoppable whatever the disk holds.
    core::Result<access::ApiToken> t = accounts.token_by_id(*id);
    // Someone else's token is answered as if it did not exist; admins may revoke any.
    if (!t.ok() || (t.value().user != call.principal->user.name && call.principal->user.role != access::kRoleAdmin)) {
        return error_response(404, "not_found", "no token with id " + std::to_string(*id), call.request_id);
    }
    if (core::Status st = accounts.revoke_token(*id); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "revoke_token";
    event["token_id"] = *id;
    event["owner"] = t.value().user;
    record("user_change", call.principal->user.name, event);
    HttpResponse res;
    res.status = 204;
    return res;
}

// ---- administration ------------------------------------------------------------------------------

HttpResponse Handler::Impl::admin_status(Call & call) {
    core::Result<core::Json> out = service.admin_status(caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::selftest(Call & call) {
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Json> out = service.run_selftest(caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::get_settings(Call & call) {
    core::Result<core::Json> out = service.settings(caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::put_settings(Call & call) {
    SB_JSON_BODY(body);
    core::Result<core::Json> out = service.update_settings(body, caller(call));
    if (out.ok()) {
        return json_response(200, out.value());
    }
    core::Json fields = settings_errors(out.error());
    if (fields.is_null()) {
        return error_response(out.error(), call.request_id);
    }
    core::Json err = error_json("invalid_settings", "some settings are not valid", call.request_id);
    err["error"]["fields"] = std::move(fields);
    return json_response(400, err);
}

HttpResponse Handler::Impl::install_update(Call & call) {
    if (call.req.body.empty()) {
        return bad_request(call, "the request body (the image bundle) is empty");
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Json> out = service.install_update(call.req.body, caller(call));
    return out.ok() ? json_response(200, out.value()) : error_response(out.error(), call.request_id);
}

// ---- plumbing ------------------------------------------------------------------------------------

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

HttpResponse Handler::Impl::metrics_page(const HttpRequest & req, const std::string & request_id) {
    if (!(options.open_metrics_on_loopback && is_loopback_ip(client_ip(req.remote_address)))) {
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
    res.body += detail::render_service_metrics(service.health());
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
        HttpResponse res = error_response(405, "method_not_allowed",
                                          req.method + " is not allowed on " + std::string(matched) + "; use GET",
                                          request_id);
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
        return json_response(200, service.health());
    }
    if (path == "/readyz") {
        if (auto refused = only_get("/readyz")) {
            return *refused;
        }
        return readiness(request_id);
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
        HttpResponse res = error_response(405, "method_not_allowed",
                                          req.method + " is not allowed on " + path.substr(0, kMaxLoggedPath) +
                                              "; use " + allow,
                                          request_id);
        res.set_header("Allow", allow);
        return res;
    }
    route = r->pattern;

    if (r->roles != kPublic) {
        bool presented = false;
        call.principal = authenticate(req, call.session_id, presented);
        if (!call.principal) {
            HttpResponse res = error_response(401, "unauthenticated",
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
        HttpResponse res = error_response(413, "payload_too_large",
                                          "request body is larger than the limit of " + std::to_string(limit) + " bytes",
                                          request_id);
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

Handler::Handler(AppService & service, access::Accounts & accounts, HandlerOptions options)
    : impl_(std::make_unique<Impl>(service, accounts, std::move(options))) {}

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
        res = error_response(503, "out_of_memory", "the appliance ran out of memory serving this request; nothing was "
                             "changed, try again shortly", request_id);
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
