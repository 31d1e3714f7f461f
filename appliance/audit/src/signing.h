// The appliance's audit signing key: an ed25519 key pair (libsodium crypto_sign) that signs the
// audit chain head in checkpoint records and the manifest of every exported bundle.
//
// Design notes
// 1. The key is created once, at the first open of the audit trail, as DIR/audit-signing.key
//    (the 64-byte libsodium secret key, mode 0600) and DIR/audit-signing.pub (the public key as
//    64 hex digits and a newline, the file auditors are handed). Creation writes a temporary file
//    and link()s it into place, which fails if the key already exists: a key is never overwritten,
//    even by two processes starting at once.
// 2. Loading refuses a key file of the wrong size, one readable by group or others, a secret key
//    whose embedded public half does not match its seed, and a .pub file that does not match the
//    secret key. A missing secret key next to an existing .pub file is an error too: silently
//    making a new key would orphan every signature auditors already hold.
// 3. Every signature is over a domain-separation prefix ("strongbox-audit-...-v1" and a NUL byte)
//    followed by the message, so a checkpoint signature can never be replayed as a bundle
//    signature or the other way round.
//
// Thread-safety: a loaded SigningKey is immutable; sign() and verify() may run concurrently.
//
//   SB_ASSIGN_OR_RETURN(SigningKey key, SigningKey::load_or_create(data_dir));
//   std::string sig = key.sign(kBundleDomain, manifest_bytes);
//   SB_TRY(verify_signature(key.public_key(), kBundleDomain, manifest_bytes, sig));
#pragma once

#include "strongbox/core/result.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace strongbox::appliance {

inline constexpr std::string_view kCheckpointDomain = "strongbox-audit-checkpoint-v1";
inline constexpr std::string_view kBundleDomain = "strongbox-audit-bundle-v1";
inline constexpr std::string_view kRecordDomain = "strongbox-audit-record-v1";  // each record's chain hash
inline constexpr std::string_view kHeadDomain = "strongbox-audit-head-v1";      // the head kept outside the database

inline constexpr const char * kSigningKeyFile = "audit-signing.key";
inline constexpr const char * kPublicKeyFile = "audit-signing.pub";

using PublicKey = std::array<uint8_t, 32>;

class SigningKey {
  public:
    // Loads DIR/audit-signing.key, creating the pair when neither file exists.
    static core::Result<SigningKey> load_or_create(const std::filesystem::path & dir);

    const PublicKey & public_key() const { return public_key_; }

    // Detached signature over domain || NUL || message, as 128 hex digits.
    std::string sign(std::string_view domain, std::string_view message) const;

  private:
    SigningKey() = default;

    std::array<uint8_t, 64> secret_key_{};
    PublicKey public_key_{};
};

// sha256 of the raw public key, as 64 hex digits: what an admin reads out to an auditor.
std::string key_fingerprint(const PublicKey & key);

std::string public_key_hex(const PublicKey & key);

// Parses 64 hex digits (surrounding whitespace allowed).
core::Result<PublicKey> parse_public_key(std::string_view text);

// Reads a .pub file as written by load_or_create (or the hex printed by `strongbox audit key`).
core::Result<PublicKey> read_public_key_file(const std::filesystem::path & path);

// kOk when signature_hex is a valid signature of domain || NUL || message by key.
core::Status verify_signature(const PublicKey & key, std::string_view domain, std::string_view message,
                              std::string_view signature_hex);

}  // namespace strongbox::appliance
