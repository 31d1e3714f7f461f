// UnsupportedServices: a base for the web tests' service doubles. Every method answers kUnsupported
// except the three a handler needs from any service: ask_stream streams the whole answer of ask(),
// writable() says yes, health() says ok. A double overrides what its tests exercise; production
// implementations derive from webui::AllServices directly, so a missing method does not compile.
#pragma once

#include "strongbox/webui/service.h"

#include <string>
#include <vector>

namespace strongbox::webui::testing {

class UnsupportedServices : public AllServices {
  public:
    // QueryService
    core::Result<core::Answer> ask(const AskRequest &) override { return unsupported("ask"); }
    core::Status ask_stream(const AskRequest & request, const AskSink & sink) override {
        return stream_whole_answer(*this, request, sink);
    }
    core::Result<SourceView> source(int64_t, const Caller &) override { return unsupported("source"); }
    core::Result<std::string> page_image(int64_t, int, const Caller &) override { return unsupported("page_image"); }
    core::Result<std::vector<SearchHit>> search(const std::string &, int, const std::vector<std::string> &,
                                                const Caller &) override {
        return unsupported("search");
    }
    core::Result<std::vector<AskedQuestion>> history(const Caller &) override { return unsupported("history"); }

    // DocumentService
    core::Result<std::vector<CollectionEntry>> collections(const Caller &) override {
        return unsupported("collections");
    }
    core::Result<std::vector<std::string>> collection_names() override { return unsupported("collection_names"); }
    core::Status create_collection(const std::string &, const Caller &) override {
        return unsupported("create_collection");
    }
    core::Result<std::vector<DocumentEntry>> documents(const std::string &, const Caller &) override {
        return unsupported("documents");
    }
    core::Result<std::vector<DocumentEntry>> document_versions(int64_t, const Caller &) override {
        return unsupported("document_versions");
    }
    core::Status remove_document(int64_t, const Caller &) override { return unsupported("remove_document"); }
    core::Result<std::string> start_upload(const std::string &, const std::string &, std::string,
                                           const Caller &) override {
        return unsupported("start_upload");
    }
    core::Result<UploadJob> job(const std::string &, const Caller &) override { return unsupported("job"); }
    core::Result<std::vector<QuarantinedFile>> quarantine(const Caller &) override { return unsupported("quarantine"); }

    // AuditService
    core::Result<AuditPage> audit_search(const core::Json &, const Caller &) override {
        return unsupported("audit_search");
    }
    core::Result<AuditRecordDetail> audit_record(int64_t, const Caller &) override {
        return unsupported("audit_record");
    }
    core::Result<Download> audit_export(const std::string &, const core::Json &, const Caller &) override {
        return unsupported("audit_export");
    }
    core::Status record_event(const std::string &, const std::string &, const core::Json &) override {
        return unsupported("record_event");
    }

    // AdminService
    Health health() override { return Health{}; }
    core::Result<Readiness> readiness() override { return unsupported("readiness"); }
    core::Status writable() override { return core::ok_status(); }
    core::Result<AdminStatus> admin_status(const Caller &) override { return unsupported("admin_status"); }
    core::Result<SelftestResult> run_selftest(const Caller &) override { return unsupported("run_selftest"); }
    core::Result<SettingsView> settings(const Caller &) override { return unsupported("settings"); }
    core::Result<SettingsUpdate> update_settings(const core::Json &, const Caller &) override {
        return unsupported("update_settings");
    }
    core::Result<InstalledUpdate> install_update(std::string, const Caller &) override {
        return unsupported("install_update");
    }

  protected:
    static core::Error unsupported(const char * what) {
        return core::Error(core::ErrorCode::kUnsupported, std::string(what) + ": not implemented by this service");
    }
};

}  // namespace strongbox::webui::testing
