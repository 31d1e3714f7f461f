#include "strongbox/provisioning/key_set.h"

#include "test_support.h"

#include "strongbox/provisioning/bundle.h"

#include <doctest/doctest.h>

namespace sp = strongbox::provisioning;
using namespace sp::testing;
using strongbox::core::ErrorCode;

TEST_CASE("a key set signed by the root verifies and keeps its threshold, keys and revocations") {
    const std::string doc = sp::sign_key_set(test_key_set(), test_key(100));
    auto set = sp::verify_key_set(doc, test_key(100).public_key);
    REQUIRE_MESSAGE(set.ok(), set.error().to_string());
    CHECK(set->threshold == 2);
    CHECK(set->keys.size() == 3);
    CHECK(set->is_revoked(test_key(9).public_key));
    CHECK_FALSE(set->is_release_key(test_key(9).public_key));
}

TEST_CASE("a key set signed by another key or edited after signing is refused") {
    const std::string doc = sp::sign_key_set(test_key_set(), test_key(101));
    auto wrong_root = sp::verify_key_set(doc, test_key(100).public_key);
    REQUIRE_FALSE(wrong_root.ok());
    CHECK(wrong_root.error().code() == ErrorCode::kPermissionDenied);

    std::string edited = sp::sign_key_set(test_key_set(), test_key(100));
    const size_t at = edited.find("\"threshold\":2");
    REQUIRE(at != std::string::npos);
    edited[at + 12] = '1';
    auto e = sp::verify_key_set(edited, test_key(100).public_key);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == ErrorCode::kPermissionDenied);
}

TEST_CASE("a key set whose threshold exceeds its keys is refused even when signed") {
    sp::KeySet set = test_key_set();
    set.threshold = 4;
    auto v = sp::verify_key_set(sp::sign_key_set(set, test_key(100)), test_key(100).public_key);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message().find("threshold") != std::string::npos);
}

TEST_CASE("key rotation accepts only a newer root-signed key set, and bundles follow the new keys") {
    const sp::KeyPair root = test_key(100);
    auto store = sp::load_trust_store(sp::encode_trust_store(root.public_key, sp::sign_key_set(test_key_set(1), root)));
    REQUIRE_MESSAGE(store.ok(), store.error().to_string());

    // Version 2 retires key 1 (revoked) and brings in key 4.
    sp::KeySet next = test_key_set(2);
    next.keys = {test_key(2).public_key, test_key(3).public_key, test_key(4).public_key};
    next.revoked = {test_key(1).public_key, test_key(9).public_key};
    auto rotated = sp::rotate_key_set(*store, sp::sign_key_set(next, root));
    REQUIRE_MESSAGE(rotated.ok(), rotated.error().to_string());

    auto replayed = sp::rotate_key_set(*store, sp::sign_key_set(test_key_set(1), root));
    CHECK_FALSE(replayed.ok());
    auto forged = sp::rotate_key_set(*store, sp::sign_key_set(next, test_key(1)));
    CHECK_FALSE(forged.ok());

    const std::string payload = test_payload(5000, 11);
    sp::Manifest m = test_manifest(payload);
    m.key_set_version = 2;
    const std::vector<sp::KeyPair> new_signers = {test_key(2), test_key(4)};
    const std::vector<sp::KeyPair> old_signers = {test_key(1), test_key(2)};
    CHECK(sp::verify_bundle(sp::build_bundle(m, payload, new_signers), *rotated, test_policy()).ok());
    CHECK_FALSE(sp::verify_bundle(sp::build_bundle(m, payload, old_signers), *rotated, test_policy()).ok());
}

TEST_CASE("a missing trusted-keys file means nothing installs") {
    auto store = sp::load_trust_store_file("/nonexistent/strongbox/trusted-keys.json");
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code() == ErrorCode::kPermissionDenied);
    CHECK(store.error().message().find("refusing to install") != std::string::npos);
}

TEST_CASE("a key pair file round-trips and an edited public half is detected") {
    const sp::KeyPair k = test_key(5);
    auto back = sp::decode_key_pair(sp::encode_key_pair(k));
    REQUIRE(back.ok());
    CHECK(back->public_key == k.public_key);
    std::string text = sp::encode_key_pair(k);
    const std::string other = sp::to_hex(test_key(6).public_key);
    text.replace(text.find(sp::to_hex(k.public_key)), 64, other);
    CHECK_FALSE(sp::decode_key_pair(text).ok());
}
