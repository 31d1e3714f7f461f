// The web server's services (webui/service.h: query, documents, audit, admin), backed by the appliance.
//
// Design notes
// 1. The handler has checked the caller's role; this file enforces collections. Every read goes
//    through readable(): admins read every collection, others what their grants list. Retrieval
//    is given that list, so a hidden document never enters ranking.
// 2. Anything in a collection the caller cannot read answers exactly as if it did not exist
//    ("no chunk 12", "no document 7", "no job upload-..."): the message carries no trace of it.
// 3. Admin-only and auditor-only methods check the role again here, so a handler mistake cannot
//    open them.
// 4. A Caller without a role comes from a handler that has no accounts (the legacy /api/ask);
//    it reads the "default" collection only, as before collections existed, and writes nothing.

#include "strongbox/appliance/web_service.h"

#include "settings_store.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/appliance/jobs.h"
#include "strongbox/appliance/local_state.h"
#include "strongbox/appliance/selftest.h"
#include "strongbox/appliance/uploads.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
#include "strongbox/core/text.h"
#include "strongbox/extract/page_render.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/io.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/webui/service.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <sys/statvfs.h>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

constexpr const char * kTrustedKeys = "/etc/strongbox/trusted-keys.json";
constexpr const char * kProduct = "strongbox";
constexpr size_t kSnippetChars = 280;
constexpr size_t kHistoryLimit = 20;

core::Error not_found(const std::string & what) {
    return core::Error(core::ErrorCode::kNotFound, "no " + what);
}

core::Error denied(const std::string & what) {
    return core::Error(core::ErrorCode::kPermissionDenied, what);
}

bool contains(const std::vector<std::string> & list, const std::string & value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Cuts at a UTF-8 boundary and marks the cut.
std::string snippet(const std::string & text) {
    std::string s = core::collapse_whitespace(text);
    if (s.size() <= kSnippetChars) {
        return s;
    }
    size_t cut = kSnippetChars;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return s.substr(0, cut) + "…";
}

std::string_view status_name(retrieval::DocumentStatus s) {
    switch (s) {
    case retrieval::DocumentStatus::kActive:
        return "active";
    case retrieval::DocumentStatus::kSuperseded:
        return "superseded";
    case retrieval::DocumentStatus::kDeleted:
        return "removed";
    }
    return "removed";
}

// A one-line description of an audit record for lists.
std::string summary_of(const AuditRecord & r) {
    const core::Json & b = r.body;
    if (r.kind == audit_kind::kAsk) {
        return b.get_string("question");
    }
    if (r.kind == audit_kind::kIngest) {
        const core::Json * files = b.find("files");
        const size_t n = files != nullptr && files->is_array() ? files->size() : 0;
        return std::to_string(n) + (n == 1 ? " file" : " files") + " (" + b.get_string("job") + ")";
    }
    if (r.kind == audit_kind::kDeletion) {
        return fs::path(b.get_string("path")).filename().string();
    }
    if (r.kind == audit_kind::kSettingsChange) {
        return "version " + std::to_string(b.get_int("old_version")) + " -> " +
               std::to_string(b.get_int("new_version"));
    }
    std::string text = b.dump();
    return text.size() > 160 ? text.substr(0, 160) + "…" : text;
}

core::Result<AuditFilter> audit_filter(const core::Json & filters, int64_t & limit) {
    AuditFilter f;
    limit = 100;
    if (filters.is_null()) {
        return f;
    }
    if (!filters.is_object()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "audit filters must be a JSON object");
    }
    const std::map<std::string, std::string *> strings = {{"since", &f.since},       {"until", &f.until},
                                                          {"user", &f.actor},        {"kind", &f.kind},
                                                          {"document", &f.document}, {"text", &f.question}};
    for (const auto & [name, value] : filters.as_object()) {
        if (auto it = strings.find(name); it != strings.end()) {
            if (!value.is_string()) {
                return core::Error(core::ErrorCode::kInvalidArgument, "audit filter \"" + name + "\" must be a string");
            }
            *it->second = value.as_string();
        } else if (name == "limit") {
            if (!value.is_int() || value.as_int() < 1 || value.as_int() > 1000) {
                return core::Error(core::ErrorCode::kInvalidArgument, "audit filter \"limit\" must be 1 to 1000");
            }
            limit = value.as_int();
        } else {
            return core::Error(core::ErrorCode::kInvalidArgument, "unknown audit filter \"" + name + "\"");
        }
    }
    return f;
}

core::Json filter_json(const AuditFilter & f) {
    core::Json j = core::Json::object();
    const std::pair<const char *, const std::string *> fields[] = {{"since", &f.since},       {"until", &f.until},
                                                                   {"user", &f.actor},        {"kind", &f.kind},
                                                                   {"document", &f.document}, {"text", &f.question}};
    for (const auto & [name, value] : fields) {
        if (!value->empty()) {
            j[name] = *value;
        }
    }
    return j;
}

class WebService final : public webui::AllServices {
  public:
    explicit WebService(Appliance & app) : app_(app) {}

    // ---- answers -------------------------------------------------------------------------------

    core::Result<core::Answer> ask(const webui::AskRequest & request) override {
        const std::vector<std::string> scope = scoped(request.caller, request.collections);
        return app_.ask(request.question, user_of(request), "http", request.top_k, {}, &scope);
    }

    // Streams the verified answer text as it is generated, then the complete answer.
    core::Status ask_stream(const webui::AskRequest & request, const webui::AskSink & sink) override {
        webui::AskProgress stage;
        stage.kind = webui::AskProgress::Kind::kStage;
        stage.text = "answering";
        if (!sink(stage)) {
            return core::Error(core::ErrorCode::kCancelled, "ask_stream: client went away");
        }
        const std::vector<std::string> scope = scoped(request.caller, request.collections);
        auto answer = app_.ask(
            request.question, user_of(request), "http", request.top_k,
            [&](std::string_view text) {
                webui::AskProgress event;
                event.kind = webui::AskProgress::Kind::kText;
                event.text = std::string(text);
                return sink(event);
            },
            &scope);
        if (!answer.ok()) {
            return std::move(answer).error();
        }
        webui::AskProgress done;
        done.kind = webui::AskProgress::Kind::kAnswer;
        done.answer = std::move(answer).value();
        if (!sink(done)) {
            return core::Error(core::ErrorCode::kCancelled, "ask_stream: client went away");
        }
        return core::ok_status();
    }

    // The collection is checked before any work, so a chunk the caller may not read costs what a
    // missing one does and its timing tells nothing.
    core::Result<webui::SourceView> source(int64_t chunk_id, const webui::Caller & caller) override {
        auto chunk = app_.retriever().store().get_chunk(chunk_id);
        if (!chunk.ok() && chunk.error().code() != core::ErrorCode::kNotFound) {
            return std::move(chunk).error();
        }
        if (!chunk.ok() || !can_read(caller, chunk->document.collection)) {
            return not_found("chunk " + std::to_string(chunk_id));
        }
        return app_.source(chunk_id);
    }

    core::Result<std::string> page_image(int64_t chunk_id, int dpi, const webui::Caller & caller) override {
        auto chunk = app_.retriever().store().get_chunk(chunk_id);
        if (!chunk.ok() && chunk.error().code() != core::ErrorCode::kNotFound) {
            return std::move(chunk).error();
        }
        if (!chunk.ok() || !can_read(caller, chunk->document.collection)) {
            return not_found("chunk " + std::to_string(chunk_id));
        }
        if (chunk->document.media_type != "application/pdf" || chunk->provenance.page < 1) {
            return core::Error(core::ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) +
                                                               " is not from a PDF page, so it has no page image");
        }
        SB_ASSIGN_OR_RETURN(fs::path file, locate_source(app_, chunk->document, true));
        SB_ASSIGN_OR_RETURN(RenderedImage image,
                            app_.pages().page_png(file, chunk->provenance.page, dpi, chunk->document.sha256));
        return std::move(image.png);
    }

    core::Result<core::Json> search(const std::string & query, int top_k, const std::vector<std::string> & collections,
                                    const webui::Caller & caller) override {
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                            app_.search(query, top_k, scoped(caller, collections)));
        core::Json list = core::Json::array();
        for (const retrieval::SearchHit & h : hits) {
            core::Json j = core::Json::object();
            j["chunk_id"] = h.chunk_id;
            j["location"] = core::describe_location(h.provenance);
            j["snippet"] = snippet(h.text);
            j["score"] = h.score;
            core::Json doc = core::Json::object();
            doc["id"] = h.document.id;
            doc["name"] = fs::path(h.document.path).filename().string();
            doc["collection"] = h.document.collection;
            j["document"] = std::move(doc);
            list.push_back(std::move(j));
        }
        core::Json out = core::Json::object();
        out["hits"] = std::move(list);
        return out;
    }

    core::Result<core::Json> history(const webui::Caller & caller) override {
        core::Json questions = core::Json::array();
        if (!caller.user.empty()) {
            AuditFilter f;
            f.kind = audit_kind::kAsk;
            f.actor = caller.user;
            SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app_.audit().list(f));
            std::sort(records.begin(), records.end(), [](const auto & a, const auto & b) { return a.id > b.id; });
            for (size_t i = 0; i < records.size() && i < kHistoryLimit; ++i) {
                core::Json q = core::Json::object();
                q["question"] = records[i].body.get_string("question");
                q["at"] = records[i].at;
                q["audit_id"] = records[i].id;
                questions.push_back(std::move(q));
            }
        }
        core::Json out = core::Json::object();
        out["questions"] = std::move(questions);
        return out;
    }

    // ---- collections and documents -------------------------------------------------------------

    core::Result<core::Json> collections(const webui::Caller & caller) override {
        std::map<std::string, int64_t> counts;
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::DocumentInfo> docs, app_.retriever().store().list_documents());
        for (const retrieval::DocumentInfo & d : docs) {
            ++counts[d.collection];
        }
        const std::vector<std::string> known = app_.all_collections();
        core::Json list = core::Json::array();
        for (const std::string & name : readable(caller)) {
            if (!contains(known, name)) {
                continue;  // granted but not created yet
            }
            core::Json c = core::Json::object();
            c["name"] = name;
            c["access"] = caller.is_admin() ? "admin" : can_write(caller, name) ? "write" : "read";
            c["documents"] = counts[name];
            list.push_back(std::move(c));
        }
        core::Json out = core::Json::object();
        out["collections"] = std::move(list);
        return out;
    }

    core::Result<std::vector<std::string>> collection_names() override { return app_.all_collections(); }

    core::Status create_collection(const std::string & name, const webui::Caller & caller) override {
        if (!caller.is_admin()) {
            return denied("only an admin creates collections");
        }
        SB_TRY(app_.writable());
        if (core::Status created = app_.local_state().create_collection(name, caller.user); !created.ok()) {
            return refusal_if_disk_full(std::move(created).error());
        }
        core::Json body = core::Json::object();
        body["action"] = "create";
        body["collection"] = name;
        SB_TRY(app_.audit().append("collection_change", caller.user, body));
        return core::ok_status();
    }

    core::Result<core::Json> documents(const std::string & collection, const webui::Caller & caller) override {
        if (!can_read(caller, collection) || !contains(app_.all_collections(), collection)) {
            return not_found("collection \"" + collection + "\"");
        }
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::DocumentInfo> docs, app_.retriever().store().list_documents(true));
        // Current versions, and the last removed version of paths that have no current one.
        std::set<std::string> active_paths;
        for (const retrieval::DocumentInfo & d : docs) {
            if (d.collection == collection && d.status == retrieval::DocumentStatus::kActive) {
                active_paths.insert(d.path);
            }
        }
        std::map<std::string, const retrieval::DocumentInfo *> removed;
        for (const retrieval::DocumentInfo & d : docs) {
            if (d.collection == collection && d.status == retrieval::DocumentStatus::kDeleted &&
                !active_paths.count(d.path) && (!removed.count(d.path) || removed[d.path]->version < d.version)) {
                removed[d.path] = &d;
            }
        }
        core::Json list = core::Json::array();
        for (const retrieval::DocumentInfo & d : docs) {
            const bool shown = d.collection == collection && (d.status == retrieval::DocumentStatus::kActive ||
                                                              (removed.count(d.path) && removed[d.path] == &d));
            if (shown) {
                list.push_back(document_json(d));
            }
        }
        core::Json out = core::Json::object();
        out["documents"] = std::move(list);
        return out;
    }

    core::Result<core::Json> document_versions(int64_t id, const webui::Caller & caller) override {
        SB_ASSIGN_OR_RETURN(retrieval::DocumentInfo doc, readable_document(id, caller));
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::DocumentInfo> docs, app_.retriever().store().list_documents(true));
        std::vector<const retrieval::DocumentInfo *> same;
        for (const retrieval::DocumentInfo & d : docs) {
            if (d.path == doc.path && d.collection == doc.collection) {
                same.push_back(&d);
            }
        }
        std::sort(same.begin(), same.end(), [](const auto * a, const auto * b) { return a->version > b->version; });
        core::Json list = core::Json::array();
        for (const retrieval::DocumentInfo * d : same) {
            list.push_back(document_json(*d));
        }
        core::Json out = core::Json::object();
        out["versions"] = std::move(list);
        return out;
    }

    core::Status remove_document(int64_t id, const webui::Caller & caller) override {
        SB_ASSIGN_OR_RETURN(retrieval::DocumentInfo doc, readable_document(id, caller));
        if (!can_write(caller, doc.collection)) {
            return denied("you may read collection \"" + doc.collection + "\" but not change it");
        }
        if (doc.status != retrieval::DocumentStatus::kActive) {
            return core::Error(core::ErrorCode::kNotFound, "document " + std::to_string(id) + " is " +
                                                               std::string(status_name(doc.status)) +
                                                               "; only the current version can be removed");
        }
        return app_.remove(doc.path, caller.user);
    }

    core::Result<std::string> start_upload(const std::string & collection, const std::string & file_name,
                                           std::string bytes, const webui::Caller & caller) override {
        if (!can_write(caller, collection)) {
            if (can_read(caller, collection)) {
                return denied("you may read collection \"" + collection + "\" but not add to it");
            }
            return not_found("collection \"" + collection + "\"");
        }
        SB_TRY(app_.writable());
        auto job = appliance::start_upload(app_, collection, file_name, bytes, caller.user);
        if (!job.ok()) {
            return refusal_if_disk_full(std::move(job).error());
        }
        return job;
    }

    core::Result<core::Json> job(const std::string & job_id, const webui::Caller & caller) override {
        std::optional<Job> job = app_.jobs().get(job_id);
        if (!job || !can_read(caller, job->collection)) {
            return not_found("job " + job_id);
        }
        return to_json(*job);
    }

    core::Result<core::Json> quarantine(const webui::Caller & caller) override {
        if (!caller.is_admin()) {
            return denied("only an admin sees the quarantine");
        }
        SB_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> records, app_.local_state().quarantine());
        core::Json files = core::Json::array();
        for (const QuarantineRecord & r : records) {
            core::Json j = core::Json::object();
            j["name"] = r.name;
            j["sha256"] = r.sha256;
            j["reason"] = r.reason;
            j["at"] = r.at;
            j["collection"] = r.collection;
            j["job"] = r.job;
            files.push_back(std::move(j));
        }
        core::Json out = core::Json::object();
        out["files"] = std::move(files);
        return out;
    }

    // ---- audit trail ---------------------------------------------------------------------------

    core::Result<core::Json> audit_search(const core::Json & filters, const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        int64_t limit = 0;
        SB_ASSIGN_OR_RETURN(AuditFilter f, audit_filter(filters, limit));
        SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app_.audit().list(f));
        std::sort(records.begin(), records.end(), [](const auto & a, const auto & b) { return a.id > b.id; });
        core::Json list = core::Json::array();
        for (size_t i = 0; i < records.size() && static_cast<int64_t>(i) < limit; ++i) {
            core::Json j = core::Json::object();
            j["id"] = records[i].id;
            j["at"] = records[i].at;
            j["kind"] = records[i].kind;
            j["actor"] = records[i].actor;
            j["summary"] = summary_of(records[i]);
            list.push_back(std::move(j));
        }
        core::Json out = core::Json::object();
        out["records"] = std::move(list);
        out["total"] = static_cast<int64_t>(records.size());
        return out;
    }

    core::Result<core::Json> audit_record(int64_t id, const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        SB_ASSIGN_OR_RETURN(std::optional<AuditRecord> record, app_.audit().get(id));
        if (!record) {
            return not_found("audit record " + std::to_string(id));
        }
        core::Json out = core::Json::object();
        out["record"] = appliance::to_json(*record);
        return out;
    }

    core::Result<webui::Download> audit_export(const std::string & format, const core::Json & filters,
                                               const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        int64_t limit = 0;
        SB_ASSIGN_OR_RETURN(AuditFilter f, audit_filter(filters, limit));
        const std::string stamp = core::utc_now_compact().substr(0, 15);  // 20261122T134512
        webui::Download d;
        if (format == "bundle") {
            const fs::path tmp =
                DataPaths{app_.data_dir()}.staging() / ("audit-export-" + stamp + "-" + caller.user + ".sbaudit");
            std::error_code ec;
            fs::create_directories(tmp.parent_path(), ec);
            auto summary = app_.audit().export_bundle(tmp, f, caller.user);
            if (!summary.ok()) {
                fs::remove(tmp, ec);
                return std::move(summary).error();
            }
            auto bytes = core::read_file(tmp);
            fs::remove(tmp, ec);
            SB_ASSIGN_OR_RETURN(d.bytes, std::move(bytes));
            d.content_type = "application/x-tar";
            d.file_name = "strongbox-audit-" + stamp + ".sbaudit";
            return d;
        }
        std::ostringstream out;
        size_t n = 0;
        if (format == "jsonl") {
            SB_ASSIGN_OR_RETURN(n, app_.audit().export_jsonl(out, f));
            d.content_type = "application/x-ndjson";
            d.file_name = "strongbox-audit-" + stamp + ".jsonl";
        } else if (format == "csv") {
            SB_ASSIGN_OR_RETURN(n, app_.audit().export_csv(out, f));
            d.content_type = "text/csv; charset=utf-8";
            d.file_name = "strongbox-audit-" + stamp + ".csv";
        } else {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "export format \"" + format + "\" is not one of bundle, jsonl, csv");
        }
        // Bundles record their own export; plain exports are recorded here so every copy that
        // left the box is on the trail.
        core::Json body = core::Json::object();
        body["format"] = format;
        body["records"] = static_cast<int64_t>(n);
        body["filters"] = filter_json(f);
        SB_TRY(app_.audit().append(audit_kind::kExport, caller.user, body));
        d.bytes = out.str();
        return d;
    }

    core::Status record_event(const std::string & kind, const std::string & actor, const core::Json & body) override {
        static const std::set<std::string> kReserved = {
            audit_kind::kAsk,         audit_kind::kIngest,      audit_kind::kDeletion,
            audit_kind::kCheckpoint,  audit_kind::kExport,      audit_kind::kRetention,
            audit_kind::kImageUpdate, audit_kind::kModelChange, audit_kind::kSettingsChange};
        const bool well_formed =
            !kind.empty() && kind.size() <= 40 &&
            std::all_of(kind.begin(), kind.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
        if (!well_formed || kReserved.count(kind)) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "audit event kind \"" + kind + "\" is not one the web server may record");
        }
        if (!body.is_object()) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "audit event " + kind + ": the body must be an object");
        }
        SB_TRY(app_.audit().append(kind, actor.empty() ? "anonymous" : actor, body));
        return core::ok_status();
    }

    // ---- administration ------------------------------------------------------------------------

    core::Result<core::Json> admin_status(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        core::Json health = app_.health();
        core::Json out = core::Json::object();
        core::Json model = core::Json::object();
        model["answerer"] = health.get_string("answerer");
        model["file"] = app_.settings().model_path.filename().string();
        model["embedder"] = health.get_string("embedder");
        out["model"] = std::move(model);
        core::Json index = core::Json::object();
        SB_ASSIGN_OR_RETURN(retrieval::StoreStats stats, app_.retriever().store().stats());
        index["documents"] = stats.documents;
        index["chunks"] = stats.chunks;
        index["vectors"] = app_.retriever().vectors().size();
        index["collections"] = static_cast<int64_t>(app_.all_collections().size());
        out["index"] = std::move(index);
        core::Json disk = core::Json::object();
        struct statvfs fsinfo {};
        if (::statvfs(app_.data_dir().c_str(), &fsinfo) == 0) {
            disk["free_bytes"] = static_cast<uint64_t>(fsinfo.f_bavail) * fsinfo.f_frsize;
            disk["total_bytes"] = static_cast<uint64_t>(fsinfo.f_blocks) * fsinfo.f_frsize;
        }
        disk["read_only"] = false;
        if (core::Json guard = app_.disk_status(); guard.get_bool("read_only")) {
            disk["read_only"] = true;
            disk["reason"] = guard.get_string("reason");
            disk["since"] = guard.get_string("since");
        }
        out["disk"] = std::move(disk);
        core::Json salt = app_.fingerprint();
        out["fingerprint"] = salt.get_string("fingerprint");
        out["salt"] = std::move(salt);
        core::Json audit = core::Json::object();
        audit["records"] = health.get_int("audit_records");
        audit["key_fingerprint"] = app_.audit().key_fingerprint();
        out["audit"] = std::move(audit);
        std::lock_guard lock(selftest_mu_);
        out["selftest"] = last_selftest_;
        return out;
    }

    core::Result<core::Json> run_selftest(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        SelftestOptions o;
        o.data_dir = app_.data_dir();
        o.settings = app_.settings();
        o.app = &app_;
        std::error_code ec;
        if (const fs::path golden = DataPaths{app_.data_dir()}.golden(); fs::exists(golden, ec)) {
            o.golden_path = golden;
        }
        core::Json report = to_json(appliance::run_selftest(o));
        report["at"] = core::utc_now_iso8601();
        std::lock_guard lock(selftest_mu_);
        last_selftest_ = report;
        return report;
    }

    core::Result<core::Json> settings(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        core::Json out = app_.settings_store().current();
        out["fields"] = settings_schema();
        return out;
    }

    core::Result<core::Json> update_settings(const core::Json & changes, const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        SB_TRY(app_.writable());
        auto updated = app_.settings_store().update(changes);
        if (!updated.ok()) {
            return refusal_if_disk_full(std::move(updated).error());
        }
        const SettingsChange & change = *updated;
        core::Json changed = core::Json::object();
        for (const auto & [name, value] : change.new_settings.as_object()) {
            const core::Json * before = change.old_settings.find(name);
            if (before == nullptr || !(*before == value)) {
                core::Json diff = core::Json::object();
                diff["old"] = before != nullptr ? *before : core::Json();
                diff["new"] = value;
                changed[name] = std::move(diff);
            }
        }
        core::Json body = core::Json::object();
        body["old_version"] = change.old_version;
        body["new_version"] = change.new_version;
        body["changed"] = changed;
        SB_TRY(app_.audit().append(audit_kind::kSettingsChange, caller.user, body));
        core::Json out = app_.settings_store().current();
        core::Json restart = core::Json::array();
        for (const auto & [name, value] : changed.as_object()) {
            const SettingSpec * spec = find_setting(name);
            if (spec != nullptr && spec->applies == SettingSpec::Applies::kNextStart) {
                restart.push_back(name);
            }
        }
        out["restart_required"] = std::move(restart);
        return out;
    }

    core::Result<core::Json> install_update(std::string bundle_bytes, const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        SB_TRY(app_.writable());
        core::Json body = core::Json::object();
        body["channel"] = "http";
        body["bytes"] = static_cast<int64_t>(bundle_bytes.size());
        auto result = install(bundle_bytes);
        body["ok"] = result.ok();
        if (!result.ok()) {
            body["error"] = result.error().message();
        } else {
            for (const auto & [k, v] : result->as_object()) {
                body[k] = v;
            }
        }
        SB_TRY(app_.audit().append(audit_kind::kImageUpdate, caller.user, body));
        if (!result.ok()) {
            const core::ErrorCode code = result.error().code();
            if (code == core::ErrorCode::kIoError || code == core::ErrorCode::kUnavailable) {
                return std::move(result).error();
            }
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "the update was refused: " + result.error().message());
        }
        return result;
    }

    // ---- health --------------------------------------------------------------------------------

    core::Json health() override { return app_.health(); }

    // The handler asks before the account changes it stores itself (accounts.db is in the data
    // directory too): the same read-only refusal as every other write here.
    core::Status writable() override { return app_.writable(); }

    // Ready once open() succeeded (store, index, model and audit trail loaded); reports the hidden
    // salt fingerprint of what was loaded, the same hash every answer's audit record carries.
    core::Result<core::Json> readiness() override {
        core::Json j = core::Json::object();
        j["ready"] = true;
        // Read-only (disk full) is still ready: search, answers and the audit trail work.
        j["disk"] = app_.disk_status();
        j["read_only"] = j["disk"].get_bool("read_only");
        core::Json salt = app_.fingerprint();
        j["fingerprint"] = salt.get_string("fingerprint");
        j["salt"] = std::move(salt);
        return j;
    }

  private:
    // A write that failed on a full disk puts the appliance in read-only mode, and its caller gets
    // that refusal (507, naming the disk) as if it had been refused up front.
    core::Error refusal_if_disk_full(core::Error error) {
        if (!app_.note_write_failure(error)) {
            return error;
        }
        core::Status refusal = app_.writable();
        return refusal.ok() ? std::move(error) : std::move(refusal).error();
    }

    static std::string user_of(const webui::AskRequest & request) {
        if (!request.user.empty()) {
            return request.user;
        }
        return request.caller.user.empty() ? "anonymous" : request.caller.user;
    }

    std::vector<std::string> readable(const webui::Caller & caller) {
        if (caller.is_admin()) {
            return app_.all_collections();
        }
        if (caller.role.empty()) {
            return {std::string(retrieval::kDefaultCollection)};  // see design note 4
        }
        std::vector<std::string> out = caller.readable;
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    bool can_read(const webui::Caller & caller, const std::string & collection) {
        return caller.is_admin() || contains(readable(caller), collection);
    }

    static bool can_write(const webui::Caller & caller, const std::string & collection) {
        return caller.is_admin() || (!caller.role.empty() && contains(caller.writable, collection));
    }

    // readable ∩ requested; an empty request means every readable collection.
    std::vector<std::string> scoped(const webui::Caller & caller, const std::vector<std::string> & requested) {
        std::vector<std::string> out = readable(caller);
        if (!requested.empty()) {
            std::erase_if(out, [&](const std::string & c) { return !contains(requested, c); });
        }
        return out;
    }

    core::Result<retrieval::DocumentInfo> readable_document(int64_t id, const webui::Caller & caller) {
        auto doc = app_.retriever().store().get_document(id);
        if (!doc.ok() && doc.error().code() != core::ErrorCode::kNotFound) {
            return std::move(doc).error();
        }
        if (!doc.ok() || !can_read(caller, doc->collection)) {
            return not_found("document " + std::to_string(id));
        }
        return doc;
    }

    core::Json document_json(const retrieval::DocumentInfo & d) {
        core::Json j = core::Json::object();
        j["id"] = d.id;
        j["path"] = d.path;
        j["name"] = fs::path(d.path).filename().string();
        j["collection"] = d.collection;
        j["sha256"] = d.sha256;
        j["version"] = d.version;
        j["status"] = std::string(status_name(d.status));
        j["chunks"] = d.chunk_count;
        j["pages"] = d.page_count;
        j["media_type"] = d.media_type;
        j["size_bytes"] = d.size_bytes;
        j["ingested_at"] = d.ingested_at;
        core::Json warnings = core::Json::array();
        for (const std::string & w : app_.local_state().warnings(d.id)) {
            warnings.push_back(w);
        }
        j["warnings"] = std::move(warnings);
        return j;
    }

    static core::Status require_admin(const webui::Caller & caller) {
        return caller.is_admin() ? core::ok_status() : core::Status(denied("only an admin may do this"));
    }

    static core::Status require_auditor(const webui::Caller & caller) {
        return caller.is_admin() || caller.role == "auditor"
                   ? core::ok_status()
                   : core::Status(denied("only an auditor or admin reads the audit trail"));
    }

    // Exactly what `strongbox image flash` does, with the bytes staged from memory.
    core::Result<core::Json> install(const std::string & bytes) {
        namespace prov = strongbox::provisioning;
        SB_ASSIGN_OR_RETURN(prov::TrustStore trust, prov::load_trust_store_file(kTrustedKeys));
        const fs::path dir = DataPaths{app_.data_dir()}.slots();
        SB_ASSIGN_OR_RETURN(DataDir lock, DataDir::acquire(dir, "strongbox serve (web update)"));
        auto storage = prov::open_posix_storage(dir);
        SB_TRY(prov::stage_bundle_bytes(*storage, bytes));
        SB_ASSIGN_OR_RETURN(prov::InstallResult result, prov::install_staged_bundle(*storage, trust.key_set, kProduct));
        core::Json j = core::Json::object();
        j["version"] = result.manifest.version;
        j["security_version"] = static_cast<int64_t>(result.manifest.security_version);
        j["slot"] = std::string(1, prov::slot_letter(result.slot));
        j["signatures"] = static_cast<int64_t>(result.n_signers);
        j["salt_fingerprint"] = prov::salt_fingerprint(result.manifest.salt);
        j["message"] = "installed " + result.manifest.version + " into " + prov::slot_name(result.slot) +
                       "; it boots on probation and must pass its behaviour check";
        return j;
    }

    Appliance & app_;
    std::mutex selftest_mu_;
    core::Json last_selftest_;  // null until the first run
};

}  // namespace

std::unique_ptr<webui::AllServices> make_web_service(Appliance & app) {
    return std::make_unique<WebService>(app);
}

}  // namespace strongbox::appliance
