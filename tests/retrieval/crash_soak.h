// Crash soak: a writer process ingests documents the way the appliance does (Retriever: one store
// transaction, then the vectors; flush = atomic save of the index) and reports every step on a
// pipe; the driver SIGKILLs it at a random moment, reopens the data directory as a restarting
// Strongbox would (open + reconcile) and checks that:
//   1. SQLite's integrity_check and FTS5's integrity-check pass;
//   2. the index file opens (never damaged) and holds exactly the active chunks of the store,
//      and no temporary file of an interrupted save is left behind;
//   3. the active documents are exactly the acknowledged ones, each with all its chunks; the one
//      operation in flight at the kill may have committed or not, but never half;
//   4. every chunk of an acknowledged version is found exactly once by BM25 (its marker word) and
//      by dense search (its text), and the markers of replaced or removed versions find nothing.
//
// Kills are placed by the writer's progress, not by wall time: the driver waits for a random
// number of the writer's reports (0: still starting up) and then a random delay, so every cycle
// lands where intended on a fast machine, a loaded one, or under a sanitizer that slows start-up
// tenfold.
//
// Shared by the crash test (a couple of dozen cycles in the ordinary run) and the
// strongbox_retrieval_soak program (hundreds of cycles). The writer is that program started with
// fork + exec, so the FAISS/OpenMP threads of the driver never meet fork().
#pragma once

#include "test_support.h"

#include "strongbox/retrieval/retriever.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strongbox::retrieval::testing::soak {

constexpr int kChunksPerDoc = 3;
constexpr int kMaxWriterOps = 400;  // a writer that is never killed stops here

inline std::string doc_path(int64_t n) {
    return "/soak/doc-" + std::to_string(n) + ".txt";
}

// One FTS token naming a chunk of one version of one document.
inline std::string marker(int64_t n, int64_t version, int chunk) {
    return "m" + std::to_string(n) + "v" + std::to_string(version) + "c" + std::to_string(chunk);
}

// Chunk texts of document n at a version: the marker plus words drawn from a seeded generator, so
// every chunk embeds differently.
inline std::vector<std::string> doc_texts(int64_t n, int64_t version) {
    static constexpr std::array<const char *, 32> kWords = {
        "backup",  "volume",   "cluster", "replica",  "ledger",  "invoice", "tunnel",   "gateway",
        "archive", "kernel",   "packet",  "sensor",   "turbine", "valve",   "pressure", "rotor",
        "audit",   "payroll",  "vendor",  "contract", "badge",   "lobby",   "freezer",  "pallet",
        "router",  "firmware", "battery", "charger",  "rack",    "cable",   "quota",    "schema"};
    std::mt19937 rng(static_cast<uint32_t>(n * 7919 + version * 104729));
    std::vector<std::string> texts;
    for (int c = 0; c < kChunksPerDoc; ++c) {
        std::string t = "Record " + marker(n, version, c) + ":";
        for (int w = 0; w < 12; ++w) {
            t += " ";
            t += kWords[rng() % kWords.size()];
        }
        texts.push_back(t + ".");
    }
    return texts;
}

inline core::ExtractedDocument make_soak_doc(int64_t n, int64_t version) {
    return make_doc(doc_path(n), doc_texts(n, version));
}

inline RetrieverOptions soak_options(const std::filesystem::path & dir) {
    RetrieverOptions o;
    o.database = dir / "soak.db";
    return o;
}

// ---- writer (the process that gets killed) ----

// Reports: "open", "begin add N V", "ack add N V", "begin remove N V", "ack remove N V",
// "begin flush", "ack flush", "done", or "error <message>". An operation is acknowledged when
// Retriever returned: the store transaction committed and the vectors are in memory.
inline int run_writer(const std::filesystem::path & dir, int64_t first_doc, uint32_t seed, int fd) {
    auto say = [fd](const std::string & line) {
        std::string l = line + "\n";
        return ::write(fd, l.data(), l.size()) == static_cast<ssize_t>(l.size());
    };
    auto r = Retriever::open(soak_options(dir), std::make_shared<HashedEmbedder>());
    if (!r.ok()) {
        say("error open: " + r.error().message());
        return 2;
    }
    say("open");
    std::mt19937 rng(seed);
    int64_t next = first_doc;
    int since_flush = 0;
    int flush_every = 1 + static_cast<int>(rng() % 3);
    for (int op = 0; op < kMaxWriterOps; ++op) {
        auto docs = r->store().list_documents();
        if (!docs.ok()) {
            say("error list: " + docs.error().message());
            return 3;
        }
        unsigned roll = rng() % 10;
        if (roll < 7 || docs->size() < 5) {
            int64_t n = next++;
            say("begin add " + std::to_string(n) + " 1");
            auto added = r->index_document(make_soak_doc(n, 1));
            if (!added.ok() || added->version != 1) {
                say("error add: " + (added.ok() ? std::string("unexpected version") : added.error().message()));
                return 3;
            }
            say("ack add " + std::to_string(n) + " 1");
        } else {
            const DocumentInfo & d = (*docs)[rng() % docs->size()];
            int64_t n = std::stoll(d.path.substr(std::string("/soak/doc-").size()));
            if (roll < 9) {
                int64_t v = d.version + 1;
                say("begin add " + std::to_string(n) + " " + std::to_string(v));
                auto added = r->index_document(make_soak_doc(n, v));
                if (!added.ok() || added->version != v) {
                    say("error new version: " +
                        (added.ok() ? std::string("unexpected version") : added.error().message()));
                    return 3;
                }
                say("ack add " + std::to_string(n) + " " + std::to_string(v));
            } else {
                say("begin remove " + std::to_string(n) + " " + std::to_string(d.version));
                auto removed = r->remove_document(d.path);
                if (!removed.ok()) {
                    say("error remove: " + removed.error().message());
                    return 3;
                }
                say("ack remove " + std::to_string(n) + " " + std::to_string(d.version));
            }
        }
        if (++since_flush >= flush_every) {
            say("begin flush");
            if (auto st = r->flush(); !st.ok()) {
                say("error flush: " + st.error().message());
                return 3;
            }
            say("ack flush");
            since_flush = 0;
            flush_every = 1 + static_cast<int>(rng() % 3);
        }
    }
    say("done");
    return 0;
}

// ---- driver ----

// What the acknowledgements say the store must hold.
struct Model {
    std::map<int64_t, int64_t> active;   // document number -> acknowledged active version
    std::map<int64_t, int64_t> retired;  // removed document number -> its last version
    int64_t next_doc = 1;
};

struct Totals {
    int cycles = 0;
    int failed_cycles = 0;
    int acknowledged = 0;
    int in_flight_committed = 0;       // operations killed before their ack that had committed
    std::map<std::string, int> kills;  // where the writer was when killed
    int64_t repaired_added = 0;        // vectors re-embedded by reconcile on restart
    int64_t repaired_removed = 0;      // stale vectors dropped by reconcile on restart
};

struct Pending {
    std::string kind;  // "", "add" or "remove"
    int64_t n = 0;
    int64_t version = 0;
};

inline std::string join(const std::vector<std::string> & lines) {
    std::string out;
    for (const auto & l : lines) {
        out += l + "\n";
    }
    return out;
}

inline SearchOptions soak_search(bool bm25, bool dense, int k) {
    SearchOptions o;
    o.k = k;
    o.filter.collections = {std::string(kDefaultCollection)};
    o.use_bm25 = bm25;
    o.use_dense = dense;
    return o;
}

// Checks one acknowledged version of document n is searchable exactly once, chunk by chunk, and
// that the markers of its earlier versions find nothing.
inline void check_searchable(const Retriever & r, int64_t n, int64_t version, std::vector<std::string> & failures) {
    const auto texts = doc_texts(n, version);
    const std::string what = "document " + std::to_string(n) + " v" + std::to_string(version);
    for (int c = 0; c < kChunksPerDoc; ++c) {
        auto lexical = r.search(marker(n, version, c), soak_search(true, false, 10));
        if (!lexical.ok() || lexical->size() != 1 || (*lexical)[0].text != texts[static_cast<size_t>(c)]) {
            failures.push_back(what + " chunk " + std::to_string(c) + ": BM25 finds it " +
                               (lexical.ok() ? std::to_string(lexical->size()) + " times" : lexical.error().message()));
            continue;
        }
        int64_t id = (*lexical)[0].chunk_id;
        auto dense = r.search(texts[static_cast<size_t>(c)], soak_search(false, true, 5));
        auto same = dense.ok() ? std::count_if(dense->begin(), dense->end(),
                                               [id](const SearchHit & h) { return h.chunk_id == id; })
                               : 0;
        if (!dense.ok() || dense->empty() || (*dense)[0].chunk_id != id || same != 1) {
            failures.push_back(what + " chunk " + std::to_string(c) + ": dense search finds it " +
                               std::to_string(same) + " times" +
                               (dense.ok() && !dense->empty() && (*dense)[0].chunk_id != id ? ", not first" : ""));
        }
    }
    for (int64_t old = 1; old < version; ++old) {
        auto stale = r.search(marker(n, old, 0), soak_search(true, false, 10));
        if (!stale.ok() || !stale->empty()) {
            failures.push_back(what + ": replaced version " + std::to_string(old) + " is still found");
        }
    }
}

// Restarts on the data directory and checks design points 1-4 above. Resolves the in-flight
// operation into the model from what actually committed.
inline std::vector<std::string> verify(const std::filesystem::path & dir, Model & model, const Pending & pending,
                                       const std::set<int64_t> & touched, bool full, Totals & totals,
                                       std::mt19937 & rng) {
    std::vector<std::string> failures;
    auto r = Retriever::open(soak_options(dir), std::make_shared<HashedEmbedder>());
    if (!r.ok()) {
        failures.push_back("restart: " + r.error().message());
        return failures;
    }
    // After open: a writer killed while creating the database leaves it without the schema.
    if (auto checked = r->store().check_integrity(); !checked.ok()) {
        failures.push_back("database check: " + checked.error().message());
    }
    totals.repaired_added += r->open_report().added;
    totals.repaired_removed += r->open_report().removed;
    for (const auto & entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
            failures.push_back("left-over temporary file " + entry.path().filename().string());
        }
    }
    auto active_ids = r->store().active_chunk_ids();
    if (!active_ids.ok() || *active_ids != r->vectors().chunk_ids()) {
        failures.push_back("vector index does not hold exactly the active chunks of the store");
    }
    auto docs = r->store().list_documents();
    if (!docs.ok()) {
        failures.push_back("list documents: " + docs.error().message());
        return failures;
    }
    std::map<int64_t, int64_t> actual;
    for (const auto & d : *docs) {
        int64_t n = std::stoll(d.path.substr(std::string("/soak/doc-").size()));
        actual[n] = d.version;
        if (d.chunk_count != kChunksPerDoc) {
            failures.push_back("document " + std::to_string(n) + " has " + std::to_string(d.chunk_count) + " chunks");
        }
    }
    // The operation in flight when the writer died either committed in full or not at all.
    if (pending.kind == "add" && actual.count(pending.n) != 0 && actual[pending.n] == pending.version) {
        if (pending.version > 1) {
            model.retired.erase(pending.n);
        }
        model.active[pending.n] = pending.version;
        ++totals.in_flight_committed;
    } else if (pending.kind == "remove" && actual.count(pending.n) == 0 && model.active.count(pending.n) != 0) {
        model.retired[pending.n] = pending.version;
        model.active.erase(pending.n);
        ++totals.in_flight_committed;
    }
    if (pending.kind == "add" && pending.version == 1) {
        model.next_doc = std::max(model.next_doc, pending.n + 1);
    }
    for (const auto & [n, v] : model.active) {
        auto it = actual.find(n);
        if (it == actual.end()) {
            failures.push_back("acknowledged document " + std::to_string(n) + " v" + std::to_string(v) + " is missing");
        } else if (it->second != v) {
            failures.push_back("acknowledged document " + std::to_string(n) + " v" + std::to_string(v) +
                               " is at version " + std::to_string(it->second));
        }
    }
    for (const auto & [n, v] : actual) {
        if (model.active.count(n) == 0) {
            failures.push_back("unacknowledged document " + std::to_string(n) + " v" + std::to_string(v) +
                               " is present");
        }
    }
    // Searches: everything on a full check, otherwise what this cycle touched and a sample.
    std::vector<std::pair<int64_t, int64_t>> all(model.active.begin(), model.active.end());
    std::set<int64_t> check = touched;
    for (int i = 0; i < 6 && !all.empty(); ++i) {
        check.insert(all[rng() % all.size()].first);
    }
    for (const auto & [n, v] : model.active) {
        if (full || check.count(n) != 0) {
            check_searchable(*r, n, v, failures);
        }
    }
    for (const auto & [n, v] : model.retired) {
        if (full || check.count(n) != 0) {
            // BM25 by its marker, dense by its exact text (a marker alone embeds close to its
            // neighbours' markers, so it is no probe for dense search).
            const std::string text = doc_texts(n, v)[0];
            auto lexical = r->search(marker(n, v, 0), soak_search(true, false, 10));
            auto dense = r->search(text, soak_search(false, true, 10));
            bool found = !lexical.ok() || !lexical->empty() || !dense.ok() ||
                         std::any_of(dense->begin(), dense->end(), [&](const SearchHit & h) { return h.text == text; });
            if (found) {
                failures.push_back("removed document " + std::to_string(n) + " is still found");
            }
        }
    }
    return failures;
}

// The writer's report lines as they arrive on the pipe.
class Reports {
  public:
    explicit Reports(int fd) : fd_(fd) {}

    // Waits until `n` lines have arrived, the writer closed its end (it exited) or it reported
    // nothing for `quiet` (timed_out()).
    void wait_for_lines(size_t n, std::chrono::milliseconds quiet) {
        while (lines_ < n && read_some(static_cast<int>(quiet.count()))) {
        }
    }

    // Reads what is left once the writer is gone.
    void drain() {
        while (read_some(-1)) {
        }
    }

    const std::string & text() const { return text_; }
    bool timed_out() const { return timed_out_; }

  private:
    bool read_some(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            timed_out_ = true;
            return false;
        }
        char buf[4096];
        const ssize_t got = ::read(fd_, buf, sizeof buf);
        if (got <= 0) {
            return false;
        }
        text_.append(buf, static_cast<size_t>(got));
        lines_ += static_cast<size_t>(std::count(buf, buf + got, '\n'));
        return true;
    }

    int fd_;
    std::string text_;
    size_t lines_ = 0;
    bool timed_out_ = false;
};

// One cycle: start the writer, let it report a random number of steps (0 to max_reports; 0 kills
// it while it starts up), wait a random delay of up to max_delay_ms, kill it, restart and verify.
inline std::vector<std::string> run_cycle(const std::string & writer, const std::filesystem::path & dir, Model & model,
                                          Totals & totals, std::mt19937 & rng, int max_reports, int max_delay_ms,
                                          bool full) {
    std::vector<std::string> failures;
    int fds[2];
    if (::pipe(fds) != 0) {
        return {"pipe failed"};
    }
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    const uint32_t seed = static_cast<uint32_t>(rng());
    const std::string first = std::to_string(model.next_doc);
    const std::string fd = std::to_string(fds[1]);
    const std::string seed_text = std::to_string(seed);
    const auto reports_before_kill = static_cast<size_t>(rng() % (static_cast<unsigned>(max_reports) + 1));
    const auto delay = std::chrono::microseconds(rng() % (static_cast<unsigned>(max_delay_ms) * 1000 + 1));
    pid_t pid = ::fork();
    if (pid == 0) {
        ::execl(writer.c_str(), writer.c_str(), "writer", dir.c_str(), first.c_str(), seed_text.c_str(), fd.c_str(),
                static_cast<char *>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    if (pid < 0) {
        ::close(fds[0]);
        return {"fork failed"};
    }
    Reports reports(fds[0]);
    reports.wait_for_lines(reports_before_kill, std::chrono::minutes(2));
    if (reports.timed_out()) {
        failures.push_back("the writer reported nothing for 2 minutes");
    }
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    reports.drain();
    ::close(fds[0]);
    const std::string & out = reports.text();
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        failures.push_back("writer exited with status " + std::to_string(WEXITSTATUS(status)));
    }

    Pending pending;
    std::set<int64_t> touched;
    std::string where = "starting up";
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string verb;
        std::string kind;
        int64_t n = 0;
        int64_t v = 0;
        words >> verb >> kind >> n >> v;
        if (verb == "error") {
            failures.push_back("writer: " + line);
        } else if (verb == "open") {
            where = "between operations";
        } else if (verb == "begin") {
            where = kind == "flush" ? "saving the index" : "in a store write";
            pending = kind == "flush" ? Pending{} : Pending{kind, n, v};
            if (kind != "flush") {
                touched.insert(n);
            }
        } else if (verb == "ack") {
            where = kind == "flush" ? "between operations" : "embedding or between operations";
            pending = Pending{};
            if (kind == "add") {
                model.active[n] = v;
                model.retired.erase(n);
                if (v == 1) {
                    model.next_doc = std::max(model.next_doc, n + 1);
                }
                ++totals.acknowledged;
            } else if (kind == "remove") {
                model.active.erase(n);
                model.retired[n] = v;
                ++totals.acknowledged;
            }
        } else if (verb == "done") {
            where = "finished before the kill";
        }
    }
    ++totals.kills[where];
    auto checked = verify(dir, model, pending, touched, full, totals, rng);
    failures.insert(failures.end(), checked.begin(), checked.end());
    ++totals.cycles;
    if (!failures.empty()) {
        ++totals.failed_cycles;
    }
    return failures;
}

inline std::string summary(const Totals & t) {
    std::string s = std::to_string(t.cycles) + " cycles, " + std::to_string(t.failed_cycles) + " failed; " +
                    std::to_string(t.acknowledged) + " acknowledged operations, " +
                    std::to_string(t.in_flight_committed) + " unacknowledged ones that had committed; killed:";
    for (const auto & [where, count] : t.kills) {
        s += " " + where + " " + std::to_string(count) + ",";
    }
    s += " reconcile on restart: " + std::to_string(t.repaired_added) + " vectors added, " +
         std::to_string(t.repaired_removed) + " removed";
    return s;
}

}  // namespace strongbox::retrieval::testing::soak
