// The appliance: one object that owns the data directory and wires ingest, retrieval, the
// answerer and the audit trail together. The CLI and the web server both talk to it.
//
// Design notes
// 1. SQLite (the store) is the source of truth; the vector index is derived from it and is
//    reconciled on open, so a crash between the two never loses an acknowledged document.
// 2. Each source file is extracted in full before anything is written, then committed in one
//    store transaction: a corrupt file fails alone and leaves nothing half-written.
// 3. Every answer, from the CLI or HTTP, is recorded in the audit trail before it is returned;
//    an answer whose record cannot be written is not returned.
//
// 4. Answers come from the grounded answerer (grounded.h) when a model is configured, else from
//    the extractive answerer; either way every sentence is verified against the passages it
//    cites before it is returned, and a question whose best passage holds too little of it
//    (min_question_coverage) is refused with the nearest passages shown.
//
// 5. Documents belong to collections. Search, answers and sources are scoped to a list of
//    collections the caller may read; retrieval filters on it before ranking, so nothing outside
//    it influences a result. A file that fails ingest is quarantined (its bytes kept by sha256
//    under <data dir>/quarantine/, a record in appliance.db) and the other files go on.
// 6. Uploads are staged under <data dir>/staging/ and ingested by one background worker (see
//    jobs.h); their bytes live on under <data dir>/documents/<collection>/<name>, and every
//    ingested upload is also kept by sha256 under <data dir>/sources/ so older versions can still
//    be shown. Destroying the Appliance stops the worker after its current job.
// 7. A write that fails because the disk is full (or free space below Settings::disk_reserve_bytes)
//    puts the appliance in read-only mode (read_only.h): writes are refused with the reason,
//    search, answers and the audit trail keep working, and it ends by itself when space is back.
//
// Thread-safety: ask(), search(), source() and health() may run concurrently (the web server
// does); generation with the model is serialised; ingest() serialises with itself.
#pragma once

#include "strongbox/answer/answerer.h"
#include "strongbox/answer/caps.h"
#include "strongbox/answer/verifier.h"
#include "strongbox/audit/audit_log.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/extract/extract_worker.h"
#include "strongbox/extract/page_render.h"
#include "strongbox/retrieval/retriever.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::webui {
struct SourceView;
}
namespace strongbox::provisioning {
struct HiddenSalt;
}

namespace strongbox::appliance {

class JobQueue;
class LocalState;
class SettingsStore;

struct Settings {
    std::filesystem::path data_dir = "strongbox-data";
    std::string holder = "strongbox";  // written into the data-directory lock
    int top_k = 5;                     // passages handed to the answerer
    AnswerOptions answer;
    size_t max_chunk_chars = 1200;
    size_t log_lines_per_chunk = 20;

    // Grounded generation. Empty model_path: the extractive answerer.
    std::filesystem::path model_path;
    std::filesystem::path prompt_dir;  // empty: see find_prompt_dir() in prompt.h
    int model_threads = 2;
    std::string model_device = "auto";  // "auto" (the GPU when the model fits), "cpu" or "cuda"
    // Dense-retrieval embedder: a BERT sentence-embedding GGUF run with model_threads threads.
    // Empty: the stored setting "embedding_model" when an admin saved one, else the built-in
    // HashedEmbedder. A vector index built by another embedder refuses to open (re-embed).
    std::filesystem::path embedding_model_path;
    Caps caps;
    VerifierOptions verifier;  // remove_unsupported = false flags unsupported sentences instead
    // Share of the question's content words the best retrieved passage must hold, else the answer
    // is "not found" (BM25 scores shift with corpus size; this share does not). Calibrated on the
    // PubMedQA dev questions against unanswerable ones (`strongbox eval answers`).
    double min_question_coverage = 0.5;
    // Kept free in DATA/reserve.bin and released to the audit trail when the disk fills (read-only
    // mode, see read_only.h); 0 turns the reserve off (free space is still watched).
    uint64_t disk_reserve_bytes = 16u << 20;
    // How long a console sign-in lasts (`strongbox serve` gives it to the accounts store).
    int session_hours = 8;
    // PDFs and DOCX files are parsed in a strongbox-extract worker process under these limits.
    ExtractLimits extract;

    // Settings that shape answers, for the audit trail; settings_version() hashes it.
    core::Json to_json() const;
    std::string settings_version() const;
};

struct IngestFileResult {
    enum class Outcome { kAdded, kNewVersion, kUnchanged, kFailed };
    std::filesystem::path path;
    Outcome outcome = Outcome::kFailed;
    size_t chunks = 0;
    std::string error;                  // why it failed, naming the file
    std::vector<std::string> warnings;  // e.g. pages without text
    int64_t document_id = 0;            // the stored version, 0 when it failed
    std::string sha256;                 // of the file's bytes, empty when unreadable
    bool quarantined = false;           // a failed file whose bytes were kept in quarantine
};

// "added", "new_version", "unchanged" or "failed": the outcome as the audit trail and the API spell it.
std::string_view outcome_name(IngestFileResult::Outcome outcome);

// Where an ingest goes and who asked for it.
struct IngestTarget {
    std::string collection = std::string(retrieval::kDefaultCollection);
    std::string actor;  // for the audit trail; empty: Settings::holder
    // Symbolic links inside the folders given are skipped (IngestReport::skipped_links) unless set.
    bool follow_symlinks = false;
    // Pages extracted so far of file `index` (PDFs), as ingest reports them.
    std::function<void(size_t index, size_t pages_done, size_t pages_total)> on_pages;
};

struct IngestReport {
    std::string job_id;
    std::vector<IngestFileResult> files;
    std::vector<std::filesystem::path> skipped_links;  // links inside folders, not followed

    size_t count(IngestFileResult::Outcome outcome) const;
};

// Called after each file: (files done, files total, the file's result).
using IngestProgress = std::function<void(size_t, size_t, const IngestFileResult &)>;

// Share of the question's content words held by the best of the passages, in [0, 1]: the
// retrieval evidence the refusal threshold (Settings::min_question_coverage) is applied to.
double best_question_coverage(const std::string & question, const std::vector<Passage> & passages);

class Appliance {
  public:
    static core::Result<std::unique_ptr<Appliance>> open(const Settings & settings);
    ~Appliance();
    Appliance(const Appliance &) = delete;
    Appliance & operator=(const Appliance &) = delete;

    IngestReport ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress);
    // Into target.collection (created when missing; kInvalidArgument-style failure per file for a
    // bad name). Files that fail are quarantined; the others go on.
    IngestReport ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress,
                        const IngestTarget & target);

    // Tombstones the active document at `path`: it leaves search, stays readable by chunk id for
    // the audit trail, and the deletion is recorded. kNotFound when no active document is there.
    core::Status remove(const std::filesystem::path & path, const std::string & actor);

    // Retrieves, answers and records the answer in the audit trail. `channel` is "cli" or "http".
    // `collections` scopes retrieval (an empty list finds nothing); nullptr: every collection.
    core::Result<core::Answer> ask(const std::string & question, const std::string & user, const std::string & channel,
                                   int top_k);
    // As above, streaming verified answer text to `on_text` as it is generated (return false to
    // cancel: the result is then kCancelled and nothing is recorded).
    core::Result<core::Answer> ask(const std::string & question, const std::string & user, const std::string & channel,
                                   int top_k, const std::function<bool(std::string_view)> & on_text,
                                   const std::vector<std::string> * collections = nullptr);

    // Any stored chunk, whatever its collection: callers scope it (see web_service.cpp).
    core::Result<webui::SourceView> source(int64_t chunk_id);

    // Hybrid retrieval within `collections` (an empty list finds nothing).
    core::Result<std::vector<retrieval::SearchHit>> search(const std::string & query, int top_k,
                                                           const std::vector<std::string> & collections);

    // Every collection: registered ones and those documents are in, sorted.
    std::vector<std::string> all_collections();

    retrieval::Retriever & retriever();
    PageRenderer & pages();
    LocalState & local_state();
    SettingsStore & settings_store();
    JobQueue & jobs();
    const std::filesystem::path & data_dir() const;

    core::Json health();

    // Read-only mode (disk full, see read_only.h): ok while writes may go ahead, else the refusal
    // (kReadOnly, its message naming the reason).
    core::Status writable();
    // After a failed write to the data directory: true (and read-only from now) when the disk was full.
    bool note_write_failure(const core::Error & error);
    // {read_only, reason, since, reserve_bytes, free_bytes, total_bytes}.
    core::Json disk_status();

    // The hidden salt of this appliance's answers as loaded (model, prompts, tokenizer, settings,
    // index parameters; see audit_salt.h) and its "fingerprint", for /readyz and the behaviour check.
    core::Json fingerprint() const;
    // The same parts as the manifest's pinned salt, for comparing with it.
    provisioning::HiddenSalt hidden_salt() const;

    AuditLog & audit();

    const Settings & settings() const;

  private:
    struct Impl;
    explicit Appliance(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::appliance
