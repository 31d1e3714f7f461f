// audit export, audit verify, audit key, audit expire: what admins and auditors run.

#include "commands.h"

#include "strongbox/appliance/audit_trail.h"
#include "strongbox/audit/audit_log.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace strongbox::appliance {
namespace {

// Local commands act as "cli" in the trail (the web UI records the signed-in user instead).
constexpr const char * kCliActor = "cli";

// The audit trail is append-only and readable while the daemon runs (SQLite WAL readers do not
// block the writer, and appends wait for each other), so these commands do not take the
// data-directory lock.
core::Result<std::unique_ptr<AuditLog>> open_audit(const CommandContext & ctx) {
    const auto path = DataPaths{ctx.data_dir}.audit();
    if (!std::filesystem::exists(path)) {
        return core::Error(core::ErrorCode::kNotFound, "no audit trail at " + path.string());
    }
    return open_audit_trail(path, std::make_shared<PageRenderer>(ExtractLimits{}));
}

AuditFilter filter_from(const Args & args) {
    AuditFilter f;
    f.since = args.get("since");
    f.until = args.get("until");
    f.actor = args.get("user");
    f.kind = args.get("kind");
    f.document = args.get("document");
    f.question = args.get("question");
    return f;
}

// Prints a fingerprint in groups of four so it can be read out over the phone.
std::string grouped(const std::string & hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 4) {
        if (i > 0) {
            out += ' ';
        }
        out += hex.substr(i, 4);
    }
    return out;
}

int run_export(const CommandContext & ctx) {
    const std::string format = ctx.args.get("format", "jsonl");
    if (format != "jsonl" && format != "csv" && format != "bundle") {
        return fail("audit export", "unsupported format '" + format + "' (supported: bundle, jsonl, csv)");
    }
    const std::string output = ctx.args.get("output");
    if (format == "bundle" && output.empty()) {
        return fail("audit export", "--format bundle needs --output FILE");
    }
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit export", audit.error());
    }
    const AuditFilter filter = filter_from(ctx.args);
    if (format == "bundle") {
        auto s = (*audit)->export_bundle(output, filter, kCliActor);
        if (!s.ok()) {
            return fail("audit export", s.error());
        }
        std::printf("wrote %s: %zu records, %zu cited excerpts, chain head %lld %s\nbundle sha256 %s\n"
                    "signed by key %s\n",
                    output.c_str(), s->records, s->excerpts, static_cast<long long>(s->head_id), s->head_hash.c_str(),
                    s->sha256.c_str(), grouped((*audit)->key_fingerprint()).c_str());
        return kExitOk;
    }
    // Plain exports are unsigned views, but who took what is still part of the trail.
    core::Json body = core::Json::object();
    body["format"] = format;
    core::Json filters = core::Json::object();
    for (const char * name : {"since", "until", "user", "kind", "document", "question"}) {
        if (ctx.args.has(name)) {
            filters[name] = ctx.args.get(name);
        }
    }
    body["filters"] = std::move(filters);
    if (auto id = (*audit)->append(audit_kind::kExport, kCliActor, body); !id.ok()) {
        return fail("audit export", id.error());
    }
    std::ofstream file;
    if (!output.empty()) {
        file.open(output, std::ios::binary | std::ios::trunc);
        if (!file) {
            return fail("audit export", "cannot write " + output);
        }
    }
    std::ostream & out = output.empty() ? std::cout : file;
    auto n = format == "csv" ? (*audit)->export_csv(out, filter) : (*audit)->export_jsonl(out, filter);
    if (!n.ok()) {
        return fail("audit export", n.error());
    }
    out.flush();
    if (!out) {
        return fail("audit export",
                    "writing " + (output.empty() ? std::string("standard output") : output) + " failed");
    }
    std::fprintf(stderr, "exported %zu audit records\n", *n);
    return kExitOk;
}

int verify_bundle_command(const std::string & bundle, const std::string & key_file) {
    if (key_file.empty()) {
        return fail("audit verify", "verifying a bundle needs --public-key FILE (from 'strongbox audit key')");
    }
    auto v = verify_bundle_file(bundle, key_file);
    if (!v.ok()) {
        return fail("audit verify", v.error());
    }
    if (!v->ok) {
        std::fprintf(stderr, "strongbox audit verify: %s FAILED verification (%zu problems):\n", bundle.c_str(),
                     v->problems.size());
        for (const std::string & p : v->problems) {
            std::fprintf(stderr, "  - %s\n", p.c_str());
        }
        return kExitFailure;
    }
    std::printf("bundle verified: %zu records, signed chain head %lld %s\nsigned by key %s\n", v->records,
                static_cast<long long>(v->head_id), v->head_hash.c_str(), grouped(v->key_fingerprint).c_str());
    if (v->complete) {
        std::printf("complete: the whole trail from its first record to the head, nothing left out\n");
    } else {
        std::printf("partial: filters %s; records outside the filters are not included\n", v->filters.dump().c_str());
    }
    return kExitOk;
}

int run_verify(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    if (pos.size() > 1) {
        return fail("audit verify", "expected at most one BUNDLE");
    }
    if (pos.size() == 1) {
        return verify_bundle_command(pos[0], ctx.args.get("public-key"));
    }
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit verify", audit.error());
    }
    if (auto st = (*audit)->verify(); !st.ok()) {
        return fail("audit verify", st.error());
    }
    auto count = (*audit)->count();
    std::printf("audit trail verified: %lld records, chain intact, checkpoint signatures valid\n",
                static_cast<long long>(count.value_or(0)));
    return kExitOk;
}

int run_key(const CommandContext & ctx) {
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit key", audit.error());
    }
    std::printf("public key   %s\nfingerprint  %s\n", (*audit)->public_key_hex().c_str(),
                grouped((*audit)->key_fingerprint()).c_str());
    std::printf("give auditors %s (the public key file); never the .key file\n",
                DataPaths{ctx.data_dir}.audit_public_key().string().c_str());
    return kExitOk;
}

int run_expire(const CommandContext & ctx) {
    const std::string before = ctx.args.get("before");
    if (before.empty()) {
        return fail("audit expire", "--before TIME is required");
    }
    auto audit = open_audit(ctx);
    if (!audit.ok()) {
        return fail("audit expire", audit.error());
    }
    auto id = (*audit)->record_retention(before, kCliActor);
    if (!id.ok()) {
        return fail("audit expire", id.error());
    }
    std::printf("recorded retention expiry before %s as audit record %lld (signed); no record was deleted\n",
                before.c_str(), static_cast<long long>(*id));
    return kExitOk;
}

const std::vector<OptionSpec> kFilterOptions = {
    {"since", "TIME", "only records at or after this ISO 8601 UTC time"},
    {"until", "TIME", "only records before this time"},
    {"user", "NAME", "only records of this user"},
    {"kind", "KIND", "only records of this kind (ask, ingest, export, checkpoint, ...)"},
    {"document", "SHA_OR_PATH", "only records citing or ingesting this document (sha256, path or file name)"},
    {"question", "TEXT", "only answers whose question contains TEXT (case-insensitive)"},
};

}  // namespace

std::vector<Command> audit_commands() {
    std::vector<OptionSpec> export_options = kFilterOptions;
    export_options.push_back({"format", "FORMAT", "bundle (signed, for auditors), jsonl (default) or csv"});
    export_options.push_back({"output", "FILE", "write to FILE instead of standard output (required for bundle)"});
    return {
        {"audit export", "[filters] [--format bundle|jsonl|csv] [--output FILE]",
         "Export the audit trail: a signed citation-trail bundle, JSON lines or CSV", export_options, run_export},
        {"audit verify",
         "[BUNDLE --public-key FILE]",
         "Check the live trail, or a bundle offline, for altered, removed or reordered records",
         {{"public-key", "FILE", "the appliance's public key file (audit-signing.pub) for a bundle"}},
         run_verify},
        {"audit key", "", "Print the audit signing public key and its fingerprint for auditors", {}, run_key},
        {"audit expire",
         "--before TIME",
         "Record (signed) that records before TIME reached the end of retention",
         {{"before", "TIME", "ISO 8601 UTC cut-off"}},
         run_expire},
    };
}

}  // namespace strongbox::appliance
