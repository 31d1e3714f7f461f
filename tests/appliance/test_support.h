// Test support shared by the appliance tests.
#pragma once

#include <filesystem>
#include <string>

namespace strongbox::appliance::testing {

// A fresh directory under the system temp directory, removed with everything in it at scope exit.
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

}  // namespace strongbox::appliance::testing
