// The container of an audit bundle: a POSIX ustar archive, so an auditor can also open it with
// any tar tool, read strictly so that a truncated file, a damaged header or bytes appended after
// the end-of-archive marker are reported with their offset instead of being silently tolerated.
//
// Only regular files with plain names (no directories, links or path separators) are written or
// accepted; that is all a bundle holds. Stateless functions, safe to call concurrently.
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

struct ArchiveMember {
    std::string name;
    std::string bytes;
};

// `mtime` is the modification time (seconds since the epoch) stamped on every member.
std::string write_archive(const std::vector<ArchiveMember> & members, int64_t mtime);

core::Result<std::vector<ArchiveMember>> read_archive(std::string_view bytes);

}  // namespace strongbox::appliance
