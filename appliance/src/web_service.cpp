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

    core::Result<std::vector<webui::SearchHit>> search(const std::string & query, int top_k,
                                                       const std::vector<std::string> & collections,
                                                       const webui::Caller & caller) override {
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                            app_.search(query, top_k, scoped(caller, collections)));
        std::vector<webui::SearchHit> out;
        for (const retrieval::SearchHit & h : hits) {
            webui::SearchHit hit;
            hit.chunk_id = h.chunk_id;
            hit.location = core::describe_location(h.provenance);
            hit.snippet = snippet(h.text);
            hit.score = h.score;
            hit.document = {h.document.id, fs::path(h.document.path).filename().string(), h.document.collection};
            out.push_back(std::move(hit));
        }
        return out;
    }

    core::Result<std::vector<webui::AskedQuestion>> history(const webui::Caller & caller) override {
        std::vector<webui::AskedQuestion> questions;
        if (!caller.user.empty()) {
            AuditFilter f;
            f.kind = audit_kind::kAsk;
            f.actor = caller.user;
            SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app_.audit().list(f));
            std::sort(records.begin(), records.end(), [](const auto & a, const auto & b) { return a.id > b.id; });
            for (size_t i = 0; i < records.size() && i < kHistoryLimit; ++i) {
                questions.push_back({records[i].body.get_string("question"), records[i].at, records[i].id});
            }
        }
        return questions;
    }

    // ---- collections and documents -------------------------------------------------------------

    core::Result<std::vector<webui::CollectionEntry>> collections(const webui::Caller & caller) override {
        std::map<std::string, int64_t> counts;
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::DocumentInfo> docs, app_.retriever().store().list_documents());
        for (const retrieval::DocumentInfo & d : docs) {
            ++counts[d.collection];
        }
        const std::vector<std::string> known = app_.all_collections();
        std::vector<webui::CollectionEntry> out;
        for (const std::string & name : readable(caller)) {
            if (!contains(known, name)) {
                continue;  // granted but not created yet
            }
            out.push_back({name,
                           caller.is_admin()         ? "admin"
                           : can_write(caller, name) ? "write"
                                                     : "read",
                           counts[name]});
        }
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

    core::Result<std::vector<webui::DocumentEntry>> documents(const std::string & collection,
                                                              const webui::Caller & caller) override {
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
        std::vector<webui::DocumentEntry> out;
        for (const retrieval::DocumentInfo & d : docs) {
            const bool shown = d.collection == collection && (d.status == retrieval::DocumentStatus::kActive ||
                                                              (removed.count(d.path) && removed[d.path] == &d));
            if (shown) {
                out.push_back(document_entry(d));
            }
        }
        return out;
    }

    core::Result<std::vector<webui::DocumentEntry>> document_versions(int64_t id,
                                                                      const webui::Caller & caller) override {
        SB_ASSIGN_OR_RETURN(retrieval::DocumentInfo doc, readable_document(id, caller));
        SB_ASSIGN_OR_RETURN(std::vector<retrieval::DocumentInfo> docs, app_.retriever().store().list_documents(true));
        std::vector<const retrieval::DocumentInfo *> same;
        for (const retrieval::DocumentInfo & d : docs) {
            if (d.path == doc.path && d.collection == doc.collection) {
                same.push_back(&d);
            }
        }
        std::sort(same.begin(), same.end(), [](const auto * a, const auto * b) { return a->version > b->version; });
        std::vector<webui::DocumentEntry> out;
        for (const retrieval::DocumentInfo * d : same) {
            out.push_back(document_entry(*d));
        }
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

    core::Result<webui::UploadJob> job(const std::string & job_id, const webui::Caller & caller) override {
        std::optional<Job> job = app_.jobs().get(job_id);
        if (!job || !can_read(caller, job->collection)) {
            return not_found("job " + job_id);
        }
        webui::UploadJob out{job->id, job->state, job->collection, job->created_at, {}};
        for (const JobFile & f : job->files) {
            out.files.push_back({f.name, f.state, f.pages_done, f.pages_total, f.error});
        }
        return out;
    }

    core::Result<std::vector<webui::QuarantinedFile>> quarantine(const webui::Caller & caller) override {
        if (!caller.is_admin()) {
            return denied("only an admin sees the quarantine");
        }
        SB_ASSIGN_OR_RETURN(std::vector<QuarantineRecord> records, app_.local_state().quarantine());
        std::vector<webui::QuarantinedFile> files;
        for (const QuarantineRecord & r : records) {
            files.push_back({r.name, r.sha256, r.reason, r.at, r.collection, r.job});
        }
        return files;
    }

    // ---- audit trail ---------------------------------------------------------------------------

    core::Result<webui::AuditPage> audit_search(const core::Json & filters, const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        int64_t limit = 0;
        SB_ASSIGN_OR_RETURN(AuditFilter f, audit_filter(filters, limit));
        SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, app_.audit().list(f));
        std::sort(records.begin(), records.end(), [](const auto & a, const auto & b) { return a.id > b.id; });
        webui::AuditPage page;
        for (size_t i = 0; i < records.size() && static_cast<int64_t>(i) < limit; ++i) {
            const AuditRecord & r = records[i];
            page.records.push_back({r.id, r.at, r.kind, r.actor, summary_of(r)});
        }
        page.total = static_cast<int64_t>(records.size());
        return page;
    }

    core::Result<webui::AuditRecordDetail> audit_record(int64_t id, const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        SB_ASSIGN_OR_RETURN(std::optional<AuditRecord> record, app_.audit().get(id));
        if (!record) {
            return not_found("audit record " + std::to_string(id));
        }
        return webui::AuditRecordDetail{record->id,   record->at,        record->kind, record->actor,
                                        record->body, record->prev_hash, record->hash};
    }

    core::Result<webui::Download> audit_export(const std::string & format, const core::Json & filters,
                                               const webui::Caller & caller) override {
        SB_TRY(require_auditor(caller));
        int64_t limit = 0;
        SB_ASSIGN_OR_RETURN(AuditFilter f, audit_filter(filters, limit));
        const std::string stamp = core::utc_now_compact().substr(0, 15);  // 20261122T134512
        webui::Download d;
        if (format == "bundle") {
            // A name of its own: two exports in the same second must not read each other's bundle.
            const fs::path tmp =
                core::temp_sibling(DataPaths{app_.data_dir()}.staging() / ("audit-export-" + caller.user + ".sbaudit"));
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

    core::Result<webui::AdminStatus> admin_status(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        const webui::Health h = health();
        webui::AdminStatus out;
        out.answerer = h.answerer;
        out.model_file = app_.settings().model_path.filename().string();
        out.embedder = h.embedder;
        SB_ASSIGN_OR_RETURN(retrieval::StoreStats stats, app_.retriever().store().stats());
        out.documents = stats.documents;
        out.chunks = stats.chunks;
        out.vectors = static_cast<int64_t>(app_.retriever().vectors().size());
        out.collections = static_cast<int64_t>(app_.all_collections().size());
        out.disk = h.disk;
        out.salt = salt_parts(app_.hidden_salt());
        out.audit_records = h.audit_records;
        out.audit_key_fingerprint = app_.audit().key_fingerprint();
        std::lock_guard lock(selftest_mu_);
        out.last_selftest = last_selftest_;
        return out;
    }

    core::Result<webui::SelftestResult> run_selftest(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        SelftestOptions o;
        o.data_dir = app_.data_dir();
        o.settings = app_.settings();
        o.app = &app_;
        std::error_code ec;
        if (const fs::path golden = DataPaths{app_.data_dir()}.golden(); fs::exists(golden, ec)) {
            o.golden_path = golden;
        }
        const SelftestReport report = appliance::run_selftest(o);
        webui::SelftestResult result;
        result.passed = report.passed();
        for (const SelftestCheck & c : report.checks) {
            result.checks.push_back({c.name, c.skipped ? "skip" : c.passed ? "pass" : "fail", c.detail});
        }
        result.at = core::utc_now_iso8601();
        std::lock_guard lock(selftest_mu_);
        last_selftest_ = result;
        return result;
    }

    core::Result<webui::SettingsView> settings(const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        webui::SettingsView view = current_settings();
        for (const SettingSpec & spec : setting_specs()) {
            webui::SettingField f;
            f.name = spec.name;
            f.type = spec.type;
            f.default_value = spec.default_value;
            if (spec.type == "int" || spec.type == "number") {
                f.min = spec.min;
                f.max = spec.max;
            }
            f.unit = spec.unit;
            f.applies = spec.applies == SettingSpec::Applies::kNextJob ? "next_job" : "next_start";
            f.label_en = spec.label.en;
            f.label_ko = spec.label.ko;
            f.help_en = spec.help.en;
            f.help_ko = spec.help.ko;
            view.fields.push_back(std::move(f));
        }
        return view;
    }

    core::Result<webui::SettingsUpdate> update_settings(const core::Json & changes,
                                                        const webui::Caller & caller) override {
        SB_TRY(require_admin(caller));
        SB_TRY(app_.writable());
        auto updated = app_.settings_store().update(changes);
        if (!updated.ok()) {
            return refusal_if_disk_full(std::move(updated).error());
        }
        const SettingsChange & change = *updated;
        webui::SettingsUpdate out;
        if (!change.refused.empty()) {
            out.refused = change.refused;
            return out;
        }
        core::Json changed = core::Json::object();
        for (const auto & [name, value] : change.new_settings.as_object()) {
            const core::Json * before = change.old_settings.find(name);
            if (before == nullptr || !(*before == value)) {
                core::Json diff = core::Json::object();
                diff["old"] = before != nullptr ? *before : core::Json();
                diff["new"] = value;
                changed[name] = std::move(diff);
                const SettingSpec * spec = find_setting(name);
                if (spec != nullptr && spec->applies == SettingSpec::Applies::kNextStart) {
                    out.restart_required.push_back(name);
                }
            }
        }
        core::Json body = core::Json::object();
        body["old_version"] = change.old_version;
        body["new_version"] = change.new_version;
        body["changed"] = changed;
        SB_TRY(app_.audit().append(audit_kind::kSettingsChange, caller.user, body));
        out.settings = current_settings();
        return out;
    }

    core::Result<webui::InstalledUpdate> install_update(std::string bundle_bytes,
                                                        const webui::Caller & caller) override {
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
            body["version"] = result->version;
            body["security_version"] = result->security_version;
            body["slot"] = result->slot;
            body["signatures"] = result->signatures;
            body["salt_fingerprint"] = result->salt_fingerprint;
            body["message"] = result->message;
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

    webui::Health health() override {
        const core::Json j = app_.health();
        webui::Health h;
        h.ok = j.get_string("status") == "ok";
        h.store_error = j.get_string("store_error");
        h.data_dir = j.get_string("data_dir");
        h.documents = j.get_int("documents");
        h.chunks = j.get_int("chunks");
        if (const core::Json * n = j.find("audit_records"); n != nullptr && n->is_int()) {
            h.audit_records = n->as_int();
        }
        h.embedder = j.get_string("embedder");
        h.analyzer = j.get_string("analyzer");
        h.answerer = j.get_string("answerer");
        h.disk = disk_state(app_.disk_status());
        return h;
    }

    // The handler asks before the account changes it stores itself (accounts.db is in the data
    // directory too): the same read-only refusal as every other write here.
    core::Status writable() override { return app_.writable(); }

    // Ready once open() succeeded (store, index, model and audit trail loaded); reports the hidden
    // salt fingerprint of what was loaded, the same hash every answer's audit record carries.
    core::Result<webui::Readiness> readiness() override {
        // Read-only (disk full) is still ready: search, answers and the audit trail work.
        return webui::Readiness{true, disk_state(app_.disk_status()), salt_parts(app_.hidden_salt())};
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

    webui::DocumentEntry document_entry(const retrieval::DocumentInfo & d) {
        webui::DocumentEntry e;
        e.id = d.id;
        e.path = d.path;
        e.name = fs::path(d.path).filename().string();
        e.collection = d.collection;
        e.sha256 = d.sha256;
        e.version = d.version;
        e.status = std::string(status_name(d.status));
        e.chunks = d.chunk_count;
        e.pages = d.page_count;
        e.media_type = d.media_type;
        e.size_bytes = d.size_bytes;
        e.ingested_at = d.ingested_at;
        e.warnings = app_.local_state().warnings(d.id);
        return e;
    }

    static core::Status require_admin(const webui::Caller & caller) {
        return caller.is_admin() ? core::ok_status() : core::Status(denied("only an admin may do this"));
    }

    static core::Status require_auditor(const webui::Caller & caller) {
        return caller.is_admin() || caller.role == "auditor"
                   ? core::ok_status()
                   : core::Status(denied("only an auditor or admin reads the audit trail"));
    }

    webui::SettingsView current_settings() const {
        const core::Json current = app_.settings_store().current();
        webui::SettingsView view;
        view.version = current.get_int("version");
        view.values = current.find("settings") != nullptr ? *current.find("settings") : core::Json::object();
        return view;
    }

    static webui::DiskState disk_state(const core::Json & j) {
        webui::DiskState d;
        d.read_only = j.get_bool("read_only");
        d.reason = j.get_string("reason");
        d.since = j.get_string("since");
        d.reserve_bytes = static_cast<uint64_t>(j.get_int("reserve_bytes"));
        if (const core::Json * v = j.find("free_bytes"); v != nullptr && v->is_number()) {
            d.free_bytes = static_cast<uint64_t>(v->as_double());
        }
        if (const core::Json * v = j.find("total_bytes"); v != nullptr && v->is_number()) {
            d.total_bytes = static_cast<uint64_t>(v->as_double());
        }
        return d;
    }

    static webui::SaltParts salt_parts(const provisioning::HiddenSalt & salt) {
        return {salt.model_sha256,    salt.prompts_sha256,      salt.tokenizer_sha256,
                salt.settings_sha256, salt.index_params_sha256, provisioning::salt_fingerprint(salt)};
    }

    // Exactly what `strongbox image flash` does, with the bytes staged from memory.
    core::Result<webui::InstalledUpdate> install(const std::string & bytes) {
        namespace prov = strongbox::provisioning;
        SB_ASSIGN_OR_RETURN(prov::TrustStore trust, prov::load_trust_store_file(kTrustedKeys));
        const fs::path dir = DataPaths{app_.data_dir()}.slots();
        SB_ASSIGN_OR_RETURN(DataDir lock, DataDir::acquire(dir, "strongbox serve (web update)"));
        auto storage = prov::open_posix_storage(dir);
        SB_TRY(prov::stage_bundle_bytes(*storage, bytes));
        SB_ASSIGN_OR_RETURN(prov::InstallResult result, prov::install_staged_bundle(*storage, trust.key_set, kProduct));
        webui::InstalledUpdate out;
        out.version = result.manifest.version;
        out.security_version = static_cast<int64_t>(result.manifest.security_version);
        out.slot = std::string(1, prov::slot_letter(result.slot));
        out.signatures = static_cast<int64_t>(result.n_signers);
        out.salt_fingerprint = prov::salt_fingerprint(result.manifest.salt);
        out.message = "installed " + result.manifest.version + " into " + prov::slot_name(result.slot) +
                      "; it boots on probation and must pass its behaviour check";
        return out;
    }

    Appliance & app_;
    std::mutex selftest_mu_;
    std::optional<webui::SelftestResult> last_selftest_;  // none until the first run
};

}  // namespace

std::unique_ptr<webui::AllServices> make_web_service(Appliance & app) {
    return std::make_unique<WebService>(app);
}

}  // namespace strongbox::appliance
