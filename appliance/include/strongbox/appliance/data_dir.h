// The data directory: everything mutable Strongbox keeps, in one place, owned by one process at
// a time through an advisory lock (flock on DIR/LOCK). A second process gets a clear error
// naming the holder; the lock is released by the kernel if the holder dies, so a kill -9 never
// leaves a stale lock behind.
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>

namespace strongbox::appliance {

// Where each file and folder of a data directory lives: the one place that names them. A value
// (no lock): commands that talk to a running daemon read the same names the daemon writes.
struct DataPaths {
    std::filesystem::path root;

    std::filesystem::path lock() const { return root / "LOCK"; }
    std::filesystem::path store() const { return root / "strongbox.db"; }
    std::filesystem::path vector_index() const { return root / "vectors.faiss"; }
    std::filesystem::path audit() const { return root / "audit.db"; }
    std::filesystem::path audit_public_key() const { return root / "audit-signing.pub"; }
    std::filesystem::path accounts() const { return root / "accounts.db"; }
    std::filesystem::path local_state() const { return root / "appliance.db"; }  // collections, quarantine
    std::filesystem::path settings() const { return root / "settings.json"; }
    std::filesystem::path usage() const { return root / "usage.db"; }  // daily token quotas
    std::filesystem::path reserve() const { return root / "reserve.bin"; }
    std::filesystem::path daemon_file() const { return root / "daemon.json"; }
    std::filesystem::path tls_cert() const { return root / "tls-cert.pem"; }
    std::filesystem::path tls_key() const { return root / "tls-key.pem"; }
    std::filesystem::path golden() const { return root / "golden.json"; }  // the image's behaviour check
    std::filesystem::path slots() const { return root / "slots"; }
    std::filesystem::path staging() const { return root / "staging"; }        // uploads not yet ingested
    std::filesystem::path documents() const { return root / "documents"; }    // uploaded files, by collection
    std::filesystem::path sources() const { return root / "sources"; }        // kept copies, by sha256
    std::filesystem::path quarantine() const { return root / "quarantine"; }  // files that failed ingest
};

class DataDir {
  public:
    // Creates the directory (mode 0700) when missing and takes its lock; `holder` is written into
    // the lock file so others can say who holds it ("strongbox serve on 127.0.0.1:8080").
    static core::Result<DataDir> acquire(const std::filesystem::path & root, const std::string & holder);

    DataDir(DataDir && other) noexcept;
    DataDir & operator=(DataDir && other) noexcept;
    DataDir(const DataDir &) = delete;
    DataDir & operator=(const DataDir &) = delete;
    ~DataDir();

    const std::filesystem::path & root() const { return root_; }
    DataPaths paths() const { return DataPaths{root_}; }

  private:
    DataDir(std::filesystem::path root, int lock_fd) : root_(std::move(root)), lock_fd_(lock_fd) {}

    std::filesystem::path root_;
    int lock_fd_ = -1;
};

// The data directory from --data-dir, else $STRONGBOX_DATA, else ./strongbox-data.
std::filesystem::path resolve_data_dir(const std::string & flag_value);

// What the last holder of root's lock wrote into it ("strongbox serve ... (pid N)"), for messages.
std::string data_dir_holder(const std::filesystem::path & root);

}  // namespace strongbox::appliance
