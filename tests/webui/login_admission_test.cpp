// Login admission: password checks (argon2id) pass a gate of their own, so a login flood is
// answered with quick 429s instead of taking the threads, cores and memory that /healthz, /readyz
// and questions need; names already locked by throttling are refused before the gate.
#include "test_support.h"

#include "strongbox/webui/handler.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sb = strongbox;
using namespace sb::webui;
using namespace sb::webui::testing;

namespace {

HttpRequest login_request(const std::string & name, const std::string & password, const std::string & from) {
    HttpRequest r = post_json("/api/v1/login", R"({"name":")" + name + R"(","password":")" + password + R"("})");
    r.remote_address = from;
    return r;
}

}  // namespace

TEST_CASE("while password checks are saturated, /healthz and /readyz answer and an extra login gets 429 at once") {
    ScratchDir dir;
    sb::access::AccountsOptions ao;
    // Dearer than the other tests' minimum, so a check lasts long enough to be seen in progress.
    ao.pwhash_opslimit = 2;
    ao.pwhash_memlimit = 16 << 20;
    ao.clock = [] {
        return int64_t{1'000'000};
    };  // lockouts report their full length
    auto opened = sb::access::Accounts::open(dir.path / "accounts.db", ao);
    REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
    sb::access::Accounts & accounts = *opened.value();
    sb::access::User slowpoke;
    slowpoke.name = "slowpoke";
    slowpoke.role = sb::access::kRoleStaff;
    REQUIRE(accounts.add_user(slowpoke, "slowpoke-password").ok());

    CorpusService service;
    HandlerOptions o;
    o.access_log = [](std::string_view) {
    };
    o.max_concurrent_logins = 1;
    o.max_queued_logins = 1;
    o.login_queue_timeout_ms = 60'000;
    o.retry_after_seconds = 3;
    Handler handler(service, accounts, o);

    // An unknown name locked from one address by five failures (the throttle's own limit).
    for (int i = 0; i < 5; ++i) {
        CHECK(handler.handle(login_request("nobody", "wrong-password", "10.9.0.1:" + std::to_string(i + 1))).status ==
              401);
    }

    // Two clients log in over and over with the right password, from addresses nobody throttles:
    // one check runs, the other waits for it.
    std::atomic<bool> stop{false};
    std::atomic<int> unexpected{0};
    std::vector<std::thread> flood;
    for (int t = 0; t < 2; ++t) {
        flood.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                const std::string from = "10.1." + std::to_string(t) + "." + std::to_string(i % 250) + ":1";
                const int status = handler.handle(login_request("slowpoke", "slowpoke-password", from)).status;
                if (status != 200 && status != 429) {
                    ++unexpected;
                }
            }
        });
    }
    const bool saturated = eventually([&] {
        HandlerLoad l = handler.load();
        return l.logins_running == 1 && l.logins_queued == 1;
    });

    CHECK(saturated);
    CHECK(handler.handle(get("/healthz")).status == 200);
    CHECK(handler.handle(get("/readyz")).status == 200);
    // The gate may drain for an instant between two flood logins; a client retrying meets it full.
    HttpResponse extra;
    for (int i = 0; i < 50 && extra.status != 429; ++i) {
        extra = handler.handle(login_request("slowpoke", "slowpoke-password", "10.2.0.1:1"));
    }
    // A locked name is refused by throttling, with its lockout, without waiting for a check.
    HttpResponse locked = handler.handle(login_request("nobody", "any-password", "10.9.0.1:9"));
    // The box's own console does not queue behind the flood.
    HttpResponse console = handler.handle(login_request("slowpoke", "slowpoke-password", "127.0.0.1:7"));

    stop = true;
    for (std::thread & t : flood) {
        t.join();
    }
    CHECK(unexpected == 0);
    CHECK(extra.status == 429);
    CHECK(extra.header("Retry-After") == "3");
    CHECK(json_of(extra.body).find("error")->get_string("code") == "too_many_attempts");
    CHECK(locked.status == 429);
    CHECK(locked.header("Retry-After") == "900");
    CHECK(console.status == 200);
    CHECK(handler.metrics_text().find("strongbox_auth_logins_total{result=\"busy\"}") != std::string::npos);

    // Once the flood is over the gate is empty and the same login goes through.
    HandlerLoad after = handler.load();
    CHECK(after.logins_running == 0);
    CHECK(after.logins_queued == 0);
    CHECK(handler.handle(login_request("slowpoke", "slowpoke-password", "10.2.0.1:1")).status == 200);
}
