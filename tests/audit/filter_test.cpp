// Auditor filters on the live trail: a time range selects records by their recorded time, and
// filters combine (time, user, document, question).

#include "strongbox/audit/audit_log.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "support/temp_dir.h"

using namespace strongbox;

namespace {

using strongbox::testing::TempDir;

core::Json ask_body(const std::string & question, const std::string & source) {
    core::Json body = core::Json::object();
    body["question"] = question;
    core::Json citation = core::Json::object();
    core::Json provenance = core::Json::object();
    provenance["source_path"] = source;
    citation["provenance"] = provenance;
    body["citations"].push_back(citation);
    return body;
}

std::vector<int64_t> ids(const appliance::AuditLog & log, const appliance::AuditFilter & f) {
    // Held by value: iterating list(f).value() directly would walk a vector owned by a destroyed temporary.
    const std::vector<appliance::AuditRecord> records = log.list(f).value();
    std::vector<int64_t> out;
    for (const appliance::AuditRecord & r : records) {
        out.push_back(r.id);
    }
    return out;
}

}  // namespace

TEST_CASE("a time range selects records at or after since and before until, combined with the other filters") {
    TempDir dir("sb_audit_filter_time");
    auto log = appliance::AuditLog::open(dir.path / "audit.db").value();
    const char * users[] = {"alice", "bob", "alice", "alice"};
    const char * sources[] = {"/docs/a.pdf", "/docs/a.pdf", "/docs/b.pdf", "/docs/a.pdf"};
    for (int i = 0; i < 4; ++i) {
        REQUIRE(log->append("ask", users[i], ask_body("Backups, question " + std::to_string(i), sources[i])).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct microsecond timestamps
    }
    const std::vector<appliance::AuditRecord> all = log->list({}).value();
    REQUIRE(all.size() == 4);

    appliance::AuditFilter range;
    range.since = all[1].at;
    range.until = all[3].at;
    CHECK(ids(*log, range) == std::vector<int64_t>{2, 3});

    range.actor = "alice";
    CHECK(ids(*log, range) == std::vector<int64_t>{3});
    range.actor.clear();
    range.document = "a.pdf";
    CHECK(ids(*log, range) == std::vector<int64_t>{2});
    range.document.clear();
    range.question = "QUESTION 2";
    CHECK(ids(*log, range) == std::vector<int64_t>{3});

    appliance::AuditFilter later;
    later.since = all[3].at;
    CHECK(ids(*log, later) == std::vector<int64_t>{4});
}
