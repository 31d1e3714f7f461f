// Test support shared by the appliance tests.
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/webui/accounts.h"
#include "strongbox/webui/http.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace strongbox::appliance::testing {

// A fresh directory under the system temp directory, removed with everything in it at scope exit.
struct TempDir {
    std::filesystem::path path;

    explicit TempDir(const std::string & name) : path(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }

    TempDir(const TempDir &) = delete;
    TempDir & operator=(const TempDir &) = delete;
};

// What a shell command printed (stdout and stderr together, as written) and its exit status.
struct CommandRun {
    int exit_code = -1;  // -1 when it was killed by a signal or could not start
    std::string output;
};

inline CommandRun run_command(const std::string & command) {
    CommandRun r;
    FILE * pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        r.output = "cannot start: " + command;
        return r;
    }
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        r.output.append(buf.data(), n);
    }
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// Web accounts beside a test's appliance, with argon2id at its minimum cost: these tests are about
// the appliance behind the web API, not about hashing strength.
inline core::Result<std::unique_ptr<webui::Accounts>> open_test_accounts(const std::filesystem::path & file) {
    webui::AccountsOptions o;
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    return webui::Accounts::open(file, o);
}

// The first-start request that creates the administrator and logs them in.
inline webui::HttpRequest setup_request(const std::string & name, const std::string & password) {
    core::Json body = core::Json::object();
    body["name"] = name;
    body["password"] = password;
    webui::HttpRequest req;
    req.method = "POST";
    req.path = "/api/v1/setup";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
    return req;
}

// A JSON request made in the browser session a login or setup `response` opened: its cookie, and
// the CSRF token every state-changing request must carry.
inline webui::HttpRequest session_request(const webui::HttpResponse & response, const std::string & method,
                                          const std::string & path, const std::string & body) {
    const std::string set_cookie(response.header("Set-Cookie"));
    webui::HttpRequest req;
    req.method = method;
    req.path = path;
    req.headers = {{"Content-Type", "application/json"},
                   {"Cookie", set_cookie.substr(0, set_cookie.find(';'))},
                   {"X-CSRF-Token", core::Json::parse(response.body).value().get_string("csrf_token")}};
    req.body = body;
    return req;
}

}  // namespace strongbox::appliance::testing
