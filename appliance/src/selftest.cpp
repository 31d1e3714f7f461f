#include "selftest.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

SelftestCheck check_database(const fs::path & data_dir) {
    SelftestCheck c{"database integrity", false, false, ""};
    const fs::path db = data_dir / "strongbox.db";
    if (!fs::exists(db)) {
        c.detail = "no database at " + db.string();
        return c;
    }
    try {
        SQLite::Database handle(db.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(handle, "PRAGMA integrity_check");
        std::string result;
        while (q.executeStep()) {
            result += q.getColumn(0).getString();
        }
        c.passed = result == "ok";
        c.detail = c.passed ? "integrity_check ok" : "integrity_check: " + result.substr(0, 200);
    } catch (const std::exception & e) {
        c.detail = db.string() + ": " + e.what();
    }
    return c;
}

SelftestCheck check_audit(const fs::path & data_dir) {
    SelftestCheck c{"audit chain", false, false, ""};
    const fs::path path = data_dir / "audit.db";
    if (!fs::exists(path)) {
        c.detail = "no audit trail at " + path.string();
        return c;
    }
    auto audit = AuditLog::open(path);
    if (!audit.ok()) {
        c.detail = audit.error().message();
        return c;
    }
    auto status = (*audit)->verify();
    auto n = (*audit)->count();
    c.passed = status.ok();
    c.detail = status.ok() ? std::to_string(n.value_or(0)) + " records verify" : status.error().message();
    return c;
}

SelftestCheck check_model(const SelftestOptions & o) {
    SelftestCheck c{"model matches manifest", false, false, ""};
    if (o.model_sha256.empty()) {
        c.skipped = true;
        c.detail = "no expected model hash given";
        return c;
    }
    const fs::path path = o.model_path.empty() ? o.data_dir / "model.gguf" : o.model_path;
    auto sha = core::sha256_file_hex(path);
    if (!sha.ok()) {
        c.detail = sha.error().message();
        return c;
    }
    c.passed = *sha == o.model_sha256;
    c.detail = c.passed ? path.string() + " sha256 matches" : path.string() + " sha256 " + sha->substr(0, 16) +
                                                                  " differs from the manifest's " +
                                                                  o.model_sha256.substr(0, 16);
    return c;
}

bool cites(const core::Answer & a, const std::string & file, int page) {
    return std::any_of(a.citations.begin(), a.citations.end(), [&](const core::Citation & cit) {
        return fs::path(cit.provenance.source_path).filename() == file && (page == 0 || cit.provenance.page == page);
    });
}

std::vector<SelftestCheck> check_golden(const SelftestOptions & o) {
    std::vector<SelftestCheck> out;
    if (o.golden_path.empty()) {
        out.push_back({"golden questions", false, true, "no golden question file given"});
        return out;
    }
    auto text = core::read_file(o.golden_path);
    auto doc = text.ok() ? core::Json::parse(*text) : core::Result<core::Json>(text.error());
    if (!doc.ok() || !doc->is_array()) {
        out.push_back({"golden questions", false, false,
                       doc.ok() ? "golden file is not a JSON array" : doc.error().message()});
        return out;
    }
    Settings settings;
    settings.data_dir = o.data_dir;
    settings.holder = "strongbox selftest";
    auto app = Appliance::open(settings);
    if (!app.ok()) {
        out.push_back({"golden questions", false, false, app.error().message()});
        return out;
    }
    for (const auto & item : doc->as_array()) {
        const std::string question = item.get_string("question");
        SelftestCheck c{"golden: " + question.substr(0, 60), false, false, ""};
        const auto start = std::chrono::steady_clock::now();
        auto answer = (*app)->ask(question, "selftest", "selftest", settings.top_k);
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        if (!answer.ok()) {
            c.detail = answer.error().message();
            out.push_back(c);
            continue;
        }
        std::string missing;
        if (const core::Json * expect = item.find("expect"); expect != nullptr && expect->is_array()) {
            for (const auto & e : expect->as_array()) {
                const std::string file = e.get_string("file");
                const int page = static_cast<int>(e.get_int("page", 0));
                if (!cites(*answer, file, page)) {
                    missing += " " + file + (page > 0 ? " p." + std::to_string(page) : "");
                }
            }
        }
        c.passed = missing.empty() && ms <= o.latency_budget_ms;
        c.detail = std::to_string(ms) + " ms (budget " + std::to_string(o.latency_budget_ms) + ")" +
                   (missing.empty() ? ", expected citations present" : ", missing citations:" + missing);
        out.push_back(c);
    }
    return out;
}

}  // namespace

bool SelftestReport::passed() const {
    return std::all_of(checks.begin(), checks.end(), [](const SelftestCheck & c) { return c.passed || c.skipped; });
}

SelftestReport run_selftest(const SelftestOptions & o) {
    SelftestReport r;
    r.checks.push_back(check_database(o.data_dir));
    r.checks.push_back(check_audit(o.data_dir));
    r.checks.push_back(check_model(o));
    for (auto & c : check_golden(o)) {
        r.checks.push_back(std::move(c));
    }
    return r;
}

std::string format_selftest(const SelftestReport & r) {
    std::string out;
    for (const auto & c : r.checks) {
        out += std::string(c.skipped ? "SKIP" : c.passed ? "PASS" : "FAIL") + "  " + c.name + ": " + c.detail + "\n";
    }
    out += r.passed() ? "selftest passed\n" : "selftest FAILED: this box does not deliver what its image promises\n";
    return out;
}

}  // namespace strongbox::appliance
