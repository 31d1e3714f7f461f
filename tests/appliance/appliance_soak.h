// Appliance crash and I/O-fault soak, through the real `strongbox` binary.
//
// Each cycle copies one to three files of a mixed corpus (a text PDF, a scanned PDF page for OCR,
// logs, plain text and Markdown: real files from tests/data and samples/) under fresh names,
// each made unique (a marker line, or a comment after a PDF's %%EOF), and runs
// `strongbox ingest --collection b<cycle>` on them. The run is SIGKILLed at a random moment, and
// some cycles also load the I/O fault injector (tests/fault_inject/io_fault.c) so that writes,
// syncs, truncations and allocations under the data directory fail with ENOSPC or EIO after a
// random byte or call budget. Then the data directory is reopened as a restarting appliance
// would (`strongbox status`, timed: the recovery time), and the driver checks that:
//   1. PRAGMA integrity_check is "ok" on every database in the data directory;
//   2. the vector index on disk matches the store: opening it again finds nothing to repair and
//      holds exactly the active chunks (the appliance reconciled at its start and said so);
//   3. every document the CLI reported "added" (acknowledged: reported means its store
//      transaction committed; exit 0 means the whole run was) is active exactly once at its path
//      and found by searching its own text within its collection; a file reported failed is not
//      stored (or, when the fault hit at its commit, whole: counted apart); no document is stored
//      that was never given to ingest; the one in flight at the kill is either whole or absent;
//   4. the audit chain verifies.
// New documents are checked in the cycle that added them and a sample of older ones every
// cycle; all of them once more at the end, with `strongbox audit verify` through the binary.
//
// Shared by the short soak in the ordinary test run and strongbox_appliance_soak (hundreds of
// cycles, bench/README.md).
#pragma once

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/retrieval/retriever.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char ** environ;

namespace strongbox::appliance::testing::soak {

namespace fs = std::filesystem;

struct Config {
    fs::path strongbox;  // the binary
    fs::path fault_lib;  // the LD_PRELOAD fault injector
    fs::path repo;       // source tree: tests/data and samples/
    fs::path work;       // scratch: data directory, inputs, logs (emptied first)
    int cycles = 20;
    uint32_t seed = 1;
    int max_kill_ms = 0;        // kill delay is uniform in [0, max_kill_ms]; 0: 1.2x a measured full run
    double fault_share = 0.35;  // share of cycles run under the fault injector
    bool scanned = true;        // include the scanned page (OCR makes a cycle slower)
    int sample_old = 4;         // older documents re-checked each cycle
};

struct Figures {
    int cycles = 0;
    int killed = 0;
    int exited = 0;  // finished before the kill (any exit code)
    std::map<std::string, int> kills_by_phase;
    std::map<int, int> exit_codes;
    int fault_cycles = 0;
    std::map<std::string, int> faults_by_kind;  // "ENOSPC write", "EIO fsync", ...
    int faults_injected = 0;
    int reported_added = 0;  // documents the CLI reported added (committed)
    int acknowledged = 0;    // of those, in runs that exited 0
    int in_flight_kept = 0;  // the file in flight at a kill that turned out committed
    // Reported failed (an injected fault at or after its commit) yet committed: whole and
    // searchable, so re-ingesting it finds it unchanged; counted, not a failure (nothing is lost).
    int failed_but_committed = 0;
    int repairs_reported = 0;  // restarts where the appliance reported repairing the index
    int read_only_entered = 0;
    int max_kill_ms = 0;  // as used (measured when Config::max_kill_ms is 0)
    std::vector<double> recovery_ms;
    std::vector<std::string> failures;

    double recovery_percentile(double p) const {
        if (recovery_ms.empty()) {
            return 0;
        }
        std::vector<double> v = recovery_ms;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
    }
};

struct CorpusFile {
    fs::path path;
    bool pdf = false;
};

inline std::vector<CorpusFile> corpus(const Config & c) {
    std::vector<CorpusFile> files = {
        {c.repo / "tests/data/appliance/operations-guide.pdf", true},
        {c.repo / "samples/logs/arc-02-syslog.log", false},
        {c.repo / "tests/data/ingest/logs/java_app.log", false},
        {c.repo / "samples/notes/disk-replacement-runbook.md", false},
        {c.repo / "tests/data/ingest/phototest.txt", false},
    };
    if (c.scanned) {
        files.push_back({c.repo / "tests/data/ingest/phototest-scan.pdf", true});
    }
    return files;
}

struct Attempt {
    std::string path;
    std::string collection;
};

struct ProcessResult {
    bool killed = false;
    int exit_code = -1;
    double ms = 0;
};

// Runs `strongbox args...` with extra environment, stderr to `err`; SIGKILLs it after kill_ms
// (negative: never).
inline ProcessResult run_strongbox(const Config & c, const std::vector<std::string> & args,
                                   const std::vector<std::string> & extra_env, const fs::path & err, int kill_ms) {
    std::vector<std::string> argv_s = {c.strongbox.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (std::string & a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char ** e = environ; *e != nullptr; ++e) {
        const std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('=') + 1);
        const bool replaced = std::any_of(extra_env.begin(), extra_env.end(),
                                          [&](const std::string & x) { return x.rfind(key, 0) == 0; });
        if (kv.rfind("LD_PRELOAD=", 0) != 0 && kv.rfind("SB_FAULT_", 0) != 0 && !replaced) {
            env_s.push_back(kv);
        }
    }
    env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
    std::vector<char *> envp;
    for (std::string & e : env_s) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ProcessResult r;
    if (rc != 0) {
        return r;
    }
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        const double elapsed =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (kill_ms >= 0 && elapsed >= kill_ms) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::string slurp(const fs::path & p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<std::string> lines_of(const std::string & text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        out.push_back(l);
    }
    return out;
}

class Soak {
  public:
    explicit Soak(Config c) : c_(std::move(c)), rng_(c_.seed) {}

    Figures run() {
        std::error_code ec;
        fs::remove_all(c_.work, ec);
        fs::create_directories(c_.work / "in");
        data_ = c_.work / "data";
        fault_log_ = c_.work / "faults.log";
        files_ = corpus(c_);
        if (c_.max_kill_ms <= 0) {
            calibrate();
        }
        f_.max_kill_ms = c_.max_kill_ms;
        for (int cycle = 1; cycle <= c_.cycles; ++cycle) {
            one_cycle(cycle);
        }
        final_check();
        return f_;
    }

  private:
    void fail(const std::string & what) { f_.failures.push_back(what); }

    // Kill delays must span whole runs on this machine, however loaded: time an uninterrupted
    // ingest of three files (the scanned page too when included) into a scratch data directory.
    void calibrate() {
        std::vector<std::string> args = {"--data-dir", (c_.work / "calibration").string(), "ingest"};
        for (size_t i = 0; i < files_.size() && i < 3; ++i) {
            args.push_back(make_input(0, static_cast<int>(i), files_[i]));
        }
        if (c_.scanned) {
            args.push_back(make_input(0, 3, files_.back()));
        }
        const ProcessResult r = run_strongbox(c_, args, {}, c_.work / "calibration.err", 120000);
        c_.max_kill_ms = std::max(200, static_cast<int>(r.ms * 1.2));
        std::error_code ec;
        fs::remove_all(c_.work / "calibration", ec);
    }

    // A unique copy of a corpus file: the same text (PDFs) or the same text plus a marker line.
    std::string make_input(int cycle, int k, const CorpusFile & src) {
        const fs::path dst =
            c_.work / "in" /
            ("c" + std::to_string(cycle) + "-" + std::to_string(k) + "-" + src.path.filename().string());
        std::string bytes = slurp(src.path);
        const std::string marker = "soakc" + std::to_string(cycle) + "k" + std::to_string(k);
        bytes += src.pdf ? "\n%" + marker + "\n" : "\nSoak marker " + marker + "\n";
        std::ofstream(dst, std::ios::binary) << bytes;
        return fs::absolute(dst).lexically_normal().string();
    }

    std::vector<std::string> fault_env(int cycle) {
        // An ASan build would refuse a preloaded library ahead of its runtime.
        std::vector<std::string> env = {"LD_PRELOAD=" + c_.fault_lib.string(), "SB_FAULT_DIR=" + data_.string(),
                                        "SB_FAULT_LOG=" + fault_log_.string(), "ASAN_OPTIONS=verify_asan_link_order=0"};
        const bool eio = std::uniform_int_distribution<int>(0, 9)(rng_) < 4;
        env.push_back(std::string("SB_FAULT_ERRNO=") + (eio ? "EIO" : "ENOSPC"));
        // Budgets spread over one run's writes (a small ingest writes some 100-300 KiB in 50-150
        // calls), so faults land anywhere from opening the databases to the audit record.
        if (cycle % 2 == 0) {
            const int bytes = std::uniform_int_distribution<int>(0, 256 << 10)(rng_);
            env.push_back("SB_FAULT_AFTER_BYTES=" + std::to_string(bytes));
        } else {
            env.push_back("SB_FAULT_AFTER_CALLS=" + std::to_string(std::uniform_int_distribution<int>(0, 120)(rng_)));
        }
        return env;
    }

    void one_cycle(int cycle) {
        ++f_.cycles;
        const std::string collection = "b" + std::to_string(cycle);
        const int n = std::uniform_int_distribution<int>(1, 3)(rng_);
        std::vector<std::string> inputs;
        for (int k = 0; k < n; ++k) {
            const CorpusFile & src = files_[std::uniform_int_distribution<size_t>(0, files_.size() - 1)(rng_)];
            inputs.push_back(make_input(cycle, k, src));
            attempted_.insert(inputs.back());
        }
        const bool faulted = std::uniform_real_distribution<double>(0, 1)(rng_) < c_.fault_share;
        std::vector<std::string> env;
        if (faulted) {
            env = fault_env(cycle);
            ++f_.fault_cycles;
        }
        std::vector<std::string> args = {"--data-dir", data_.string(), "ingest", "--collection", collection};
        args.insert(args.end(), inputs.begin(), inputs.end());
        const fs::path err = c_.work / "ingest.err";
        const int kill_ms = std::uniform_int_distribution<int>(0, c_.max_kill_ms)(rng_);
        const ProcessResult run = run_strongbox(c_, args, env, err, kill_ms);
        const std::string out = slurp(err);

        // What the CLI reported, file by file (ProgressBar lines).
        std::set<std::string> added;
        std::set<std::string> failed;
        for (const std::string & l : lines_of(out)) {
            for (const std::string & in : inputs) {
                if (l.find(in) == std::string::npos) {
                    continue;
                }
                if (l.rfind("added", 0) == 0) {
                    added.insert(in);
                } else if (l.rfind("error:", 0) == 0) {
                    failed.insert(in);
                }
            }
        }
        if (out.find("read-only mode") != std::string::npos || out.find("read-only: ") != std::string::npos) {
            ++f_.read_only_entered;
        }
        const size_t reported = added.size() + failed.size();
        if (run.killed) {
            ++f_.killed;
            f_.kills_by_phase[reported == 0              ? "before the first file was done"
                              : reported < inputs.size() ? "between files"
                                                         : "after the last file (index save, audit record)"]++;
        } else {
            ++f_.exited;
            f_.exit_codes[run.exit_code]++;
        }
        for (const std::string & a : added) {
            known_.push_back({a, collection});
            ++f_.reported_added;
            if (!run.killed && run.exit_code == 0) {
                ++f_.acknowledged;
            }
        }
        if (!run.killed && run.exit_code == 0 && added.size() != inputs.size()) {
            fail("cycle " + std::to_string(cycle) + ": exit 0 but only " + std::to_string(added.size()) + " of " +
                 std::to_string(inputs.size()) + " files reported added:\n" + out);
        }

        recover(cycle);

        // Invariants on what this cycle did.
        auto docs = open_store_documents(cycle);
        for (const std::string & in : inputs) {
            const int copies =
                static_cast<int>(std::count_if(docs.begin(), docs.end(), [&](const auto & d) { return d.path == in; }));
            const bool was_added = added.count(in) > 0;
            if (was_added && copies != 1) {
                fail("cycle " + std::to_string(cycle) + ": reported added " + in + " is stored " +
                     std::to_string(copies) + " times");
            } else if (failed.count(in) > 0 && copies == 1) {
                ++f_.failed_but_committed;
                known_.push_back({in, collection});
                check_searchable(cycle, known_.back());
            } else if (!was_added && failed.count(in) == 0 && copies == 1) {
                ++f_.in_flight_kept;
                known_.push_back({in, collection});  // committed at the kill: must stay whole and searchable
                check_searchable(cycle, known_.back());
            } else if (copies > 1) {
                fail("cycle " + std::to_string(cycle) + ": " + in + " stored " + std::to_string(copies) + " times");
            }
        }
        for (const auto & d : docs) {
            if (attempted_.count(d.path) == 0) {
                fail("cycle " + std::to_string(cycle) + ": stored document " + d.path + " was never ingested");
            }
        }
        for (const std::string & a : added) {
            check_searchable(cycle, Attempt{a, collection});
        }
        for (int i = 0; i < c_.sample_old && !known_.empty(); ++i) {
            check_searchable(cycle, known_[std::uniform_int_distribution<size_t>(0, known_.size() - 1)(rng_)]);
        }
    }

    // Restart as the appliance would and time it; then the store, index and audit checks.
    void recover(int cycle) {
        const fs::path err = c_.work / "status.err";
        const ProcessResult st = run_strongbox(c_, {"--data-dir", data_.string(), "status"}, {}, err, 60000);
        const std::string out = slurp(err);
        if (st.killed || st.exit_code != 0) {
            fail("cycle " + std::to_string(cycle) + ": restart failed (exit " + std::to_string(st.exit_code) + "):\n" +
                 out);
            return;
        }
        f_.recovery_ms.push_back(st.ms);
        if (out.find("repaired on open") != std::string::npos) {
            ++f_.repairs_reported;
        }
        for (const auto & entry : fs::directory_iterator(data_)) {
            if (entry.path().extension() != ".db") {
                continue;
            }
            try {
                SQLite::Database db(entry.path().string(), SQLite::OPEN_READONLY);
                const std::string verdict = db.execAndGet("PRAGMA integrity_check").getString();
                if (verdict != "ok") {
                    fail("cycle " + std::to_string(cycle) + ": integrity_check of " + entry.path().string() + ": " +
                         verdict);
                }
            } catch (const std::exception & e) {
                fail("cycle " + std::to_string(cycle) + ": " + entry.path().string() + ": " + e.what());
            }
        }
        auto audit = AuditLog::open(data_ / "audit.db");
        if (!audit.ok()) {
            fail("cycle " + std::to_string(cycle) + ": audit trail: " + audit.error().to_string());
        } else if (auto v = (*audit)->verify(); !v.ok()) {
            fail("cycle " + std::to_string(cycle) + ": audit chain: " + v.error().to_string());
        }
    }

    std::vector<retrieval::DocumentInfo> open_store_documents(int cycle) {
        retriever_.reset();
        retrieval::RetrieverOptions ro;
        ro.database = data_ / "strongbox.db";
        ro.vector_index = data_ / "vectors.faiss";
        auto r = retrieval::Retriever::open(ro, std::make_shared<retrieval::HashedEmbedder>());
        if (!r.ok()) {
            fail("cycle " + std::to_string(cycle) + ": reopen the store: " + r.error().to_string());
            return {};
        }
        retriever_ = std::make_unique<retrieval::Retriever>(std::move(r).value());
        const retrieval::ReconcileReport & rep = retriever_->open_report();
        if (rep.added != 0 || rep.removed != 0 || rep.stale_files_removed != 0) {
            fail("cycle " + std::to_string(cycle) +
                 ": the index on disk did not match the store after the "
                 "appliance's restart: " +
                 rep.to_string());
        }
        auto active = retriever_->store().active_chunk_ids();
        if (!active.ok() || active->size() != static_cast<size_t>(retriever_->vectors().size())) {
            fail("cycle " + std::to_string(cycle) + ": vector count differs from the active chunks");
        }
        auto docs = retriever_->store().list_documents();
        if (!docs.ok()) {
            fail("cycle " + std::to_string(cycle) + ": list documents: " + docs.error().to_string());
            return {};
        }
        return std::move(docs).value();
    }

    // Active exactly once at its path and found by searching its own first chunk in its collection.
    void check_searchable(int cycle, const Attempt & a) {
        if (!retriever_) {
            return;
        }
        retrieval::SearchFilter filter;
        filter.collections = {a.collection};
        filter.path_prefix = a.path;
        auto ids = retriever_->store().visible_chunk_ids(filter);
        if (!ids.ok() || ids->empty()) {
            fail("cycle " + std::to_string(cycle) + ": " + a.path + " has no searchable chunks");
            return;
        }
        auto first = retriever_->store().get_chunk(ids->front());
        if (!first.ok() || first->document.path != a.path) {
            fail("cycle " + std::to_string(cycle) + ": " + a.path + ": first chunk unreadable");
            return;
        }
        int copies = 0;
        if (auto docs = retriever_->store().list_documents(); docs.ok()) {
            for (const auto & d : *docs) {
                copies += d.path == a.path ? 1 : 0;
            }
        }
        if (copies != 1) {
            fail("cycle " + std::to_string(cycle) + ": " + a.path + " is active " + std::to_string(copies) + " times");
        }
        if (static_cast<int64_t>(ids->size()) != first->document.chunk_count) {
            fail("cycle " + std::to_string(cycle) + ": " + a.path + " has " + std::to_string(ids->size()) + " of " +
                 std::to_string(first->document.chunk_count) + " chunks");
        }
        retrieval::SearchOptions so;
        so.k = 10;
        so.filter.collections = {a.collection};
        std::string query;
        std::istringstream words(first->text);
        int n = 0;
        for (std::string w; words >> w && n < 24; ++n) {
            query += w + " ";
        }
        auto hits = retriever_->search(query, so);
        const bool found = hits.ok() && std::any_of(hits->begin(), hits->end(), [&](const retrieval::SearchHit & h) {
                               return h.document.path == a.path;
                           });
        if (!found) {
            fail("cycle " + std::to_string(cycle) + ": searching its own text does not find " + a.path);
        }
    }

    void final_check() {
        auto docs = open_store_documents(f_.cycles + 1);
        for (const Attempt & a : known_) {
            check_searchable(f_.cycles + 1, a);
        }
        retriever_.reset();
        const ProcessResult v =
            run_strongbox(c_, {"--data-dir", data_.string(), "audit", "verify"}, {}, c_.work / "verify.err", 60000);
        if (v.exit_code != 0) {
            fail("strongbox audit verify failed:\n" + slurp(c_.work / "verify.err"));
        }
        for (const std::string & l : lines_of(slurp(fault_log_))) {
            std::istringstream in(l);
            std::string op;
            std::string err;
            in >> op >> err;
            f_.faults_by_kind[err + " " + op]++;
            ++f_.faults_injected;
        }
    }

    Config c_;
    std::mt19937 rng_;
    fs::path data_;
    fs::path fault_log_;
    std::vector<CorpusFile> files_;
    std::set<std::string> attempted_;
    std::vector<Attempt> known_;  // committed documents (reported added, or found whole after a kill)
    std::unique_ptr<retrieval::Retriever> retriever_;
    Figures f_;
};

}  // namespace strongbox::appliance::testing::soak
