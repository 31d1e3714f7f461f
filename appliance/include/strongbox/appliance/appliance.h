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
// Thread-safety: ask(), source() and health() may run concurrently (the web server does);
// ingest() serialises with itself.
#pragma once

#include "strongbox/appliance/answerer.h"
#include "strongbox/appliance/audit_log.h"
#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
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

class Appliance {
  public:
    static core::Result<std::unique_ptr<Appliance>> open(const Settings & settings);
    ~Appliance();
    Appliance(const Appliance &) = delete;
    Appliance & operator=(const Appliance &) = delete;

    IngestReport ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress);

    // Retrieves, answers and records the answer in the audit trail. `channel` is "cli" or "http".
    core::Result<core::Answer> ask(const std::string & question, const std::string & user, const std::string & channel,
                                   int top_k);

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
