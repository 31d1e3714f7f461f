// Who is calling: sessions and API tokens, first-start setup, login and logout, the caller's collections.
#include "handler_impl.h"

namespace strongbox::webui {

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
        core::Result<std::vector<std::string>> names = services.documents.collection_names();
        if (names.ok()) {
            c.readable = std::move(names).value();
        } else if (names.error().code() == core::ErrorCode::kUnsupported) {
            core::Result<std::vector<CollectionEntry>> all = services.documents.collections(c);
            for (size_t i = 0; all.ok() && i < all->size(); ++i) {
                c.readable.push_back((*all)[i].name);
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
    const std::string ip = client_ip(call.req.remote_address);
    if (!access::is_loopback_address(ip) && !equal_secret(body.get_string("setup_code"), options.setup_code)) {
        // Said only while setup is still open, so the answer tells a stranger nothing afterwards.
        if (accounts.has_users().value_or(true)) {
            return error_response(409, "already_set_up", "setup is done; log in instead", call.request_id);
        }
        return error_response(403, "setup_code_required",
                              "creating the first admin from " + ip +
                                  " needs the setup code that `strongbox serve` printed on the appliance's console",
                              call.request_id);
    }
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
    event["client"] = ip;
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
    // The box's own console skips the line: a login flood from outside never locks the admin out.
    if (accounts.retry_after(name, ip) == 0 && !access::is_loopback_address(ip)) {
        permit = login_gate.acquire(std::chrono::milliseconds(options.login_queue_timeout_ms));
        if (!permit) {
            metrics.record_login("busy");
            HttpResponse res = error_response(
                429, "too_many_attempts", "the server is checking other logins; try again shortly", call.request_id);
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
        HttpResponse res =
            error_response(429, "too_many_attempts", "too many failed logins; try again later", call.request_id);
        res.set_header("Retry-After", std::to_string(attempt.value().retry_after_s));
        return res;
    }
    case access::LoginAttempt::Outcome::kBadCredentials:
        metrics.record_login("failed");
        record("login_failed", actor, event);
        return error_response(401, "invalid_credentials", "wrong user name or password", call.request_id);
    case access::LoginAttempt::Outcome::kOk:
        break;
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

}  // namespace strongbox::webui
