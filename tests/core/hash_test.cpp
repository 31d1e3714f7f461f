#include "strongbox/core/hash.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace strongbox::core;

TEST_CASE("sha256 matches the FIPS 180-2 test vectors") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256 of a file equals sha256 of its bytes, and a missing file is a clear error") {
    auto dir = std::filesystem::temp_directory_path() / "sb_hash_test";
    std::filesystem::create_directories(dir);
    std::string bytes(200000, 'q');
    REQUIRE(write_file_atomic(dir / "f.bin", bytes).ok());
    auto h = sha256_file_hex(dir / "f.bin");
    REQUIRE(h.ok());
    CHECK(*h == sha256_hex(bytes));
    auto missing = sha256_file_hex(dir / "nope.bin");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("nope.bin") != std::string::npos);
    std::filesystem::remove_all(dir);
}
