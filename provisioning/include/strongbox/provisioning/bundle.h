// Update bundle: the signed container an admin flashes.
//
// Layout (all integers little-endian), nothing before or after:
//   header     40 bytes: "SBOXBNDL", u32 format (1), u32 header size (40), u32 manifest size,
//              u32 signatures size, u64 payload size, u64 flags (0)
//   manifest   canonical JSON (see Manifest), at most kMaxManifestSize bytes
//   signatures u32 count (1..16), then count x (32-byte ed25519 public key, 64-byte signature)
//   payload    the root filesystem image
// Every length is checked against the exact total size, so a flipped bit, a truncation or
// appended bytes are framing errors. Signatures cover "strongbox/bundle-manifest/v1\0" + manifest
// and are checked (k distinct, trusted, unrevoked keys) before any manifest field is read; the
// manifest then pins the payload by size, sha256 and one sha256 per block.
//
// Thread-safety: pure functions over caller-owned bytes.
// Errors: framing and manifest faults return kCorruptInput; signature problems
// kPermissionDenied; wrong product, stale key set or a security version below the floor
// kInvalidArgument; payload mismatches kCorruptInput naming the block.
//
//   SB_ASSIGN_OR_RETURN(VerifiedBundle v, verify_bundle(bytes, trust.key_set, {.product = "strongbox", .security_floor
//   = 3})); std::cout << v.manifest.version;
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/provisioning/key_set.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::provisioning {

inline constexpr size_t kBundleHeaderSize = 40;
inline constexpr size_t kMaxManifestSize = 4u << 20;
inline constexpr uint32_t kMaxSignatures = 16;
inline constexpr size_t kSignatureEntrySize = 32 + 64;
inline constexpr uint64_t kMaxPayloadSize = uint64_t{1} << 40;

// The "hidden salt" of every answer: hashes (lowercase hex sha256, empty when absent) of what
// shapes an answer besides the documents.
struct HiddenSalt {
    std::string model_sha256;
    std::string prompts_sha256;
    std::string tokenizer_sha256;
    std::string settings_sha256;
    std::string index_params_sha256;
};

// One hash standing for the whole salt; recorded in audit records and /readyz.
std::string salt_fingerprint(const HiddenSalt & salt);

struct Manifest {
    std::string product;
    std::string version;            // for people: "1.4.2"
    uint64_t security_version = 0;  // anti-rollback: never installs below the floor
    uint64_t key_set_version = 0;
    uint64_t payload_size = 0;
    std::string payload_sha256;
    uint32_t block_size = 1u << 20;
    std::vector<std::string> block_sha256;
    HiddenSalt salt;
    std::string hardware_class;      // the class the latency promise is for
    uint32_t golden_latency_ms = 0;  // golden questions must be answered within this
};

std::string manifest_to_json(const Manifest & manifest);  // canonical bytes that get signed
core::Result<Manifest> parse_manifest(std::string_view text);

// Fills payload_size, payload_sha256 and block_sha256 from the payload bytes.
void describe_payload(Manifest & manifest, std::string_view payload);

struct BundleLayout {
    uint64_t manifest_offset = 0;
    uint64_t manifest_size = 0;
    uint64_t signatures_offset = 0;
    uint64_t signatures_size = 0;
    uint64_t payload_offset = 0;
    uint64_t payload_size = 0;
};

// Checks the header against the bundle's total size.
core::Result<BundleLayout> parse_bundle_header(std::string_view header, uint64_t total_size);

struct VerifyPolicy {
    std::string product;
    uint64_t security_floor = 0;
};

struct VerifiedBundle {
    Manifest manifest;
    BundleLayout layout;
    std::vector<PublicKey> signers;
};

// Verifies everything but the payload. `head` is the bundle from its first byte through the end
// of the signatures (more bytes are ignored); total_size is the size of the whole bundle.
core::Result<VerifiedBundle> verify_bundle_head(std::string_view head, uint64_t total_size, const KeySet & keys,
                                                const VerifyPolicy & policy);

// Checks one payload block against the manifest.
core::Status check_payload_block(const Manifest & manifest, uint64_t index, std::string_view block);

// Everything, payload included, for a bundle held in memory.
core::Result<VerifiedBundle> verify_bundle(std::string_view bundle, const KeySet & keys, const VerifyPolicy & policy);

// Reads the manifest without checking signatures: for `image inspect` without trusted keys.
core::Result<Manifest> read_manifest_unverified(std::string_view head, uint64_t total_size);

// Assembles a bundle. The manifest's payload fields must describe `payload`.
std::string build_bundle(const Manifest & manifest, std::string_view payload, std::span<const KeyPair> signers);

// Header + manifest + signatures; the payload follows it verbatim (for streaming large images).
std::string build_bundle_head(const Manifest & manifest, std::span<const KeyPair> signers);

}  // namespace strongbox::provisioning
