// libFuzzer target for every parser of outside bytes in provisioning: bundle framing, manifest,
// key set documents, trust stores and boot records. Built with -DSB_FUZZ=ON (clang); the
// provisioning test suite links the same entry point and replays
// tests/data/provisioning/fuzz_corpus on every run.

#include "strongbox/provisioning/bundle.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/provisioning/slots.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

namespace {

namespace sp = strongbox::provisioning;

sp::KeyPair fuzz_key(uint8_t n) {
    std::array<uint8_t, 32> seed{};
    seed.fill(n);
    return sp::key_pair_from_seed(seed);
}

// The corpus bundles are signed by keys 1 and 2 of this set (root: key 100).
const sp::KeySet & fuzz_key_set() {
    static const sp::KeySet set = [] {
        sp::KeySet s;
        s.product = "strongbox";
        s.version = 1;
        s.threshold = 2;
        s.keys = {fuzz_key(1).public_key, fuzz_key(2).public_key, fuzz_key(3).public_key};
        s.revoked = {fuzz_key(9).public_key};
        return s;
    }();
    return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    (void)sp::parse_bundle_header(bytes, size);
    (void)sp::read_manifest_unverified(bytes, size);
    auto verified = sp::verify_bundle(bytes, fuzz_key_set(), sp::VerifyPolicy{"strongbox", 0});
    if (verified.ok()) {
        // Whatever verifies must be exactly what the signers released: the manifest bytes are
        // canonical and the payload fills the rest of the bundle.
        SB_CHECK(sp::manifest_to_json(verified->manifest) ==
                 bytes.substr(verified->layout.manifest_offset, verified->layout.manifest_size));
        SB_CHECK(verified->layout.payload_offset + verified->manifest.payload_size == size);
    }
    auto manifest = sp::parse_manifest(bytes);
    if (manifest.ok()) {
        SB_CHECK(sp::manifest_to_json(*manifest) == bytes);
    }
    (void)sp::verify_key_set(bytes, fuzz_key(100).public_key);
    (void)sp::load_trust_store(bytes);
    (void)sp::decode_key_pair(bytes);
    auto record = sp::decode_boot_record(bytes);
    if (record.ok()) {
        SB_CHECK(sp::encode_boot_record(*record) == bytes);
    }
    return 0;
}
