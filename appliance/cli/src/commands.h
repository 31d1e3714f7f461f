// The subcommands of the strongbox binary. Each is a name, a one-line summary, its options and
// a function; cli.cpp parses and dispatches, the command files do the work.
#pragma once

#include "args.h"

#include "strongbox/appliance/data_dir.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace strongbox::appliance {

inline constexpr const char * kStrongboxVersion = "0.1.0";

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;   // some inputs failed, the rest went through
inline constexpr int kExitReadOnly = 4;  // refused or stopped: the data directory's disk is full (read-only mode)

struct CommandContext {
    const Args & args;
    std::filesystem::path data_dir;
};

struct Command {
    std::string name;   // "ingest", or two words: "audit export"
    std::string usage;  // after the name: "PATH..."
    std::string summary;
    std::vector<OptionSpec> options;
    std::function<int(const CommandContext &)> run;
};

std::vector<Command> all_commands();
int run_command(const Command & command, const std::vector<std::string> & argv, const std::string & data_dir);

// Per-area command lists, concatenated by all_commands().
std::vector<Command> document_commands();    // ingest, ask, serve, status
std::vector<Command> audit_commands();       // audit export, audit verify
std::vector<Command> model_commands();       // generate, model info, model quantize, bench-model
std::vector<Command> image_commands();       // image build/inspect/flash, boot select, selftest
std::vector<Command> eval_commands();        // eval retrieval, eval answers
std::vector<Command> collection_commands();  // collections list/create, quarantine list

// Prints "strongbox <command>: <message>" to stderr and returns kExitFailure.
int fail(const std::string & command, const std::string & message);

// The exit status for an error, the one mapping every command uses: kExitReadOnly for a write
// refused in read-only mode or one that ran out of space, kExitFailure otherwise.
int exit_code_for(const core::Error & error);

// Prints "strongbox <command>: <message>" to stderr and returns exit_code_for(error).
int fail(const std::string & command, const core::Error & error);

}  // namespace strongbox::appliance
