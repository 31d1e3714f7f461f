// Fuzz target for the web API's request path: webui::Handler on any method, path, query, headers
// and body, as anonymous, staff, admin or auditor caller, by API token or by session cookie, over
// the ScopedService test world (tests/webui/scoped_service.h). Input layout:
//   byte 0: bits 0-1 the caller (0 nobody, 1 staff, 2 admin, 3 auditor), bit 2 a session cookie
//           with its CSRF token instead of a bearer token, bit 3 declare Content-Length, bit 4 a
//           remote (non-loopback) client, bit 5 the stream's client goes away after two events;
//   then "METHOD\nPATH[?QUERY]\nName: value\n...\n\nBODY".
// For every request, handle() returns (never throws) a complete response:
//   - a status in 100..599, X-Request-Id, nosniff, and Content-Length equal to the body size
//     (streams are chunked instead);
//   - a JSON content type means a JSON body, and every 4xx/5xx JSON body is the shared error body
//     {"error":{"code","message","request_id"}} carrying the response's request id;
//   - nobody gets a 2xx from an /api route other than /me, /setup and /login without credentials
//     (the fuzzer cannot guess a token or session), and staff never gets one from an admin route.
// Every request starts from the same accounts database (a fresh copy after any request that
// committed a change), so each input behaves the same whatever ran before it.
#include "fuzz_targets.h"
#include "scoped_service.h"

#include "strongbox/access/accounts.h"
#include "strongbox/core/json.h"
#include "strongbox/webui/handler.h"
#include "strongbox/webui/http.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace strongbox::fuzz {
namespace {

namespace fs = std::filesystem;
using webui::HttpRequest;
using webui::HttpResponse;

struct Credential {
    std::string token;
    std::string session;
    std::string csrf;
};

access::AccountsOptions accounts_options() {
    access::AccountsOptions o;
    o.pwhash_opslimit = 1;  // argon2id at its minimum cost: the target is about the handler
    o.pwhash_memlimit = 8192;
    o.clock = [] {
        return int64_t{1'790'000'000};
    };
    return o;
}

// Accounts with one user per role, each with an API token and a live session, kept as a pristine
// database file.
class World {
  public:
    World() {
        dir_ = fs::temp_directory_path() / ("sb_webui_fuzz_" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        {
            auto accounts = std::move(access::Accounts::open(dir_ / "pristine.db", accounts_options())).value();
            const char * roles[] = {access::kRoleStaff, access::kRoleAdmin, access::kRoleAuditor};
            for (int i = 0; i < 3; ++i) {
                access::User u;
                u.name = std::string(roles[i]) + "-user";
                u.role = roles[i];
                u.groups = {"readers"};
                require(accounts->add_user(u, "password-" + u.name).ok());
                auto t = accounts->create_token(u.name, "fuzz");
                require(t.ok());
                auto s = accounts->login(u.name, "password-" + u.name, "127.0.0.1");
                require(s.ok() && s->outcome == access::LoginAttempt::Outcome::kOk);
                creds_[i + 1] = {t->token, s->session.id, s->session.csrf_token};
            }
            require(accounts->set_grant("readers", "alpha", "read").ok());
        }
    }
    ~World() {
        version_query_.reset();
        watch_.reset();
        accounts_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // Called before every request: puts the pristine database back when the last request
    // committed anything, or was a login, whose failures Accounts counts in memory only. PRAGMA
    // data_version on a connection of our own moves with every commit made by another connection
    // (the handler's), and most requests commit nothing.
    access::Accounts & accounts(bool login) {
        if (!watch_ || last_was_login_ || data_version() != clean_version_) {
            reset();
        }
        last_was_login_ = login;
        return *accounts_;
    }

    const Credential & credential(int who) const { return creds_[who]; }

  private:
    void reset() {
        accounts_.reset();
        version_query_.reset();
        watch_.reset();
        fs::copy_file(dir_ / "pristine.db", dir_ / "accounts.db", fs::copy_options::overwrite_existing);
        for (const char * suffix : {"-wal", "-shm", "-journal"}) {
            fs::remove(dir_ / (std::string("accounts.db") + suffix));
        }
        accounts_ = std::move(access::Accounts::open(dir_ / "accounts.db", accounts_options())).value();
        watch_.emplace((dir_ / "accounts.db").string(), SQLite::OPEN_READONLY);
        version_query_.emplace(*watch_, "PRAGMA data_version");
        clean_version_ = data_version();
    }

    int64_t data_version() {
        version_query_->reset();
        require(version_query_->executeStep());
        return version_query_->getColumn(0).getInt64();
    }

    fs::path dir_;
    std::unique_ptr<access::Accounts> accounts_;
    std::optional<SQLite::Database> watch_;
    std::optional<SQLite::Statement> version_query_;
    int64_t clean_version_ = 0;
    bool last_was_login_ = false;
    Credential creds_[4];
};

World & world() {
    static World w;
    return w;
}

bool is_json_type(std::string_view content_type) {
    return content_type.rfind("application/json", 0) == 0;
}

}  // namespace

int webui_request(const uint8_t * data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const uint8_t flags = data[0];
    std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
    auto next_line = [&rest] {
        const size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        return line;
    };

    HttpRequest req;
    req.method = next_line();
    std::string_view target = next_line();
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string_view::npos) {
        req.query = target.substr(q + 1);
    }
    while (!rest.empty()) {
        std::string_view line = next_line();
        if (line.empty()) {
            break;
        }
        const size_t colon = line.find(':');
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    req.body = rest;
    if ((flags & 0x08) != 0) {
        req.content_length = static_cast<int64_t>(req.body.size());
    }
    req.remote_address = (flags & 0x10) != 0 ? "10.1.2.3:40000" : "127.0.0.1:40000";

    const int who = flags & 0x03;
    const Credential & cred = world().credential(who);
    if (who != 0) {
        if ((flags & 0x04) != 0) {
            req.headers.emplace_back("Cookie", "sb_session=" + cred.session);
            req.headers.emplace_back("X-CSRF-Token", cred.csrf);
        } else {
            req.headers.emplace_back("Authorization", "Bearer " + cred.token);
        }
    }
    webui::testing::ScopedService service;
    webui::HandlerOptions options;
    options.max_body_bytes = 4096;
    options.max_upload_bytes = 16384;
    options.max_update_bytes = 16384;
    options.queue_timeout_ms = 100;
    options.access_log = [](std::string_view) {
    };
    webui::Handler handler(service, world().accounts(req.method == "POST" && req.path == "/api/v1/login"), options);
    HttpResponse res = handler.handle(req);

    require(res.status >= 100 && res.status <= 599);
    require(!res.header("X-Request-Id").empty());
    require(res.header("X-Content-Type-Options") == "nosniff");
    std::string body = res.body;
    if (res.stream) {
        body.clear();
        int events = 0;
        res.stream([&](std::string_view bytes) {
            body.append(bytes);
            return (flags & 0x20) == 0 || ++events < 2;
        });
    } else {
        require(res.header("Content-Length") == std::to_string(res.body.size()));
        if (is_json_type(res.header("Content-Type"))) {
            auto json = core::Json::parse(res.body);
            require(json.ok());
            if (res.status >= 400) {
                const core::Json * error = json->find("error");
                require(error != nullptr && error->is_object());
                require(error->find("code") != nullptr && error->find("code")->is_string());
                require(error->find("message") != nullptr && error->find("message")->is_string());
                require(error->get_string("request_id") == res.header("X-Request-Id"));
            }
        }
    }

    const bool ok = res.status >= 200 && res.status < 300;
    const std::string & path = req.path;
    if (ok && who == 0 && path.rfind("/api/", 0) == 0) {
        require(path == "/api/v1/me" || path == "/api/v1/setup" || path == "/api/v1/login");
    }
    if (ok && who == 1) {
        for (std::string_view admin_only : {"/api/v1/users", "/api/v1/groups", "/api/v1/settings", "/api/v1/admin/",
                                            "/api/v1/quarantine", "/api/v1/audit"}) {
            require(path.rfind(admin_only, 0) != 0);
        }
    }
    return 0;
}

}  // namespace strongbox::fuzz

#ifdef SB_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::fuzz::webui_request(data, size);
}
#endif
