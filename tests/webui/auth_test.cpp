// Authentication and authorization of the handler: every route for every role, collection
// scoping, CSRF, sessions, tokens, throttling, first-start setup and what the accounts file holds.
#include "scoped_service.h"
#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/webui/handler.h"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace sb = strongbox;
using sb::core::Json;
using namespace sb::webui;
using namespace sb::webui::testing;

namespace {

HandlerOptions quiet_options() {
    HandlerOptions o;
    o.access_log = [](std::string_view) {
    };
    return o;
}

struct Login {
    std::string cookie;  // "sb_session=<id>"
    std::string csrf;
    std::string set_cookie;
};

// Admin root, staff sam (group alpha-team: write alpha, read reference), auditor audrey, staff
// victim; the service holds collections alpha, beta and reference.
struct World {
    explicit World(HandlerOptions options = quiet_options(), bool with_users = true) {
        sb::access::AccountsOptions ao = fast_accounts_options();
        ao.clock = [this] {
            return now.load();
        };
        auto opened = sb::access::Accounts::open(dir.path / "accounts.db", ao);
        REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
        accounts = std::move(opened).value();
        if (with_users) {
            add("root", sb::access::kRoleAdmin, {});
            add("sam", sb::access::kRoleStaff, {"alpha-team"});
            add("audrey", sb::access::kRoleAuditor, {"alpha-team"});
            add("victim", sb::access::kRoleStaff, {});
            REQUIRE(accounts->set_grant("alpha-team", "alpha", "write").ok());
            REQUIRE(accounts->set_grant("alpha-team", "reference", "read").ok());
        }
        handler = std::make_unique<Handler>(service, *accounts, std::move(options));
    }

    void add(const std::string & name, const std::string & role, std::vector<std::string> groups) {
        sb::access::User u;
        u.name = name;
        u.role = role;
        u.groups = std::move(groups);
        REQUIRE(accounts->add_user(u, name + "-password").ok());
    }

    HttpResponse login_response(const std::string & name, const std::string & password,
                                const std::string & from = "10.0.0.1:5000") {
        HttpRequest r = post_json("/api/v1/login", R"({"name":")" + name + R"(","password":")" + password + R"("})");
        r.remote_address = from;
        return handler->handle(r);
    }

    Login login(const std::string & name) {
        HttpResponse res = login_response(name, name + "-password");
        REQUIRE_MESSAGE(res.status == 200, res.body);
        return login_of(res);
    }

    static Login login_of(const HttpResponse & res) {
        Login l;
        l.set_cookie = std::string(res.header("Set-Cookie"));
        l.cookie = l.set_cookie.substr(0, l.set_cookie.find(';'));
        l.csrf = json_of(res.body).get_string("csrf_token");
        REQUIRE(l.cookie.starts_with("sb_session="));
        REQUIRE(l.csrf.size() == 64);
        return l;
    }

    // A request with the session cookie and, for state-changing methods, the CSRF header.
    static HttpRequest as(const Login & l, const std::string & method, const std::string & target,
                          const std::string & body = "") {
        HttpRequest r;
        r.method = method;
        r.path = target.substr(0, target.find('?'));
        r.query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
        r.body = body;
        r.content_length = static_cast<int64_t>(body.size());
        r.headers.emplace_back("Cookie", "theme=dark; " + l.cookie);
        r.headers.emplace_back("Content-Type", "application/json");
        if (method != "GET") {
            r.headers.emplace_back("X-CSRF-Token", l.csrf);
        }
        r.remote_address = "10.0.0.1:5000";
        return r;
    }

    std::atomic<int64_t> now{1'800'000'000};
    ScratchDir dir;
    std::unique_ptr<sb::access::Accounts> accounts;
    ScopedService service;
    std::unique_ptr<Handler> handler;
};

HttpRequest with_bearer(HttpRequest r, const std::string & token) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return r;
}

std::string error_code(const HttpResponse & res) {
    const Json body = json_of(res.body);
    const Json * e = body.find("error");
    return e == nullptr ? "" : e->get_string("code");
}

bool matches(const std::string & pattern, const std::string & path) {
    std::vector<std::string_view> want = sb::core::split(pattern, '/');
    std::vector<std::string_view> have = sb::core::split(path, '/');
    if (want.size() != have.size()) {
        return false;
    }
    for (size_t i = 0; i < want.size(); ++i) {
        if (!want[i].starts_with('{') && want[i] != have[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("every API route answers each role as the role table says") {
    World w;
    std::map<std::string, Login> as = {
        {"admin", w.login("root")}, {"staff", w.login("sam")}, {"auditor", w.login("audrey")}};
    struct Row {
        std::string method;
        std::string target;
        std::string body;
        int none, admin, staff, auditor;
    };
    const std::string ask = R"({"question":"what is in alpha?"})";
    // none = no credentials; a blank body where the route takes none.
    const std::vector<Row> rows = {
        {"GET", "/api/v1/me", "", 200, 200, 200, 200},
        {"POST", "/api/v1/setup", R"({"name":"x","password":"long-enough"})", 409, 409, 409, 409},
        {"POST", "/api/v1/login", R"({"name":"nobody","password":"wrong-one"})", 401, 401, 401, 401},
        {"PUT", "/api/v1/me/language", R"({"language":"ko"})", 401, 200, 200, 200},
        {"POST", "/api/v1/ask", ask, 401, 200, 200, 403},
        {"POST", "/api/ask", ask, 401, 200, 200, 403},
        {"POST", "/api/v1/ask/stream", ask, 401, 200, 200, 403},
        {"POST", "/api/v1/search", R"({"query":"alpha"})", 401, 200, 200, 403},
        {"GET", "/api/v1/history", "", 401, 200, 200, 403},
        {"GET", "/api/v1/source/11", "", 401, 200, 200, 200},
        {"GET", "/api/source/11", "", 401, 200, 200, 200},
        {"GET", "/api/v1/source/11/page.png?dpi=100", "", 401, 200, 200, 200},
        {"GET", "/api/v1/collections", "", 401, 200, 200, 200},
        {"POST", "/api/v1/collections", R"({"name":"gamma"})", 401, 201, 403, 403},
        {"PUT", "/api/v1/collections/alpha/grants", R"({"grants":[{"group":"alpha-team","access":"write"}]})", 401, 200,
         403, 403},
        {"GET", "/api/v1/documents?collection=alpha", "", 401, 200, 200, 200},
        {"POST", "/api/v1/documents?collection=alpha&name=notes.txt", "file bytes", 401, 202, 202, 403},
        {"GET", "/api/v1/documents/1/versions", "", 401, 200, 200, 200},
        {"DELETE", "/api/v1/documents/1", "", 401, 204, 204, 403},
        {"GET", "/api/v1/jobs/job-1", "", 401, 200, 200, 403},
        {"GET", "/api/v1/quarantine", "", 401, 200, 403, 403},
        {"GET", "/api/v1/audit?user=sam&limit=5", "", 401, 200, 403, 200},
        {"GET", "/api/v1/audit/export?format=csv", "", 401, 200, 403, 200},
        {"GET", "/api/v1/audit/7", "", 401, 200, 403, 200},
        {"GET", "/api/v1/users", "", 401, 200, 403, 403},
        {"POST", "/api/v1/users",
         R"({"name":"newbie","password":"newbie-password","role":"staff","groups":["new-team"]})", 401, 201, 403, 403},
        {"PATCH", "/api/v1/users/victim", R"({"language":"ko"})", 401, 200, 403, 403},
        {"DELETE", "/api/v1/users/victim", "", 401, 204, 403, 403},
        {"GET", "/api/v1/groups", "", 401, 200, 403, 403},
        {"POST", "/api/v1/groups", R"({"name":"night-shift"})", 401, 201, 403, 403},
        {"POST", "/api/v1/tokens", R"({"name":"script"})", 401, 201, 201, 201},
        {"GET", "/api/v1/tokens", "", 401, 200, 200, 200},
        {"DELETE", "/api/v1/tokens/999", "", 401, 404, 404, 404},
        {"GET", "/api/v1/admin/status", "", 401, 200, 403, 403},
        {"POST", "/api/v1/admin/selftest", "", 401, 200, 403, 403},
        {"GET", "/api/v1/settings", "", 401, 200, 403, 403},
        {"PUT", "/api/v1/settings", R"({"settings":{"answerer":"extractive"}})", 401, 200, 403, 403},
        {"POST", "/api/v1/admin/update", "bundle bytes", 401, 200, 403, 403},
        {"POST", "/api/v1/logout", "", 401, 204, 204, 204},
    };
    // The audit fixture says the auditor is in alpha-team, so scoped reads are theirs too.
    for (const Row & row : rows) {
        for (const char * role : {"none", "staff", "auditor", "admin"}) {
            CAPTURE(row.method);
            CAPTURE(row.target);
            CAPTURE(role);
            const std::string r = role;
            HttpRequest req = r == "none" ? World::as(Login{}, row.method, row.target, row.body)
                                          : World::as(as.at(r), row.method, row.target, row.body);
            if (r == "none") {
                std::erase_if(req.headers,
                              [](const auto & h) { return h.first == "Cookie" || h.first == "X-CSRF-Token"; });
            }
            HttpResponse res = w.handler->handle(req);
            if (res.stream) {
                res.stream([](std::string_view) { return true; });
            }
            const int want = r == "none" ? row.none : r == "admin" ? row.admin : r == "staff" ? row.staff : row.auditor;
            CHECK_MESSAGE(res.status == want, res.body);
            if (want == 401 && row.target != "/api/v1/login") {
                CHECK(error_code(res) == "unauthenticated");
            }
            if (want == 403) {
                CHECK(error_code(res) == "forbidden");
            }
        }
    }
    // The table covers the whole route table.
    for (const std::string & route : Handler::api_routes()) {
        const std::string method = route.substr(0, route.find(' '));
        const std::string pattern = route.substr(route.find(' ') + 1);
        const bool covered = std::any_of(rows.begin(), rows.end(), [&](const Row & row) {
            return row.method == method && matches(pattern, row.target.substr(0, row.target.find('?')));
        });
        CHECK_MESSAGE(covered, route);
    }
}

TEST_CASE("a staff user probing another collection's documents and chunks gets 404, as if they did not exist") {
    World w;
    Login sam = w.login("sam");
    for (const char * target : {"/api/v1/source/12", "/api/v1/source/12/page.png", "/api/v1/documents/2/versions",
                                "/api/v1/documents?collection=beta", "/api/v1/source/999"}) {
        CAPTURE(target);
        HttpResponse res = w.handler->handle(World::as(sam, "GET", target));
        CHECK(res.status == 404);
        CHECK(error_code(res) == "not_found");
    }
    CHECK(w.handler->handle(World::as(sam, "DELETE", "/api/v1/documents/2")).status == 404);
    HttpResponse upload =
        w.handler->handle(World::as(sam, "POST", "/api/v1/documents?collection=beta&name=x.txt", "x"));
    CHECK(upload.status == 404);
    // A collection sam may read but not write: the refusal may say so.
    HttpResponse readonly =
        w.handler->handle(World::as(sam, "POST", "/api/v1/documents?collection=reference&name=x.txt", "x"));
    CHECK(readonly.status == 403);
    CHECK(w.handler->handle(World::as(sam, "DELETE", "/api/v1/documents/3")).status == 403);
    CHECK(w.service.uploads().empty());

    // The Caller the service received: readable from the grants, writable only where granted write.
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/source/11")).status == 200);
    Caller c = w.service.last_caller();
    CHECK(c.user == "sam");
    CHECK(c.role == "staff");
    CHECK(c.readable == std::vector<std::string>{"alpha", "reference"});
    CHECK(c.writable == std::vector<std::string>{"alpha"});
    // Collections list only the readable ones.
    Json cols = json_of(w.handler->handle(World::as(sam, "GET", "/api/v1/collections")).body);
    CHECK(cols.find("collections")->size() == 2);
}

TEST_CASE("admins reach every collection the service lists, auditors write nothing whatever their groups") {
    World w;
    Login root = w.login("root");
    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/source/12")).status == 200);
    Caller admin = w.service.last_caller();
    CHECK(admin.readable == std::vector<std::string>{"alpha", "beta", "reference"});
    CHECK(admin.writable == admin.readable);
    // Admins see each collection's grants too.
    Json cols = json_of(w.handler->handle(World::as(root, "GET", "/api/v1/collections")).body);
    const Json & alpha = cols.find("collections")->as_array().at(0);
    CHECK(alpha.get_string("name") == "alpha");
    CHECK(alpha.find("grants")->as_array().at(0).get_string("access") == "write");

    Login audrey = w.login("audrey");
    CHECK(w.handler->handle(World::as(audrey, "GET", "/api/v1/source/11")).status == 200);
    Caller auditor = w.service.last_caller();
    CHECK(auditor.readable == std::vector<std::string>{"alpha", "reference"});
    CHECK(auditor.writable.empty());
}

TEST_CASE("a cookie-authenticated state change without the right CSRF token is refused with 403 csrf") {
    World w;
    Login sam = w.login("sam");
    HttpRequest missing = World::as(sam, "POST", "/api/v1/ask", R"({"question":"alpha?"})");
    std::erase_if(missing.headers, [](const auto & h) { return h.first == "X-CSRF-Token"; });
    HttpResponse res = w.handler->handle(missing);
    CHECK(res.status == 403);
    CHECK(error_code(res) == "csrf");

    Login other = w.login("root");
    HttpRequest foreign = World::as(sam, "POST", "/api/v1/ask", R"({"question":"alpha?"})");
    for (auto & h : foreign.headers) {
        if (h.first == "X-CSRF-Token") {
            h.second = other.csrf;  // a valid token, but another session's
        }
    }
    CHECK(error_code(w.handler->handle(foreign)) == "csrf");
    for (auto [method, target] : {std::pair{"PUT", "/api/v1/me/language"}, std::pair{"PATCH", "/api/v1/users/victim"},
                                  std::pair{"DELETE", "/api/v1/tokens/1"}}) {
        HttpRequest r = World::as(other, method, target, R"({"language":"ko"})");
        std::erase_if(r.headers, [](const auto & h) { return h.first == "X-CSRF-Token"; });
        HttpResponse refused = w.handler->handle(r);
        CHECK(refused.status == 403);
        CHECK(error_code(refused) == "csrf");
    }
    // Reading needs no token; the right one lets the change through.
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/history")).status == 200);
    CHECK(w.handler->handle(World::as(sam, "POST", "/api/v1/ask", R"({"question":"alpha?"})")).status == 200);
}

TEST_CASE("sessions end at their expiry, on logout, and when the password changes or the user is disabled") {
    World w;
    Login sam = w.login("sam");
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/history")).status == 200);
    w.now += 8 * 3600 + 1;  // past the default session lifetime
    HttpResponse expired = w.handler->handle(World::as(sam, "GET", "/api/v1/history"));
    CHECK(expired.status == 401);
    CHECK(error_code(expired) == "unauthenticated");
    CHECK(expired.header("Set-Cookie").find("Max-Age=0") != std::string_view::npos);
    Json me = json_of(w.handler->handle(World::as(sam, "GET", "/api/v1/me")).body);
    CHECK(me.find("user")->is_null());

    Login again = w.login("sam");
    HttpResponse out = w.handler->handle(World::as(again, "POST", "/api/v1/logout"));
    CHECK(out.status == 204);
    CHECK(out.header("Set-Cookie").find("sb_session=;") != std::string_view::npos);
    CHECK(w.handler->handle(World::as(again, "GET", "/api/v1/history")).status == 401);

    Login third = w.login("sam");
    Login root = w.login("root");
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"password":"a-new-password"})")).status ==
          200);
    CHECK(w.handler->handle(World::as(third, "GET", "/api/v1/history")).status == 401);
    CHECK(w.login_response("sam", "sam-password").status == 401);
    CHECK(w.login_response("sam", "a-new-password").status == 200);

    Login fourth = Login(World::login_of(w.login_response("sam", "a-new-password")));
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"disabled":true})")).status == 200);
    CHECK(w.handler->handle(World::as(fourth, "GET", "/api/v1/history")).status == 401);
    CHECK(w.login_response("sam", "a-new-password").status == 401);
}

TEST_CASE("the session cookie is HttpOnly, SameSite=Strict, scoped to / with Max-Age, and Secure over TLS") {
    World plain;
    Login l = plain.login("sam");
    CHECK(l.set_cookie.find("; HttpOnly") != std::string::npos);
    CHECK(l.set_cookie.find("; SameSite=Strict") != std::string::npos);
    CHECK(l.set_cookie.find("; Path=/") != std::string::npos);
    CHECK(l.set_cookie.find("; Max-Age=28800") != std::string::npos);
    CHECK(l.set_cookie.find("Secure") == std::string::npos);

    HandlerOptions o = quiet_options();
    o.secure_cookies = true;
    World tls(o);
    HttpResponse res = tls.login_response("sam", "sam-password");
    CHECK(res.header("Set-Cookie").find("; Secure") != std::string_view::npos);
    CHECK(res.header("Strict-Transport-Security") == "max-age=31536000");
    // Security headers stay on authenticated API answers.
    CHECK(res.header("X-Content-Type-Options") == "nosniff");
    CHECK(std::string(res.header("Content-Security-Policy")).find("frame-ancestors 'none'") != std::string::npos);
}

TEST_CASE("login throttling locks a name from one address after 5 failures, even for the right password") {
    World w;
    for (int i = 0; i < 5; ++i) {
        CHECK(w.login_response("sam", "wrong-password", "10.0.0.1:1").status == 401);
    }
    HttpResponse locked = w.login_response("sam", "sam-password", "10.0.0.1:2");
    CHECK(locked.status == 429);
    CHECK(error_code(locked) == "too_many_attempts");
    CHECK(locked.header("Retry-After") == "900");
    // The same name from elsewhere, and others from there, are not affected.
    CHECK(w.login_response("sam", "sam-password", "10.0.0.2:1").status == 200);
    CHECK(w.login_response("root", "root-password", "10.0.0.1:3").status == 200);
    w.now += 600;
    CHECK(w.login_response("sam", "sam-password", "10.0.0.1:4").header("Retry-After") == "300");
    w.now += 301;
    CHECK(w.login_response("sam", "sam-password", "10.0.0.1:5").status == 200);
}

TEST_CASE("guessing one name from many addresses locks it everywhere but on the box itself") {
    World w;
    for (int i = 0; i < 20; ++i) {
        CHECK(w.login_response("root", "wrong-password", "10.0.1." + std::to_string(i) + ":1").status == 401);
    }
    CHECK(w.login_response("root", "root-password", "10.0.2.1:1").status == 429);
    // The console keeps a way in for the admin.
    CHECK(w.login_response("root", "root-password", "127.0.0.1:1").status == 200);
    CHECK(w.login_response("sam", "sam-password", "10.0.2.1:1").status == 200);
}

TEST_CASE("an address spraying names is locked after 20, and 5 wrong guesses at other names never lock the admin out") {
    World w;
    for (const char * name : {"a1", "a2", "a3", "a4", "a5"}) {
        CHECK(w.login_response(name, "whatever-password", "192.0.2.7:4000").status == 401);
    }
    // The admin behind the same address (one office, one NAT) still signs in.
    CHECK(w.login_response("root", "root-password", "192.0.2.7:4001").status == 200);
    for (int i = 6; i <= 20; ++i) {
        CHECK(w.login_response("a" + std::to_string(i), "whatever-password", "192.0.2.7:4000").status == 401);
    }
    CHECK(w.login_response("sam", "sam-password", "192.0.2.7:4001").status == 429);
    CHECK(w.login_response("sam", "sam-password", "192.0.2.8:4001").status == 200);
    w.now += 15 * 60 + 1;
    CHECK(w.login_response("sam", "sam-password", "192.0.2.7:4002").status == 200);
}

TEST_CASE("a flood of names past the throttle's table fails closed for newcomers, never for the console") {
    sb::access::AccountsOptions options = fast_accounts_options();
    options.max_throttle_entries = 9;  // three failed pairs fill it (pair, name and address keys)
    ScratchDir dir;
    auto opened = sb::access::Accounts::open(dir.path / "accounts.db", options);
    REQUIRE(opened.ok());
    sb::access::Accounts & accounts = *opened.value();
    REQUIRE(accounts.add_user({.name = "root", .role = sb::access::kRoleAdmin}, "root-password").ok());
    auto outcome = [&](const std::string & name, const std::string & password, const std::string & from) {
        auto attempt = accounts.login(name, password, from);
        REQUIRE(attempt.ok());
        return attempt->outcome;
    };
    using Outcome = sb::access::LoginAttempt::Outcome;
    for (int i = 0; i < 3; ++i) {
        CHECK(outcome("n" + std::to_string(i), "wrong-password", "10.5.0." + std::to_string(i)) ==
              Outcome::kBadCredentials);
    }
    // The table is full of live entries: newcomers count together, and 20 of them lock them all.
    for (int i = 0; i < 20; ++i) {
        CHECK(outcome("m" + std::to_string(i), "wrong-password", "10.6.0." + std::to_string(i)) ==
              Outcome::kBadCredentials);
    }
    CHECK(outcome("root", "root-password", "10.7.0.1") == Outcome::kThrottled);
    CHECK(outcome("root", "root-password", "127.0.0.1") == Outcome::kOk);
}

TEST_CASE("API tokens work without CSRF, cannot mint tokens, and stop working once revoked") {
    World w;
    Login sam = w.login("sam");
    HttpResponse made = w.handler->handle(World::as(sam, "POST", "/api/v1/tokens", R"({"name":"nightly"})"));
    REQUIRE(made.status == 201);
    Json t = json_of(made.body);
    const std::string token = t.get_string("token");
    CHECK(token.starts_with("sbt_"));
    const int64_t id = t.get_int("id");

    HttpRequest ask = with_bearer(post_json("/api/v1/ask", R"({"question":"alpha?"})"), token);
    CHECK(w.handler->handle(ask).status == 200);  // no cookie, no CSRF header
    CHECK(w.service.last_caller().user == "sam");
    Json me = json_of(w.handler->handle(with_bearer(get("/api/v1/me"), token)).body);
    CHECK(me.find("user")->get_string("name") == "sam");
    CHECK(me.find("csrf_token")->is_null());
    HttpResponse mint = w.handler->handle(with_bearer(post_json("/api/v1/tokens", R"({"name":"more"})"), token));
    CHECK(mint.status == 403);

    // Listing never shows the token again; another staff user cannot see or revoke it.
    Json listed = json_of(w.handler->handle(World::as(sam, "GET", "/api/v1/tokens")).body);
    REQUIRE(listed.find("tokens")->size() == 1);
    CHECK_FALSE(listed.find("tokens")->as_array().at(0).contains("token"));
    Login victim = w.login("victim");
    CHECK(w.handler->handle(World::as(victim, "GET", "/api/v1/tokens")).body.find("nightly") == std::string::npos);
    CHECK(w.handler->handle(World::as(victim, "DELETE", "/api/v1/tokens/" + std::to_string(id))).status == 404);
    CHECK(w.handler->handle(ask).status == 200);

    CHECK(w.handler->handle(World::as(sam, "DELETE", "/api/v1/tokens/" + std::to_string(id))).status == 204);
    HttpResponse revoked = w.handler->handle(ask);
    CHECK(revoked.status == 401);
    CHECK(error_code(revoked) == "unauthenticated");
    CHECK(w.handler->handle(with_bearer(get("/api/v1/history"), "sbt_" + std::string(64, '0'))).status == 401);
}

TEST_CASE("a token in use sees its user's new role at once and stops when revoked elsewhere or its user is disabled") {
    World w;
    Login root = w.login("root");
    Login sam = w.login("sam");
    std::vector<std::string> tokens;
    std::vector<int64_t> ids;
    for (const char * name : {"first", "second"}) {
        HttpResponse made =
            w.handler->handle(World::as(sam, "POST", "/api/v1/tokens", std::string(R"({"name":")") + name + R"("})"));
        REQUIRE(made.status == 201);
        tokens.push_back(json_of(made.body).get_string("token"));
        ids.push_back(json_of(made.body).get_int("id"));
    }
    // /me answers everyone (no user: no role); /history needs a valid token.
    auto role_seen = [&](const std::string & token) {
        HttpResponse me = w.handler->handle(with_bearer(get("/api/v1/me"), token));
        const Json body = json_of(me.body);
        const Json * user = body.find("user");
        return user != nullptr && user->is_object() ? user->get_string("role") : std::string("none");
    };
    auto history_status = [&](const std::string & token) {
        return w.handler->handle(with_bearer(get("/api/v1/history"), token)).status;
    };
    // Used repeatedly, as a script would, before each change.
    CHECK(role_seen(tokens[0]) == "staff");
    CHECK(role_seen(tokens[0]) == "staff");
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"role":"auditor"})")).status == 200);
    CHECK(role_seen(tokens[0]) == "auditor");

    // Another process with the same accounts file revokes the first token.
    auto other = sb::access::Accounts::open(w.dir.path / "accounts.db", fast_accounts_options());
    REQUIRE(other.ok());
    REQUIRE(other.value()->revoke_token(ids[0]).ok());
    CHECK(history_status(tokens[0]) == 401);
    CHECK(role_seen(tokens[0]) == "none");

    CHECK(role_seen(tokens[1]) == "auditor");
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"disabled":true})")).status == 200);
    CHECK(history_status(tokens[1]) == 401);
    CHECK(role_seen(tokens[1]) == "none");
}

TEST_CASE("a new password or a disabled account ends the user's API tokens, and re-enabling does not revive them") {
    World w;
    Login root = w.login("root");
    Login sam = w.login("sam");
    auto make_token = [&] {
        HttpResponse made = w.handler->handle(World::as(sam, "POST", "/api/v1/tokens", R"({"name":"script"})"));
        REQUIRE(made.status == 201);
        return json_of(made.body).get_string("token");
    };
    auto history_status = [&](const std::string & token) {
        return w.handler->handle(with_bearer(get("/api/v1/history"), token)).status;
    };
    const std::string before_password = make_token();
    CHECK(history_status(before_password) == 200);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"password":"a-new-password"})")).status ==
          200);
    CHECK(history_status(before_password) == 401);

    sam = Login(World::login_of(w.login_response("sam", "a-new-password")));
    const std::string before_disable = make_token();
    CHECK(history_status(before_disable) == 200);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"disabled":true})")).status == 200);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"disabled":false})")).status == 200);
    CHECK(history_status(before_disable) == 401);
    CHECK(w.accounts->tokens("sam")->empty());
    // A language change is not a credential change: tokens made after it keep working.
    sam = Login(World::login_of(w.login_response("sam", "a-new-password")));
    const std::string after = make_token();
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"language":"ko"})")).status == 200);
    CHECK(history_status(after) == 200);
}

TEST_CASE("first start: /me asks for setup, setup creates the admin and logs in, and works only once") {
    World w(quiet_options(), /*with_users=*/false);
    Json me = json_of(w.handler->handle(get("/api/v1/me")).body);
    CHECK(me.get_bool("setup_required") == true);
    CHECK(me.find("user")->is_null());
    CHECK(me.find("csrf_token")->is_null());
    CHECK(w.handler->handle(get("/api/v1/history")).status == 401);
    auto from_box = [](HttpRequest r) {
        r.remote_address = "127.0.0.1:50123";
        return r;
    };
    CHECK(w.handler->handle(from_box(post_json("/api/v1/setup", R"({"name":"boss","password":"short"})"))).status ==
          400);

    HttpResponse made =
        w.handler->handle(from_box(post_json("/api/v1/setup", R"({"name":"boss","password":"boss-password"})")));
    REQUIRE_MESSAGE(made.status == 200, made.body);
    Login boss = World::login_of(made);
    Json user = *json_of(made.body).find("user");
    CHECK(user.get_string("role") == "admin");
    Json after = json_of(w.handler->handle(World::as(boss, "GET", "/api/v1/me")).body);
    CHECK(after.get_bool("setup_required") == false);
    CHECK(after.find("user")->get_string("name") == "boss");
    CHECK(after.get_string("csrf_token") == boss.csrf);

    HttpResponse again =
        w.handler->handle(from_box(post_json("/api/v1/setup", R"({"name":"mallory","password":"mallory-password"})")));
    CHECK(again.status == 409);
    CHECK(error_code(again) == "already_set_up");
    CHECK(w.accounts->user("mallory").error().code() == sb::core::ErrorCode::kNotFound);
}

TEST_CASE("first start from another machine needs the setup code shown on the console; whoever is first gets nothing") {
    HandlerOptions options = quiet_options();
    options.setup_code = "0f1e2d3c4b5a6978";
    World w(options, /*with_users=*/false);
    auto from_lan = [](const std::string & body) {
        HttpRequest r = post_json("/api/v1/setup", body);
        r.remote_address = "192.168.1.77:40000";
        return r;
    };
    HttpResponse stranger = w.handler->handle(from_lan(R"({"name":"mallory","password":"mallory-password"})"));
    CHECK(stranger.status == 403);
    CHECK(error_code(stranger) == "setup_code_required");
    HttpResponse guessed = w.handler->handle(
        from_lan(R"({"name":"mallory","password":"mallory-password","setup_code":"0000000000000000"})"));
    CHECK(guessed.status == 403);
    CHECK(w.accounts->has_users().value() == false);

    HttpResponse admin =
        w.handler->handle(from_lan(R"({"name":"boss","password":"boss-password","setup_code":"0f1e2d3c4b5a6978"})"));
    REQUIRE_MESSAGE(admin.status == 200, admin.body);
    CHECK(w.accounts->user("boss").value().role == "admin");
    // Once set up, the code opens nothing, and a stranger learns only that setup is over.
    CHECK(w.handler->handle(from_lan(R"({"name":"eve","password":"eve-password","setup_code":"0f1e2d3c4b5a6978"})"))
              .status == 409);
    CHECK(w.handler->handle(from_lan(R"({"name":"eve","password":"eve-password"})")).status == 409);

    // Without a code (a server started with users, or one that printed none), only the box itself sets up.
    World no_code(quiet_options(), /*with_users=*/false);
    CHECK(no_code.handler->handle(from_lan(R"({"name":"boss","password":"boss-password","setup_code":""})")).status ==
          403);
}

TEST_CASE("in read-only mode every account, group, grant, token and language change gets 507 with the reason and "
          "changes nothing, while login, search, logout, token revocation and disabling a user keep working") {
    World w;
    Login root = w.login("root");
    auto script = w.accounts->create_token("sam", "script");
    REQUIRE(script.ok());
    const std::string reason = "the disk holding /var/lib/strongbox has 3 MiB free, below the 16 MiB reserve";
    w.service.set_read_only(reason);

    const std::vector<std::tuple<std::string, std::string, std::string>> changes = {
        {"POST", "/api/v1/users", R"({"name":"neo","password":"neo-password","role":"staff","groups":[]})"},
        {"PATCH", "/api/v1/users/sam", R"({"role":"admin"})"},
        {"PATCH", "/api/v1/users/sam", R"({"password":"sam-password-2"})"},
        {"PATCH", "/api/v1/users/sam", R"({"groups":["night-shift"]})"},
        {"PATCH", "/api/v1/users/sam", R"({"disabled":true,"role":"auditor"})"},  // disabling plus a change
        {"DELETE", "/api/v1/users/victim", ""},
        {"POST", "/api/v1/groups", R"({"name":"night-shift"})"},
        {"PUT", "/api/v1/collections/beta/grants", R"({"grants":[{"group":"alpha-team","access":"write"}]})"},
        {"POST", "/api/v1/tokens", R"({"name":"nightly"})"},
        {"PUT", "/api/v1/me/language", R"({"language":"ko"})"},
    };
    for (const auto & [method, target, body] : changes) {
        HttpResponse res = w.handler->handle(World::as(root, method, target, body));
        CHECK_MESSAGE(res.status == 507, method << " " << target << ": " << res.body);
        CHECK(error_code(res) == "insufficient_storage");
        const std::string message = json_of(res.body).find("error")->get_string("message");
        CHECK_MESSAGE(message.starts_with("read-only: disk full: "), message);
        CHECK_MESSAGE(message.find(reason) != std::string::npos, message);
    }
    // First start on a full disk: no admin is half-made.
    World fresh(quiet_options(), /*with_users=*/false);
    fresh.service.set_read_only(reason);
    HttpResponse setup =
        fresh.handler->handle(post_json("/api/v1/setup", R"({"name":"boss","password":"boss-password"})"));
    CHECK(setup.status == 507);
    CHECK(fresh.accounts->has_users().value() == false);

    // Nothing changed.
    auto users = w.accounts->users();
    REQUIRE(users.ok());
    CHECK(users.value().size() == 4);
    CHECK(w.accounts->user("sam").value().role == "staff");
    CHECK(w.accounts->user("sam").value().groups == std::vector<std::string>{"alpha-team"});
    CHECK(w.accounts->user("root").value().language == "en");
    CHECK(w.accounts->groups().value() == std::vector<std::string>{"alpha-team"});
    CHECK(w.accounts->grants().value().size() == 2);
    CHECK(w.accounts->tokens("").value().size() == 1);
    CHECK(w.service.events().size() == 1);  // root's login only: no change was recorded as made

    // Staff log in (a small session write, see Handler::login) and search; the old password holds.
    Login sam = w.login("sam");
    CHECK(w.handler->handle(World::as(sam, "POST", "/api/v1/search", R"({"query":"alpha"})")).status == 200);
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/source/11")).status == 200);
    // Revocations go through: disabling a user, revoking a token, logging out.
    HttpResponse disabled = w.handler->handle(World::as(root, "PATCH", "/api/v1/users/victim", R"({"disabled":true})"));
    CHECK_MESSAGE(disabled.status == 200, disabled.body);
    CHECK(w.accounts->user("victim").value().disabled);
    HttpResponse revoked =
        w.handler->handle(World::as(root, "DELETE", "/api/v1/tokens/" + std::to_string(script.value().id)));
    CHECK(revoked.status == 204);
    CHECK(w.handler->handle(with_bearer(get("/api/v1/history"), script.value().token)).status == 401);
    CHECK(w.handler->handle(World::as(sam, "POST", "/api/v1/logout")).status == 204);
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/history")).status == 401);

    // Space is back: the same change goes through.
    w.service.set_read_only("");
    CHECK(w.handler->handle(World::as(root, "POST", "/api/v1/groups", R"({"name":"night-shift"})")).status == 201);
}

TEST_CASE("passwords, session ids and tokens never reach the accounts file in clear") {
    World w;
    Login sam = w.login("sam");
    HttpResponse made = w.handler->handle(World::as(sam, "POST", "/api/v1/tokens", R"({"name":"n"})"));
    const std::string token = json_of(made.body).get_string("token");
    const std::string session_id = sam.cookie.substr(std::string("sb_session=").size());
    std::string bytes;
    for (const char * f : {"accounts.db", "accounts.db-wal"}) {
        if (auto text = sb::core::read_file(w.dir.path / f); text.ok()) {
            bytes += text.value();
        }
    }
    REQUIRE(bytes.size() > 1000);
    for (const std::string & secret : {std::string("sam-password"), std::string("root-password"), session_id, token}) {
        CHECK_MESSAGE(bytes.find(secret) == std::string::npos, secret);
    }
    CHECK(bytes.find("$argon2id$") != std::string::npos);
    CHECK((std::filesystem::status(w.dir.path / "accounts.db").permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
}

TEST_CASE("logins, failed logins, logouts and user and grant changes are recorded, never with a password") {
    World w;
    w.login_response("sam", "wrong-password");
    Login root = w.login("root");
    w.handler->handle(World::as(root, "POST", "/api/v1/users",
                                R"({"name":"neo","password":"neo-password","role":"auditor","groups":[]})"));
    w.handler->handle(World::as(root, "PATCH", "/api/v1/users/neo", R"({"password":"neo-password-2"})"));
    w.handler->handle(World::as(root, "PUT", "/api/v1/collections/beta/grants",
                                R"({"grants":[{"group":"alpha-team","access":"read"}]})"));
    w.handler->handle(World::as(root, "POST", "/api/v1/logout"));
    std::vector<std::string> kinds;
    for (const auto & e : w.service.events()) {
        kinds.push_back(e.kind + ":" + e.actor);
        CHECK(e.body.dump().find("password\":\"") == std::string::npos);
        CHECK(e.body.dump().find("neo-password") == std::string::npos);
    }
    CHECK(kinds == std::vector<std::string>{"login_failed:sam", "login:root", "user_change:root", "user_change:root",
                                            "grant_change:root", "logout:root"});
    // The grant took effect for the next request.
    Login sam = w.login("sam");
    CHECK(w.handler->handle(World::as(sam, "GET", "/api/v1/source/12")).status == 200);
}

TEST_CASE("the last enabled admin cannot be disabled, demoted or deleted") {
    World w;
    Login root = w.login("root");
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/root", R"({"disabled":true})")).status == 403);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/root", R"({"role":"staff"})")).status == 403);
    CHECK(w.handler->handle(World::as(root, "DELETE", "/api/v1/users/root")).status == 403);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/sam", R"({"role":"admin"})")).status == 200);
    CHECK(w.handler->handle(World::as(root, "PATCH", "/api/v1/users/root", R"({"role":"staff"})")).status == 200);
}

TEST_CASE("settings errors come back per field, audit filters and exports pass through intact") {
    World w;
    Login root = w.login("root");
    HttpResponse bad = w.handler->handle(World::as(root, "PUT", "/api/v1/settings", R"({"top_k":0})"));
    CHECK(bad.status == 400);
    Json err = *json_of(bad.body).find("error");
    CHECK(err.get_string("code") == "invalid_settings");
    CHECK(err.find("fields")->get_string("top_k") == "must be 1 to 50");

    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/audit?since=2026-01-01&text=disk%20rebuild&limit=5"))
              .status == 200);
    Json f = w.service.last_filters();
    CHECK(f.get_string("since") == "2026-01-01");
    CHECK(f.get_string("text") == "disk rebuild");
    CHECK(f.get_int("limit") == 5);
    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/audit?limit=abc")).status == 400);
    // The limit API.md documents, 1 to 1000, is the one the handler and the service enforce.
    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/audit?limit=1000")).status == 200);
    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/audit?limit=1001")).status == 400);
    CHECK(sb::core::read_file(SB_WEBUI_API_DOC).value().find("`limit` 1-1000") != std::string::npos);

    HttpResponse file = w.handler->handle(World::as(root, "GET", "/api/v1/audit/export?format=csv"));
    CHECK(file.header("Content-Type") == "text/csv");
    CHECK(file.header("Content-Disposition") == "attachment; filename=\"audit__export_.csv\"");
    CHECK(w.handler->handle(World::as(root, "GET", "/api/v1/audit/export?format=xml")).status == 400);

    Json source = json_of(w.handler->handle(World::as(root, "GET", "/api/v1/source/11")).body);
    CHECK(source.get_string("kind") == "pdf");
    CHECK(source.get_double("page_width") == 612);
    CHECK(source.find("boxes")->as_array().at(0).get_int("page") == 2);
    HttpResponse png = w.handler->handle(World::as(root, "GET", "/api/v1/source/11/page.png?dpi=500"));
    CHECK(png.status == 400);
    png = w.handler->handle(World::as(root, "GET", "/api/v1/source/11/page.png"));
    CHECK(png.header("Content-Type") == "image/png");
}

TEST_CASE("uploads get the large body limit only for callers allowed to upload") {
    HandlerOptions o = quiet_options();
    o.max_body_bytes = 1024;
    o.max_upload_bytes = 1 << 20;
    World w(o);
    Login sam = w.login("sam");
    Login audrey = w.login("audrey");
    HttpRequest head = World::as(sam, "POST", "/api/v1/documents?collection=alpha&name=big.pdf");
    CHECK(w.handler->body_limit(head) == (1u << 20));
    CHECK(w.handler->body_limit(World::as(audrey, "POST", "/api/v1/documents?collection=alpha&name=big.pdf")) == 1024);
    HttpRequest stranger = head;
    std::erase_if(stranger.headers, [](const auto & h) { return h.first == "Cookie"; });
    CHECK(w.handler->body_limit(stranger) == 1024);
    CHECK(w.handler->body_limit(World::as(sam, "POST", "/api/v1/ask")) == 1024);

    HttpResponse ok = w.handler->handle(
        World::as(sam, "POST", "/api/v1/documents?collection=alpha&name=big.pdf", std::string(200'000, 'x')));
    CHECK(ok.status == 202);
    CHECK(json_of(ok.body).get_string("job_id") == "job-1");
    HttpResponse too_big = w.handler->handle(
        World::as(sam, "POST", "/api/v1/documents?collection=alpha&name=big.pdf", std::string((1 << 20) + 1, 'x')));
    CHECK(too_big.status == 413);
    CHECK(w.handler->handle(World::as(sam, "POST", "/api/v1/ask", std::string(2000, ' '))).status == 413);
}

TEST_CASE("/metrics is open to loopback scrapers and needs an admin elsewhere; it carries service gauges") {
    World w;
    HttpRequest remote = get("/metrics");
    remote.remote_address = "10.1.2.3:999";
    CHECK(w.handler->handle(remote).status == 401);
    Login sam = w.login("sam");
    HttpRequest staff = World::as(sam, "GET", "/metrics");
    CHECK(w.handler->handle(staff).status == 403);
    Login root = w.login("root");
    HttpResponse ok = w.handler->handle(World::as(root, "GET", "/metrics"));
    REQUIRE(ok.status == 200);
    CHECK(ok.body.find("strongbox_audit_records 42\n") != std::string::npos);
    CHECK(ok.body.find("strongbox_documents 3\n") != std::string::npos);
    CHECK(ok.body.find("strongbox_auth_logins_total{result=\"ok\"} 2\n") != std::string::npos);
    HttpRequest local = get("/metrics");
    local.remote_address = "127.0.0.1:999";
    CHECK(w.handler->handle(local).status == 200);
    // Liveness and readiness stay open for supervisors.
    CHECK(w.handler->handle(remote.method == "GET" ? get("/healthz") : remote).status == 200);
    CHECK(w.handler->handle(get("/readyz")).status == 200);
}

TEST_CASE("/healthz and /readyz tell anyone whether the box is up, signed-in users its size, admins the rest") {
    World w;
    const Json anonymous = json_of(w.handler->handle(get("/healthz")).body);
    CHECK(anonymous.get_string("status") == "ok");
    CHECK(anonymous.size() == 1);  // no counts, no data directory, no model
    const Json anonymous_ready = json_of(w.handler->handle(get("/readyz")).body);
    CHECK_FALSE(anonymous_ready.contains("salt"));
    CHECK_FALSE(anonymous_ready.contains("disk"));

    Login sam = w.login("sam");
    const Json staff = json_of(w.handler->handle(World::as(sam, "GET", "/healthz")).body);
    CHECK(staff.get_int("documents") == 3);
    CHECK_FALSE(staff.find("disk")->get_bool("read_only"));
    CHECK_FALSE(staff.contains("data_dir"));
    CHECK_FALSE(staff.contains("audit_records"));

    Login root = w.login("root");
    const Json admin = json_of(w.handler->handle(World::as(root, "GET", "/healthz")).body);
    CHECK(admin.get_int("audit_records") == 42);
    CHECK(admin.contains("data_dir"));
    CHECK(admin.contains("answerer"));
}

TEST_CASE("webui/API.md documents every API route") {
    auto doc = sb::core::read_file(SB_WEBUI_API_DOC);
    REQUIRE(doc.ok());
    for (const std::string & route : Handler::api_routes()) {
        // "{id}" in the table is written "<id>", "<chunk_id>", "<name>"... in the reference.
        std::string path = route.substr(route.find(' ') + 1);
        std::vector<std::string> pieces;
        size_t at = 0;
        while (true) {
            const size_t open = path.find('{', at);
            pieces.push_back(path.substr(at, open == std::string::npos ? std::string::npos : open - at));
            if (open == std::string::npos) {
                break;
            }
            at = path.find('}', open) + 1;
        }
        bool found = false;
        for (size_t start = doc.value().find(pieces[0]); start != std::string::npos && !found;
             start = doc.value().find(pieces[0], start + 1)) {
            size_t pos = start + pieces[0].size();
            found = true;
            for (size_t i = 1; i < pieces.size() && found; ++i) {
                if (doc.value().compare(pos, 1, "<") != 0) {
                    found = false;
                    break;
                }
                pos = doc.value().find('>', pos) + 1;
                found = doc.value().compare(pos, pieces[i].size(), pieces[i]) == 0;
                pos += pieces[i].size();
            }
            // The whole path, not a prefix of a longer one.
            found = found && (pos >= doc.value().size() ||
                              std::string("`?/ ").find(doc.value()[pos]) != std::string::npos || pieces.size() > 1);
        }
        CHECK_MESSAGE(found, route);
    }
}
