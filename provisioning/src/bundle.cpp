#include "strongbox/provisioning/bundle.h"

#include "codec.h"

#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"

#include <algorithm>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;
using core::Json;

constexpr std::string_view kMagic = "SBOXBNDL";
constexpr uint32_t kFormat = 1;
constexpr uint32_t kMinBlockSize = 4096;
constexpr uint32_t kMaxBlockSize = 16u << 20;

Error corrupt(std::string message) {
    return Error(ErrorCode::kCorruptInput, std::move(message));
}

bool is_sha256_hex(const std::string & s) {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_printable(const std::string & s, size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

// Exact member set: an unexpected or missing member means the producer and this parser disagree.
bool has_exactly(const Json & j, std::initializer_list<std::string_view> keys) {
    if (!j.is_object() || j.as_object().size() != keys.size()) {
        return false;
    }
    return std::all_of(keys.begin(), keys.end(), [&](std::string_view k) { return j.contains(k); });
}

core::Result<uint64_t> get_uint(const Json & j, std::string_view key, uint64_t max) {
    const Json * v = j.find(key);
    if (v == nullptr || !v->is_int() || v->as_int() < 0 || static_cast<uint64_t>(v->as_int()) > max) {
        return corrupt("manifest: '" + std::string(key) + "' must be an integer in 0.." + std::to_string(max));
    }
    return static_cast<uint64_t>(v->as_int());
}

core::Result<std::string> get_hash(const Json & j, std::string_view key, bool may_be_empty) {
    const Json * v = j.find(key);
    if (v == nullptr || !v->is_string() ||
        !(is_sha256_hex(v->as_string()) || (may_be_empty && v->as_string().empty()))) {
        return corrupt("manifest: '" + std::string(key) + "' must be a lowercase sha256 hex digest");
    }
    return v->as_string();
}

uint64_t block_count(uint64_t size, uint64_t block_size) {
    return size / block_size + (size % block_size != 0 ? 1 : 0);
}

Json salt_json(const HiddenSalt & salt) {
    Json s = Json::object();
    s["model_sha256"] = salt.model_sha256;
    s["prompts_sha256"] = salt.prompts_sha256;
    s["tokenizer_sha256"] = salt.tokenizer_sha256;
    s["settings_sha256"] = salt.settings_sha256;
    s["index_params_sha256"] = salt.index_params_sha256;
    return s;
}

// Parses the signature block and checks k-of-n over the manifest bytes. Any entry that is not a
// valid signature by a current release key fails the whole bundle: a bundle is either signed
// exactly as released or it is not accepted.
core::Result<std::vector<PublicKey>> check_signatures(std::string_view block, std::string_view manifest,
                                                      const KeySet & keys) {
    if (block.size() < 4) {
        return corrupt("bundle: signature block shorter than its count");
    }
    const uint32_t count = detail::get_u32(block, 0);
    if (count == 0) {
        return Error(ErrorCode::kPermissionDenied, "bundle: unsigned");
    }
    if (count > kMaxSignatures || block.size() != 4 + uint64_t{count} * kSignatureEntrySize) {
        return corrupt("bundle: signature block size " + std::to_string(block.size()) + " does not hold " +
                       std::to_string(count) + " signatures");
    }
    std::vector<PublicKey> signers;
    for (uint32_t i = 0; i < count; ++i) {
        const size_t at = 4 + size_t{i} * kSignatureEntrySize;
        PublicKey key{};
        Signature sig{};
        std::copy_n(reinterpret_cast<const uint8_t *>(block.data() + at), key.size(), key.begin());
        std::copy_n(reinterpret_cast<const uint8_t *>(block.data() + at + 32), sig.size(), sig.begin());
        const std::string who = "signature " + std::to_string(i) + " (key " + to_hex(key).substr(0, 16) + ")";
        if (std::find(signers.begin(), signers.end(), key) != signers.end()) {
            return Error(ErrorCode::kPermissionDenied, "bundle: " + who + " repeats a signer");
        }
        if (keys.is_revoked(key)) {
            return Error(ErrorCode::kPermissionDenied, "bundle: " + who + " is by a revoked key");
        }
        if (!keys.is_release_key(key)) {
            return Error(ErrorCode::kPermissionDenied,
                         "bundle: " + who + " is by a key not in key set version " + std::to_string(keys.version));
        }
        if (!verify_message(key, kManifestDomain, manifest, sig)) {
            return Error(ErrorCode::kPermissionDenied, "bundle: " + who + " does not verify");
        }
        signers.push_back(key);
    }
    if (keys.threshold == 0 || signers.size() < keys.threshold) {
        return Error(ErrorCode::kPermissionDenied, "bundle: " + std::to_string(signers.size()) +
                                                       " valid signatures, key set requires " +
                                                       std::to_string(keys.threshold));
    }
    return signers;
}

}  // namespace

std::string salt_fingerprint(const HiddenSalt & salt) {
    return core::sha256_hex(salt_json(salt).dump());
}

std::string manifest_to_json(const Manifest & m) {
    Json payload = Json::object();
    payload["size"] = m.payload_size;
    payload["sha256"] = m.payload_sha256;
    payload["block_size"] = static_cast<int64_t>(m.block_size);
    Json blocks = Json::array();
    for (const auto & b : m.block_sha256) {
        blocks.as_array().emplace_back(b);
    }
    payload["blocks"] = std::move(blocks);
    Json health = Json::object();
    health["hardware_class"] = m.hardware_class;
    health["golden_latency_ms"] = static_cast<int64_t>(m.golden_latency_ms);
    Json j = Json::object();
    j["format"] = static_cast<int64_t>(kFormat);
    j["product"] = m.product;
    j["version"] = m.version;
    j["security_version"] = m.security_version;
    j["key_set_version"] = m.key_set_version;
    j["payload"] = std::move(payload);
    j["salt"] = salt_json(m.salt);
    j["health"] = std::move(health);
    return j.dump();
}

core::Result<Manifest> parse_manifest(std::string_view text) {
    if (text.size() > kMaxManifestSize) {
        return corrupt("manifest: " + std::to_string(text.size()) + " bytes exceeds the limit");
    }
    auto parsed = Json::parse(text);
    if (!parsed.ok()) {
        return std::move(parsed).error().with_context("manifest");
    }
    const Json & j = *parsed;
    if (!has_exactly(
            j, {"format", "product", "version", "security_version", "key_set_version", "payload", "salt", "health"})) {
        return corrupt("manifest: unexpected or missing top-level members");
    }
    Manifest m;
    SB_ASSIGN_OR_RETURN(uint64_t format, get_uint(j, "format", 1000));
    if (format != kFormat) {
        return Error(ErrorCode::kUnsupported, "manifest: format " + std::to_string(format) + " is not supported");
    }
    if (!j.find("product")->is_string() || !is_printable(j.find("product")->as_string(), 64)) {
        return corrupt("manifest: 'product' must be 1..64 printable characters");
    }
    if (!j.find("version")->is_string() || !is_printable(j.find("version")->as_string(), 64)) {
        return corrupt("manifest: 'version' must be 1..64 printable characters");
    }
    m.product = j.find("product")->as_string();
    m.version = j.find("version")->as_string();
    SB_ASSIGN_OR_RETURN(m.security_version, get_uint(j, "security_version", uint64_t{1} << 53));
    SB_ASSIGN_OR_RETURN(m.key_set_version, get_uint(j, "key_set_version", uint64_t{1} << 53));

    const Json & payload = *j.find("payload");
    if (!has_exactly(payload, {"size", "sha256", "block_size", "blocks"})) {
        return corrupt("manifest: 'payload' must hold exactly size, sha256, block_size, blocks");
    }
    SB_ASSIGN_OR_RETURN(m.payload_size, get_uint(payload, "size", kMaxPayloadSize));
    SB_ASSIGN_OR_RETURN(m.payload_sha256, get_hash(payload, "sha256", false));
    SB_ASSIGN_OR_RETURN(uint64_t block_size, get_uint(payload, "block_size", kMaxBlockSize));
    if (block_size < kMinBlockSize || (block_size & (block_size - 1)) != 0) {
        return corrupt("manifest: block_size " + std::to_string(block_size) +
                       " is not a power of two in 4 KiB..16 MiB");
    }
    m.block_size = static_cast<uint32_t>(block_size);
    const Json * blocks = payload.find("blocks");
    if (!blocks->is_array() || blocks->as_array().size() != block_count(m.payload_size, m.block_size)) {
        return corrupt("manifest: 'blocks' must list one hash per " + std::to_string(block_size) + "-byte block");
    }
    for (const auto & b : blocks->as_array()) {
        if (!b.is_string() || !is_sha256_hex(b.as_string())) {
            return corrupt("manifest: block hash " + std::to_string(m.block_sha256.size()) + " is malformed");
        }
        m.block_sha256.push_back(b.as_string());
    }

    const Json & salt = *j.find("salt");
    if (!has_exactly(
            salt, {"model_sha256", "prompts_sha256", "tokenizer_sha256", "settings_sha256", "index_params_sha256"})) {
        return corrupt("manifest: 'salt' must hold exactly the five pinned hashes");
    }
    SB_ASSIGN_OR_RETURN(m.salt.model_sha256, get_hash(salt, "model_sha256", true));
    SB_ASSIGN_OR_RETURN(m.salt.prompts_sha256, get_hash(salt, "prompts_sha256", true));
    SB_ASSIGN_OR_RETURN(m.salt.tokenizer_sha256, get_hash(salt, "tokenizer_sha256", true));
    SB_ASSIGN_OR_RETURN(m.salt.settings_sha256, get_hash(salt, "settings_sha256", true));
    SB_ASSIGN_OR_RETURN(m.salt.index_params_sha256, get_hash(salt, "index_params_sha256", true));

    const Json & health = *j.find("health");
    if (!has_exactly(health, {"hardware_class", "golden_latency_ms"}) || !health.find("hardware_class")->is_string() ||
        health.find("hardware_class")->as_string().size() > 64) {
        return corrupt("manifest: 'health' must hold hardware_class and golden_latency_ms");
    }
    m.hardware_class = health.find("hardware_class")->as_string();
    SB_ASSIGN_OR_RETURN(uint64_t latency, get_uint(health, "golden_latency_ms", 3'600'000));
    m.golden_latency_ms = static_cast<uint32_t>(latency);

    // One spelling only: whitespace, key order, escapes or number forms other than ours are
    // rejected, so the signed bytes and the meaning cannot drift apart.
    if (manifest_to_json(m) != text) {
        return corrupt("manifest: not in canonical form");
    }
    return m;
}

void describe_payload(Manifest & m, std::string_view payload) {
    SB_CHECK(m.block_size >= kMinBlockSize && (m.block_size & (m.block_size - 1)) == 0);
    m.payload_size = payload.size();
    m.payload_sha256 = core::sha256_hex(payload);
    m.block_sha256.clear();
    for (size_t at = 0; at < payload.size(); at += m.block_size) {
        m.block_sha256.push_back(core::sha256_hex(payload.substr(at, m.block_size)));
    }
}

core::Result<BundleLayout> parse_bundle_header(std::string_view header, uint64_t total_size) {
    if (header.size() < kBundleHeaderSize || total_size < kBundleHeaderSize) {
        return corrupt("bundle: " + std::to_string(std::min<uint64_t>(header.size(), total_size)) +
                       " bytes is shorter than the 40-byte header");
    }
    if (header.substr(0, kMagic.size()) != kMagic) {
        return corrupt("bundle: bad magic at offset 0 (not a Strongbox update bundle)");
    }
    if (detail::get_u32(header, 8) != kFormat) {
        return Error(ErrorCode::kUnsupported,
                     "bundle: format " + std::to_string(detail::get_u32(header, 8)) + " at offset 8 is not supported");
    }
    if (detail::get_u32(header, 12) != kBundleHeaderSize) {
        return corrupt("bundle: header size at offset 12 is not 40");
    }
    BundleLayout l;
    l.manifest_offset = kBundleHeaderSize;
    l.manifest_size = detail::get_u32(header, 16);
    l.signatures_size = detail::get_u32(header, 20);
    l.payload_size = detail::get_u64(header, 24);
    if (detail::get_u64(header, 32) != 0) {
        return corrupt("bundle: unknown flags at offset 32");
    }
    if (l.manifest_size == 0 || l.manifest_size > kMaxManifestSize) {
        return corrupt("bundle: manifest size " + std::to_string(l.manifest_size) + " at offset 16 is out of range");
    }
    if (l.signatures_size < 4 || l.signatures_size > 4 + kMaxSignatures * kSignatureEntrySize) {
        return corrupt("bundle: signature block size " + std::to_string(l.signatures_size) +
                       " at offset 20 is out of range");
    }
    if (l.payload_size > kMaxPayloadSize) {
        return corrupt("bundle: payload size " + std::to_string(l.payload_size) + " at offset 24 is out of range");
    }
    l.signatures_offset = l.manifest_offset + l.manifest_size;
    l.payload_offset = l.signatures_offset + l.signatures_size;
    // All sizes are bounded above, so this sum cannot overflow.
    if (l.payload_offset + l.payload_size != total_size) {
        return corrupt("bundle: header describes " + std::to_string(l.payload_offset + l.payload_size) +
                       " bytes but the bundle has " + std::to_string(total_size));
    }
    return l;
}

core::Result<VerifiedBundle> verify_bundle_head(std::string_view head, uint64_t total_size, const KeySet & keys,
                                                const VerifyPolicy & policy) {
    SB_ASSIGN_OR_RETURN(BundleLayout layout, parse_bundle_header(head, total_size));
    if (head.size() < layout.payload_offset) {
        return corrupt("bundle: truncated before the end of its signatures");
    }
    if (keys.keys.empty() || keys.threshold == 0) {
        return Error(ErrorCode::kPermissionDenied, "bundle: no trusted release keys configured");
    }
    const std::string_view manifest_bytes = head.substr(layout.manifest_offset, layout.manifest_size);
    const std::string_view sig_bytes = head.substr(layout.signatures_offset, layout.signatures_size);
    SB_ASSIGN_OR_RETURN(std::vector<PublicKey> signers, check_signatures(sig_bytes, manifest_bytes, keys));
    SB_ASSIGN_OR_RETURN(Manifest m, parse_manifest(manifest_bytes));
    if (m.product != policy.product || m.product != keys.product) {
        return Error(ErrorCode::kInvalidArgument,
                     "bundle: for product '" + m.product + "', this is '" + policy.product + "'");
    }
    if (m.key_set_version != keys.version) {
        return Error(ErrorCode::kInvalidArgument, "bundle: signed under key set version " +
                                                      std::to_string(m.key_set_version) + ", trusted is " +
                                                      std::to_string(keys.version));
    }
    if (m.security_version < policy.security_floor) {
        return Error(ErrorCode::kInvalidArgument, "bundle: security version " + std::to_string(m.security_version) +
                                                      " is below the anti-rollback floor " +
                                                      std::to_string(policy.security_floor));
    }
    if (m.payload_size != layout.payload_size) {
        return corrupt("bundle: manifest payload size " + std::to_string(m.payload_size) +
                       " differs from the framing's " + std::to_string(layout.payload_size));
    }
    return VerifiedBundle{std::move(m), layout, std::move(signers)};
}

core::Status check_payload_block(const Manifest & m, uint64_t index, std::string_view block) {
    if (index >= m.block_sha256.size()) {
        return corrupt("payload: block " + std::to_string(index) + " is beyond the manifest");
    }
    const uint64_t offset = index * m.block_size;
    const uint64_t expected = std::min<uint64_t>(m.block_size, m.payload_size - offset);
    if (block.size() != expected || core::sha256_hex(block) != m.block_sha256[index]) {
        return corrupt("payload: block " + std::to_string(index) + " at payload offset " + std::to_string(offset) +
                       " does not match the manifest");
    }
    return core::ok_status();
}

core::Result<VerifiedBundle> verify_bundle(std::string_view bundle, const KeySet & keys, const VerifyPolicy & policy) {
    SB_ASSIGN_OR_RETURN(VerifiedBundle v, verify_bundle_head(bundle, bundle.size(), keys, policy));
    const std::string_view payload = bundle.substr(v.layout.payload_offset);
    core::Sha256 whole;
    for (uint64_t i = 0; i < v.manifest.block_sha256.size(); ++i) {
        const std::string_view block = payload.substr(i * v.manifest.block_size, v.manifest.block_size);
        SB_TRY(check_payload_block(v.manifest, i, block));
        whole.update(block);
    }
    if (core::to_hex(whole.finish()) != v.manifest.payload_sha256) {
        return corrupt("payload: sha256 does not match the manifest");
    }
    return v;
}

core::Result<Manifest> read_manifest_unverified(std::string_view head, uint64_t total_size) {
    SB_ASSIGN_OR_RETURN(BundleLayout layout, parse_bundle_header(head, total_size));
    if (head.size() < layout.signatures_offset) {
        return corrupt("bundle: truncated inside its manifest");
    }
    return parse_manifest(head.substr(layout.manifest_offset, layout.manifest_size));
}

std::string build_bundle_head(const Manifest & manifest, std::span<const KeyPair> signers) {
    const std::string m = manifest_to_json(manifest);
    std::string sigs;
    detail::put_u32(sigs, static_cast<uint32_t>(signers.size()));
    for (const auto & key : signers) {
        const Signature sig = sign_message(key, kManifestDomain, m);
        sigs.append(detail::as_chars(key.public_key));
        sigs.append(detail::as_chars(sig));
    }
    std::string out(kMagic);
    detail::put_u32(out, kFormat);
    detail::put_u32(out, static_cast<uint32_t>(kBundleHeaderSize));
    detail::put_u32(out, static_cast<uint32_t>(m.size()));
    detail::put_u32(out, static_cast<uint32_t>(sigs.size()));
    detail::put_u64(out, manifest.payload_size);
    detail::put_u64(out, 0);
    out += m;
    out += sigs;
    return out;
}

std::string build_bundle(const Manifest & manifest, std::string_view payload, std::span<const KeyPair> signers) {
    SB_CHECK(manifest.payload_size == payload.size());
    std::string out = build_bundle_head(manifest, signers);
    out.append(payload);
    return out;
}

}  // namespace strongbox::provisioning
