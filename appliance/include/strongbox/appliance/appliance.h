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
// Thread-safety: ask(), source() and health() may run concurrently (the web server does);
// generation with the model is serialised; ingest() serialises with itself.
#pragma once

#include "strongbox/appliance/answerer.h"
#include "strongbox/appliance/audit_log.h"
#include "strongbox/appliance/caps.h"
#include "strongbox/appliance/verifier.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

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

namespace strongbox::appliance {

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
    Caps caps;
    VerifierOptions verifier;  // remove_unsupported = false flags unsupported sentences instead
    // Share of the question's content words the best retrieved passage must hold, else the answer
    // is "not found" (BM25 scores shift with corpus size; this share does not). Calibrated on the
    // PubMedQA dev questions against unanswerable ones (`strongbox eval answers`).
    double min_question_coverage = 0.5;

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
};

struct IngestReport {
    std::string job_id;
    std::vector<IngestFileResult> files;

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

    // Tombstones the active document at `path`: it leaves search, stays readable by chunk id for
    // the audit trail, and the deletion is recorded. kNotFound when no active document is there.
    core::Status remove(const std::filesystem::path & path, const std::string & actor);

    // Retrieves, answers and records the answer in the audit trail. `channel` is "cli" or "http".
    core::Result<core::Answer> ask(const std::string & question, const std::string & user, const std::string & channel,
                                   int top_k);
    // As above, streaming verified answer text to `on_text` as it is generated (return false to
    // cancel: the result is then kCancelled and nothing is recorded).
    core::Result<core::Answer> ask(const std::string & question, const std::string & user, const std::string & channel,
                                   int top_k, const std::function<bool(std::string_view)> & on_text);

    core::Result<webui::SourceView> source(int64_t chunk_id);

    core::Json health();

    AuditLog & audit();

    const Settings & settings() const;

  private:
    struct Impl;
    explicit Appliance(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::appliance
