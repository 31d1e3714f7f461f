// The behaviour check, on demand (`strongbox selftest`) and as the health check a freshly
// booted image runs before it marks itself good (`strongbox boot confirm`): each check passes,
// fails with a reason, or is skipped with the reason it could not run; the box only goes live
// when none fails.
//
// Checks, in order (file-level checks come before the appliance opens, because opening repairs
// what they look for):
//   database integrity    strongbox.db passes PRAGMA integrity_check
//   vector index          vectors.faiss loads: its recorded sha256 and embedder identity match
//   audit chain           every record's hash and every checkpoint signature verify
//   model file            the model file's sha256 is the manifest's
//   hidden salt           what the opened appliance loaded hashes to what the manifest pins
//   web server over TLS   an in-process HTTPS server on an ephemeral port, with the appliance's
//                         certificate (DATA_DIR/tls-cert.pem, made as `serve` makes it when
//                         missing), answers /healthz to a client that trusts only that certificate
//   golden: <question>    answered citing the expected files/pages within the latency budget
//
// Thread-safety: run_selftest() opens its own handles; do not run two at once on one data
// directory (opening the appliance takes the data-directory lock unless `app` is given).
// Errors: never throws; every failure is a failed check with its reason.
//
//   SelftestReport r = run_selftest({.data_dir = "/var/lib/strongbox", .golden_path = "golden.json"});
//   std::fputs(format_selftest(r).c_str(), stdout);
#pragma once

#include "strongbox/appliance/appliance.h"
#include "strongbox/provisioning/bundle.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct SelftestOptions {
    std::filesystem::path data_dir;
    // JSON: [{"question": "...", "expect": [{"file": "manual.pdf", "page": 3}]}]; empty: skipped.
    std::filesystem::path golden_path;
    double latency_budget_ms = 60000;                       // per golden question, from the manifest's promise
    std::filesystem::path model_path;                       // default: settings.model_path, else DATA_DIR/model.gguf
    std::string model_sha256;                               // from the manifest; empty: the model check is skipped
    std::optional<provisioning::HiddenSalt> expected_salt;  // from the manifest; none: skipped
    // How the appliance is opened for the salt, web and golden checks (model, prompts, caps);
    // data_dir is taken from above.
    Settings settings;
    // A running appliance to use instead of opening one (the daemon's, for POST /admin/selftest).
    Appliance * app = nullptr;
};

struct SelftestCheck {
    std::string name;
    bool passed = false;
    bool skipped = false;
    std::string detail;
};

struct SelftestReport {
    std::vector<SelftestCheck> checks;

    bool passed() const;                      // no check failed
    std::vector<std::string> failed() const;  // names of the failed checks
};

SelftestReport run_selftest(const SelftestOptions & options);
std::string format_selftest(const SelftestReport & report);
core::Json to_json(const SelftestReport & report);

}  // namespace strongbox::appliance
