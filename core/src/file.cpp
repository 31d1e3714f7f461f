#include "strongbox/core/file.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
    const UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        return os_error("cannot open directory", dir);
    }
    if (::fsync(fd.get()) != 0) {
        return os_error("cannot fsync directory", dir);
    }
    return {};
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

Status write_file_atomic(const std::filesystem::path & path, std::string_view bytes, const WriteOptions & options) {
    std::filesystem::path tmp;
    UniqueFd fd;
    // A name left by a crashed process with the same pid is skipped, never written through.
    for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
        tmp = temp_sibling(path);
        fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, options.mode));
        if (!fd.valid() && errno != EEXIST) {
            break;
        }
    }
    if (!fd.valid()) {
        return os_error("cannot create", tmp);
    }
    auto fail = [&](std::string_view what, const std::filesystem::path & where) {
        Error e = os_error(what, where);
        ::unlink(tmp.c_str());
        return e;
    };
    // open() applies the umask; set the mode explicitly so the mode asked for is what lands on disk.
    if (::fchmod(fd.get(), options.mode) != 0) {
        return fail("cannot set the mode of", tmp);
    }
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail("cannot write", tmp);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        return fail("cannot fsync", tmp);
    }
    fd.reset();
    if (options.exclusive) {
        const int linked = ::link(tmp.c_str(), path.c_str());
        const int link_errno = errno;
        ::unlink(tmp.c_str());
        if (linked != 0) {
            errno = link_errno;
            return link_errno == EEXIST ? Error(ErrorCode::kAlreadyExists, path.string() + " already exists")
                                        : os_error("cannot create", path);
        }
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail("cannot rename into", path);
    }
    return fsync_directory(path.parent_path());
}

}  // namespace strongbox::core
