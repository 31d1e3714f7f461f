// The appliance's audit signing key: created once with restrictive permissions, never
// overwritten, and refused with a clear message when damaged or exposed.

#include "signing.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"
#include <sys/stat.h>

using namespace strongbox;

namespace {

using strongbox::testing::TempDir;

unsigned mode_of(const std::filesystem::path & p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("the signing key is created at first open with mode 0600 and never replaced") {
    TempDir dir("sb_audit_key_create");
    auto first = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(first.ok());
    const auto key_path = dir.path / appliance::kSigningKeyFile;
    CHECK(std::filesystem::file_size(key_path) == 64);
    CHECK(mode_of(key_path) == 0600);
    const std::string pub = core::read_file(dir.path / appliance::kPublicKeyFile).value();
    CHECK(pub == (*first)->public_key_hex() + "\n");
    const std::string secret = core::read_file(key_path).value();
    first->reset();

    auto second = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE(second.ok());
    CHECK((*second)->public_key_hex() + "\n" == pub);
    CHECK(core::read_file(key_path).value() == secret);
    CHECK((*second)->key_fingerprint().size() == 64);
}

TEST_CASE("a signing key readable by others is refused with its mode") {
    TempDir dir("sb_audit_key_mode");
    REQUIRE(appliance::AuditLog::open(dir.path / "audit.db").ok());
    std::filesystem::permissions(dir.path / appliance::kSigningKeyFile, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    auto reopened = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.error().code() == core::ErrorCode::kPermissionDenied);
    CHECK(reopened.error().message().find("has mode 0640") != std::string::npos);
    CHECK(reopened.error().message().find("chmod 600") != std::string::npos);
}

TEST_CASE("a signing key of the wrong size or with a damaged public half is refused") {
    TempDir dir("sb_audit_key_size");
    REQUIRE(appliance::AuditLog::open(dir.path / "audit.db").ok());
    const auto key_path = dir.path / appliance::kSigningKeyFile;
    std::string secret = core::read_file(key_path).value();
    {
        std::ofstream out(key_path, std::ios::binary | std::ios::trunc);
        out << secret.substr(0, 40);
    }
    auto short_key = appliance::SigningKey::load_or_create(dir.path);
    REQUIRE_FALSE(short_key.ok());
    CHECK(short_key.error().message().find("has 40 bytes, expected 64") != std::string::npos);

    secret[40] = static_cast<char>(secret[40] ^ 0x55);
    {
        std::ofstream out(key_path, std::ios::binary | std::ios::trunc);
        out << secret;
    }
    auto damaged = appliance::SigningKey::load_or_create(dir.path);
    REQUIRE_FALSE(damaged.ok());
    CHECK(damaged.error().message().find("damaged") != std::string::npos);
}

TEST_CASE("a missing secret key next to an existing public key is an error, not a new key") {
    TempDir dir("sb_audit_key_missing");
    REQUIRE(appliance::AuditLog::open(dir.path / "audit.db").ok());
    std::filesystem::remove(dir.path / appliance::kSigningKeyFile);
    auto reopened = appliance::AuditLog::open(dir.path / "audit.db");
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.error().message().find("restore the key from backup") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path / appliance::kSigningKeyFile));
}

TEST_CASE("signatures are domain separated and bound to the exact bytes") {
    TempDir dir("sb_audit_key_sign");
    auto key = appliance::SigningKey::load_or_create(dir.path);
    REQUIRE(key.ok());
    const std::string sig = key->sign(appliance::kBundleDomain, "manifest bytes");
    CHECK(sig.size() == 128);
    CHECK(appliance::verify_signature(key->public_key(), appliance::kBundleDomain, "manifest bytes", sig).ok());
    CHECK_FALSE(appliance::verify_signature(key->public_key(), appliance::kBundleDomain, "manifest bytez", sig).ok());
    CHECK_FALSE(
        appliance::verify_signature(key->public_key(), appliance::kCheckpointDomain, "manifest bytes", sig).ok());
    auto bad = appliance::verify_signature(key->public_key(), appliance::kBundleDomain, "manifest bytes", "12");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("not 128 lower-case hex digits") != std::string::npos);
    // The same signature spelled with an upper-case digit is refused: the signature file would differ
    // from what was signed and still verify.
    std::string upper = sig;
    const size_t letter = upper.find_first_of("abcdef");
    REQUIRE(letter != std::string::npos);
    upper[letter] = static_cast<char>(upper[letter] - 'a' + 'A');
    CHECK_FALSE(appliance::verify_signature(key->public_key(), appliance::kBundleDomain, "manifest bytes", upper).ok());
}

TEST_CASE("a public key file must hold 64 hex digits") {
    TempDir dir("sb_audit_key_pubfile");
    REQUIRE(core::write_file_atomic(dir.path / "k.pub", "not a key\n").ok());
    auto k = appliance::read_public_key_file(dir.path / "k.pub");
    REQUIRE_FALSE(k.ok());
    CHECK(k.error().message().find("k.pub") != std::string::npos);
    CHECK(k.error().message().find("64 hex digits") != std::string::npos);
}
