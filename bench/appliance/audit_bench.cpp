// What recording an answer in the audit trail costs: median and p99 of AuditLog::append for an
// answer-sized record (five cited passages with full provenance, retrieved chunks, model and
// prompt identity) with synchronous=FULL as in production, next to a baseline measured in the
// same run: the same bytes inserted into a plain WAL table with synchronous=FULL but no hash
// chain, no append-only triggers and no checkpoints. Also the bundle export and offline
// verification rate, and the per-answer cost of the hidden-salt fingerprint every answer record
// carries (hashing the settings, then the five parts). Prints figures; asserts nothing about time.
//
//   strongbox_bench_audit [--records N] [--dir DIR]
// DIR should be on the disk the appliance uses (fsync cost dominates); default: the temp dir.

#include "strongbox/appliance/appliance.h"
#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/provisioning/bundle.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace strongbox;

namespace {

using Clock = std::chrono::steady_clock;

core::Json answer_body(int i) {
    core::Answer a;
    a.question = "Which firewall rule blocked the backup host on the night of the outage? #" + std::to_string(i);
    a.answerer = "strongbox-q4 7B";
    a.latency_ms = 850.5;
    for (int n = 1; n <= 5; ++n) {
        core::AnswerSentence s;
        s.text = "Rule 41 on the edge firewall dropped traffic from the backup host after the 01:58 reload.";
        s.citations = {n};
        a.sentences.push_back(s);
        core::Citation c;
        c.number = n;
        c.chunk_id = 1000 + n;
        c.quote = std::string(600, 'x');
        c.score = 0.9 - 0.1 * n;
        c.provenance.source_path = "/srv/logs/firewall-2026-11-0" + std::to_string(n) + ".log";
        c.provenance.source_sha256 = std::string(64, 'a');
        c.provenance.page = n;
        c.provenance.line_start = 100 * n;
        c.provenance.line_end = 100 * n + 19;
        c.provenance.byte_start = 4096 * n;
        c.provenance.byte_end = 4096 * n + 600;
        c.provenance.boxes = {core::Box{72, 100, 540, 160, 0, 300}, core::Box{72, 160, 540, 220, 300, 600}};
        c.provenance.extractor = "log-lines";
        c.provenance.ingested_at = "2026-11-01T10:00:00.000000Z";
        a.citations.push_back(c);
    }
    appliance::AnswerRecordContext ctx;
    ctx.channel = "http";
    for (int r = 0; r < 10; ++r) {
        ctx.retrieved.push_back({2000 + r, 1.0 / (r + 1), r + 1, r + 1});
    }
    ctx.embedder = "hashed-v1";
    ctx.model_sha256 = std::string(64, 'b');
    ctx.prompt_template_version = "answer-v3";
    ctx.prompt_template_sha256 = std::string(64, 'c');
    ctx.index_version = "42";
    ctx.settings_version = "7";
    ctx.salt_fingerprint = std::string(64, 'd');
    ctx.caps["max_tokens"] = 512;
    ctx.latency_ms = 900.25;
    return appliance::answer_record(a, ctx);
}

struct Stats {
    double median_ms = 0;
    double p99_ms = 0;
};

Stats stats_of(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    Stats s;
    s.median_ms = ms[ms.size() / 2];
    s.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
    return s;
}

}  // namespace

int main(int argc, char ** argv) {
    int n = 400;
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "strongbox_audit_bench";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--records") {
            n = std::max(10, std::atoi(argv[i + 1]));
        } else if (flag == "--dir") {
            dir = argv[i + 1];
        }
    }
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string body_text = answer_body(0).dump();
    std::printf("audit append benchmark: %d answer records of %zu bytes, synchronous=FULL, dir %s\n", n,
                body_text.size(), dir.c_str());

    // Baseline: the same row into a plain table, no chain, same durability.
    std::vector<double> base_ms;
    {
        SQLite::Database db((dir / "plain.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode=WAL");
        db.exec("PRAGMA synchronous=FULL");
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT, kind TEXT, actor TEXT, body TEXT)");
        for (int i = 0; i < n; ++i) {
            const std::string text = answer_body(i).dump();
            const auto t0 = Clock::now();
            SQLite::Transaction tx(db);
            SQLite::Statement ins(
                db, "INSERT INTO t(at, kind, actor, body) VALUES ('2026-11-22T10:00:00Z','ask','alice',?)");
            ins.bind(1, text);
            ins.exec();
            tx.commit();
            base_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
    }

    auto log = appliance::AuditLog::open(dir / "audit.db");
    if (!log.ok()) {
        std::fprintf(stderr, "audit bench: %s\n", log.error().message().c_str());
        return 1;
    }
    std::vector<double> audit_ms;
    for (int i = 0; i < n; ++i) {
        const core::Json body = answer_body(i);
        const auto t0 = Clock::now();
        auto id = (*log)->append(appliance::audit_kind::kAsk, "alice", body);
        audit_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!id.ok()) {
            std::fprintf(stderr, "audit bench: %s\n", id.error().message().c_str());
            return 1;
        }
    }
    const Stats base = stats_of(base_ms);
    const Stats audit = stats_of(audit_ms);
    std::printf("  plain insert (baseline)      median %.3f ms  p99 %.3f ms\n", base.median_ms, base.p99_ms);
    std::printf("  audit append (chain, FULL)   median %.3f ms  p99 %.3f ms  (%.2fx baseline median)\n",
                audit.median_ms, audit.p99_ms, audit.median_ms / base.median_ms);
    std::printf("  added by the audit trail     median %+.3f ms per answer (goal: under 1 ms)\n",
                audit.median_ms - base.median_ms);

    // What Appliance::ask adds per answer for the fingerprint: the settings hash and the salt hash.
    std::vector<double> salt_ms;
    const appliance::Settings settings;
    provisioning::HiddenSalt salt;
    salt.model_sha256 = std::string(64, 'a');
    salt.prompts_sha256 = std::string(64, 'b');
    salt.index_params_sha256 = std::string(64, 'c');
    size_t checksum = 0;
    for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        salt.settings_sha256 = core::sha256_hex(settings.to_json().dump());
        checksum += provisioning::salt_fingerprint(salt).front();
        salt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    const Stats salt_stats = stats_of(salt_ms);
    std::printf("  salt fingerprint per answer  median %.4f ms  p99 %.4f ms (%zu)\n", salt_stats.median_ms,
                salt_stats.p99_ms, checksum % 10);

    const auto bundle = dir / "trail.sbaudit";
    auto t0 = Clock::now();
    auto exported = (*log)->export_bundle(bundle, {}, "bench");
    const double export_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!exported.ok()) {
        std::fprintf(stderr, "audit bench: %s\n", exported.error().message().c_str());
        return 1;
    }
    const std::string bytes = core::read_file(bundle).value();
    t0 = Clock::now();
    const appliance::BundleVerification v = appliance::verify_bundle(bytes, (*log)->public_key_hex());
    const double verify_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("  export bundle of %zu records  %.1f ms (%.2f MB)\n", exported->records, export_ms,
                static_cast<double>(bytes.size()) / 1e6);
    std::printf("  verify bundle offline        %.1f ms (%s, %.0f records/s)\n", verify_ms, v.ok ? "ok" : "FAILED",
                static_cast<double>(v.records) / (verify_ms / 1000.0));
    std::filesystem::remove_all(dir);
    return v.ok ? 0 : 1;
}
