#include "strongbox/provisioning/io.h"

#include "strongbox/core/file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;

Error os_error(const std::string & what, const std::filesystem::path & path) {
    const int err = errno;
    return Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError,
                 what + " " + path.string() + ": " + std::strerror(err));
}

class PosixStorage : public Storage {
  public:
    explicit PosixStorage(std::filesystem::path dir) : dir_(std::move(dir)) {}

    core::Result<uint64_t> size(const std::string & name) override {
        const auto path = dir_ / name;
        core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return os_error("open", path);
        }
        // lseek works for regular files and block devices alike.
        const off_t end = ::lseek(fd.get(), 0, SEEK_END);
        if (end < 0) {
            return os_error("seek", path);
        }
        return static_cast<uint64_t>(end);
    }

    core::Result<std::string> read(const std::string & name, uint64_t offset, size_t length) override {
        const auto path = dir_ / name;
        core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return os_error("open", path);
        }
        std::string out(length, '\0');
        size_t done = 0;
        while (done < length) {
            const ssize_t n = ::pread(fd.get(), out.data() + done, length - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return os_error("read", path);
            }
            if (n == 0) {
                return Error(ErrorCode::kIoError,
                             "read " + path.string() + ": unexpected end at offset " + std::to_string(offset + done));
            }
            done += static_cast<size_t>(n);
        }
        return out;
    }

    core::Status write(const std::string & name, uint64_t offset, std::string_view bytes) override {
        const auto path = dir_ / name;
        // A slot may be a link to a block device, never a link to a file elsewhere: whoever could
        // plant one would have the installer write an image (or a boot record) over that file.
        core::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0 && errno == ELOOP) {
            fd = core::UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
            struct stat st {};
            if (fd.get() >= 0 && (::fstat(fd.get(), &st) != 0 || !S_ISBLK(st.st_mode))) {
                return Error(ErrorCode::kInvalidArgument, "write " + path.string() +
                                                              ": refusing to write through a link to something that "
                                                              "is not a block device");
            }
        }
        if (fd.get() < 0) {
            return os_error("open for writing", path);
        }
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n =
                ::pwrite(fd.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return os_error("write", path);
            }
            done += static_cast<size_t>(n);
        }
        return core::ok_status();
    }

    core::Status sync(const std::string & name) override {
        const auto path = dir_ / name;
        core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            return os_error("open", path);
        }
        if (::fsync(fd.get()) != 0) {
            return os_error("fsync", path);
        }
        // A newly created file is durable only once its directory entry is.
        core::UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
            return os_error("fsync directory", dir_);
        }
        return core::ok_status();
    }

  private:
    std::filesystem::path dir_;
};

void apply_write(std::map<std::string, std::string> & files, const std::string & name, uint64_t offset,
                 std::string_view bytes) {
    std::string & f = files[name];
    if (f.size() < offset + bytes.size()) {
        f.resize(offset + bytes.size(), '\0');
    }
    std::copy(bytes.begin(), bytes.end(), f.begin() + static_cast<std::ptrdiff_t>(offset));
}

}  // namespace

std::unique_ptr<Storage> open_posix_storage(const std::filesystem::path & dir) {
    return std::make_unique<PosixStorage>(dir);
}

core::Result<uint64_t> MemoryStorage::size(const std::string & name) {
    auto it = files_.find(name);
    if (it == files_.end()) {
        return Error(ErrorCode::kNotFound, "no file " + name);
    }
    return static_cast<uint64_t>(it->second.size());
}

core::Result<std::string> MemoryStorage::read(const std::string & name, uint64_t offset, size_t length) {
    auto it = files_.find(name);
    if (it == files_.end()) {
        return Error(ErrorCode::kNotFound, "no file " + name);
    }
    if (offset > it->second.size() || it->second.size() - offset < length) {
        return Error(ErrorCode::kIoError, "read " + name + ": unexpected end at offset " + std::to_string(offset));
    }
    return it->second.substr(offset, length);
}

core::Status MemoryStorage::write(const std::string & name, uint64_t offset, std::string_view bytes) {
    apply_write(files_, name, offset, bytes);
    return core::ok_status();
}

core::Status MemoryStorage::sync(const std::string & name) {
    if (files_.count(name) == 0) {
        return Error(ErrorCode::kNotFound, "no file " + name);
    }
    return core::ok_status();
}

RecordingStorage::RecordingStorage(std::map<std::string, std::string> durable) : base_(durable) {
    files() = std::move(durable);
}

core::Status RecordingStorage::write(const std::string & name, uint64_t offset, std::string_view bytes) {
    SB_TRY(MemoryStorage::write(name, offset, bytes));
    log_.push_back(Op{false, name, offset, std::string(bytes)});
    ++n_writes_;
    return core::ok_status();
}

core::Status RecordingStorage::sync(const std::string & name) {
    SB_TRY(MemoryStorage::sync(name));
    log_.push_back(Op{true, name, 0, {}});
    return core::ok_status();
}

std::map<std::string, std::string> RecordingStorage::crash_state(size_t after_writes, DamageModel model,
                                                                 uint64_t seed) const {
    SB_CHECK(after_writes >= 1 && after_writes <= n_writes_);
    // The prefix of the log that happened before the power cut.
    size_t end = 0;
    for (size_t seen = 0; end < log_.size(); ++end) {
        if (!log_[end].is_sync && ++seen == after_writes) {
            ++end;
            break;
        }
    }
    // A write is durable once a later sync of the same file (within the prefix) returned.
    std::map<std::string, size_t> last_sync;
    for (size_t i = 0; i < end; ++i) {
        if (log_[i].is_sync) {
            last_sync[log_[i].name] = i;
        }
    }
    std::map<std::string, std::string> files = base_;
    std::vector<size_t> pending;
    for (size_t i = 0; i < end; ++i) {
        const Op & op = log_[i];
        if (op.is_sync) {
            continue;
        }
        auto s = last_sync.find(op.name);
        if (s != last_sync.end() && s->second > i) {
            apply_write(files, op.name, op.offset, op.bytes);
        } else {
            pending.push_back(i);
        }
    }
    std::mt19937_64 rng(seed);
    switch (model) {
    case DamageModel::kDropUnsynced:
        break;
    case DamageModel::kRandomSubset: {
        std::shuffle(pending.begin(), pending.end(), rng);
        for (size_t i : pending) {
            if (rng() % 2 == 0) {
                apply_write(files, log_[i].name, log_[i].offset, log_[i].bytes);
            }
        }
        break;
    }
    case DamageModel::kTornLast: {
        for (size_t k = 0; k < pending.size(); ++k) {
            const Op & op = log_[pending[k]];
            if (k + 1 < pending.size()) {
                apply_write(files, op.name, op.offset, op.bytes);
            } else {
                // Torn at a random byte, and what did land may be garbage past the cut
                // sector: model both by keeping a prefix and scrambling one byte after it.
                const size_t cut = op.bytes.empty() ? 0 : static_cast<size_t>(rng() % op.bytes.size());
                std::string torn = op.bytes.substr(0, cut);
                if (cut + 1 < op.bytes.size()) {
                    torn.push_back(static_cast<char>(op.bytes[cut] ^ 0x5a));
                }
                apply_write(files, op.name, op.offset, torn);
            }
        }
        break;
    }
    }
    return files;
}

}  // namespace strongbox::provisioning
