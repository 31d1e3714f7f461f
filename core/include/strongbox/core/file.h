// File helpers with the durability Strongbox needs: atomic replacement (temp file, fsync,
// rename, fsync of the directory) so a crash leaves either the old or the new bytes, never a mix.
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace strongbox::core {

// An owned file descriptor, closed when it goes out of scope. Movable, not copyable; -1 is none.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd & operator=(const UniqueFd &) = delete;
    UniqueFd(UniqueFd && other) noexcept : fd_(other.release()) {}
    UniqueFd & operator=(UniqueFd && other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);  // closes the descriptor held, then holds `fd`

  private:
    int fd_ = -1;
};

Result<std::string> read_file(const std::filesystem::path & path);

struct WriteOptions {
    mode_t mode = 0600;      // exactly, whatever the umask: a key is never readable by others, even briefly
    bool exclusive = false;  // kAlreadyExists instead of replacing a file already at the path
};

// Writes bytes to path atomically and durably: a temporary file beside it (created with O_EXCL
// and O_NOFOLLOW, so no planted file or link is written through), fsync, then rename (or, when
// exclusive, link, which refuses an existing file), then fsync of the directory. A crash leaves
// the old bytes or the new ones, never a mix, and no temporary file under the final name.
Status write_file_atomic(const std::filesystem::path & path, std::string_view bytes, const WriteOptions & options = {});

// Makes a rename or creation inside dir durable.
Status fsync_directory(const std::filesystem::path & dir);

// A path next to `target` for a temporary file, unique within this process.
std::filesystem::path temp_sibling(const std::filesystem::path & target);

}  // namespace strongbox::core
