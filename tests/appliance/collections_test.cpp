// The web services of the appliance against a real Appliance on a scratch data directory:
// collections and access, uploads and their jobs, quarantine, documents, page images, settings
// and the audit trail, as the web UI sees them through webui's services.

#include "test_support.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/uploads.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/webui/handler.h"
#include "strongbox/webui/service.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <sys/statvfs.h>
#include <sys/wait.h>

using namespace strongbox;
using appliance::IngestFileResult;
using appliance::testing::open_test_accounts;
using appliance::testing::session_request;
using appliance::testing::setup_request;
using appliance::testing::TempDir;
using webui::Caller;

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "appliance";
const fs::path kStrongbox = fs::path(SB_BINARY_DIR) / "appliance" / "strongbox";

std::unique_ptr<appliance::Appliance> open_app(const fs::path & dir) {
    appliance::Settings s;
    s.data_dir = dir;
    auto app = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    return std::move(app).value();
}

Caller admin() {
    Caller c;
    c.user = "root";
    c.role = "admin";
    return c;
}

Caller staff(const std::string & name, std::vector<std::string> readable, std::vector<std::string> writable = {}) {
    Caller c;
    c.user = name;
    c.role = "staff";
    c.readable = std::move(readable);
    c.writable = std::move(writable);
    return c;
}

Caller auditor() {
    Caller c;
    c.user = "audrey";
    c.role = "auditor";
    return c;
}

std::string read(const fs::path & p) {
    auto bytes = core::read_file(p);
    REQUIRE_MESSAGE(bytes.ok(), bytes.error().to_string());
    return *bytes;
}

// Polls the job until it leaves queued/running; fails the test instead of hanging.
webui::UploadJob wait_for_job(webui::AllServices & service, const std::string & id, const Caller & caller) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto job = service.job(id, caller);
        REQUIRE_MESSAGE(job.ok(), job.error().to_string());
        const std::string state = job->state;
        if (state == "done" || state == "failed") {
            return *job;
        }
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, ("job " + id + " still " + state));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

int64_t first_hit_chunk(webui::AllServices & service, const std::string & query, const Caller & caller) {
    auto hits = service.search(query, 5, {}, caller);
    REQUIRE_MESSAGE(hits.ok(), hits.error().to_string());
    REQUIRE(!hits->empty());
    return hits->front().chunk_id;
}

// Width and height from a PNG's IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const std::string & png) {
    REQUIRE(png.size() > 24);
    REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    REQUIRE(png.compare(12, 4, "IHDR") == 0);
    auto be32 = [&](size_t at) {
        return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
               (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
    };
    return {be32(16), be32(20)};
}

std::string run_strongbox(const std::string & args, int & exit_code) {
    const std::string cmd = kStrongbox.string() + " " + args + " 2>&1";
    std::string out;
    FILE * pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        out.append(buf.data(), n);
    }
    const int status = ::pclose(pipe);
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

}  // namespace

TEST_CASE("an uploaded PDF becomes a job that reports its pages and makes it searchable in that collection only") {
    TempDir dir("sb_coll_upload");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    REQUIRE(service->create_collection("ops", admin()).ok());
    REQUIRE(service->create_collection("hr", admin()).ok());
    const Caller writer = staff("wendy", {"ops"}, {"ops"});

    auto id = service->start_upload("ops", "operations-guide.pdf", read(kData / "operations-guide.pdf"), writer);
    REQUIRE_MESSAGE(id.ok(), id.error().to_string());
    const webui::UploadJob job = wait_for_job(*service, *id, writer);
    CHECK(job.state == "done");
    const webui::UploadFile & file = job.files.at(0);
    CHECK(file.name == "operations-guide.pdf");
    CHECK(file.state == "added");
    CHECK(file.pages_total == 4);
    CHECK(file.pages_done == 4);

    auto in_ops = service->search("monthly archive tapes", 5, {}, writer);
    REQUIRE(in_ops.ok());
    REQUIRE(!in_ops->empty());
    const webui::SearchHit & hit = in_ops->front();
    CHECK(hit.document.collection == "ops");
    CHECK(hit.document.name == "operations-guide.pdf");
    CHECK(hit.location == "operations-guide.pdf p. 2");
    CHECK_FALSE(hit.snippet.empty());

    auto in_hr = service->search("monthly archive tapes", 5, {}, staff("harry", {"hr"}));
    REQUIRE(in_hr.ok());
    CHECK(in_hr->empty());

    auto docs = service->documents("ops", writer);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK((*docs)[0].pages == 4);
    CHECK((*docs)[0].status == "active");

    // The same bytes again change nothing; a reader without write access cannot upload.
    auto again = service->start_upload("ops", "operations-guide.pdf", read(kData / "operations-guide.pdf"), writer);
    REQUIRE(again.ok());
    CHECK(wait_for_job(*service, *again, writer).files.at(0).state == "unchanged");
    auto refused = service->start_upload("ops", "x.txt", "text", staff("rita", {"ops"}));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == core::ErrorCode::kPermissionDenied);
    // Someone who cannot read the collection cannot see the job either.
    CHECK(service->job(*id, staff("harry", {"hr"})).error().code() == core::ErrorCode::kNotFound);
}

TEST_CASE(
    "an upload accepted before the appliance stopped goes in when it serves again with room; unaccepted leftovers go") {
    TempDir dir("sb_coll_resume");
    const fs::path data = dir.path / "data";
    const Caller writer = staff("wendy", {"ops"}, {"ops"});
    std::string job_id;
    {
        auto app = open_app(data);
        REQUIRE(appliance::make_web_service(*app)->create_collection("ops", admin()).ok());
        // The client was told "accepted", then the appliance stopped before its worker took the job;
        // a second upload was still arriving, so nobody was told anything about it.
        auto job = appliance::stage_upload(*app, "ops", "operations-guide.pdf", read(kData / "operations-guide.pdf"),
                                           writer.user);
        REQUIRE_MESSAGE(job.ok(), job.error().to_string());
        job_id = job->id;
        REQUIRE(core::write_file_atomic(data / "staging" / "upload-19700101T000000Z-1-half.pdf", "%PDF-1.4").ok());
    }
    {
        // Back on a full disk (a reserve larger than what is free): the job waits for room rather
        // than failing for want of it.
        struct statvfs disk {};
        REQUIRE(::statvfs(dir.path.c_str(), &disk) == 0);
        appliance::Settings s;
        s.data_dir = data;
        s.disk_reserve_bytes = static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize + (uint64_t{1} << 30);
        auto full = appliance::Appliance::open(s);
        REQUIRE_MESSAGE(full.ok(), full.error().to_string());
        CHECK(appliance::resume_uploads(**full).value() == 0);
        CHECK(fs::exists(data / "staging" / (job_id + ".job")));
    }
    auto app = open_app(data);
    auto service = appliance::make_web_service(*app);
    auto resumed = appliance::resume_uploads(*app);
    REQUIRE_MESSAGE(resumed.ok(), resumed.error().to_string());
    CHECK(*resumed == 1);
    const webui::UploadJob job = wait_for_job(*service, job_id, writer);
    CHECK(job.state == "done");
    CHECK(job.files.at(0).state == "added");
    auto hits = service->search("monthly archive tapes", 5, {}, writer);
    REQUIRE(hits.ok());
    CHECK(!hits->empty());
    // Nothing is left to run twice.
    CHECK(fs::is_empty(data / "staging"));
    CHECK(appliance::resume_uploads(*app).value() == 0);
}

TEST_CASE("a resumed job finishes a file already moved into place and says which upload lost its bytes") {
    TempDir dir("sb_coll_resume_moved");
    const fs::path data = dir.path / "data";
    const Caller writer = staff("wendy", {"ops"}, {"ops"});
    std::string moved_id;
    std::string lost_id;
    {
        auto app = open_app(data);
        REQUIRE(appliance::make_web_service(*app)->create_collection("ops", admin()).ok());
        auto moved = appliance::stage_upload(*app, "ops", "operations-guide.pdf", read(kData / "operations-guide.pdf"),
                                             writer.user);
        auto lost = appliance::stage_upload(*app, "ops", "notes.txt", "Backups are kept for 35 days.\n", writer.user);
        REQUIRE(moved.ok());
        REQUIRE(lost.ok());
        moved_id = moved->id;
        lost_id = lost->id;
        // The stop came after the worker moved the first file to where documents live, before its
        // ingest committed; the second file's bytes were lost with the disk they were on.
        const fs::path target = data / "documents" / "ops" / "operations-guide.pdf";
        fs::create_directories(target.parent_path());
        fs::rename(moved->files.at(0).staged, target);
        fs::remove(lost->files.at(0).staged);
    }
    auto app = open_app(data);
    auto service = appliance::make_web_service(*app);
    REQUIRE(appliance::resume_uploads(*app).value() == 2);
    const webui::UploadJob moved = wait_for_job(*service, moved_id, writer);
    CHECK(moved.state == "done");
    CHECK(moved.files.at(0).state == "added");
    const webui::UploadJob lost = wait_for_job(*service, lost_id, writer);
    CHECK(lost.state == "failed");
    const std::string why = lost.files.at(0).error;
    CHECK_MESSAGE(why.find("notes.txt: the appliance stopped while ingesting this upload") != std::string::npos, why);
    CHECK(fs::is_empty(data / "staging"));
}

TEST_CASE("a reader of one collection gets no trace of another through ask, search, source, page image, documents "
          "and history") {
    TempDir dir("sb_coll_acl");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    appliance::IngestTarget secret;
    secret.collection = "secret";
    REQUIRE(app->ingest({kData / "operations-guide.pdf"}, nullptr, secret).count(IngestFileResult::Outcome::kAdded) ==
            1);
    REQUIRE(core::write_file_atomic(dir.path / "cafeteria.md", "# Cafeteria\n\nLunch is served from noon.\n").ok());
    appliance::IngestTarget open;
    open.collection = "public";
    REQUIRE(app->ingest({dir.path / "cafeteria.md"}, nullptr, open).count(IngestFileResult::Outcome::kAdded) == 1);

    const Caller bob = staff("bob", {"public"});
    const int64_t hidden = first_hit_chunk(*service, "monthly archive tapes", admin());
    const int64_t missing = 999999;

    webui::AskRequest ask;
    ask.question = "How long are monthly archive tapes kept?";
    ask.caller = bob;
    auto answer = service->ask(ask);
    REQUIRE(answer.ok());
    CHECK(answer->refused);
    for (const core::Citation & c : answer->citations) {
        CHECK(c.provenance.source_path.find("operations-guide") == std::string::npos);
    }
    // Narrowing to a collection bob cannot read searches nothing.
    ask.collections = {"secret"};
    ask.question = "When is lunch served?";
    auto narrowed = service->ask(ask);
    REQUIRE(narrowed.ok());
    CHECK(narrowed->citations.empty());

    auto hits = service->search("monthly archive tapes", 5, {"secret"}, bob);
    REQUIRE(hits.ok());
    CHECK(hits->empty());

    // Hidden and missing things answer alike.
    auto src_hidden = service->source(hidden, bob);
    auto src_missing = service->source(missing, bob);
    REQUIRE_FALSE(src_hidden.ok());
    CHECK(src_hidden.error().code() == core::ErrorCode::kNotFound);
    CHECK(src_hidden.error().message() == "no chunk " + std::to_string(hidden));
    CHECK(src_missing.error().message() == "no chunk " + std::to_string(missing));
    auto png = service->page_image(hidden, 72, bob);
    REQUIRE_FALSE(png.ok());
    CHECK(png.error().message() == "no chunk " + std::to_string(hidden));
    CHECK(service->documents("secret", bob).error().message() == "no collection \"secret\"");
    CHECK(service->documents("nowhere", bob).error().message() == "no collection \"nowhere\"");
    const int64_t secret_doc = app->source(hidden)->document_id;
    CHECK(service->document_versions(secret_doc, bob).error().message() == "no document " + std::to_string(secret_doc));
    CHECK(service->remove_document(secret_doc, bob).error().code() == core::ErrorCode::kNotFound);

    auto listed = service->collections(bob);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].name == "public");
    CHECK((*listed)[0].access == "read");

    // History holds the caller's own questions only.
    webui::AskRequest alice_asks;
    alice_asks.question = "How long are nightly backups kept?";
    alice_asks.caller = admin();
    alice_asks.caller.user = "alice";
    REQUIRE(service->ask(alice_asks).ok());
    auto history = service->history(bob);
    REQUIRE(history.ok());
    REQUIRE(history->size() == 2);
    for (const webui::AskedQuestion & q : *history) {
        CHECK(q.question.find("nightly") == std::string::npos);
    }
    CHECK((*history)[0].question == "When is lunch served?");

    // The admin sees both, with the citation in the secret collection.
    auto full = service->source(hidden, admin());
    REQUIRE(full.ok());
    CHECK(full->collection == "secret");
}

TEST_CASE("a file that fails ingest is quarantined with its reason and bytes while the rest go in") {
    TempDir dir("sb_coll_quarantine");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every April.\n").ok());
    appliance::IngestTarget target;
    target.collection = "facilities";
    auto report = app->ingest({kData / "invalid.pdf", dir.path / "notes.md"}, nullptr, target);
    CHECK(report.count(IngestFileResult::Outcome::kAdded) == 1);
    REQUIRE(report.count(IngestFileResult::Outcome::kFailed) == 1);

    auto q = service->quarantine(admin());
    REQUIRE(q.ok());
    REQUIRE(q->size() == 1);
    const webui::QuarantinedFile & rec = (*q)[0];
    const std::string sha = *core::sha256_file_hex(kData / "invalid.pdf");
    CHECK(rec.name == "invalid.pdf");
    CHECK(rec.sha256 == sha);
    CHECK(rec.collection == "facilities");
    CHECK_FALSE(rec.reason.empty());
    CHECK(read(dir.path / "data" / "quarantine" / sha) == read(kData / "invalid.pdf"));
    CHECK(service->quarantine(staff("bob", {"facilities"})).error().code() == core::ErrorCode::kPermissionDenied);

    // An upload that fails ends the same way, and the collection keeps what it had.
    auto id = service->start_upload("facilities", "broken.pdf", read(kData / "invalid.pdf"), admin());
    REQUIRE(id.ok());
    const webui::UploadJob job = wait_for_job(*service, *id, admin());
    CHECK(job.state == "failed");
    const webui::UploadFile & file = job.files.at(0);
    CHECK(file.state == "failed");
    CHECK_MESSAGE(file.error.find("broken.pdf: corrupt PDF") != std::string::npos, file.error);
    CHECK(file.error.find("/documents/") == std::string::npos);
    CHECK(service->quarantine(admin())->at(0).name == "broken.pdf");
    CHECK(service->documents("facilities", admin())->size() == 1);
}

TEST_CASE("the strongbox command ingests into a named collection and lists what it quarantined") {
    TempDir dir("sb_coll_cli");
    const std::string data = "--data-dir " + (dir.path / "data").string() + " ";
    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every April.\n").ok());
    int code = -1;
    const std::string out = run_strongbox(data + "ingest --collection facilities " + (kData / "invalid.pdf").string() +
                                              " " + (dir.path / "notes.md").string(),
                                          code);
    CHECK_MESSAGE(code == 3, out);
    CHECK(out.find("quarantined") != std::string::npos);
    const std::string listed = run_strongbox(data + "quarantine list", code);
    CHECK(code == 0);
    CHECK(listed.find("invalid.pdf") != std::string::npos);
    CHECK(listed.find("[facilities]") != std::string::npos);
    const std::string collections = run_strongbox(data + "collections list", code);
    CHECK(code == 0);
    CHECK(collections.find("facilities") != std::string::npos);
}

TEST_CASE("the page image of a cited chunk is a PNG of that PDF page, and a vanished source says so") {
    TempDir dir("sb_coll_page");
    REQUIRE(core::write_file_atomic(dir.path / "guide.pdf", read(kData / "operations-guide.pdf")).ok());
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    REQUIRE(app->ingest({dir.path / "guide.pdf"}, nullptr).count(IngestFileResult::Outcome::kAdded) == 1);

    const int64_t on_page2 = first_hit_chunk(*service, "monthly archive tapes LTO-8", admin());
    const int64_t on_page1 = first_hit_chunk(*service, "on-call infrastructure engineer extension 4410", admin());
    auto view = service->source(on_page2, admin());
    REQUIRE(view.ok());
    REQUIRE(view->provenance.page == 2);
    REQUIRE(app->source(on_page1)->provenance.page == 1);
    CHECK(view->kind == "pdf");
    CHECK(view->page_width == doctest::Approx(612));
    CHECK(view->page_height == doctest::Approx(792));
    CHECK_FALSE(view->boxes.empty());

    auto page2 = service->page_image(on_page2, 72, admin());
    REQUIRE_MESSAGE(page2.ok(), page2.error().to_string());
    CHECK(png_size(*page2) == std::pair<uint32_t, uint32_t>{612, 792});
    auto page1 = service->page_image(on_page1, 72, admin());
    REQUIRE(page1.ok());
    CHECK(*page1 != *page2);
    auto sharper = service->page_image(on_page2, 144, admin());
    REQUIRE(sharper.ok());
    CHECK(png_size(*sharper) == std::pair<uint32_t, uint32_t>{1224, 1584});

    fs::remove(dir.path / "guide.pdf");
    auto gone = service->page_image(on_page2, 72, admin());
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().message().find("no longer on disk") != std::string::npos);
}

TEST_CASE("settings are validated field by field, versioned, persisted and their change audited") {
    TempDir dir("sb_coll_settings");
    {
        auto app = open_app(dir.path / "data");
        auto service = appliance::make_web_service(*app);
        auto before = service->settings(admin());
        REQUIRE(before.ok());
        CHECK(before->version == 0);

        core::Json bad = core::Json::parse(R"({"settings":{"top_k":0,"ocr_language":"eng;rm -rf","colour":"red",
                                                  "max_new_tokens":64}})")
                             .value();
        auto refused = service->update_settings(bad, admin());
        REQUIRE(refused.ok());
        const std::map<std::string, std::string> & fields = refused->refused;
        CHECK(fields.count("top_k") == 1);
        CHECK(fields.count("ocr_language") == 1);
        CHECK(fields.at("colour") == "is not a setting");
        CHECK(fields.count("max_new_tokens") == 0);
        CHECK(service->settings(admin())->version == 0);
        CHECK(service->settings(admin())->values.get_int("max_new_tokens") == 256);

        auto applied =
            service->update_settings(core::Json::parse(R"({"version":0,"settings":{"top_k":8}})").value(), admin());
        REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
        CHECK(applied->refused.empty());
        CHECK(applied->settings.version == 1);
        auto stale =
            service->update_settings(core::Json::parse(R"({"version":0,"settings":{"top_k":9}})").value(), admin());
        REQUIRE(stale.ok());
        CHECK(stale->refused.count("version") == 1);
        CHECK(service->settings(admin())->values.get_int("top_k") == 8);
        CHECK(service->update_settings(core::Json::object(), staff("bob", {})).error().code() ==
              core::ErrorCode::kPermissionDenied);

        auto records = app->audit().list({"", "", appliance::audit_kind::kSettingsChange, ""});
        REQUIRE(records.ok());
        REQUIRE(records->size() == 1);
        CHECK(records->front().actor == "root");
        CHECK(records->front().body.get_int("old_version") == 0);
        CHECK(records->front().body.get_int("new_version") == 1);
        CHECK(records->front().body.find("changed")->find("top_k")->get_int("new") == 8);
    }
    auto reopened = open_app(dir.path / "data");
    CHECK(reopened->settings().top_k == 8);
    CHECK(appliance::make_web_service(*reopened)->settings(admin())->version == 1);
}

TEST_CASE(
    "every setting is declared once: the form gets its label, help and unit in both languages, its default and range") {
    TempDir dir("sb_coll_settings_schema");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    auto got = service->settings(admin());
    REQUIRE(got.ok());
    const core::Json & values = got->values;
    const std::vector<webui::SettingField> & fields = got->fields;
    REQUIRE(fields.size() == values.size());
    for (const webui::SettingField & f : fields) {
        CAPTURE(f.name);
        CHECK(values.contains(f.name));
        CHECK(f.default_value == *values.find(f.name));  // a fresh appliance runs on the declared defaults
        CHECK_FALSE(f.label_en.empty());
        CHECK_FALSE(f.label_ko.empty());
        CHECK_FALSE(f.help_en.empty());
        CHECK_FALSE(f.help_ko.empty());
        if (f.type == "int" || f.type == "number") {
            REQUIRE(f.min.has_value());
            REQUIRE(f.max.has_value());
            CHECK(*f.min <= *f.max);
        }
    }
    CHECK_FALSE(values.contains("audit_retention_days"));  // nothing read it: no longer offered
    const auto session = std::find_if(fields.begin(), fields.end(),
                                      [](const webui::SettingField & f) { return f.name == "session_hours"; });
    REQUIRE(session != fields.end());
    CHECK(session->unit == "hours");
    CHECK(session->applies == "next_start");
}

TEST_CASE("a saved session length is what the appliance opens with, and a change says it needs a restart") {
    TempDir dir("sb_coll_session_hours");
    {
        auto app = open_app(dir.path / "data");
        CHECK(app->settings().session_hours == 8);
        auto applied = appliance::make_web_service(*app)->update_settings(
            core::Json::parse(R"({"settings":{"session_hours":2,"max_upload_bytes":2048}})").value(), admin());
        REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
        const std::vector<std::string> & restart = applied->restart_required;
        REQUIRE(restart.size() == 1);  // the upload limit applies to the next upload
        CHECK(restart[0] == "session_hours");
    }
    CHECK(open_app(dir.path / "data")->settings().session_hours == 2);
}

TEST_CASE("removing a document needs write access, keeps its versions listed and is audited") {
    TempDir dir("sb_coll_remove");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every April.\n").ok());
    appliance::IngestTarget target;
    target.collection = "facilities";
    REQUIRE(app->ingest({dir.path / "notes.md"}, nullptr, target).count(IngestFileResult::Outcome::kAdded) == 1);
    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every May.\n").ok());
    REQUIRE(app->ingest({dir.path / "notes.md"}, nullptr, target).count(IngestFileResult::Outcome::kNewVersion) == 1);

    const Caller reader = staff("rita", {"facilities"});
    const Caller writer = staff("wendy", {"facilities"}, {"facilities"});
    auto docs = service->documents("facilities", reader);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    const int64_t id = (*docs)[0].id;
    CHECK((*docs)[0].version == 2);
    auto versions = service->document_versions(id, reader);
    REQUIRE(versions.ok());
    REQUIRE(versions->size() == 2);
    CHECK((*versions)[1].status == "superseded");

    CHECK(service->remove_document(id, reader).error().code() == core::ErrorCode::kPermissionDenied);
    REQUIRE(service->remove_document(id, writer).ok());
    auto after = service->documents("facilities", reader);
    REQUIRE(after->size() == 1);
    CHECK((*after)[0].status == "removed");
    auto search = service->search("chiller serviced", 5, {}, writer);
    CHECK(search->empty());
    auto deletions = app->audit().list({"", "", appliance::audit_kind::kDeletion, "wendy"});
    REQUIRE(deletions.ok());
    CHECK(deletions->size() == 1);
}

TEST_CASE("auditors search and export the trail, web events are recorded, and the admin status reports the box") {
    TempDir dir("sb_coll_audit");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    REQUIRE(app->ingest({kData / "operations-guide.pdf"}, nullptr).count(IngestFileResult::Outcome::kAdded) == 1);
    webui::AskRequest ask;
    ask.question = "How long are nightly backups kept?";
    ask.caller = admin();
    ask.caller.user = "alice";
    REQUIRE(service->ask(ask).ok());
    REQUIRE(service->record_event("login", "alice", core::Json::object()).ok());
    CHECK(service->record_event("ask", "mallory", core::Json::object()).error().code() ==
          core::ErrorCode::kInvalidArgument);

    auto found = service->audit_search(core::Json::parse(R"({"kind":"ask","user":"alice","text":"nightly"})").value(),
                                       auditor());
    REQUIRE_MESSAGE(found.ok(), found.error().to_string());
    REQUIRE(found->records.size() == 1);
    CHECK(found->total == 1);
    const webui::AuditEntry & rec = found->records[0];
    CHECK(rec.summary == "How long are nightly backups kept?");
    auto full = service->audit_record(rec.id, auditor());
    REQUIRE(full.ok());
    CHECK(full->hash.size() == 64);
    CHECK(full->body.get_string("question") == "How long are nightly backups kept?");
    CHECK(service->audit_search(core::Json::object(), staff("bob", {})).error().code() ==
          core::ErrorCode::kPermissionDenied);
    auto logins = service->audit_search(core::Json::parse(R"({"kind":"login"})").value(), auditor());
    CHECK(logins->records.size() == 1);

    auto csv = service->audit_export("csv", core::Json::parse(R"({"kind":"ask"})").value(), auditor());
    REQUIRE(csv.ok());
    CHECK(csv->file_name.find(".csv") != std::string::npos);
    CHECK(csv->bytes.find("nightly backups") != std::string::npos);
    auto bundle = service->audit_export("bundle", core::Json::object(), auditor());
    REQUIRE_MESSAGE(bundle.ok(), bundle.error().to_string());
    const appliance::BundleVerification v = appliance::verify_bundle(bundle->bytes, app->audit().public_key_hex());
    CHECK_MESSAGE(v.ok, (v.problems.empty() ? std::string() : v.problems.front()));
    CHECK(service->audit_export("xml", core::Json::object(), auditor()).error().code() ==
          core::ErrorCode::kInvalidArgument);

    auto status = service->admin_status(admin());
    REQUIRE(status.ok());
    CHECK(status->documents == 1);
    CHECK(status->vectors == status->chunks);
    CHECK(status->disk.total_bytes.value_or(0) > 0);
    CHECK(status->salt.fingerprint == app->fingerprint().get_string("fingerprint"));
    CHECK_FALSE(status->last_selftest.has_value());
    CHECK(service->admin_status(auditor()).error().code() == core::ErrorCode::kPermissionDenied);

    // An update that does not verify is refused with its reason, and the attempt is recorded.
    auto update = service->install_update("not a bundle", admin());
    REQUIRE_FALSE(update.ok());
    CHECK(update.error().code() == core::ErrorCode::kInvalidArgument);
    auto updates = app->audit().list({"", "", appliance::audit_kind::kImageUpdate, ""});
    REQUIRE(updates.ok());
    REQUIRE(updates->size() == 1);
    CHECK_FALSE(updates->front().body.get_bool("ok", true));
}

TEST_CASE("a collection created from the web console is on the audit trail once") {
    TempDir dir("sb_coll_web_create");
    auto app = open_app(dir.path / "data");
    auto service = appliance::make_web_service(*app);
    auto accounts = open_test_accounts(dir.path / "accounts.db");
    REQUIRE_MESSAGE(accounts.ok(), accounts.error().to_string());
    webui::Handler handler(*service, **accounts);

    const webui::HttpResponse session = handler.handle(setup_request("root", "root-password-1"));
    REQUIRE_MESSAGE(session.status == 200, session.body);
    const webui::HttpResponse created =
        handler.handle(session_request(session, "POST", "/api/v1/collections", R"({"name":"ops"})"));
    REQUIRE_MESSAGE(created.status == 201, created.body);

    auto changes = app->audit().list({"", "", "collection_change", ""});
    REQUIRE(changes.ok());
    REQUIRE(changes->size() == 1);
    CHECK(changes->front().actor == "root");
    CHECK(changes->front().body.get_string("collection") == "ops");
}
