// ScopedService: a service double for the handler's authorization tests. It keeps the
// collection rule of the real service (a document or chunk outside caller.readable is kNotFound,
// writing outside caller.writable is refused) over a fixed little world, and records the events
// and callers it sees so tests can check what the handler resolved:
//   collections alpha, beta, reference; documents 1 (alpha), 2 (beta), 3 (reference);
//   chunks 11 (alpha), 12 (beta), 13 (reference).
#pragma once

#include "unsupported_services.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace strongbox::webui::testing {

class ScopedService : public UnsupportedServices {
  public:
    struct Event {
        std::string kind;
        std::string actor;
        core::Json body;
    };

    core::Result<core::Answer> ask(const AskRequest & request) override {
        remember(request.caller);
        core::Answer a;
        a.question = request.question;
        a.refused = true;
        a.refusal_reason = "searched " + std::to_string(request.caller.readable.size()) + " collections";
        return a;
    }
    core::Result<SourceView> source(int64_t chunk_id, const Caller & caller) override {
        remember(caller);
        const std::string * c = collection_of_chunk(chunk_id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) + " does not exist");
        }
        SourceView v;
        v.chunk_id = chunk_id;
        v.passage = "passage of chunk " + std::to_string(chunk_id);
        v.collection = *c;
        v.kind = "pdf";
        v.page_width = 612;
        v.page_height = 792;
        v.provenance.page = 2;
        core::Box b;
        b.x0 = 10;
        b.y0 = 20;
        b.x1 = 300;
        b.y1 = 40;
        v.boxes.push_back(b);
        return v;
    }
    Health health() override {
        Health h;
        h.documents = 3;
        h.audit_records = 42;
        return h;
    }
    core::Result<std::string> page_image(int64_t chunk_id, int, const Caller & caller) override {
        const std::string * c = collection_of_chunk(chunk_id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) + " does not exist");
        }
        return std::string("\x89PNG\r\n\x1a\n", 8);
    }
    core::Result<std::vector<SearchHit>> search(const std::string &, int, const std::vector<std::string> &,
                                                const Caller & caller) override {
        remember(caller);
        return std::vector<SearchHit>{};
    }
    core::Result<std::vector<AskedQuestion>> history(const Caller &) override { return std::vector<AskedQuestion>{}; }
    core::Result<std::vector<CollectionEntry>> collections(const Caller & caller) override {
        std::lock_guard lock(mu_);
        std::vector<CollectionEntry> list;
        for (const std::string & c : collections_) {
            if (caller.is_admin() || can_read(caller, c)) {
                list.push_back({c, caller.is_admin() ? "admin" : can_write(caller, c) ? "write" : "read", 1});
            }
        }
        return list;
    }
    core::Status create_collection(const std::string & name, const Caller & caller) override {
        if (!caller.is_admin()) {
            return core::Error(core::ErrorCode::kPermissionDenied, "admins only");
        }
        std::lock_guard lock(mu_);
        if (std::find(collections_.begin(), collections_.end(), name) != collections_.end()) {
            return core::Error(core::ErrorCode::kAlreadyExists, "collection " + name + " exists");
        }
        collections_.push_back(name);
        return core::ok_status();
    }
    core::Result<std::vector<DocumentEntry>> documents(const std::string & collection, const Caller & caller) override {
        if (!can_read(caller, collection)) {
            return core::Error(core::ErrorCode::kNotFound, "no collection " + collection);
        }
        return std::vector<DocumentEntry>{};
    }
    core::Result<std::vector<DocumentEntry>> document_versions(int64_t id, const Caller & caller) override {
        const std::string * c = collection_of_document(id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "document " + std::to_string(id) + " does not exist");
        }
        return std::vector<DocumentEntry>{};
    }
    core::Status remove_document(int64_t id, const Caller & caller) override {
        const std::string * c = collection_of_document(id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "document " + std::to_string(id) + " does not exist");
        }
        if (!can_write(caller, *c)) {
            return core::Error(core::ErrorCode::kPermissionDenied, "read-only collection " + *c);
        }
        return core::ok_status();
    }
    core::Result<std::string> start_upload(const std::string & collection, const std::string & file_name,
                                           std::string bytes, const Caller & caller) override {
        if (!can_write(caller, collection)) {
            return core::Error(core::ErrorCode::kPermissionDenied, "cannot write " + collection);
        }
        std::lock_guard lock(mu_);
        uploads_.push_back(file_name + ":" + std::to_string(bytes.size()));
        return std::string("job-1");
    }
    core::Result<UploadJob> job(const std::string & id, const Caller &) override {
        UploadJob job;
        job.job_id = id;
        job.state = "done";
        return job;
    }
    core::Result<std::vector<QuarantinedFile>> quarantine(const Caller &) override {
        return std::vector<QuarantinedFile>{};
    }
    core::Result<AuditPage> audit_search(const core::Json & filters, const Caller &) override {
        std::lock_guard lock(mu_);
        last_filters_ = filters;
        return AuditPage{};
    }
    core::Result<AuditRecordDetail> audit_record(int64_t id, const Caller &) override {
        AuditRecordDetail record;
        record.id = id;
        return record;
    }
    core::Result<Download> audit_export(const std::string & format, const core::Json &, const Caller &) override {
        return Download{"text/csv", "audit \"export\"." + format, "id,at\n"};
    }
    core::Status record_event(const std::string & kind, const std::string & actor, const core::Json & body) override {
        std::lock_guard lock(mu_);
        events_.push_back({kind, actor, body});
        return core::ok_status();
    }
    core::Result<AdminStatus> admin_status(const Caller &) override { return AdminStatus{}; }
    core::Result<SelftestResult> run_selftest(const Caller &) override { return SelftestResult{}; }
    core::Result<SettingsView> settings(const Caller &) override { return SettingsView{}; }
    core::Result<SettingsUpdate> update_settings(const core::Json & changes, const Caller &) override {
        SettingsUpdate update;
        if (changes.contains("top_k")) {
            update.refused["top_k"] = "must be 1 to 50";
        }
        return update;
    }
    // Read-only mode as the appliance reports it (disk full): set_read_only("") leaves it.
    core::Status writable() override {
        std::lock_guard lock(mu_);
        if (read_only_reason_.empty()) {
            return core::ok_status();
        }
        return core::Error(core::ErrorCode::kReadOnly,
                           std::string("read-only: disk full: ") + read_only_reason_ + "; nothing was changed");
    }
    void set_read_only(std::string reason) {
        std::lock_guard lock(mu_);
        read_only_reason_ = std::move(reason);
    }
    core::Result<InstalledUpdate> install_update(std::string bytes, const Caller &) override {
        InstalledUpdate update;
        update.message = "verified " + std::to_string(bytes.size()) + " bytes";
        return update;
    }

    std::vector<Event> events() {
        std::lock_guard lock(mu_);
        return events_;
    }
    Caller last_caller() {
        std::lock_guard lock(mu_);
        return last_caller_;
    }
    std::vector<std::string> uploads() {
        std::lock_guard lock(mu_);
        return uploads_;
    }
    core::Json last_filters() {
        std::lock_guard lock(mu_);
        return last_filters_;
    }

  private:
    static bool contains(const std::vector<std::string> & v, const std::string & s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
    static bool can_read(const Caller & c, const std::string & collection) { return contains(c.readable, collection); }
    static bool can_write(const Caller & c, const std::string & collection) { return contains(c.writable, collection); }
    static const std::string * collection_of_chunk(int64_t id) { return collection_of_document(id - 10); }
    static const std::string * collection_of_document(int64_t id) {
        static const std::map<int64_t, std::string> kDocs = {{1, "alpha"}, {2, "beta"}, {3, "reference"}};
        auto it = kDocs.find(id);
        return it == kDocs.end() ? nullptr : &it->second;
    }
    void remember(const Caller & c) {
        std::lock_guard lock(mu_);
        last_caller_ = c;
    }

    std::mutex mu_;
    std::vector<std::string> collections_ = {"alpha", "beta", "reference"};
    std::vector<Event> events_;
    std::vector<std::string> uploads_;
    Caller last_caller_;
    core::Json last_filters_;
    std::string read_only_reason_;
};

}  // namespace strongbox::webui::testing
