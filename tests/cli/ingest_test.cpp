// `strongbox ingest` through the real binary: what a folder brings in, and what it does not.

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "appliance/test_support.h"

using namespace strongbox;
using appliance::testing::CommandRun;
using appliance::testing::run_command;
using appliance::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kStrongbox = fs::path(SB_BINARY_DIR) / "appliance" / "strongbox";

CommandRun run_strongbox(const std::string & args) {
    return run_command(kStrongbox.string() + " " + args);
}

}  // namespace

TEST_CASE("a folder's symbolic links are not followed out of it unless --follow-symlinks is given") {
    TempDir dir("sb-cli-ingest-links");
    const fs::path docs = dir.path / "docs";
    const fs::path outside = dir.path / "elsewhere";
    fs::create_directories(docs);
    fs::create_directories(outside / "private");
    REQUIRE(core::write_file_atomic(docs / "runbook.md", "# Runbook\n\nRestart the pump at dawn.\n").ok());
    REQUIRE(core::write_file_atomic(outside / "secret.txt", "The vault combination is 31-7-44.\n").ok());
    REQUIRE(core::write_file_atomic(outside / "private" / "notes.txt", "Payroll closes on the 25th.\n").ok());
    fs::create_symlink(outside / "secret.txt", docs / "secret.txt");
    fs::create_directory_symlink(outside / "private", docs / "private");
    const std::string data = "--data-dir " + (dir.path / "data").string() + " ";

    CommandRun plain = run_strongbox(data + "ingest " + docs.string());
    REQUIRE_MESSAGE(plain.exit_code == 0, plain.output);
    CHECK(plain.output.find("1 added") != std::string::npos);
    CHECK(plain.output.find("skipped    " + (docs / "secret.txt").string() + ": a symbolic link") != std::string::npos);
    CHECK(plain.output.find("skipped    " + (docs / "private").string() + ": a symbolic link") != std::string::npos);
    CommandRun search = run_strongbox(data + "ask \"What is the vault combination?\"");
    CHECK(search.output.find("31-7-44") == std::string::npos);

    CommandRun followed = run_strongbox(data + "ingest --follow-symlinks " + docs.string());
    REQUIRE_MESSAGE(followed.exit_code == 0, followed.output);
    CHECK_MESSAGE(followed.output.find("2 added") != std::string::npos, followed.output);  // the file and the folder's
    CHECK(followed.output.find("skipped") == std::string::npos);
    CommandRun found = run_strongbox(data + "ask \"What is the vault combination?\"");
    CHECK_MESSAGE(found.output.find("31-7-44") != std::string::npos, found.output);
}
