// A fresh directory for one test under the system temp directory, removed with everything in it
// at scope exit. Each one is new (mkdtemp: "<name>-XXXXXX"), so test processes running side by
// side, or two builds' suites, never share one.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>

namespace strongbox::testing {

struct TempDir {
    std::filesystem::path path;

    explicit TempDir(const std::string & name) {
        std::string templ = (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
        if (::mkdtemp(templ.data()) == nullptr) {
            throw std::runtime_error("cannot make a temporary directory " + templ);
        }
        path = templ;
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }

    TempDir(const TempDir &) = delete;
    TempDir & operator=(const TempDir &) = delete;

    std::filesystem::path operator/(const std::string & name) const { return path / name; }
};

}  // namespace strongbox::testing
