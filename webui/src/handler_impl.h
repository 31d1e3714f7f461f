// The handler's private parts, shared by its files: handler.cpp (dispatch, admission, the public
// Handler), routes.cpp (the route table), authentication.cpp, json_encoding.cpp, request.cpp and one
// routes_*.cpp per route group.
#pragma once

#include "assets.h"
#include "metrics.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"
#include "strongbox/webui/handler.h"

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

using Clock = std::chrono::steady_clock;
// No inline script or style anywhere: the page is three static files from this origin.
inline constexpr const char * kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
inline constexpr const char * kJsonType = "application/json";
inline constexpr size_t kMaxQuestionBytes = 4000;
inline constexpr int kMaxTopK = 50;
inline constexpr size_t kMaxLoggedPath = 256;
inline constexpr std::string_view kRouteUnknown = "unmatched";
inline constexpr std::string_view kRouteConnectionLimit = "connection_limit";  // refused before a request was read
inline constexpr std::string_view kSessionCookie = "sb_session";

int status_for(core::ErrorCode code);

core::Json error_json(std::string_view code, std::string_view message, std::string_view request_id);

HttpResponse json_response(int status, const core::Json & body);

HttpResponse error_response(int status, std::string_view code, std::string_view message, std::string_view request_id);
HttpResponse error_response(const core::Error & error, std::string_view request_id);

core::Json to_json(const SourceView & view);
// What the services return, as API.md shows it. Lists come wrapped in their key: {"hits":[...]}.
core::Json to_json(const std::vector<SearchHit> & hits);
core::Json to_json(const std::vector<AskedQuestion> & questions);
core::Json to_json(const std::vector<CollectionEntry> & collections);
core::Json to_json(const std::vector<DocumentEntry> & documents, const char * key);  // "documents" | "versions"
core::Json to_json(const UploadJob & job);
core::Json to_json(const std::vector<QuarantinedFile> & files);
core::Json to_json(const AuditPage & page);
core::Json to_json(const AuditRecordDetail & record);
core::Json to_json(const DiskState & disk);
core::Json to_json(const Health & health);
core::Json to_json(const Readiness & readiness);
core::Json to_json(const SelftestResult & result);
core::Json to_json(const AdminStatus & status);
core::Json to_json(const SettingsView & view);
core::Json to_json(const SettingsUpdate & update);
core::Json to_json(const InstalledUpdate & update);

// 200 with the service's result as API.md shows it, or the error's response.
template <typename T>
HttpResponse result_response(const core::Result<T> & out, std::string_view request_id) {
    return out.ok() ? json_response(200, to_json(out.value())) : error_response(out.error(), request_id);
}

std::string sse_event(std::string_view name, const core::Json & data);

core::Json user_json(const access::User & u);

core::Json token_json(const access::ApiToken & t);

std::string new_request_id();

// A proxy in front may already have named the request; keep its id when it is harmless to echo.
bool acceptable_request_id(std::string_view id);

bool starts_with_ci(std::string_view s, std::string_view prefix);

// "host:port", "[v6]:port", "host" or a bare "v6" -> the host, lower-cased.
std::string host_of(std::string_view header);

std::string url_decode(std::string_view s);

// The decoded value of `name` in a query string; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

std::string_view cookie_value(std::string_view header, std::string_view name);

// "10.0.0.7:53122" -> "10.0.0.7"; "[::1]:53122" -> "::1".
std::string client_ip(std::string_view remote);

bool equal_secret(std::string_view a, std::string_view b);

std::optional<int64_t> positive_id(std::string_view text);

// A file name safe inside a quoted Content-Disposition parameter.
std::string safe_file_name(std::string_view name);

core::Result<std::vector<std::string>> string_list(const core::Json & body, std::string_view key);

bool state_changing(std::string_view method);

unsigned role_bit(std::string_view role);

// Walks pattern and path segment by segment ("/api/v1/documents/{id}" against
// "/api/v1/documents/7"). It runs for every route on every request, so it allocates only for the
// parameters it captures.
bool match_pattern(std::string_view pattern, std::string_view path, std::vector<std::string> & params);

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

// Who may call a route. kPublic routes run without credentials (they may still look at them).
enum Roles : unsigned {
    kPublic = 0,
    kAdmin = 1u << 0,
    kStaff = 1u << 1,
    kAuditor = 1u << 2,
    kAnyRole = kAdmin | kStaff | kAuditor,
};

enum class Body { kJson, kUpload, kUpdate, kNone };

// Everything a route function needs about the request in hand.
struct Call {
    const HttpRequest & req;
    const std::string & request_id;
    std::vector<std::string> params;             // the {x} segments of the pattern, in order
    std::optional<access::Principal> principal;  // set for authenticated calls
    std::string session_id;                      // raw cookie value, for logout
    std::optional<Caller> caller_cache;
};

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

    Impl(Services s, access::Accounts & a, HandlerOptions o)
        : services(s),
          accounts(a),
          options(std::move(o)),
          gate(options.max_concurrent, options.max_queued),
          login_gate(options.max_concurrent_logins, options.max_queued_logins) {}

    HttpResponse dispatch(const HttpRequest & req, const std::string & request_id, std::string_view & route);
    const Route * find_route(const HttpRequest & req, std::vector<std::string> & params, std::string & allow) const;
    std::optional<access::Principal> authenticate(const HttpRequest & req, std::string & session_id, bool & presented);
    std::optional<HttpResponse> serve_asset(const HttpRequest & req, std::string_view name);
    // /readyz and /healthz answer anyone (supervisors need no secret) with liveness and readiness
    // only; the figures behind them go to signed-in users, where the data lives and what the
    // answers are pinned to only to admins.
    HttpResponse readiness(const HttpRequest & req, const std::string & request_id);
    core::Json health_body(const HttpRequest & req);
    std::optional<std::string> role_of(const HttpRequest & req);  // nullopt: no valid credentials
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
    std::shared_ptr<Gate::Permit> admit() { return gate.acquire(std::chrono::milliseconds(options.queue_timeout_ms)); }
    // Accounts, groups, grants and tokens are stored here rather than by the service, so each such
    // change asks the service first whether the appliance is read-only (disk full): refused up front
    // with 507 and the reason, like the service's own writes, instead of failing half-way with 500.
    // Logins, logouts, token revocations and disabling a user are not asked: see the route functions.
    std::optional<HttpResponse> read_only_refusal(const Call & call) {
        core::Status st = services.admin.writable();
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

    Services services;
    access::Accounts & accounts;
    HandlerOptions options;
    Gate gate;
    Gate login_gate;  // password checks only: see HandlerOptions::max_concurrent_logins
    detail::Metrics metrics;
};

// Parses the body or answers the error; used as: SB_JSON_BODY(body) at the top of a route.
#define SB_JSON_BODY(var)                                                                            \
    core::Json var;                                                                                  \
    {                                                                                                \
        int sb_status = 0;                                                                           \
        std::string sb_code;                                                                         \
        core::Result<core::Json> sb_parsed = json_body(call, sb_status, sb_code);                    \
        if (!sb_parsed.ok()) {                                                                       \
            return error_response(sb_status, sb_code, sb_parsed.error().message(), call.request_id); \
        }                                                                                            \
        var = std::move(sb_parsed).value();                                                          \
    }

}  // namespace strongbox::webui
