// The data directory: everything mutable Strongbox keeps, in one place, owned by one process at
// a time through an advisory lock (flock on DIR/LOCK). A second process gets a clear error
// naming the holder; the lock is released by the kernel if the holder dies, so a kill -9 never
// leaves a stale lock behind.
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>

namespace strongbox::appliance {

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

    std::filesystem::path store_path() const { return root_ / "strongbox.db"; }
    std::filesystem::path index_path() const { return root_ / "vectors.faiss"; }
    std::filesystem::path audit_path() const { return root_ / "audit.db"; }

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
