// The appliance's own bookkeeping beside the document store, in <data dir>/appliance.db:
// collections (they exist before their first document), quarantined files, and the warnings
// ingest raised for each stored document.
//
// Design notes
// 1. The retrieval store stays the source of truth for documents; this file only adds what the
//    store has no column for. Losing it loses no document: collections are re-registered from
//    the store on open, and warnings are advisory.
// 2. A quarantine record is written after the file's bytes are copied under
//    <data dir>/quarantine/<sha256>, so every record names bytes an admin can still inspect.
//
// Thread-safety: every method may be called from any thread; calls are serialised on one
// connection. Errors name the database and what was being done.
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

struct QuarantineRecord {
    std::string name;    // file name as the user knew it
    std::string sha256;  // of the bytes kept under quarantine/<sha256>
    std::string reason;  // why ingest refused it
    std::string at;      // ISO 8601 UTC
    std::string collection;
    std::string source_path;  // where it was read from
    std::string job;          // ingest job id
};

// 1..64 characters of [A-Za-z0-9._-], not starting with '.'.
bool valid_collection_name(std::string_view name);

class LocalState {
  public:
    static core::Result<std::unique_ptr<LocalState>> open(const std::filesystem::path & path);
    ~LocalState();
    LocalState(const LocalState &) = delete;
    LocalState & operator=(const LocalState &) = delete;

    // kAlreadyExists when present, kInvalidArgument for a bad name.
    core::Status create_collection(const std::string & name, const std::string & actor);
    // Registers the collection when missing (ingest into a new collection, legacy stores).
    core::Status ensure_collection(const std::string & name);
    core::Result<std::vector<std::string>> collections() const;  // sorted
    bool has_collection(const std::string & name) const;

    core::Status add_quarantine(const QuarantineRecord & record);
    core::Result<std::vector<QuarantineRecord>> quarantine() const;  // newest first

    core::Status set_warnings(int64_t document_id, const std::vector<std::string> & warnings);
    std::vector<std::string> warnings(int64_t document_id) const;

  private:
    struct Impl;
    explicit LocalState(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::appliance
