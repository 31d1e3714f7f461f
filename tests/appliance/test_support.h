// Test support shared by the appliance tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
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

// What a shell command printed (stdout and stderr together, as written) and its exit status.
struct CommandRun {
    int exit_code = -1;  // -1 when it was killed by a signal or could not start
    std::string output;
};

inline CommandRun run_command(const std::string & command) {
    CommandRun r;
    FILE * pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        r.output = "cannot start: " + command;
        return r;
    }
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        r.output.append(buf.data(), n);
    }
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace strongbox::appliance::testing
