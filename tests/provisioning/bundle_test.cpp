#include "strongbox/provisioning/bundle.h"

#include "test_support.h"

#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

namespace sp = strongbox::provisioning;
using namespace sp::testing;
using strongbox::core::ErrorCode;

TEST_CASE("a genuine 2-of-3 signed bundle verifies and reports its manifest and signers") {
    const std::string payload = test_payload(3 * 4096 + 100, 1);
    const std::string bundle = test_bundle(payload);
    auto v = sp::verify_bundle(bundle, test_key_set(), test_policy());
    REQUIRE_MESSAGE(v.ok(), v.error().to_string());
    CHECK(v->manifest.version == "1.4.2");
    CHECK(v->manifest.security_version == 5);
    CHECK(v->manifest.payload_size == payload.size());
    CHECK(v->manifest.block_sha256.size() == 4);
    CHECK(v->signers.size() == 2);
    CHECK(v->layout.payload_offset + payload.size() == bundle.size());
}

TEST_CASE("building the same bundle twice gives the same bytes") {
    const std::string payload = test_payload(10000, 2);
    CHECK(test_bundle(payload) == test_bundle(payload));
}

TEST_CASE("an empty payload is a valid bundle") {
    auto v = sp::verify_bundle(test_bundle(""), test_key_set(), test_policy());
    REQUIRE_MESSAGE(v.ok(), v.error().to_string());
    CHECK(v->manifest.block_sha256.empty());
}

TEST_CASE("the manifest round-trips through its canonical JSON") {
    const sp::Manifest m = test_manifest(test_payload(5000, 3));
    const std::string text = sp::manifest_to_json(m);
    auto parsed = sp::parse_manifest(text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    CHECK(sp::manifest_to_json(*parsed) == text);
    CHECK(parsed->salt.model_sha256 == m.salt.model_sha256);
    CHECK(parsed->golden_latency_ms == 30000);
}

TEST_CASE("a manifest with extra whitespace or an unknown member is rejected as non-canonical") {
    const std::string text = sp::manifest_to_json(test_manifest("abc"));
    auto spaced = sp::parse_manifest(" " + text);
    CHECK_FALSE(spaced.ok());
    std::string extra = text;
    extra.insert(1, "\"extra\":1,");
    auto e = sp::parse_manifest(extra);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == ErrorCode::kCorruptInput);
}

TEST_CASE("the salt fingerprint changes when any pinned hash changes") {
    sp::HiddenSalt a = test_manifest("x").salt;
    sp::HiddenSalt b = a;
    b.tokenizer_sha256[0] = 'f';
    CHECK(sp::salt_fingerprint(a) != sp::salt_fingerprint(b));
    CHECK(sp::salt_fingerprint(a) == sp::salt_fingerprint(test_manifest("y").salt));
}

TEST_CASE("with no trusted release keys nothing verifies") {
    const std::string bundle = test_bundle(test_payload(100, 4));
    sp::KeySet none;
    none.product = kProduct;
    none.version = 1;
    auto v = sp::verify_bundle(bundle, none, test_policy());
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().code() == ErrorCode::kPermissionDenied);
}

TEST_CASE("a corrupt payload block is reported with its index and offset") {
    std::string bundle = test_bundle(test_payload(4 * 4096, 5));
    bundle[bundle.size() - 4096 - 10] ^= 1;  // inside block 2
    auto v = sp::verify_bundle(bundle, test_key_set(), test_policy());
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message().find("block 2 at payload offset 8192") != std::string::npos);
}

TEST_CASE("the unverified manifest reader shows what a bundle claims without trusting it") {
    const std::string bundle = test_bundle(test_payload(100, 6), 7, {1});
    auto m = sp::read_manifest_unverified(bundle, bundle.size());
    REQUIRE_MESSAGE(m.ok(), m.error().to_string());
    CHECK(m->security_version == 7);
}
