// collections list/create, quarantine list: what an admin keeps apart and what ingest refused.

#include "commands.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/local_state.h"
#include "strongbox/core/json.h"

#include <cstdio>
#include <map>

namespace strongbox::appliance {
namespace {

core::Result<std::unique_ptr<Appliance>> open_for(const CommandContext & ctx, const std::string & holder) {
    Settings settings;
    settings.data_dir = ctx.data_dir;
    settings.holder = holder;
    return Appliance::open(settings);
}

int run_collections_list(const CommandContext & ctx) {
    auto app = open_for(ctx, "strongbox collections list");
    if (!app.ok()) {
        return fail("collections list", app.error());
    }
    auto docs = (*app)->retriever().store().list_documents();
    if (!docs.ok()) {
        return fail("collections list", docs.error());
    }
    std::map<std::string, int64_t> counts;
    for (const auto & d : *docs) {
        ++counts[d.collection];
    }
    for (const std::string & name : (*app)->all_collections()) {
        std::printf("%-32s %lld documents\n", name.c_str(), static_cast<long long>(counts[name]));
    }
    return kExitOk;
}

int run_collections_create(const CommandContext & ctx) {
    if (ctx.args.positionals().size() != 1) {
        return fail("collections create", "give one collection NAME");
    }
    auto app = open_for(ctx, "strongbox collections create");
    if (!app.ok()) {
        return fail("collections create", app.error());
    }
    if (core::Status writable = (*app)->writable(); !writable.ok()) {
        fail("collections create", writable.error());
        return kExitReadOnly;
    }
    const std::string & name = ctx.args.positionals()[0];
    if (auto st = (*app)->local_state().create_collection(name, "cli"); !st.ok()) {
        return fail("collections create", st.error());
    }
    core::Json body = core::Json::object();
    body["action"] = "create";
    body["collection"] = name;
    if (auto id = (*app)->audit().append("collection_change", "cli", body); !id.ok()) {
        return fail("collections create", id.error());
    }
    std::fprintf(stderr, "created collection %s\n", name.c_str());
    return kExitOk;
}

// Reads appliance.db directly (SQLite, WAL), so it works while the daemon holds the data directory.
int run_quarantine_list(const CommandContext & ctx) {
    const std::filesystem::path db = DataPaths{ctx.data_dir}.local_state();
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) {
        std::fprintf(stderr, "nothing is quarantined (no %s yet)\n", db.c_str());
        return kExitOk;
    }
    auto state = LocalState::open(db);
    if (!state.ok()) {
        return fail("quarantine list", state.error());
    }
    auto records = (*state)->quarantine();
    if (!records.ok()) {
        return fail("quarantine list", records.error());
    }
    if (ctx.args.has("json")) {
        core::Json files = core::Json::array();
        for (const QuarantineRecord & r : *records) {
            core::Json j = core::Json::object();
            j["name"] = r.name;
            j["sha256"] = r.sha256;
            j["reason"] = r.reason;
            j["at"] = r.at;
            j["collection"] = r.collection;
            j["source_path"] = r.source_path;
            j["job"] = r.job;
            j["kept_at"] = (DataPaths{ctx.data_dir}.quarantine() / r.sha256).string();
            files.push_back(std::move(j));
        }
        core::Json out = core::Json::object();
        out["files"] = std::move(files);
        std::printf("%s\n", out.dump(2).c_str());
        return kExitOk;
    }
    if (records->empty()) {
        std::fprintf(stderr, "nothing is quarantined\n");
    }
    for (const QuarantineRecord & r : *records) {
        std::printf("%s  %s  [%s]  sha256 %s\n    %s\n    kept at %s\n", r.at.c_str(), r.name.c_str(),
                    r.collection.c_str(), r.sha256.substr(0, 12).c_str(), r.reason.c_str(),
                    (DataPaths{ctx.data_dir}.quarantine() / r.sha256).c_str());
    }
    return kExitOk;
}

}  // namespace

std::vector<Command> collection_commands() {
    return {
        {"collections list", "", "List collections and how many documents each holds", {}, run_collections_list},
        {"collections create",
         "NAME",
         "Create an empty collection (grant groups access in the web UI)",
         {},
         run_collections_create},
        {"quarantine list",
         "",
         "List files ingest refused, with the reason; their bytes are kept under DATA_DIR/quarantine/",
         {{"json", "", "print the records as JSON"}},
         run_quarantine_list},
    };
}

}  // namespace strongbox::appliance
