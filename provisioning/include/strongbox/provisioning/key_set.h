// Release keys: ed25519 key pairs, domain-separated signatures, and the key set that says which
// release keys may sign bundles.
//
// Trust flows from one offline root key. The root signs a key set (product, monotonically
// increasing version, k-of-n threshold, release keys, revoked keys); the appliance keeps the root
// public key and the newest key set it has accepted. Rotating release keys means publishing a new
// key set with a higher version; an older key set is never accepted again. Every signature covers
// "<domain>\0<message>" so a signature made for one purpose (a key set) can never be replayed as
// another (a bundle manifest).
//
// Thread-safety: all functions are pure; KeySet is plain data.
// Errors: malformed documents return kCorruptInput, a bad or missing root signature
// kPermissionDenied, an outdated key set kInvalidArgument; the message names the field.
//
//   KeyPair root = generate_key_pair();
//   KeySet set{.product = "strongbox", .version = 1, .threshold = 2, .keys = {a.public_key, b.public_key}};
//   std::string doc = sign_key_set(set, root);
//   SB_ASSIGN_OR_RETURN(KeySet trusted, verify_key_set(doc, root.public_key));
#pragma once

#include "strongbox/core/result.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::provisioning {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;
using Signature = std::array<uint8_t, 64>;

inline constexpr std::string_view kKeySetDomain = "strongbox/key-set/v1";
inline constexpr std::string_view kManifestDomain = "strongbox/bundle-manifest/v1";

struct KeyPair {
    PublicKey public_key{};
    SecretKey secret_key{};
};

KeyPair generate_key_pair();
// Deterministic keys for tests and reproducible fixtures.
KeyPair key_pair_from_seed(std::span<const uint8_t, 32> seed);

Signature sign_message(const KeyPair & key, std::string_view domain, std::string_view message);
bool verify_message(const PublicKey & key, std::string_view domain, std::string_view message, const Signature & sig);

std::string to_hex(const PublicKey & key);
core::Result<PublicKey> public_key_from_hex(std::string_view hex);

struct KeySet {
    std::string product;
    uint64_t version = 0;
    uint32_t threshold = 1;
    std::vector<PublicKey> keys;
    std::vector<PublicKey> revoked;

    bool is_release_key(const PublicKey & key) const;
    bool is_revoked(const PublicKey & key) const;
};

// The signed key set document: canonical JSON {"key_set":{...},"root_signature":"<hex>"}.
std::string sign_key_set(const KeySet & set, const KeyPair & root);
core::Result<KeySet> verify_key_set(std::string_view document, const PublicKey & root);

// What an appliance trusts: the root public key and the newest accepted key set. Stored as JSON
// {"root_key":"<hex>","key_set":<signed key set document>}; with no such file nothing installs.
struct TrustStore {
    PublicKey root{};
    KeySet key_set;
};

std::string encode_trust_store(const PublicKey & root, const std::string & signed_key_set);
core::Result<TrustStore> load_trust_store(std::string_view text);
core::Result<TrustStore> load_trust_store_file(const std::filesystem::path & path);

// Rotation: accepts `document` only when the root signed it, it is for the same product, and its
// version is strictly higher than the current one.
core::Result<KeySet> rotate_key_set(const TrustStore & current, std::string_view document);

// Key pair files: JSON {"public_key":"<hex>","secret_key":"<hex>"} (mode 0600 is the caller's job).
std::string encode_key_pair(const KeyPair & key);
core::Result<KeyPair> decode_key_pair(std::string_view text);

}  // namespace strongbox::provisioning
