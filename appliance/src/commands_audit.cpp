// audit export, audit verify: what auditors run.

#include "commands.h"
#include "strongbox/appliance/audit_log.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace strongbox::appliance {
namespace {

// The audit trail is append-only and readable while the daemon runs (SQLite WAL readers do not
// block the writer), so these commands do not take the data-directory lock.
core::Result<std::unique_ptr<AuditLog>> open_audit(const CommandContext & ctx) {
    const auto path = ctx.data_dir / "audit.db";
    if (!std::filesystem::exists(path)) {
        return core::Error(core::ErrorCode::kNotFound, "no audit trail at " + path.string());
    }
    return AuditLog::open(path);
}

AuditFilter filter_from(const Args & args) {
    AuditFilter f;
    f.since = args.get("since");
    f.until = args.get("until");
    f.actor = args.get("user");
    f.kind = args.get("kind");
    return f;
}

int run_export(const CommandContext & ctx) {
    const std::string format = ctx.args.get("format", "jsonl");
    if (format != "jsonl") {
        return fail("audit export", "unsupported format '" + format + "' (supported: jsonl)");
    }
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit export", audit.error().message());
    }
    const std::string output = ctx.args.get("output");
    std::ofstream file;
    if (!output.empty()) {
        file.open(output, std::ios::binary | std::ios::trunc);
        if (!file) {
            return fail("audit export", "cannot write " + output);
        }
    }
    std::ostream & out = output.empty() ? std::cout : file;
    auto n = (*audit)->export_jsonl(out, filter_from(ctx.args));
    if (!n.ok()) {
        return fail("audit export", n.error().message());
    }
    out.flush();
    std::fprintf(stderr, "exported %zu audit records\n", *n);
    return kExitOk;
}

int run_verify(const CommandContext & ctx) {
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit verify", audit.error().message());
    }
    if (auto st = (*audit)->verify(); !st.ok()) {
        return fail("audit verify", st.error().message());
    }
    auto count = (*audit)->count();
    std::printf("audit trail verified: %lld records, chain intact\n", static_cast<long long>(count.value_or(0)));
    return kExitOk;
}

const std::vector<OptionSpec> kFilterOptions = {
    {"since", "TIME", "only records at or after this ISO 8601 UTC time"},
    {"until", "TIME", "only records before this time"},
    {"user", "NAME", "only records of this user"},
    {"kind", "KIND", "only records of this kind (ask, ingest)"},
};

}  // namespace

std::vector<Command> audit_commands() {
    std::vector<OptionSpec> export_options = kFilterOptions;
    export_options.push_back({"format", "FORMAT", "jsonl (default)"});
    export_options.push_back({"output", "FILE", "write to FILE instead of standard output"});
    return {
        {"audit export", "[--format jsonl] [--output FILE]", "Export the audit trail, one JSON record per line",
         export_options, run_export},
        {"audit verify", "", "Check that no audit record was altered, removed or reordered", {}, run_verify},
    };
}

}  // namespace strongbox::appliance
