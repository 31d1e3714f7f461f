#include "strongbox/audit/audit_log.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "support/temp_dir.h"

using namespace strongbox;

namespace {

using strongbox::testing::TempDir;

core::Json body(const std::string & question) {
    core::Json j = core::Json::object();
    j["question"] = question;
    return j;
}

}  // namespace

TEST_CASE("audit records chain and export as one JSON object per line") {
    TempDir dir("sb_audit_chain");
    auto log = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(log.ok());
    REQUIRE((*log)->append("ask", "alice", body("first?")).ok());
    REQUIRE((*log)->append("ask", "bob", body("second?")).ok());
    CHECK((*log)->verify().ok());
    std::ostringstream out;
    auto n = (*log)->export_jsonl(out, {});
    REQUIRE(n.ok());
    CHECK(*n == 2);
    std::istringstream lines(out.str());
    std::string line;
    std::vector<core::Json> records;
    while (std::getline(lines, line)) {
        records.push_back(core::Json::parse(line).value());
    }
    REQUIRE(records.size() == 2);
    CHECK(records[1].get_string("prev_hash") == records[0].get_string("hash"));
    CHECK(records[0].find("record")->get_string("question") == "first?");

    appliance::AuditFilter only_bob;
    only_bob.actor = "bob";
    CHECK((*log)->list(only_bob)->size() == 1);
}

TEST_CASE("one audit record is read by its id, the same as the full listing gives it") {
    TempDir dir("sb_audit_get");
    auto log = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(log.ok());
    auto first = (*log)->append("ask", "alice", body("first?"));
    auto second = (*log)->append("ask", "bob", body("second?"));
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    auto all = (*log)->list({});
    REQUIRE(all.ok());
    auto got = (*log)->get(*second);
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    const appliance::AuditRecord & listed = all->back();
    CHECK((*got)->id == listed.id);
    CHECK((*got)->actor == "bob");
    CHECK((*got)->body.get_string("question") == "second?");
    CHECK((*got)->hash == listed.hash);
    CHECK((*got)->prev_hash == listed.prev_hash);
    CHECK((*got)->at == listed.at);
    auto missing = (*log)->get(*second + 100);
    REQUIRE(missing.ok());
    CHECK_FALSE(missing->has_value());
}

TEST_CASE("audit records cannot be updated or deleted through SQL") {
    TempDir dir("sb_audit_appendonly");
    {
        auto log = appliance::AuditLog::open(dir.path / "audit.db");
        REQUIRE(log.ok());
        REQUIRE((*log)->append("ask", "alice", body("q")).ok());
    }
    SQLite::Database db((dir.path / "audit.db").string(), SQLite::OPEN_READWRITE);
    CHECK_THROWS(db.exec("UPDATE audit_records SET actor = 'mallory'"));
    CHECK_THROWS(db.exec("DELETE FROM audit_records"));
}

TEST_CASE("editing a record's bytes in the file is detected and names the record") {
    TempDir dir("sb_audit_tamper");
    {
        auto log = appliance::AuditLog::open(dir.path / "audit.db");
        REQUIRE(log.ok());
        for (int i = 0; i < 3; ++i) {
            REQUIRE((*log)->append("ask", "alice", body("q" + std::to_string(i))).ok());
        }
    }
    {
        // An attacker with the file drops the triggers and edits history.
        SQLite::Database db((dir.path / "audit.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_update");
        db.exec("UPDATE audit_records SET body = '{\"question\":\"forged\"}' WHERE id = 2");
    }
    auto log = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(log.ok());
    auto st = (*log)->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("audit record 2 was altered") != std::string::npos);
}

TEST_CASE("removing a record from the middle of the chain is detected") {
    TempDir dir("sb_audit_remove");
    {
        auto log = appliance::AuditLog::open(dir.path / "audit.db");
        REQUIRE(log.ok());
        for (int i = 0; i < 3; ++i) {
            REQUIRE((*log)->append("ask", "alice", body("q" + std::to_string(i))).ok());
        }
    }
    {
        SQLite::Database db((dir.path / "audit.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_delete");
        db.exec("DELETE FROM audit_records WHERE id = 2");
    }
    auto log = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(log.ok());
    auto st = (*log)->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("audit record 3 does not follow") != std::string::npos);
}
