// Shared helpers for the web UI tests: request builders, a corpus loaded from tests/data/webui,
// and a service wrapper that holds asks until released, for overload tests.
#pragma once

#include "corpus_service.h"

#include "strongbox/access/accounts.h"
#include "strongbox/core/json.h"
#include "strongbox/webui/handler.h"
#include "strongbox/webui/http.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

namespace strongbox::webui::testing {

inline std::string data_path(const std::string & name) {
    return std::string(SB_TEST_DATA_DIR) + "/webui/" + name;
}

inline void load_corpus(CorpusService & service) {
    for (const char * name : {"pubmed-10340286.txt", "pubmed-10354335.txt", "pubmed-10593212.txt"}) {
        core::Status st = service.add_file(data_path(name));
        REQUIRE_MESSAGE(st.ok(), st.error().to_string());
    }
}

inline HttpRequest get(const std::string & path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    return r;
}

inline HttpRequest post_json(const std::string & path, const std::string & body) {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.content_length = static_cast<int64_t>(body.size());
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
}

inline core::Json json_of(const std::string & body) {
    core::Result<core::Json> j = core::Json::parse(body);
    REQUIRE_MESSAGE(j.ok(), "not JSON: " << body);
    return j.value();
}

// Waits for a condition another thread makes true; fails the test instead of hanging forever.
inline bool eventually(const std::function<bool()> & cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

// argon2id at its minimum cost: the tests are about the handler, not about hashing strength.
inline access::AccountsOptions fast_accounts_options() {
    access::AccountsOptions o;
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    return o;
}

// A scratch directory removed at the end of the test.
struct ScratchDir {
    ScratchDir() {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("sb_webui_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir & operator=(const ScratchDir &) = delete;
    std::filesystem::path path;
};

// An accounts store in a scratch directory holding one staff user, "tester", and an API token of
// theirs, for tests about what an authenticated caller sees.
struct TestAccounts {
    explicit TestAccounts(access::AccountsOptions options = fast_accounts_options()) {
        auto opened = access::Accounts::open(dir.path / "accounts.db", std::move(options));
        REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
        accounts = std::move(opened).value();
        access::User u;
        u.name = "tester";
        u.role = access::kRoleStaff;
        u.groups = {"readers"};
        REQUIRE(accounts->add_user(u, "tester-password").ok());
        auto t = accounts->create_token("tester", "tests");
        REQUIRE(t.ok());
        token = t.value().token;
    }
    ScratchDir dir;
    std::unique_ptr<access::Accounts> accounts;
    std::string token;
};

// A Handler whose requests carry the staff token of TestAccounts unless they bring credentials.
class StaffHandler {
  public:
    StaffHandler(Services services, HandlerOptions options)
        : handler_(services, *accounts_.accounts, std::move(options)) {}

    HttpResponse handle(HttpRequest request) {
        if (request.header("Authorization").empty() && request.header("Cookie").empty()) {
            request.headers.emplace_back("Authorization", "Bearer " + accounts_.token);
        }
        return handler_.handle(request);
    }
    Handler & raw() { return handler_; }
    std::string metrics_text() const { return handler_.metrics_text(); }
    HandlerLoad load() const { return handler_.load(); }

  private:
    TestAccounts accounts_;
    Handler handler_;
};

// Holds every ask() until release(), counting the ones that have started.
class HoldingService : public CorpusService {
  public:
    core::Result<core::Answer> ask(const AskRequest & request) override {
        {
            std::unique_lock lock(mu_);
            ++started_;
            cv_.notify_all();
            cv_.wait(lock, [this] { return released_; });
        }
        return CorpusService::ask(request);
    }

    void release() {
        std::lock_guard lock(mu_);
        released_ = true;
        cv_.notify_all();
    }

    int started() {
        std::lock_guard lock(mu_);
        return started_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    int started_ = 0;
    bool released_ = false;
};

}  // namespace strongbox::webui::testing
