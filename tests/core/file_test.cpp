#include "strongbox/core/file.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cerrno>
#include <filesystem>

#include "support/temp_dir.h"
#include <sys/stat.h>

using namespace strongbox::core;
using strongbox::testing::TempDir;

TEST_CASE("write_file_atomic replaces the whole file and leaves no temporary behind") {
    auto dir = std::filesystem::temp_directory_path() / "sb_file_test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    REQUIRE(write_file_atomic(dir / "a.txt", "first version, longer").ok());
    REQUIRE(write_file_atomic(dir / "a.txt", "second").ok());
    auto text = read_file(dir / "a.txt");
    REQUIRE(text.ok());
    CHECK(*text == "second");
    int entries = 0;
    for ([[maybe_unused]] const auto & e : std::filesystem::directory_iterator(dir)) {
        ++entries;
    }
    CHECK(entries == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("write_file_atomic into a missing directory fails with the path in the message") {
    auto st = write_file_atomic("/nonexistent-dir-sb/x.txt", "x");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == ErrorCode::kNotFound);
    CHECK(st.error().message().find("/nonexistent-dir-sb/") != std::string::npos);
}

TEST_CASE("write_file_atomic gives the file exactly the mode asked for, whatever the umask") {
    TempDir dir("sb_file_mode");
    const mode_t old = ::umask(0077);
    REQUIRE(write_file_atomic(dir.path / "cert.pem", "public", {.mode = 0644}).ok());
    ::umask(0);
    REQUIRE(write_file_atomic(dir.path / "key.pem", "secret").ok());
    ::umask(old);
    struct stat st {};
    REQUIRE(::stat((dir.path / "cert.pem").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    REQUIRE(::stat((dir.path / "key.pem").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("an exclusive write refuses a file already there and leaves it as it was") {
    TempDir dir("sb_file_exclusive");
    REQUIRE(write_file_atomic(dir.path / "audit-signing.key", "the first key", {.exclusive = true}).ok());
    const Status again = write_file_atomic(dir.path / "audit-signing.key", "a second key", {.exclusive = true});
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == ErrorCode::kAlreadyExists);
    CHECK(read_file(dir.path / "audit-signing.key").value() == "the first key");
    int entries = 0;
    for ([[maybe_unused]] const auto & e : std::filesystem::directory_iterator(dir.path)) {
        ++entries;
    }
    CHECK(entries == 1);  // no temporary left behind either way
}

TEST_CASE("a full disk is kDiskFull whether the OS or SQLite reports it, so callers decide on the code") {
    CHECK(code_for_errno(ENOSPC) == ErrorCode::kDiskFull);
    CHECK(code_for_errno(EDQUOT) == ErrorCode::kDiskFull);
    CHECK(code_for_errno(ENOENT) == ErrorCode::kNotFound);
    CHECK(code_for_errno(EACCES) == ErrorCode::kPermissionDenied);
    CHECK(code_for_errno(EIO) == ErrorCode::kIoError);
    CHECK(code_for_sqlite(SQLITE_FULL) == ErrorCode::kDiskFull);
    CHECK(code_for_sqlite(SQLITE_IOERR_WRITE) == ErrorCode::kIoError);  // extended codes map by their primary
    CHECK(code_for_sqlite(SQLITE_CORRUPT) == ErrorCode::kCorruptInput);
    CHECK(code_for_sqlite(SQLITE_BUSY) == ErrorCode::kUnavailable);
}
