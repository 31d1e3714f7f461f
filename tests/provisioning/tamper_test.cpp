// The tamper matrix: thousands of damaged or forged bundles, none of which may verify, while the
// genuine bundle always does. Each case prints how many variants it checked.

#include "test_support.h"

#include "strongbox/core/hash.h"
#include "strongbox/provisioning/bundle.h"

#include <doctest/doctest.h>

#include <cstring>

namespace sp = strongbox::provisioning;
using namespace sp::testing;

namespace {

// 5 full blocks and a partial one, so block boundaries and the short tail are both exercised.
const std::string & genuine_payload() {
    static const std::string p = test_payload(5 * 4096 + 1234, 42);
    return p;
}

const std::string & genuine_bundle() {
    static const std::string b = test_bundle(genuine_payload());
    return b;
}

struct Matrix {
    size_t n_checked = 0;
    size_t n_accepted = 0;

    void expect_rejected(const std::string & bundle, const std::string & what, uint64_t floor = 5) {
        ++n_checked;
        auto v = sp::verify_bundle(bundle, test_key_set(), test_policy(floor));
        if (v.ok()) {
            ++n_accepted;
            FAIL_CHECK("accepted a tampered bundle: " << what);
        }
    }

    void report(const char * name) const {
        MESSAGE(std::string(name) << ": " << n_checked << " variants checked, " << n_accepted << " accepted");
        CHECK(n_accepted == 0);
        auto genuine = sp::verify_bundle(genuine_bundle(), test_key_set(), test_policy());
        CHECK_MESSAGE(genuine.ok(), "the genuine bundle stopped verifying");
    }
};

sp::BundleLayout layout_of(const std::string & bundle) {
    auto l = sp::parse_bundle_header(bundle, bundle.size());
    REQUIRE(l.ok());
    return *l;
}

void put_u32_at(std::string & s, size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) {
        s[at + i] = static_cast<char>((v >> (8 * i)) & 0xffU);
    }
}

void put_u64_at(std::string & s, size_t at, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) {
        s[at + i] = static_cast<char>((v >> (8 * i)) & 0xffU);
    }
}

}  // namespace

TEST_CASE("the genuine bundle verifies before and after every tamper case") {
    for (int i = 0; i < 3; ++i) {
        auto v = sp::verify_bundle(genuine_bundle(), test_key_set(), test_policy());
        REQUIRE_MESSAGE(v.ok(), v.error().to_string());
    }
}

TEST_CASE("flipping any single bit of the header, manifest or signatures is rejected") {
    Matrix m;
    const std::string & g = genuine_bundle();
    const sp::BundleLayout l = layout_of(g);
    for (size_t byte = 0; byte < l.payload_offset; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string t = g;
            t[byte] = static_cast<char>(t[byte] ^ (1 << bit));
            m.expect_rejected(t, "bit " + std::to_string(bit) + " of byte " + std::to_string(byte));
        }
    }
    CHECK(m.n_checked > 5000);
    m.report("bit flips in framing, manifest and signatures");
}

TEST_CASE("flipping payload bytes anywhere in the payload is rejected with the block named") {
    Matrix m;
    const std::string & g = genuine_bundle();
    const sp::BundleLayout l = layout_of(g);
    for (uint64_t off = 0; off < l.payload_size; off += 17) {
        std::string t = g;
        t[l.payload_offset + off] ^= static_cast<char>(0x80 >> (off % 8));
        m.expect_rejected(t, "payload byte " + std::to_string(off));
    }
    std::string last = g;
    last.back() ^= 1;
    m.expect_rejected(last, "last payload byte");
    m.report("payload byte flips");
}

TEST_CASE("truncation at every header byte and at many payload boundaries is rejected") {
    Matrix m;
    const std::string & g = genuine_bundle();
    const sp::BundleLayout l = layout_of(g);
    for (size_t len = 0; len <= l.payload_offset; ++len) {
        m.expect_rejected(g.substr(0, len), "truncated to " + std::to_string(len));
    }
    for (uint64_t len = l.payload_offset + 1; len < g.size(); len += 61) {
        m.expect_rejected(g.substr(0, len), "truncated to " + std::to_string(len));
    }
    for (uint64_t block = 1; block * 4096 < l.payload_size; ++block) {
        for (int d = -1; d <= 1; ++d) {
            m.expect_rejected(g.substr(0, l.payload_offset + block * 4096 + static_cast<uint64_t>(d)),
                              "truncated at block boundary " + std::to_string(block));
        }
    }
    m.expect_rejected(g.substr(0, g.size() - 1), "one byte short");
    m.report("truncations");
}

TEST_CASE("appended garbage of any length is rejected") {
    Matrix m;
    const std::string & g = genuine_bundle();
    for (size_t n : {1, 2, 3, 7, 8, 64, 4096, 65536}) {
        m.expect_rejected(g + std::string(n, '\0'), "appended " + std::to_string(n) + " zero bytes");
        m.expect_rejected(g + test_payload(n, n), "appended " + std::to_string(n) + " random bytes");
    }
    m.expect_rejected(g + g, "bundle appended to itself");
    m.report("appended garbage");
}

TEST_CASE("unsigned, under-signed, duplicate-signer, unknown-key and revoked-key bundles are rejected") {
    Matrix m;
    const std::string & p = genuine_payload();
    m.expect_rejected(test_bundle(p, 5, {}), "unsigned");
    m.expect_rejected(test_bundle(p, 5, {1}), "one of two required signatures");
    m.expect_rejected(test_bundle(p, 5, {3}), "one of two required signatures (key 3)");
    m.expect_rejected(test_bundle(p, 5, {1, 1}), "key 1 twice");
    m.expect_rejected(test_bundle(p, 5, {2, 2, 2}), "key 2 three times");
    m.expect_rejected(test_bundle(p, 5, {1, 4}), "unknown key 4");
    m.expect_rejected(test_bundle(p, 5, {4, 5}), "two unknown keys");
    m.expect_rejected(test_bundle(p, 5, {1, 2, 4}), "enough signatures plus an unknown key");
    m.expect_rejected(test_bundle(p, 5, {1, 9}), "revoked key 9");
    m.expect_rejected(test_bundle(p, 5, {1, 2, 9}), "enough signatures plus a revoked key");
    m.expect_rejected(test_bundle(p, 5, {100, 1}), "the root key signing a manifest");

    // A genuine signature over the same bytes but in the key-set domain must not count.
    const sp::Manifest manifest = test_manifest(p);
    const std::string text = sp::manifest_to_json(manifest);
    std::string forged = genuine_bundle();
    const sp::BundleLayout l = layout_of(forged);
    for (uint8_t k : {1, 2}) {
        const sp::Signature wrong = sp::sign_message(test_key(k), sp::kKeySetDomain, text);
        std::memcpy(forged.data() + l.signatures_offset + 4 + (k - 1) * 96 + 32, wrong.data(), wrong.size());
    }
    m.expect_rejected(forged, "signatures made in the key-set domain");

    // Signatures of one manifest moved onto another.
    std::string swapped = test_bundle(p, 6);
    const sp::BundleLayout ls = layout_of(swapped);
    swapped.replace(ls.signatures_offset, ls.signatures_size, genuine_bundle(), l.signatures_offset, l.signatures_size);
    m.expect_rejected(swapped, "signatures of security version 5 on a manifest of version 6");
    m.report("signature policy");
}

TEST_CASE("rollback, replay of older releases, wrong product and stale key sets are rejected") {
    Matrix m;
    const std::string & p = genuine_payload();
    m.expect_rejected(test_bundle(p, 4), "security version 4 under floor 5");
    m.expect_rejected(test_bundle(p, 0), "security version 0 under floor 5");
    m.expect_rejected(genuine_bundle(), "genuine release replayed after the floor rose to 6", 6);
    for (uint64_t old = 1; old < 5; ++old) {
        m.expect_rejected(test_bundle(test_payload(3000, old), old, {1, 2}, "1." + std::to_string(old) + ".0"),
                          "replay of release 1." + std::to_string(old));
    }

    sp::Manifest other = test_manifest(p);
    other.product = "other-box";
    const std::vector<sp::KeyPair> signers = {test_key(1), test_key(2)};
    m.expect_rejected(sp::build_bundle(other, p, signers), "wrong product");

    sp::Manifest stale = test_manifest(p);
    stale.key_set_version = 0;
    m.expect_rejected(sp::build_bundle(stale, p, signers), "signed under key set 0");
    auto newer = sp::verify_bundle(genuine_bundle(), test_key_set(2), test_policy());
    CHECK_FALSE(newer.ok());
    ++m.n_checked;
    m.report("rollback and replay");
}

TEST_CASE("the manifest of one release with the payload of another is rejected") {
    Matrix m;
    const std::string & g = genuine_bundle();
    const sp::BundleLayout l = layout_of(g);
    const std::string head = g.substr(0, l.payload_offset);
    m.expect_rejected(head + test_payload(l.payload_size, 7), "same-size payload of another release");
    std::string one_block = genuine_payload();
    one_block.replace(4096, 4096, test_payload(4096, 8));
    m.expect_rejected(head + one_block, "one block from another release");
    const std::string other = test_bundle(test_payload(l.payload_size, 9), 5, {1, 2}, "1.4.3");
    const sp::BundleLayout lo = layout_of(other);
    m.expect_rejected(head + other.substr(lo.payload_offset), "payload of release 1.4.3");
    m.expect_rejected(other.substr(0, lo.payload_offset) + genuine_payload(), "manifest of 1.4.3, payload of 1.4.2");
    m.report("mixed releases");
}

TEST_CASE("oversized or inconsistent length fields are rejected without reading past the end") {
    Matrix m;
    const std::string & g = genuine_bundle();
    const std::vector<uint64_t> sizes64 = {0,
                                           1,
                                           4095,
                                           uint64_t{1} << 32,
                                           uint64_t{1} << 40,
                                           (uint64_t{1} << 40) + 1,
                                           uint64_t{1} << 63,
                                           ~uint64_t{0},
                                           ~uint64_t{0} - 39};
    const std::vector<uint32_t> sizes32 = {
        0, 1, 3, 4, 100, 196, 197, 4 + 16 * 96, 4 + 17 * 96, 1u << 22, (1u << 22) + 1, 0x7fffffff, 0xffffffff};
    for (uint64_t v : sizes64) {
        std::string t = g;
        put_u64_at(t, 24, v);
        m.expect_rejected(t, "payload size " + std::to_string(v));
        put_u64_at(t, 24, layout_of(g).payload_size);
        put_u64_at(t, 32, v == 0 ? 1 : v);
        m.expect_rejected(t, "flags " + std::to_string(v));
    }
    for (uint32_t v : sizes32) {
        for (size_t field : {8, 12, 16, 20}) {
            std::string t = g;
            if (t.compare(field, 4, std::string(reinterpret_cast<const char *>(&v), 4)) == 0) {
                continue;  // that is the genuine value
            }
            put_u32_at(t, field, v);
            m.expect_rejected(t, "u32 at " + std::to_string(field) + " = " + std::to_string(v));
        }
    }
    // A signature count that promises more entries than the block holds.
    const sp::BundleLayout l = layout_of(g);
    for (uint32_t count : {0u, 1u, 3u, 16u, 17u, 0xffffffffu}) {
        std::string t = g;
        put_u32_at(t, l.signatures_offset, count);
        m.expect_rejected(t, "signature count " + std::to_string(count));
    }
    m.report("length fields");
}

TEST_CASE("a manifest that is genuinely signed but not canonical is rejected") {
    Matrix m;
    const std::string & p = genuine_payload();
    const std::string text = sp::manifest_to_json(test_manifest(p));
    std::vector<std::string> variants = {text + " ", " " + text, text + "\n"};
    std::string upper = text;
    const size_t at = upper.find(std::string(64, 'a'));
    upper.replace(at, 1, "A");
    variants.push_back(upper);
    std::string reordered = text;
    variants.push_back(reordered.replace(reordered.find("\"format\":1"), 10, "\"format\":1.0"));
    for (const auto & v : variants) {
        // Frame it by hand: build_bundle would re-serialise the manifest canonically.
        std::string head = genuine_bundle().substr(0, sp::kBundleHeaderSize);
        put_u32_at(head, 16, static_cast<uint32_t>(v.size()));
        std::string sigs(4, '\0');
        put_u32_at(sigs, 0, 2);
        for (uint8_t k : {1, 2}) {
            const sp::Signature s = sp::sign_message(test_key(k), sp::kManifestDomain, v);
            sigs.append(reinterpret_cast<const char *>(test_key(k).public_key.data()), 32);
            sigs.append(reinterpret_cast<const char *>(s.data()), 64);
        }
        m.expect_rejected(head + v + sigs + p, "non-canonical manifest");
    }
    m.report("non-canonical manifests");
}
