// Fixtures shared by the provisioning tests: deterministic keys, key sets and bundles built from
// small generated payloads.
#pragma once

#include "strongbox/provisioning/bundle.h"
#include "strongbox/provisioning/key_set.h"

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace strongbox::provisioning::testing {

inline constexpr const char * kProduct = "strongbox";

inline KeyPair test_key(uint8_t n) {
    std::array<uint8_t, 32> seed{};
    seed.fill(n);
    return key_pair_from_seed(seed);
}

inline std::string test_payload(size_t size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(size, '\0');
    for (auto & c : out) {
        c = static_cast<char>(rng() & 0xff);
    }
    return out;
}

// Release keys 1..3 with a 2-of-3 threshold, key 9 revoked; the root is key 100.
inline KeySet test_key_set(uint64_t version = 1) {
    KeySet set;
    set.product = kProduct;
    set.version = version;
    set.threshold = 2;
    set.keys = {test_key(1).public_key, test_key(2).public_key, test_key(3).public_key};
    set.revoked = {test_key(9).public_key};
    return set;
}

inline Manifest test_manifest(std::string_view payload, uint64_t security_version = 5, std::string version = "1.4.2") {
    Manifest m;
    m.product = kProduct;
    m.version = std::move(version);
    m.security_version = security_version;
    m.key_set_version = 1;
    m.block_size = 4096;
    m.salt.model_sha256 = std::string(64, 'a');
    m.salt.prompts_sha256 = std::string(64, 'b');
    m.salt.tokenizer_sha256 = std::string(64, 'c');
    m.salt.settings_sha256 = std::string(64, 'd');
    m.salt.index_params_sha256 = "";
    m.hardware_class = "cpu-2core";
    m.golden_latency_ms = 30000;
    describe_payload(m, payload);
    return m;
}

inline std::string test_bundle(std::string_view payload, uint64_t security_version = 5,
                               std::vector<uint8_t> signers = {1, 2}, std::string version = "1.4.2") {
    std::vector<KeyPair> keys;
    for (uint8_t s : signers) {
        keys.push_back(test_key(s));
    }
    return build_bundle(test_manifest(payload, security_version, std::move(version)), payload, keys);
}

inline VerifyPolicy test_policy(uint64_t floor = 5) {
    return VerifyPolicy{kProduct, floor};
}

}  // namespace strongbox::provisioning::testing
