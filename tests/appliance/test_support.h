// Test support shared by the tests of the appliance and its command line: web accounts and
// signed-in requests; TempDir and run_command come from tests/support.
#pragma once

#include "strongbox/access/accounts.h"
#include "strongbox/core/json.h"
#include "strongbox/webui/http.h"

#include <filesystem>
#include <memory>
#include <string>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace strongbox::appliance::testing {

using strongbox::testing::CommandRun;
using strongbox::testing::run_command;
using strongbox::testing::TempDir;

// Web accounts beside a test's appliance, with argon2id at its minimum cost: these tests are about
// the appliance behind the web API, not about hashing strength.
inline core::Result<std::unique_ptr<access::Accounts>> open_test_accounts(const std::filesystem::path & file) {
    access::AccountsOptions o;
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    return access::Accounts::open(file, o);
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
    req.remote_address = "127.0.0.1:40000";  // first-start setup from the box itself
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
