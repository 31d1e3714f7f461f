// A fresh directory for one test under the system temp directory, removed with everything in it
// at scope exit.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace strongbox::testing {

struct TempDir {
    std::filesystem::path path;

    explicit TempDir(const std::string & name) : path(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }

    TempDir(const TempDir &) = delete;
    TempDir & operator=(const TempDir &) = delete;
};

}  // namespace strongbox::testing
