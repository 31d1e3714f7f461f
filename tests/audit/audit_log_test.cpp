#include "strongbox/audit/audit_log.h"

#include "chain.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <tuple>

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

namespace {

// An attacker with the database file and the chain's recipe, but not the key: rewrites records
// after `from` (inclusive) with `edit` applied and every chain hash after it recomputed.
void rewrite_tail(const std::filesystem::path & db_path, int64_t from, const std::string & forged_body) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER IF EXISTS audit_records_no_update");
    SQLite::Statement prev_q(db, "SELECT hash FROM audit_records WHERE id = ?");
    prev_q.bind(1, from - 1);
    REQUIRE(prev_q.executeStep());
    std::string prev = prev_q.getColumn(0).getString();
    SQLite::Statement rows(db, "SELECT id, at, kind, actor, body FROM audit_records WHERE id >= ? ORDER BY id");
    rows.bind(1, from);
    std::vector<std::tuple<int64_t, std::string, std::string, std::string, std::string>> all;
    while (rows.executeStep()) {
        all.emplace_back(rows.getColumn(0).getInt64(), rows.getColumn(1).getString(), rows.getColumn(2).getString(),
                         rows.getColumn(3).getString(), rows.getColumn(4).getString());
    }
    for (auto & [id, at, kind, actor, text] : all) {
        if (id == from) {
            text = forged_body;
        }
        const std::string hash = appliance::chain_hash(prev, kind, at, actor, text);
        SQLite::Statement up(db, "UPDATE audit_records SET body = ?, prev_hash = ?, hash = ? WHERE id = ?");
        up.bind(1, text);
        up.bind(2, prev);
        up.bind(3, hash);
        up.bind(4, id);
        up.exec();
        prev = hash;
    }
}

std::unique_ptr<appliance::AuditLog> open_trail(const std::filesystem::path & path, int checkpoint_every = 256) {
    appliance::AuditOptions options;
    options.checkpoint_every = checkpoint_every;
    auto log = appliance::AuditLog::open(path, options);
    REQUIRE_MESSAGE(log.ok(), log.error().to_string());
    return std::move(log).value();
}

}  // namespace

TEST_CASE(
    "a record rewritten after the last checkpoint, chain hashes and all, fails verification and is never signed") {
    TempDir dir("sb_audit_rewrite_tail");
    const auto db = dir.path / "audit.db";
    {
        auto log = open_trail(db);
        for (int i = 0; i < 4; ++i) {
            REQUIRE(log->append("ask", "alice", body("q" + std::to_string(i))).ok());
        }
        REQUIRE(log->checkpoint().ok());
        REQUIRE(log->append("ask", "alice", body("after the checkpoint")).ok());
        REQUIRE(log->append("ask", "alice", body("the last one")).ok());
    }
    rewrite_tail(db, 6, R"({"question":"forged"})");
    auto log = open_trail(db);
    auto st = log->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("audit record 6 is not signed by the appliance's key") != std::string::npos);
    // The next export would sign it: it refuses instead.
    auto signed_again = log->checkpoint();
    REQUIRE_FALSE(signed_again.ok());
    CHECK(signed_again.error().message().find("refusing to sign a checkpoint") != std::string::npos);
}

TEST_CASE("a forged record appended with a correct chain hash fails verification") {
    TempDir dir("sb_audit_forged_append");
    const auto db_path = dir.path / "audit.db";
    {
        auto log = open_trail(db_path);
        REQUIRE(log->append("ask", "alice", body("real")).ok());
    }
    {
        SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
        const std::string prev = db.execAndGet("SELECT hash FROM audit_records ORDER BY id DESC LIMIT 1").getString();
        const std::string at = "2026-12-08T00:00:00Z";
        const std::string text = R"({"question":"planted"})";
        SQLite::Statement insert(
            db, "INSERT INTO audit_records(at, kind, actor, body, prev_hash, hash) VALUES (?,?,?,?,?,?)");
        insert.bind(1, at);
        insert.bind(2, "ask");
        insert.bind(3, "mallory");
        insert.bind(4, text);
        insert.bind(5, prev);
        insert.bind(6, appliance::chain_hash(prev, "ask", at, "mallory", text));
        insert.exec();
    }
    auto log = open_trail(db_path);
    auto st = log->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("audit record 2 is not signed") != std::string::npos);
    CHECK_FALSE(log->checkpoint().ok());
}

TEST_CASE("records cut off the end, checkpoints with them, are detected by the signed head kept beside the key") {
    TempDir dir("sb_audit_truncate");
    const auto db_path = dir.path / "audit.db";
    {
        auto log = open_trail(db_path, 4);
        for (int i = 0; i < 20; ++i) {
            REQUIRE(log->append("ask", "alice", body("q" + std::to_string(i))).ok());
        }
        REQUIRE(log->verify().ok());
    }
    {
        SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_delete");
        db.exec("DELETE FROM audit_records WHERE id > 10");
        db.exec(R"sql(CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
                      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;)sql");
    }
    auto log = open_trail(db_path, 4);
    auto st = log->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("records were removed") != std::string::npos);
}

TEST_CASE("a trail whose append-only triggers were dropped is reported, though nothing else was touched") {
    TempDir dir("sb_audit_triggers");
    const auto db_path = dir.path / "audit.db";
    {
        auto log = open_trail(db_path);
        REQUIRE(log->append("ask", "alice", body("q")).ok());
    }
    {
        SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_update");
    }
    auto log = open_trail(db_path);
    auto st = log->verify();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("append-only triggers were missing") != std::string::npos);
}

TEST_CASE("each checkpoint names how many records it vouches for") {
    TempDir dir("sb_audit_count");
    auto log = open_trail(dir.path / "audit.db");
    for (int i = 0; i < 3; ++i) {
        REQUIRE(log->append("ask", "alice", body("q" + std::to_string(i))).ok());
    }
    auto id = log->checkpoint();
    REQUIRE(id.ok());
    auto checkpoint = log->get(*id);
    REQUIRE(checkpoint.ok());
    REQUIRE(checkpoint->has_value());
    CHECK((*checkpoint)->body.get_int("count") == 3);
    CHECK(log->verify().ok());
}

TEST_CASE("a head written for a transaction that never committed is not taken for tampering") {
    TempDir dir("sb_audit_uncommitted_head");
    const auto db_path = dir.path / "audit.db";
    {
        auto log = open_trail(db_path);
        REQUIRE(log->append("ask", "alice", body("committed")).ok());
        REQUIRE(log->append("ask", "alice", body("lost with the power")).ok());
    }
    {
        // The state a crash between the head's write and the commit leaves: the head names
        // record 2, the database ends at record 1.
        SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_delete");
        db.exec("DELETE FROM audit_records WHERE id = 2");
        db.exec(R"sql(CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
                      BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;)sql");
    }
    auto log = open_trail(db_path);
    auto st = log->verify();
    CHECK_MESSAGE(st.ok(), st.error().to_string());
    REQUIRE(log->append("ask", "alice", body("after the restart")).ok());
    CHECK(log->verify().ok());
}
