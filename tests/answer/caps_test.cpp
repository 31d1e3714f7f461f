// The per-user daily token ledger: counts survive reopening, days and users are apart, and two
// processes' charges add up.

#include "strongbox/answer/caps.h"

#include <doctest/doctest.h>

#include "support/temp_dir.h"

using namespace strongbox;
using appliance::QuotaLedger;
using strongbox::testing::TempDir;

namespace {

std::unique_ptr<QuotaLedger> open_ledger(const std::filesystem::path & path) {
    auto ledger = QuotaLedger::open(path);
    REQUIRE_MESSAGE(ledger.ok(), ledger.error().to_string());
    return std::move(ledger).value();
}

}  // namespace

TEST_CASE("tokens charged to a user are still counted after the ledger is reopened") {
    TempDir dir("sb-caps-reopen");
    const auto path = dir.path / "usage.db";
    {
        auto ledger = open_ledger(path);
        CHECK(ledger->charge("alice", 700).value() == 700);
        CHECK(ledger->charge("alice", 400).value() == 1100);
    }
    auto ledger = open_ledger(path);
    CHECK(ledger->used("alice").value() == 1100);
    CHECK(ledger->has_room("alice", 1200).value());
    CHECK_FALSE(ledger->has_room("alice", 1100).value());
    CHECK(ledger->has_room("alice", 0).value());  // 0 = unlimited
}

TEST_CASE("each user and each UTC day has its own count") {
    TempDir dir("sb-caps-days");
    auto ledger = open_ledger(dir.path / "usage.db");
    REQUIRE(ledger->charge_on("alice", "2026-11-21", 5000).ok());
    REQUIRE(ledger->charge("bob", 30).ok());
    CHECK(ledger->used_on("alice", "2026-11-21").value() == 5000);
    CHECK(ledger->used("alice").value() == (appliance::utc_day() == "2026-11-21" ? 5000 : 0));
    CHECK(ledger->used("bob").value() == 30);
    CHECK(appliance::utc_day().size() == 10);
}

TEST_CASE("charges from two ledgers on the same file add up") {
    TempDir dir("sb-caps-shared");
    const auto path = dir.path / "usage.db";
    auto cli = open_ledger(path);
    auto daemon = open_ledger(path);
    for (int i = 0; i < 20; ++i) {
        REQUIRE(cli->charge("alice", 3).ok());
        REQUIRE(daemon->charge("alice", 5).ok());
    }
    CHECK(cli->used("alice").value() == 160);
    CHECK(daemon->used("alice").value() == 160);
}

TEST_CASE("a ledger path that cannot be a database fails open naming the file") {
    TempDir dir("sb-caps-bad");
    auto ledger = QuotaLedger::open(dir.path / "missing-dir" / "usage.db");
    REQUIRE_FALSE(ledger.ok());
    CHECK(ledger.error().message().find("missing-dir/usage.db") != std::string::npos);
}
