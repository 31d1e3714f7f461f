#include "strongbox/core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace strongbox::core {
namespace {

Error os_error(std::string_view what, const std::filesystem::path & path) {
    const int err = errno;
    return Error(code_for_errno(err), std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return os_error("cannot open", path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        return os_error("cannot read", path);
    }
    return std::move(ss).str();
}

std::filesystem::path temp_sibling(const std::filesystem::path & target) {
    static std::atomic<unsigned> counter{0};
    return target.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

Status fsync_directory(const std::filesystem::path & dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return os_error("cannot open directory", dir);
    }
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) {
        return os_error("cannot fsync directory", dir);
    }
    return {};
}

Status write_file_atomic(const std::filesystem::path & path, std::string_view bytes) {
    const std::filesystem::path tmp = temp_sibling(path);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return os_error("cannot create", tmp);
    }
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            Error e = os_error("cannot write", tmp);
            ::close(fd);
            ::unlink(tmp.c_str());
            return e;
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        Error e = os_error("cannot fsync", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return e;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Error e = os_error("cannot rename into", path);
        ::unlink(tmp.c_str());
        return e;
    }
    return fsync_directory(path.parent_path());
}

}  // namespace strongbox::core
