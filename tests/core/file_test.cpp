#include "strongbox/core/file.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cerrno>
#include <filesystem>

using namespace strongbox::core;

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
