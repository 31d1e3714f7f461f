// Runs a shell command the way a user at a terminal would, for tests of the command line.
#pragma once

#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace strongbox::testing {

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

}  // namespace strongbox::testing
