#include "strongbox/provisioning/key_set.h"

#include "codec.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"

#include <algorithm>

#include <sodium.h>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;
using core::Json;

void ensure_sodium() {
    SB_CHECK(sodium_init() >= 0);
}

std::string domain_message(std::string_view domain, std::string_view message) {
    std::string out;
    out.reserve(domain.size() + 1 + message.size());
    out.append(domain);
    out.push_back('\0');
    out.append(message);
    return out;
}

Json key_list(const std::vector<PublicKey> & keys) {
    Json arr = Json::array();
    for (const auto & k : keys) {
        arr.as_array().emplace_back(to_hex(k));
    }
    return arr;
}

Json key_set_json(const KeySet & set) {
    Json j = Json::object();
    j["product"] = set.product;
    j["version"] = set.version;
    j["threshold"] = static_cast<int64_t>(set.threshold);
    j["keys"] = key_list(set.keys);
    j["revoked"] = key_list(set.revoked);
    return j;
}

Error corrupt(std::string message) {
    return Error(ErrorCode::kCorruptInput, std::move(message));
}

core::Result<std::vector<PublicKey>> parse_key_list(const Json & j, std::string_view field) {
    const Json * arr = j.find(field);
    if (arr == nullptr || !arr->is_array() || arr->as_array().size() > 64) {
        return corrupt("key set: '" + std::string(field) + "' must be an array of at most 64 keys");
    }
    std::vector<PublicKey> out;
    for (const auto & item : arr->as_array()) {
        if (!item.is_string()) {
            return corrupt("key set: '" + std::string(field) + "' holds a non-string");
        }
        SB_ASSIGN_OR_RETURN(PublicKey key, public_key_from_hex(item.as_string()));
        if (std::find(out.begin(), out.end(), key) != out.end()) {
            return corrupt("key set: '" + std::string(field) + "' lists a key twice");
        }
        out.push_back(key);
    }
    return out;
}

core::Result<KeySet> parse_key_set(const Json & j) {
    if (!j.is_object() || j.as_object().size() != 5) {
        return corrupt("key set: expected exactly product, version, threshold, keys, revoked");
    }
    KeySet set;
    const Json * product = j.find("product");
    const Json * version = j.find("version");
    const Json * threshold = j.find("threshold");
    if (product == nullptr || !product->is_string() || product->as_string().empty()) {
        return corrupt("key set: 'product' must be a non-empty string");
    }
    if (version == nullptr || !version->is_int() || version->as_int() < 1) {
        return corrupt("key set: 'version' must be a positive integer");
    }
    if (threshold == nullptr || !threshold->is_int() || threshold->as_int() < 1 || threshold->as_int() > 64) {
        return corrupt("key set: 'threshold' must be an integer in 1..64");
    }
    set.product = product->as_string();
    set.version = static_cast<uint64_t>(version->as_int());
    set.threshold = static_cast<uint32_t>(threshold->as_int());
    SB_ASSIGN_OR_RETURN(set.keys, parse_key_list(j, "keys"));
    SB_ASSIGN_OR_RETURN(set.revoked, parse_key_list(j, "revoked"));
    for (const auto & k : set.keys) {
        if (set.is_revoked(k)) {
            return corrupt("key set: key " + to_hex(k) + " is both trusted and revoked");
        }
    }
    if (set.threshold > set.keys.size()) {
        return corrupt("key set: threshold " + std::to_string(set.threshold) + " exceeds the " +
                       std::to_string(set.keys.size()) + " release keys");
    }
    return set;
}

}  // namespace

KeyPair generate_key_pair() {
    ensure_sodium();
    KeyPair kp;
    crypto_sign_keypair(kp.public_key.data(), kp.secret_key.data());
    return kp;
}

KeyPair key_pair_from_seed(std::span<const uint8_t, 32> seed) {
    ensure_sodium();
    KeyPair kp;
    crypto_sign_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed.data());
    return kp;
}

Signature sign_message(const KeyPair & key, std::string_view domain, std::string_view message) {
    ensure_sodium();
    const std::string m = domain_message(domain, message);
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char *>(m.data()), m.size(),
                         key.secret_key.data());
    return sig;
}

bool verify_message(const PublicKey & key, std::string_view domain, std::string_view message, const Signature & sig) {
    ensure_sodium();
    const std::string m = domain_message(domain, message);
    return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char *>(m.data()), m.size(),
                                       key.data()) == 0;
}

std::string to_hex(const PublicKey & key) {
    return core::to_hex(key);
}

core::Result<PublicKey> public_key_from_hex(std::string_view hex) {
    auto key = detail::hex_to_array<32>(hex);
    if (!key) {
        return corrupt("public key '" + std::string(hex.substr(0, 80)) + "' is not 64 lowercase hex digits");
    }
    return *key;
}

bool KeySet::is_release_key(const PublicKey & key) const {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool KeySet::is_revoked(const PublicKey & key) const {
    return std::find(revoked.begin(), revoked.end(), key) != revoked.end();
}

std::string sign_key_set(const KeySet & set, const KeyPair & root) {
    const Json body = key_set_json(set);
    const Signature sig = sign_message(root, kKeySetDomain, body.dump());
    Json doc = Json::object();
    doc["key_set"] = body;
    doc["root_signature"] = core::to_hex(sig);
    return doc.dump();
}

core::Result<KeySet> verify_key_set(std::string_view document, const PublicKey & root) {
    SB_ASSIGN_OR_RETURN(Json doc, Json::parse(document));
    if (!doc.is_object() || doc.as_object().size() != 2 || doc.find("key_set") == nullptr ||
        doc.find("root_signature") == nullptr || !doc.find("root_signature")->is_string()) {
        return corrupt("key set document: expected exactly 'key_set' and 'root_signature'");
    }
    const Json & body = *doc.find("key_set");
    auto sig = detail::hex_to_array<64>(doc.find("root_signature")->as_string());
    if (!sig) {
        return corrupt("key set document: 'root_signature' is not 128 lowercase hex digits");
    }
    // Verify before interpreting any field: the signature covers the canonical body text.
    if (!body.is_object() || !verify_message(root, kKeySetDomain, body.dump(), *sig)) {
        return Error(ErrorCode::kPermissionDenied, "key set document: root signature does not verify");
    }
    return parse_key_set(body);
}

std::string encode_trust_store(const PublicKey & root, const std::string & signed_key_set) {
    Json doc = Json::object();
    doc["root_key"] = to_hex(root);
    auto parsed = Json::parse(signed_key_set);
    doc["key_set"] = parsed.ok() ? parsed.value() : Json();
    return doc.dump(2);
}

core::Result<TrustStore> load_trust_store(std::string_view text) {
    SB_ASSIGN_OR_RETURN(Json doc, Json::parse(text));
    const Json * root = doc.is_object() ? doc.find("root_key") : nullptr;
    const Json * set = doc.is_object() ? doc.find("key_set") : nullptr;
    if (root == nullptr || !root->is_string() || set == nullptr || !set->is_object()) {
        return corrupt("trust store: expected 'root_key' and 'key_set'");
    }
    TrustStore store;
    SB_ASSIGN_OR_RETURN(store.root, public_key_from_hex(root->as_string()));
    SB_ASSIGN_OR_RETURN(store.key_set, verify_key_set(set->dump(), store.root));
    return store;
}

core::Result<TrustStore> load_trust_store_file(const std::filesystem::path & path) {
    auto text = core::read_file(path);
    if (!text.ok()) {
        return Error(ErrorCode::kPermissionDenied, "no trusted keys at " + path.string() +
                                                       ": refusing to install anything (" + text.error().message() +
                                                       ")");
    }
    auto store = load_trust_store(*text);
    if (!store.ok()) {
        return std::move(store).error().with_context("trusted keys " + path.string());
    }
    return store;
}

core::Result<KeySet> rotate_key_set(const TrustStore & current, std::string_view document) {
    SB_ASSIGN_OR_RETURN(KeySet next, verify_key_set(document, current.root));
    if (next.product != current.key_set.product) {
        return Error(ErrorCode::kInvalidArgument,
                     "key set is for product '" + next.product + "', not '" + current.key_set.product + "'");
    }
    if (next.version <= current.key_set.version) {
        return Error(ErrorCode::kInvalidArgument, "key set version " + std::to_string(next.version) +
                                                      " is not newer than the trusted version " +
                                                      std::to_string(current.key_set.version));
    }
    return next;
}

std::string encode_key_pair(const KeyPair & key) {
    Json doc = Json::object();
    doc["public_key"] = to_hex(key.public_key);
    doc["secret_key"] = core::to_hex(key.secret_key);
    return doc.dump(2);
}

core::Result<KeyPair> decode_key_pair(std::string_view text) {
    SB_ASSIGN_OR_RETURN(Json doc, Json::parse(text));
    if (!doc.is_object() || !doc.find("public_key") || !doc.find("secret_key") ||
        !doc.find("public_key")->is_string() || !doc.find("secret_key")->is_string()) {
        return corrupt("key pair: expected 'public_key' and 'secret_key'");
    }
    KeyPair kp;
    SB_ASSIGN_OR_RETURN(kp.public_key, public_key_from_hex(doc.find("public_key")->as_string()));
    auto secret = detail::hex_to_array<64>(doc.find("secret_key")->as_string());
    if (!secret) {
        return corrupt("key pair: 'secret_key' is not 128 lowercase hex digits");
    }
    kp.secret_key = *secret;
    // An ed25519 secret key embeds its public half; a mismatch means the file was edited.
    if (!std::equal(kp.public_key.begin(), kp.public_key.end(), kp.secret_key.begin() + 32)) {
        return corrupt("key pair: public key does not match the secret key");
    }
    return kp;
}

}  // namespace strongbox::provisioning
