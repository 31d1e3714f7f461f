#include "strongbox/appliance/read_only.h"

#include "strongbox/appliance/data_dir.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/log.h"
#include "strongbox/webui/service.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

struct DiskSpace {
    uint64_t free_bytes = 0;
    uint64_t total_bytes = 0;
    bool known = false;
};

DiskSpace disk_space(const std::filesystem::path & root) {
    DiskSpace d;
    struct statvfs fs {};
    if (::statvfs(root.c_str(), &fs) == 0) {
        d.free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
        d.total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
        d.known = true;
    }
    return d;
}

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

}  // namespace

bool is_disk_full(const core::Error & error) {
    // kDiskFull from the file layer and every SQLite store (core::code_for_errno, code_for_sqlite);
    // kReadOnly from accounts.db, which refuses in the appliance's own words.
    return error.code() == core::ErrorCode::kDiskFull || error.code() == core::ErrorCode::kReadOnly;
}

DiskGuard::DiskGuard(std::filesystem::path data_dir, uint64_t reserve_bytes)
    : root_(std::move(data_dir)), reserve_path_(DataPaths{root_}.reserve()), reserve_bytes_(reserve_bytes) {}

void DiskGuard::start() {
    std::lock_guard lock(mu_);
    if (reserve_bytes_ == 0) {
        return;
    }
    std::error_code ec;
    const bool have = std::filesystem::file_size(reserve_path_, ec) >= reserve_bytes_ && !ec;
    if (have) {
        const DiskSpace space = disk_space(root_);
        if (space.known && space.free_bytes < reserve_bytes_) {
            enter("the disk holding " + root_.string() + " has " + mib(space.free_bytes) + " free, below the " +
                  mib(reserve_bytes_) + " reserve");
        }
        return;
    }
    // Missing: a previous run entered read-only mode (or this is a new data directory).
    if (core::Status st = allocate_reserve(); !st.ok()) {
        enter("the disk holding " + root_.string() + " is full: " + st.error().message());
    }
}

core::Status DiskGuard::allocate_reserve() {
    const DiskSpace space = disk_space(root_);
    if (space.known && space.free_bytes < 2 * reserve_bytes_) {
        return core::Error(core::ErrorCode::kResourceExhausted,
                           mib(space.free_bytes) + " free, below twice the " + mib(reserve_bytes_) + " reserve");
    }
    const int fd = ::open(reserve_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        return core::Error(core::code_for_errno(err),
                           "cannot create " + reserve_path_.string() + ": " + std::strerror(err));
    }
    const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(reserve_bytes_));
    const int synced = rc == 0 ? ::fsync(fd) : 0;
    const int sync_errno = errno;
    ::close(fd);
    if (rc != 0 || synced != 0) {
        ::unlink(reserve_path_.c_str());
        const int err = rc != 0 ? rc : sync_errno;
        return core::Error(core::code_for_errno(err), "cannot allocate the " + mib(reserve_bytes_) + " reserve " +
                                                          reserve_path_.string() + ": " + std::strerror(err));
    }
    return core::ok_status();
}

void DiskGuard::enter(const std::string & reason) {
    if (!read_only_) {
        read_only_ = true;
        since_ = core::utc_now_iso8601();
        SB_LOG_ERROR("read-only mode: %s; ingest and changes are refused until space is freed, search and the audit "
                     "trail keep working",
                     reason.c_str());
    }
    reason_ = reason;
    last_try_ = std::chrono::steady_clock::now();
    // Hand the reserve's blocks to the audit trail (note 2).
    std::error_code ec;
    std::filesystem::remove(reserve_path_, ec);
}

void DiskGuard::try_leave() {
    const auto now = std::chrono::steady_clock::now();
    if (!read_only_ || now - last_try_ < kRetryInterval) {
        return;
    }
    last_try_ = now;
    if (reserve_bytes_ == 0) {
        const DiskSpace space = disk_space(root_);
        if (!space.known || space.free_bytes == 0) {
            return;
        }
    } else if (!allocate_reserve().ok()) {
        return;
    }
    SB_LOG_INFO("read-only mode left: space is back under %s", root_.c_str());
    read_only_ = false;
    reason_.clear();
    since_.clear();
}

core::Status DiskGuard::writable() {
    std::lock_guard lock(mu_);
    try_leave();
    if (!read_only_ && reserve_bytes_ > 0) {
        // Running low without a failure yet: stop before a write fails rather than after.
        const DiskSpace space = disk_space(root_);
        if (space.known && space.free_bytes < reserve_bytes_) {
            enter("the disk holding " + root_.string() + " has " + mib(space.free_bytes) + " free, below the " +
                  mib(reserve_bytes_) + " reserve");
        }
    }
    if (!read_only_) {
        return core::ok_status();
    }
    return core::Error(core::ErrorCode::kReadOnly,
                       "read-only: disk full: " + reason_ +
                           "; nothing was changed. Free space on that disk; Strongbox leaves read-only mode by "
                           "itself.");
}

bool DiskGuard::note_failure(const core::Error & error) {
    if (!is_disk_full(error)) {
        return false;
    }
    std::lock_guard lock(mu_);
    enter("a write failed: " + error.message());
    return true;
}

bool DiskGuard::read_only() const {
    std::lock_guard lock(mu_);
    return read_only_;
}

std::string DiskGuard::reason() const {
    std::lock_guard lock(mu_);
    return reason_;
}

core::Json DiskGuard::to_json() {
    std::lock_guard lock(mu_);
    try_leave();
    core::Json j = core::Json::object();
    j["read_only"] = read_only_;
    if (read_only_) {
        j["reason"] = reason_;
        j["since"] = since_;
    }
    j["reserve_bytes"] = reserve_bytes_;
    const DiskSpace space = disk_space(root_);
    if (space.known) {
        j["free_bytes"] = space.free_bytes;
        j["total_bytes"] = space.total_bytes;
    }
    return j;
}

}  // namespace strongbox::appliance
