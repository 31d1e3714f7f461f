// File helpers with the durability Strongbox needs: atomic replacement (temp file, fsync,
// rename, fsync of the directory) so a crash leaves either the old or the new bytes, never a mix.
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace strongbox::core {

Result<std::string> read_file(const std::filesystem::path & path);

// Writes bytes to path atomically and durably.
Status write_file_atomic(const std::filesystem::path & path, std::string_view bytes);

// Makes a rename or creation inside dir durable.
Status fsync_directory(const std::filesystem::path & dir);

// A path next to `target` for a temporary file, unique within this process.
std::filesystem::path temp_sibling(const std::filesystem::path & target);

}  // namespace strongbox::core
