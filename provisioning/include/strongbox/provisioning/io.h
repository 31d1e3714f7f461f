// Storage: the one I/O interface through which the installer and the boot logic touch slots,
// boot records and the staged bundle, so that every write boundary can be crash-tested.
//
// Files are named relative to one slots directory ("slot-a", "boot-0.rec", "staging.bundle").
// A name may be a regular file or a symlink to a block device. Writes are durable only after
// sync() of the same name; a crash may lose, reorder or tear anything written since.
//
// PosixStorage uses pread/pwrite/fsync. MemoryStorage keeps files in memory. RecordingStorage
// is a MemoryStorage that logs every write and sync so tests can rebuild the durable state after
// a crash at any write under three damage models.
//
// Thread-safety: none; one installer or boot selection runs at a time (the caller holds a lock).
// Errors: kNotFound for a missing file, kIoError naming the file and the OS reason otherwise.
//
//   auto storage = open_posix_storage("/var/lib/strongbox/slots");
//   SB_TRY(storage->write("slot-b", 0, block));
//   SB_TRY(storage->sync("slot-b"));
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::provisioning {

class Storage {
  public:
    virtual ~Storage() = default;

    virtual core::Result<uint64_t> size(const std::string & name) = 0;
    // Exactly `length` bytes or an error (a short read is an error).
    virtual core::Result<std::string> read(const std::string & name, uint64_t offset, size_t length) = 0;
    // Creates the file when absent; extends it with zeros when writing past its end.
    virtual core::Status write(const std::string & name, uint64_t offset, std::string_view bytes) = 0;
    virtual core::Status sync(const std::string & name) = 0;
};

std::unique_ptr<Storage> open_posix_storage(const std::filesystem::path & dir);

class MemoryStorage : public Storage {
  public:
    core::Result<uint64_t> size(const std::string & name) override;
    core::Result<std::string> read(const std::string & name, uint64_t offset, size_t length) override;
    core::Status write(const std::string & name, uint64_t offset, std::string_view bytes) override;
    core::Status sync(const std::string & name) override;

    std::map<std::string, std::string> & files() { return files_; }
    const std::map<std::string, std::string> & files() const { return files_; }

  private:
    std::map<std::string, std::string> files_;
};

enum class DamageModel {
    kDropUnsynced,  // everything not yet synced is lost
    kRandomSubset,  // a random subset of unsynced writes survives, applied in random order
    kTornLast,      // unsynced writes survive, but the last one only partly
};

class RecordingStorage : public MemoryStorage {
  public:
    // The current contents count as durable: the log starts empty.
    explicit RecordingStorage(std::map<std::string, std::string> durable);

    core::Status write(const std::string & name, uint64_t offset, std::string_view bytes) override;
    core::Status sync(const std::string & name) override;

    size_t n_writes() const { return n_writes_; }

    // The files as a power cut right after the `after_writes`-th write (1-based) could leave
    // them. `seed` drives the random choices of kRandomSubset and kTornLast.
    std::map<std::string, std::string> crash_state(size_t after_writes, DamageModel model, uint64_t seed) const;

  private:
    struct Op {
        bool is_sync = false;
        std::string name;
        uint64_t offset = 0;
        std::string bytes;
    };

    std::map<std::string, std::string> base_;
    std::vector<Op> log_;
    size_t n_writes_ = 0;
};

}  // namespace strongbox::provisioning
