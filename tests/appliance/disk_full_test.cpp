// Disk full and failing writes: the real `strongbox` binary with the I/O fault injector
// (tests/fault_inject/io_fault.c) failing writes under its data directory, and an appliance
// opened on a disk with less free space than its reserve. What a user must see: the store stays
// intact, the file fails with a clear "disk full" reason, the appliance turns read-only (writes
// refused with exit 4 / HTTP 507) while search, answers and the audit trail keep working, and
// once space is back ingest works again; an EIO while saving the vector index is reported and
// repaired at the next start.

#include "test_support.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/core/file.h"
#include "strongbox/retrieval/retriever.h"
#include "strongbox/webui/handler.h"
#include "strongbox/webui/service.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sys/statvfs.h>

using namespace strongbox;
using appliance::testing::CommandRun;
using appliance::testing::open_test_accounts;
using appliance::testing::run_command;
using appliance::testing::session_request;
using appliance::testing::setup_request;
using appliance::testing::TempDir;

namespace {

namespace fs = std::filesystem;

const fs::path kRunbook = fs::path(SB_SOURCE_DIR) / "samples/notes/disk-replacement-runbook.md";
const fs::path kPhototest = fs::path(SB_TEST_DATA_DIR) / "ingest/phototest.txt";

// `env <env> strongbox --data-dir <data> <args>`, the injector's variables cleared unless given
// (an ASan build would refuse a preloaded library ahead of its runtime).
CommandRun strongbox_cli(const fs::path & data, const std::string & args, const std::string & env = "") {
    return run_command("env -u LD_PRELOAD ASAN_OPTIONS=verify_asan_link_order=0 " + env + " " +
                       std::string(SB_STRONGBOX_BIN) + " --data-dir " + data.string() + " " + args);
}

fs::path copy_with_marker(const fs::path & src, const fs::path & dst, const std::string & marker) {
    auto bytes = core::read_file(src);
    REQUIRE(bytes.ok());
    std::ofstream(dst, std::ios::binary) << *bytes << "\n" << marker << "\n";
    return fs::absolute(dst);
}

std::string integrity(const fs::path & db) {
    SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
    return d.execAndGet("PRAGMA integrity_check").getString();
}

int64_t lines_of(const fs::path & p) {
    std::ifstream in(p);
    int64_t n = 0;
    for (std::string l; std::getline(in, l);) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("ENOSPC during ingest fails the file as disk full, keeps the store intact and turns the appliance read-only "
          "until space is back") {
    TempDir dir("sb_disk_full_cli");
    const fs::path data = dir.path / "data";
    const fs::path a = copy_with_marker(kRunbook, dir.path / "runbook.md", "Marker alphadisk.");
    const fs::path b = copy_with_marker(kPhototest, dir.path / "phototest.txt", "Marker betadisk.");
    REQUIRE(strongbox_cli(data, "ingest " + a.string()).exit_code == 0);

    // The "disk" is full while the switch file exists: every write, sync or allocation of the
    // document store's journal and of the reserve fails with ENOSPC. The audit trail lives in the
    // reserve's freed blocks, which the injector cannot model, so it is left writable.
    const fs::path full = dir.path / "disk-is-full";
    const fs::path faults = dir.path / "faults.log";
    std::ofstream(full) << "on\n";
    const std::string env =
        "LD_PRELOAD=" + std::string(SB_IO_FAULT_LIB) + " SB_FAULT_DIR=" + data.string() +
        " SB_FAULT_MATCH=strongbox.db-wal:reserve.bin SB_FAULT_ERRNO=ENOSPC SB_FAULT_SWITCH=" + full.string() +
        " SB_FAULT_LOG=" + faults.string();

    CommandRun failed = strongbox_cli(data, "ingest " + b.string(), env);
    CHECK_MESSAGE(failed.exit_code == 4, failed.output);
    CHECK_MESSAGE(failed.output.find("disk full") != std::string::npos, failed.output);
    CHECK_MESSAGE(failed.output.find(b.string()) != std::string::npos, failed.output);
    CHECK_MESSAGE(failed.output.find("read-only now (disk full)") != std::string::npos, failed.output);
    CHECK(failed.output.find("quarantined") == std::string::npos);  // not the file's fault
    CHECK(lines_of(faults) > 0);
    CHECK(integrity(data / "strongbox.db") == "ok");

    // Still full: refused before anything is tried, with the reason.
    CommandRun refused = strongbox_cli(data, "ingest " + b.string(), env);
    CHECK_MESSAGE(refused.exit_code == 4, refused.output);
    CHECK_MESSAGE(refused.output.find("read-only: disk full") != std::string::npos, refused.output);
    CommandRun status = strongbox_cli(data, "status", env);
    REQUIRE_MESSAGE(status.exit_code == 0, status.output);
    CHECK_MESSAGE(status.output.find("\"read_only\": true") != std::string::npos, status.output);

    // Search, answers (each recorded) and the audit trail keep working.
    CommandRun ask = strongbox_cli(data, "ask \"Where is the spare disk taken from?\"", env);
    CHECK_MESSAGE(ask.exit_code == 0, ask.output);
    CHECK_MESSAGE(ask.output.find("cabinet B") != std::string::npos, ask.output);
    CHECK_MESSAGE(ask.output.find("audit record") != std::string::npos, ask.output);
    CommandRun exported = strongbox_cli(data, "audit export --format jsonl", env);
    CHECK_MESSAGE(exported.exit_code == 0, exported.output);
    CHECK(exported.output.find("Where is the spare disk taken from?") != std::string::npos);
    CHECK(strongbox_cli(data, "audit verify", env).exit_code == 0);

    // The first document is untouched; the second never half-arrived.
    {
        retrieval::RetrieverOptions ro;
        ro.database = data / "strongbox.db";
        ro.vector_index = data / "vectors.faiss";
        auto r = retrieval::Retriever::open(ro, std::make_shared<retrieval::HashedEmbedder>());
        REQUIRE_MESSAGE(r.ok(), r.error().to_string());
        auto docs = r->store().list_documents();
        REQUIRE(docs.ok());
        REQUIRE(docs->size() == 1);
        CHECK(docs->front().path == a.string());
    }

    // Space is back: the next write leaves read-only mode and ingest works again.
    fs::remove(full);
    CommandRun again = strongbox_cli(data, "ingest " + b.string(), env);
    CHECK_MESSAGE(again.exit_code == 0, again.output);
    CHECK_MESSAGE(again.output.find("added") != std::string::npos, again.output);
    CommandRun writable = strongbox_cli(data, "status");
    CHECK_MESSAGE(writable.output.find("\"read_only\": false") != std::string::npos, writable.output);
    CHECK(fs::file_size(data / "reserve.bin") > 0);
}

TEST_CASE("EIO while saving the vector index is reported, leaves no partial file and is repaired at the next start") {
    TempDir dir("sb_disk_eio_index");
    const fs::path data = dir.path / "data";
    const fs::path a = copy_with_marker(kRunbook, dir.path / "runbook.md", "Marker alphaeio.");
    const fs::path b = copy_with_marker(kPhototest, dir.path / "phototest.txt", "Marker betaeio.");
    REQUIRE(strongbox_cli(data, "ingest " + a.string()).exit_code == 0);

    const std::string env = "LD_PRELOAD=" + std::string(SB_IO_FAULT_LIB) + " SB_FAULT_DIR=" + data.string() +
                            " SB_FAULT_MATCH=vectors.faiss SB_FAULT_ERRNO=EIO";
    CommandRun saved = strongbox_cli(data, "ingest " + b.string(), env);
    // The document is in the store (the source of truth); only the derived index missed the disk.
    CHECK_MESSAGE(saved.exit_code == 0, saved.output);
    CHECK_MESSAGE(saved.output.find("saving the vector index failed") != std::string::npos, saved.output);
    CHECK_MESSAGE(saved.output.find("Input/output error") != std::string::npos, saved.output);
    for (const auto & entry : fs::directory_iterator(data)) {
        CHECK_MESSAGE(entry.path().filename().string().find(".tmp.") == std::string::npos, entry.path().string());
    }
    CommandRun status = strongbox_cli(data, "status");
    REQUIRE_MESSAGE(status.exit_code == 0, status.output);
    CHECK_MESSAGE(status.output.find("repaired on open") != std::string::npos, status.output);
    CHECK_MESSAGE(status.output.find("\"read_only\": false") != std::string::npos,
                  status.output);  // EIO is not disk full

    retrieval::RetrieverOptions ro;
    ro.database = data / "strongbox.db";
    ro.vector_index = data / "vectors.faiss";
    auto r = retrieval::Retriever::open(ro, std::make_shared<retrieval::HashedEmbedder>());
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    CHECK(r->open_report().added == 0);  // the restart above saved the repaired index
    auto active = r->store().active_chunk_ids();
    REQUIRE(active.ok());
    CHECK(static_cast<size_t>(active->size()) == r->vectors().size());
    retrieval::SearchOptions so;
    so.filter.collections = {std::string(retrieval::kDefaultCollection)};
    so.use_bm25 = false;  // the vectors alone must find it
    auto hits = r->search("quick brown dog jumped betaeio", so);
    REQUIRE(hits.ok());
    REQUIRE_FALSE(hits->empty());
    CHECK(hits->front().document.path == b.string());
}

TEST_CASE("an appliance whose disk has less free space than its reserve is read-only: changes get 507, search, answers "
          "and audit export keep working") {
    TempDir dir("sb_disk_reserve_web");
    const fs::path data = dir.path / "data";
    const fs::path a = copy_with_marker(kRunbook, dir.path / "runbook.md", "Marker alphaweb.");
    {
        appliance::Settings s;
        s.data_dir = data;
        auto app = appliance::Appliance::open(s);
        REQUIRE_MESSAGE(app.ok(), app.error().to_string());
        CHECK((*app)->writable().ok());
        REQUIRE((*app)->ingest({a}, {}).count(appliance::IngestFileResult::Outcome::kAdded) == 1);
    }
    struct statvfs fsinfo {};
    REQUIRE(::statvfs(dir.path.c_str(), &fsinfo) == 0);
    appliance::Settings s;
    s.data_dir = data;
    // A reserve larger than what is free: the measured free space says the disk is full.
    s.disk_reserve_bytes = static_cast<uint64_t>(fsinfo.f_bavail) * fsinfo.f_frsize + (uint64_t(1) << 30);
    auto opened = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
    appliance::Appliance & app = **opened;
    REQUIRE_FALSE(app.writable().ok());
    CHECK(app.writable().error().message().find("read-only: disk full") == 0);

    auto service = appliance::make_web_service(app);
    auto accounts = open_test_accounts(dir.path / "accounts.db");
    REQUIRE_MESSAGE(accounts.ok(), accounts.error().to_string());
    webui::Handler handler(*service, **accounts);
    const webui::HttpRequest setup = setup_request("root", "root-password-1");
    const webui::HttpResponse first_admin = handler.handle(setup);  // an account change like any other
    CHECK_MESSAGE(first_admin.status == 507, first_admin.body);
    CHECK(first_admin.body.find("disk full") != std::string::npos);
    CHECK_FALSE((*accounts)->has_users().value());
    // Made on the box (as `strongbox user add` would once space is back), root logs in: a session
    // is a small write that read-only mode still lets through.
    access::User admin;
    admin.name = "root";
    admin.role = access::kRoleAdmin;
    REQUIRE((*accounts)->add_user(admin, "root-password-1").ok());
    webui::HttpRequest login = setup;
    login.path = "/api/v1/login";
    const webui::HttpResponse session = handler.handle(login);
    REQUIRE_MESSAGE(session.status == 200, session.body);

    const webui::HttpResponse refused =
        handler.handle(session_request(session, "POST", "/api/v1/collections", R"({"name":"ops"})"));
    CHECK_MESSAGE(refused.status == 507, refused.body);
    CHECK(refused.body.find("insufficient_storage") != std::string::npos);
    CHECK(refused.body.find("disk full") != std::string::npos);
    const webui::HttpResponse no_user = handler.handle(session_request(
        session, "POST", "/api/v1/users", R"({"name":"sam","password":"sam-password-1","role":"staff","groups":[]})"));
    CHECK_MESSAGE(no_user.status == 507, no_user.body);
    CHECK_MESSAGE(no_user.body.find("the disk holding " + data.string()) != std::string::npos, no_user.body);
    CHECK((*accounts)->user("sam").error().code() == core::ErrorCode::kNotFound);

    webui::HttpRequest ready;
    ready.method = "GET";
    ready.path = "/readyz";
    const webui::HttpResponse readiness = handler.handle(ready);
    CHECK(readiness.status == 200);
    CHECK(core::Json::parse(readiness.body).value().get_bool("read_only"));

    webui::Caller root;
    root.user = "root";
    root.role = "admin";
    auto panel = service->admin_status(root);
    REQUIRE(panel.ok());
    CHECK(panel->disk.read_only);
    CHECK(panel->disk.reason.find("free") != std::string::npos);

    // Ingest is refused per file with the reason; nothing is quarantined.
    const fs::path b = copy_with_marker(kPhototest, dir.path / "phototest.txt", "Marker betaweb.");
    appliance::IngestReport report = app.ingest({b}, {});
    REQUIRE(report.files.size() == 1);
    CHECK(report.files[0].outcome == appliance::IngestFileResult::Outcome::kFailed);
    CHECK(report.files[0].error.find("read-only: disk full") != std::string::npos);
    CHECK_FALSE(report.files[0].quarantined);

    auto hits = service->search("spare disk cabinet", 5, {}, root);
    REQUIRE_MESSAGE(hits.ok(), hits.error().to_string());
    CHECK(!hits->empty());
    auto answer = app.ask("Where is the spare disk taken from?", "root", "http", 5);
    REQUIRE_MESSAGE(answer.ok(), answer.error().to_string());
    CHECK(answer->audit_id > 0);
    auto jsonl = service->audit_export("jsonl", core::Json::object(), root);
    REQUIRE_MESSAGE(jsonl.ok(), jsonl.error().to_string());
    CHECK(jsonl->bytes.find("Where is the spare disk taken from?") != std::string::npos);
    CHECK(app.audit().verify().ok());
}

TEST_CASE("with the disk full, account changes from the command line are refused with exit 4 and the reason, while "
          "token revocation and disabling a user still work") {
    TempDir dir("sb_disk_full_users");
    const fs::path data = dir.path / "data";
    const fs::path password = dir.path / "password.txt";
    std::ofstream(password) << "long-enough-password\n";
    const std::string pw = " --password-file " + password.string();
    REQUIRE(strongbox_cli(data, "user add root --role admin" + pw).exit_code == 0);
    REQUIRE(strongbox_cli(data, "user add sam --role staff" + pw).exit_code == 0);
    CommandRun token = strongbox_cli(data, "token create sam --name nightly");
    REQUIRE_MESSAGE(token.exit_code == 0, token.output);
    REQUIRE(token.output.find("token 1 for sam") != std::string::npos);

    // The disk fills while a user is being added: the write to accounts.db fails with ENOSPC.
    const std::string faults = "LD_PRELOAD=" + std::string(SB_IO_FAULT_LIB) + " SB_FAULT_DIR=" + data.string() +
                               " SB_FAULT_ERRNO=ENOSPC SB_FAULT_MATCH=";
    const std::string full = faults + "accounts.db-wal:reserve.bin";
    CommandRun failed = strongbox_cli(data, "user add alice --role staff" + pw, full);
    CHECK_MESSAGE(failed.exit_code == 4, failed.output);
    CHECK_MESSAGE(failed.output.find("read-only: disk full: cannot add user alice") != std::string::npos,
                  failed.output);
    CHECK(integrity(data / "accounts.db") == "ok");

    // Still full: every change is refused before it starts, with the reason.
    for (const std::string & change :
         {"user add bob --role staff" + pw, "user passwd sam" + pw, std::string("user disable sam --enable"),
          std::string("group add night"), std::string("grant night ops read"), std::string("token create root")}) {
        CommandRun refused = strongbox_cli(data, change, full);
        CHECK_MESSAGE(refused.exit_code == 4, change << ": " << refused.output);
        CHECK_MESSAGE(refused.output.find("read-only: disk full") != std::string::npos,
                      change << ": " << refused.output);
    }
    CommandRun users = strongbox_cli(data, "user list", full);
    CHECK_MESSAGE(users.exit_code == 0, users.output);
    CHECK(users.output.find("alice") == std::string::npos);
    CHECK(users.output.find("bob") == std::string::npos);

    // Revocations write a row into the space the reserve freed (the injector keeps failing only the
    // reserve, so the disk still reads as full) and go through.
    const std::string reserve_gone = faults + "reserve.bin";
    CommandRun revoked = strongbox_cli(data, "token revoke 1", reserve_gone);
    CHECK_MESSAGE(revoked.exit_code == 0, revoked.output);
    CommandRun disabled = strongbox_cli(data, "user disable sam", reserve_gone);
    CHECK_MESSAGE(disabled.exit_code == 0, disabled.output);
    CHECK(strongbox_cli(data, "group add night", reserve_gone).exit_code == 4);
    CommandRun listed = strongbox_cli(data, "user list");
    CHECK(listed.output.find("disabled") != std::string::npos);
    CHECK(strongbox_cli(data, "token list").output.find("nightly") == std::string::npos);

    // Space is back: changes work again.
    CommandRun again = strongbox_cli(data, "group add night");
    CHECK_MESSAGE(again.exit_code == 0, again.output);
    CHECK(fs::file_size(data / "reserve.bin") > 0);
}
