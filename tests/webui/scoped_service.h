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
    core::Json health() override {
        core::Json j = core::Json::object();
        j["status"] = "ok";
        j["documents"] = 3;
        j["audit"] = core::Json::object();
        j["audit"]["chain_length"] = 42;
        return j;
    }
    core::Result<std::string> page_image(int64_t chunk_id, int, const Caller & caller) override {
        const std::string * c = collection_of_chunk(chunk_id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) + " does not exist");
        }
        return std::string("\x89PNG\r\n\x1a\n", 8);
    }
    core::Result<core::Json> search(const std::string &, int, const std::vector<std::string> &,
                                    const Caller & caller) override {
        remember(caller);
        core::Json j = core::Json::object();
        j["hits"] = core::Json::array();
        return j;
    }
    core::Result<core::Json> history(const Caller &) override {
        core::Json j = core::Json::object();
        j["questions"] = core::Json::array();
        return j;
    }
    core::Result<core::Json> collections(const Caller & caller) override {
        std::lock_guard lock(mu_);
        core::Json list = core::Json::array();
        for (const std::string & c : collections_) {
            if (caller.is_admin() || can_read(caller, c)) {
                core::Json item = core::Json::object();
                item["name"] = c;
                item["documents"] = 1;
                list.push_back(std::move(item));
            }
        }
        core::Json j = core::Json::object();
        j["collections"] = std::move(list);
        return j;
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
    core::Result<core::Json> documents(const std::string & collection, const Caller & caller) override {
        if (!can_read(caller, collection)) {
            return core::Error(core::ErrorCode::kNotFound, "no collection " + collection);
        }
        core::Json j = core::Json::object();
        j["documents"] = core::Json::array();
        return j;
    }
    core::Result<core::Json> document_versions(int64_t id, const Caller & caller) override {
        const std::string * c = collection_of_document(id);
        if (c == nullptr || !can_read(caller, *c)) {
            return core::Error(core::ErrorCode::kNotFound, "document " + std::to_string(id) + " does not exist");
        }
        core::Json j = core::Json::object();
        j["versions"] = core::Json::array();
        return j;
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
    core::Result<core::Json> job(const std::string & id, const Caller &) override {
        core::Json j = core::Json::object();
        j["job_id"] = id;
        j["state"] = "done";
        j["files"] = core::Json::array();
        return j;
    }
    core::Result<core::Json> quarantine(const Caller &) override { return list("files"); }
    core::Result<core::Json> audit_search(const core::Json & filters, const Caller &) override {
        std::lock_guard lock(mu_);
        last_filters_ = filters;
        core::Json j = core::Json::object();
        j["records"] = core::Json::array();
        return j;
    }
    core::Result<core::Json> audit_record(int64_t id, const Caller &) override {
        core::Json j = core::Json::object();
        j["record"] = core::Json::object();
        j["record"]["id"] = id;
        return j;
    }
    core::Result<Download> audit_export(const std::string & format, const core::Json &, const Caller &) override {
        return Download{"text/csv", "audit \"export\"." + format, "id,at\n"};
    }
    core::Status record_event(const std::string & kind, const std::string & actor, const core::Json & body) override {
        std::lock_guard lock(mu_);
        events_.push_back({kind, actor, body});
        return core::ok_status();
    }
    core::Result<core::Json> admin_status(const Caller &) override { return list("model"); }
    core::Result<core::Json> run_selftest(const Caller &) override { return list("checks"); }
    core::Result<core::Json> settings(const Caller &) override { return list("settings"); }
    core::Result<core::Json> update_settings(const core::Json & changes, const Caller &) override {
        if (changes.contains("top_k")) {
            return core::Error(core::ErrorCode::kInvalidArgument, R"({"fields":{"top_k":"must be 1 to 50"}})");
        }
        return list("settings");
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
    core::Result<core::Json> install_update(std::string bytes, const Caller &) override {
        core::Json j = core::Json::object();
        j["verified"] = true;
        j["bytes"] = static_cast<int64_t>(bytes.size());
        return j;
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
    static core::Json list(const char * key) {
        core::Json j = core::Json::object();
        j[key] = core::Json::object();
        return j;
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
