// Read-only mode: what the appliance does when the disk under its data directory fills up.
//
// Design notes
// 1. A full disk must never corrupt the store: every store write is one SQLite transaction and
//    the vector index is saved atomically (write, fsync, rename), so a write that fails with
//    ENOSPC/EDQUOT rolls back whole. What it must also never do is leave users guessing, or stop
//    search and the audit trail. So the first such failure (or free space below the reserve,
//    measured with statvfs before each write) puts the appliance in read-only mode with a reason.
// 2. The guard keeps a reserve file, DATA/reserve.bin (Settings::disk_reserve_bytes, allocated at
//    open), and deletes it on entering read-only mode. The freed blocks are for the audit trail:
//    answers are still given in read-only mode, and each must be recorded before it is returned
//    (appliance.h note 3), so audit appends (a few KiB each) and SQLite's WAL checkpoints need
//    somewhere to go. Should even that run out, the answer is refused as before, never returned
//    unrecorded.
// 3. In read-only mode every write (ingest, upload, removal, settings, collections, image
//    update, and users, groups, grants and tokens in accounts.db) is refused before it starts with
//    kReadOnly and a message that begins "read-only: " and names the reason:
//    the web API answers 507, the CLI exits 4 (kExitReadOnly). Search, answers, sources and audit
//    viewing and export keep working, and so do logins (a session row is a small write, like an
//    audit record) and revocations: logout, token revocation, disabling a user.
// 4. It leaves read-only mode on a later write attempt (at most once per kRetryInterval) or
//    status check, once free space is back above the reserve and the reserve file can be
//    allocated again. The reserve file is also the mark across processes: a process that finds
//    it missing and cannot allocate it starts read-only, so a CLI run after a daemon's disk-full
//    refuses writes too.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace strongbox::appliance {

class DiskGuard {
  public:
    DiskGuard(std::filesystem::path data_dir, uint64_t reserve_bytes);

    // At open: allocates the reserve file when missing; read-only if that or statvfs says full.
    void start();

    // Before a write: ok, or the read-only refusal naming the reason. Tries to leave read-only
    // mode first (rate-limited).
    core::Status writable();

    // After a failed write to the data directory: a disk-full failure (kResourceExhausted from
    // the store, the index or the file layer) enters read-only mode and returns true.
    bool note_failure(const core::Error & error);

    bool read_only() const;
    std::string reason() const;

    // {read_only, reason, since, reserve_bytes, free_bytes, total_bytes} for /readyz, /healthz
    // and the Admin disk panel.
    core::Json to_json();

    static constexpr std::chrono::seconds kRetryInterval{2};

  private:
    void enter(const std::string & reason);  // mu_ held
    void try_leave();                        // mu_ held
    core::Status allocate_reserve();         // mu_ held

    std::filesystem::path root_;
    std::filesystem::path reserve_path_;
    uint64_t reserve_bytes_;
    mutable std::mutex mu_;
    bool read_only_ = false;
    std::string reason_;
    std::string since_;
    std::chrono::steady_clock::time_point last_try_{};
};

// True for errors that mean the disk (or the user's quota on it) is full.
bool is_disk_full(const core::Error & error);

}  // namespace strongbox::appliance
