// The account commands of the real strongbox binary (user, group, grant, token) and the loop they
// exist for: a serving daemon, `strongbox ask` going through it as an account, scripts asking with a
// token, and a revoked token refused.

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/core/file.h"
#include "strongbox/core/json.h"
#include "strongbox/webui/tls.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "appliance/test_support.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char ** environ;

using namespace strongbox;
using appliance::testing::TempDir;

namespace {

const std::filesystem::path kData = std::filesystem::path(SB_TEST_DATA_DIR) / "appliance";
const std::filesystem::path kStrongbox = std::filesystem::path(SB_BINARY_DIR) / "appliance" / "strongbox";
constexpr const char * kQuestion = "How long does a disk rebuild take?";

struct Run {
    int exit_code = -1;
    std::string out;  // stdout alone: what scripts capture
    std::string err;
};

// Single-quoted for /bin/sh.
std::string quoted(const std::string & s) {
    std::string q = "'";
    for (char c : s) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

// One command of the real binary against `data`, with `input` as its standard input.
class Cli {
  public:
    explicit Cli(const std::filesystem::path & dir) : dir_(dir), data_(dir / "data") {}

    const std::filesystem::path & data() const { return data_; }

    Run run(const std::string & args, const std::string & input = "") const {
        const std::filesystem::path in = dir_ / "stdin.txt";
        const std::filesystem::path err = dir_ / "stderr.txt";
        REQUIRE(core::write_file_atomic(in, input).ok());
        const std::string cmd = quoted(kStrongbox.string()) + " --data-dir " + quoted(data_.string()) + " " + args +
                                " < " + quoted(in.string()) + " 2> " + quoted(err.string());
        Run r;
        FILE * pipe = ::popen(cmd.c_str(), "r");
        REQUIRE(pipe != nullptr);
        char buf[4096];
        size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
            r.out.append(buf, n);
        }
        const int status = ::pclose(pipe);
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.err = core::read_file(err).value_or("");
        return r;
    }

  private:
    std::filesystem::path dir_;
    std::filesystem::path data_;
};

std::filesystem::path password_file(const std::filesystem::path & dir, const std::string & name,
                                    const std::string & password) {
    const std::filesystem::path p = dir / name;
    REQUIRE(core::write_file_atomic(p, password + "\n").ok());
    return p;
}

// The id `token list` shows for the token named `name`; 0 when it is not listed.
int64_t listed_token_id(const std::string & list, const std::string & name) {
    std::istringstream lines(list);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find(" " + name + " ") != std::string::npos) {
            return std::stoll(line.substr(0, line.find(' ')));
        }
    }
    return 0;
}

// `strongbox serve --port 0` in the background until the end of scope; ready once daemon.json names it.
class Daemon {
  public:
    Daemon(const Cli & cli, const std::vector<std::string> & extra) : data_(cli.data()) {
        log_ = data_.parent_path() / "serve.log";
        std::vector<std::string> args = {kStrongbox.string(), "--data-dir", data_.string(), "serve", "--port", "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char *> argv;
        for (std::string & a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!std::filesystem::exists(data_ / "daemon.json")) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL("strongbox serve exited: " << core::read_file(log_).value_or(""));
            }
            REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, core::read_file(log_).value_or(""));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        auto info = core::Json::parse(core::read_file(data_ / "daemon.json").value_or(""));
        REQUIRE(info.ok());
        url_ = info->get_string("url");
        tls_cert_ = info->get_string("tls_cert");
        port_ = Poco::URI(url_).getPort();
    }

    ~Daemon() { stop(); }

    Daemon(const Daemon &) = delete;
    Daemon & operator=(const Daemon &) = delete;

    // SIGTERM, as an init system stops it; returns its exit code.
    int stop() {
        if (pid_ <= 0) {
            return -1;
        }
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    const std::string & url() const { return url_; }

    const std::string & tls_cert() const { return tls_cert_; }

    int port() const { return port_; }

    std::string log() const { return core::read_file(log_).value_or(""); }

  private:
    std::filesystem::path data_;
    std::filesystem::path log_;
    pid_t pid_ = -1;
    std::string url_;
    std::string tls_cert_;
    int port_ = 0;
};

struct HttpReply {
    int status = 0;
    std::string body;
};

HttpReply ask_over_http(int port, const std::string & token) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(60, 0));
    const std::string body = std::string(R"({"question": ")") + kQuestion + "\"}";
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/api/v1/ask", Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + token);
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    HttpReply reply;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), reply.body);
    reply.status = static_cast<int>(response.getStatus());
    return reply;
}

// A data directory with the operations guide ingested and staff member alice (group lab) reading it.
void set_up_alice(const Cli & cli, const std::filesystem::path & dir) {
    REQUIRE(cli.run("ingest " + quoted((kData / "operations-guide.pdf").string())).exit_code == 0);
    const std::string pw = quoted(password_file(dir, "alice.pw", "alice-password-1").string());
    Run add = cli.run("user add alice --role staff --group lab --password-file " + pw);
    REQUIRE_MESSAGE(add.exit_code == 0, add.err);
    REQUIRE(cli.run("grant lab default read").exit_code == 0);
}

std::vector<appliance::AuditRecord> asks_by(const std::filesystem::path & data, const std::string & user) {
    appliance::Settings s;
    s.data_dir = data;
    auto app = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    auto records = (*app)->audit().list({"", "", "ask", user});
    REQUIRE(records.ok());
    return std::move(records).value();
}

}  // namespace

TEST_CASE("user add takes the password from a file or standard input, and user list shows roles, groups and state") {
    TempDir dir("sb_cli_users_add");
    Cli cli(dir.path);
    Run root = cli.run("user add root --role admin --password-file " +
                       quoted(password_file(dir.path, "root.pw", "root-password-1").string()));
    REQUIRE_MESSAGE(root.exit_code == 0, root.err);
    CHECK(root.out.find("added root (admin)") != std::string::npos);
    Run bob = cli.run("user add bob --role auditor --group audit,lab", "bob-password-1\n");
    REQUIRE_MESSAGE(bob.exit_code == 0, bob.err);

    Run shorty = cli.run("user add carol", "short\n");
    CHECK(shorty.exit_code == 1);
    CHECK(shorty.err.find("user add") != std::string::npos);
    Run nothing = cli.run("user add carol");
    CHECK(nothing.exit_code == 1);
    CHECK(nothing.err.find("no password") != std::string::npos);
    CHECK(cli.run("user add root --role admin", "another-password\n").exit_code == 1);  // already there
    CHECK(cli.run("user add dave --role superuser", "dave-password-1\n").exit_code == 1);

    Run list = cli.run("user list");
    REQUIRE(list.exit_code == 0);
    CHECK(list.out.find("carol") == std::string::npos);
    CHECK(list.out.find("dave") == std::string::npos);
    std::istringstream lines(list.out);
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("root ", 0) == 0) {
            CHECK(line.find("admin") != std::string::npos);
            CHECK(line.find("active") != std::string::npos);
            ++seen;
        } else if (line.rfind("bob ", 0) == 0) {
            CHECK(line.find("auditor") != std::string::npos);
            CHECK(line.find("audit,lab") != std::string::npos);
            ++seen;
        }
    }
    CHECK(seen == 2);

    // Both passwords were stored as given: each logs in, and only with its own.
    auto accounts = access::Accounts::open(cli.data() / "accounts.db");
    REQUIRE(accounts.ok());
    using Outcome = access::LoginAttempt::Outcome;
    CHECK((*accounts)->login("root", "root-password-1", "127.0.0.1")->outcome == Outcome::kOk);
    CHECK((*accounts)->login("bob", "bob-password-1", "127.0.0.1")->outcome == Outcome::kOk);
    CHECK((*accounts)->login("bob", "root-password-1", "127.0.0.1")->outcome == Outcome::kBadCredentials);
}

TEST_CASE("user passwd replaces the password, and user disable refuses to lock out the last admin") {
    TempDir dir("sb_cli_users_passwd");
    Cli cli(dir.path);
    REQUIRE(cli.run("user add root --role admin", "root-password-1\n").exit_code == 0);
    REQUIRE(cli.run("user add alice --role staff", "alice-password-1\n").exit_code == 0);

    Run passwd = cli.run("user passwd alice --password-file " +
                         quoted(password_file(dir.path, "new.pw", "alice-password-2").string()));
    REQUIRE_MESSAGE(passwd.exit_code == 0, passwd.err);
    CHECK(cli.run("user passwd nobody", "whatever-password\n").exit_code == 1);
    auto accounts = access::Accounts::open(cli.data() / "accounts.db");
    REQUIRE(accounts.ok());
    using Outcome = access::LoginAttempt::Outcome;
    CHECK((*accounts)->login("alice", "alice-password-1", "127.0.0.1")->outcome == Outcome::kBadCredentials);
    CHECK((*accounts)->login("alice", "alice-password-2", "127.0.0.1")->outcome == Outcome::kOk);

    Run last = cli.run("user disable root");
    CHECK(last.exit_code == 1);
    CHECK(last.err.find("admin") != std::string::npos);
    CHECK_FALSE((*accounts)->user("root")->disabled);

    REQUIRE(cli.run("user disable alice").exit_code == 0);
    CHECK((*accounts)->user("alice")->disabled);
    CHECK(cli.run("user list").out.find("disabled") != std::string::npos);
    CHECK((*accounts)->login("alice", "alice-password-2", "127.0.0.1")->outcome == Outcome::kBadCredentials);
    REQUIRE(cli.run("user disable alice --enable").exit_code == 0);
    CHECK_FALSE((*accounts)->user("alice")->disabled);
}

TEST_CASE("group add, grant and token create/list/revoke manage access, and a token is shown only once") {
    TempDir dir("sb_cli_users_tokens");
    Cli cli(dir.path);
    REQUIRE(cli.run("user add alice --role staff", "alice-password-1\n").exit_code == 0);
    REQUIRE(cli.run("group add lab").exit_code == 0);
    CHECK(cli.run("group add lab").exit_code == 1);
    REQUIRE(cli.run("grant lab papers write").exit_code == 0);
    CHECK(cli.run("grant lab papers everything").exit_code == 1);
    CHECK(cli.run("grant nosuchgroup papers read").exit_code == 1);

    auto accounts = access::Accounts::open(cli.data() / "accounts.db");
    REQUIRE(accounts.ok());
    CHECK((*accounts)->groups()->size() == 1);
    auto grants = (*accounts)->grants();
    REQUIRE(grants.ok());
    REQUIRE(grants->size() == 1);
    CHECK(grants->front().group == "lab");
    CHECK(grants->front().collection == "papers");
    CHECK(grants->front().access == "write");

    Run made = cli.run("token create alice --name nightly");
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    const std::string token = made.out.substr(0, made.out.find('\n'));
    CHECK(made.out == token + "\n");  // stdout holds the token alone, for scripts
    REQUIRE((*accounts)->token(token).ok());
    CHECK((*accounts)->token(token)->user.name == "alice");
    CHECK(cli.run("token create nobody").exit_code == 1);

    Run list = cli.run("token list");
    REQUIRE(list.exit_code == 0);
    CHECK(list.out.find(token) == std::string::npos);
    CHECK(list.out.find(token.substr(4, 12)) == std::string::npos);
    const int64_t id = listed_token_id(list.out, "nightly");
    REQUIRE(id > 0);
    CHECK(cli.run("token list --user root").out.find("nightly") == std::string::npos);

    REQUIRE(cli.run("token revoke " + std::to_string(id)).exit_code == 0);
    CHECK((*accounts)->token(token).error().code() == core::ErrorCode::kNotFound);
    CHECK(listed_token_id(cli.run("token list").out, "nightly") == 0);
    CHECK(cli.run("token revoke " + std::to_string(id)).exit_code == 1);
    CHECK(cli.run("token revoke seven").exit_code == 1);
}

TEST_CASE("strongbox ask goes through a running daemon as the named account; a script's revoked token gets 401") {
    TempDir dir("sb_cli_users_loop");
    Cli cli(dir.path);
    set_up_alice(cli, dir.path);
    REQUIRE(cli.run("user add bob --role auditor", "bob-password-1\n").exit_code == 0);
    Run made = cli.run("token create alice --name script");
    REQUIRE(made.exit_code == 0);
    const std::string token = made.out.substr(0, made.out.find('\n'));

    Daemon daemon(cli, {});
    CHECK(daemon.url().rfind("http://127.0.0.1:", 0) == 0);

    // The daemon holds the data directory, so this answer can only have come through it.
    Run ask = cli.run("ask --json --user alice " + quoted(kQuestion));
    REQUIRE_MESSAGE(ask.exit_code == 0, (ask.err + "\n" + daemon.log()));
    auto answer = core::Json::parse(ask.out);
    REQUIRE_MESSAGE(answer.ok(), ask.out);
    CHECK(answer->get_string("answer").find("14 hours") != std::string::npos);

    // Only accounts that may ask get through, and the refusal says why.
    Run stranger = cli.run("ask --user mallory " + quoted(kQuestion));
    CHECK(stranger.exit_code == 1);
    CHECK(stranger.err.find("no account named \"mallory\"") != std::string::npos);
    Run auditor = cli.run("ask --user bob " + quoted(kQuestion));
    CHECK(auditor.exit_code == 1);
    CHECK(auditor.err.find("may not ask") != std::string::npos);

    // The one-use credential is gone once the answer is in; the script's own token remains.
    Run tokens = cli.run("token list");
    CHECK(tokens.out.find("strongbox ask") == std::string::npos);
    CHECK(listed_token_id(tokens.out, "script") > 0);
    CHECK(daemon.log().find("sbt_") == std::string::npos);

    HttpReply scripted = ask_over_http(daemon.port(), token);
    REQUIRE_MESSAGE(scripted.status == 200, scripted.body);
    CHECK(scripted.body.find("14 hours") != std::string::npos);
    REQUIRE(cli.run("token revoke " + std::to_string(listed_token_id(tokens.out, "script"))).exit_code == 0);
    HttpReply revoked = ask_over_http(daemon.port(), token);
    CHECK(revoked.status == 401);
    CHECK(revoked.body.find("unauthenticated") != std::string::npos);

    CHECK(daemon.stop() == 0);
    CHECK_FALSE(std::filesystem::exists(cli.data() / "daemon.json"));
    // Both answers are on record under alice, asked over the daemon's API.
    const std::vector<appliance::AuditRecord> asks = asks_by(cli.data(), "alice");
    REQUIRE(asks.size() == 2);
    for (const appliance::AuditRecord & r : asks) {
        CHECK(r.body.get_string("channel") == "http");
    }
    CHECK(asks_by(cli.data(), "mallory").empty());
}

TEST_CASE(
    "over HTTPS a forwarded ask trusts only the certificate daemon.json names, and serve drops stale local tokens") {
    TempDir dir("sb_cli_users_tls");
    Cli cli(dir.path);
    set_up_alice(cli, dir.path);
    // What a `strongbox ask` killed mid-question leaves behind.
    Run leftover = cli.run("token create alice --name " + quoted("strongbox ask, local, pid 999999"));
    REQUIRE(leftover.exit_code == 0);
    const std::string stale = leftover.out.substr(0, leftover.out.find('\n'));

    Daemon daemon(cli, {"--tls"});
    CHECK(daemon.url().rfind("https://127.0.0.1:", 0) == 0);
    CHECK(std::filesystem::equivalent(daemon.tls_cert(), appliance::DataPaths{cli.data()}.tls_cert()));
    auto accounts = access::Accounts::open(cli.data() / "accounts.db");
    REQUIRE(accounts.ok());
    CHECK((*accounts)->token(stale).error().code() == core::ErrorCode::kNotFound);

    Run ask = cli.run("ask --json --user alice " + quoted(kQuestion));
    REQUIRE_MESSAGE(ask.exit_code == 0, (ask.err + "\n" + daemon.log()));
    auto answer = core::Json::parse(ask.out);
    REQUIRE_MESSAGE(answer.ok(), ask.out);
    CHECK(answer->get_string("answer").find("14 hours") != std::string::npos);

    // The same daemon behind a certificate the data directory does not name: nothing is sent.
    const std::string original = core::read_file(cli.data() / "daemon.json").value();
    REQUIRE(webui::ensure_self_signed_certificate(dir.path / "other.pem", dir.path / "other.key",
                                                  {"localhost", "127.0.0.1"})
                .ok());
    auto info = core::Json::parse(original);
    REQUIRE(info.ok());
    (*info)["tls_cert"] = (dir.path / "other.pem").string();
    REQUIRE(core::write_file_atomic(cli.data() / "daemon.json", info->dump()).ok());
    Run refused = cli.run("ask --user alice " + quoted(kQuestion));
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("cannot reach the running daemon") != std::string::npos);
    CHECK(refused.err.find("certificate verify failed") != std::string::npos);
    REQUIRE(core::write_file_atomic(cli.data() / "daemon.json", original).ok());

    CHECK(daemon.stop() == 0);
    CHECK(asks_by(cli.data(), "alice").size() == 1);
}
