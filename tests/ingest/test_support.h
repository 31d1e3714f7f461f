// Test support shared by the ingest tests.
#pragma once

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

namespace strongbox::ingest::testing {

// A scratch directory for files a test writes itself, removed at scope exit. The process id in
// the name keeps test cases that ctest runs in parallel apart.
struct Scratch {
    std::filesystem::path dir;

    explicit Scratch(const std::string & name)
        : dir(std::filesystem::temp_directory_path() /
              ("strongbox_ingest_" + std::to_string(::getpid()) + "_" + name)) {
        std::filesystem::create_directories(dir);
    }

    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    Scratch(const Scratch &) = delete;
    Scratch & operator=(const Scratch &) = delete;

    std::filesystem::path write(const std::string & name, const std::string & bytes) const {
        const std::filesystem::path p = dir / name;
        REQUIRE(core::write_file_atomic(p, bytes).ok());
        return p;
    }
};

}  // namespace strongbox::ingest::testing
