#include "strongbox/appliance/data_dir.h"

#include "strongbox/core/text.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace strongbox::appliance {

core::Result<DataDir> DataDir::acquire(const std::filesystem::path & root, const std::string & holder) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) {
        return core::Error(core::ErrorCode::kIoError,
                           "cannot create data directory " + root.string() + ": " + ec.message());
    }
    std::filesystem::permissions(root, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    const std::filesystem::path lock_path = DataPaths{root}.lock();
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        return core::Error(core::code_for_errno(err), "cannot open " + lock_path.string() + ": " + std::strerror(err));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        std::string who = data_dir_holder(root);
        return core::Error(core::ErrorCode::kUnavailable,
                           "data directory " + root.string() + " is in use" + (who.empty() ? "" : " by " + who));
    }
    std::string text = holder + " (pid " + std::to_string(::getpid()) + ")\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
        ::close(fd);
        const int err = errno;
        return core::Error(core::code_for_errno(err), "cannot write " + lock_path.string() + ": " + std::strerror(err));
    }
    return DataDir(std::filesystem::absolute(root), fd);
}

DataDir::DataDir(DataDir && other) noexcept : root_(std::move(other.root_)), lock_fd_(other.lock_fd_) {
    other.lock_fd_ = -1;
}

DataDir & DataDir::operator=(DataDir && other) noexcept {
    if (this != &other) {
        if (lock_fd_ >= 0) {
            ::close(lock_fd_);
        }
        root_ = std::move(other.root_);
        lock_fd_ = other.lock_fd_;
        other.lock_fd_ = -1;
    }
    return *this;
}

DataDir::~DataDir() {
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);  // releases the flock
    }
}

std::filesystem::path resolve_data_dir(const std::string & flag_value) {
    if (!flag_value.empty()) {
        return flag_value;
    }
    if (const char * env = std::getenv("STRONGBOX_DATA");
        env != nullptr && *env != '\0') {  // NOLINT(concurrency-mt-unsafe)
        return env;
    }
    return "strongbox-data";
}

std::string data_dir_holder(const std::filesystem::path & root) {
    std::ifstream in(DataPaths{root}.lock());
    std::stringstream ss;
    ss << in.rdbuf();
    return std::string(core::trim(ss.str()));
}

}  // namespace strongbox::appliance
