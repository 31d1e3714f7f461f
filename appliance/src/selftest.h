// The behaviour check, on demand (`strongbox selftest`) and as the health check a freshly
// booted image runs before it marks itself good: each check passes or fails with a reason, and
// the box only goes live when all of them pass.
//
// Thread-safety: run_selftest() opens its own handles; do not run two at once on one data
// directory (the golden questions take the data-directory lock).
// Errors: never throws; every failure is a failed check with its reason.
//
//   SelftestReport r = run_selftest({.data_dir = "/var/lib/strongbox", .golden_path = "golden.json"});
//   std::fputs(format_selftest(r).c_str(), stdout);
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct SelftestOptions {
    std::filesystem::path data_dir;
    // JSON: [{"question": "...", "expect": [{"file": "manual.pdf", "page": 3}]}]; empty: skipped.
    std::filesystem::path golden_path;
    int latency_budget_ms = 60000;  // per golden question, from the manifest's promise
    std::filesystem::path model_path;
    std::string model_sha256;       // from the manifest; empty: the model check is skipped
};

struct SelftestCheck {
    std::string name;
    bool passed = false;
    bool skipped = false;
    std::string detail;
};

struct SelftestReport {
    std::vector<SelftestCheck> checks;

    bool passed() const;
};

SelftestReport run_selftest(const SelftestOptions & options);
std::string format_selftest(const SelftestReport & report);

}  // namespace strongbox::appliance
