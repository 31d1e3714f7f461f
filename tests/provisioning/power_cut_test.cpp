// Power cut at every write boundary: the whole update-and-boot sequence runs on a recording
// storage; for each write we rebuild what a crash right after it could leave on disk under three
// damage models and require that boot selection finds a slot holding a genuine image, for each
// of three consecutive boots.

#include "test_support.h"

#include "strongbox/core/hash.h"
#include "strongbox/provisioning/boot.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/slots.h"

#include <doctest/doctest.h>

#include <set>

namespace sp = strongbox::provisioning;
using namespace sp::testing;

namespace {

struct Release {
    std::string payload;
    std::string bundle;
};

Release release(uint64_t security_version, size_t size) {
    Release r;
    r.payload = test_payload(size, security_version);
    r.bundle = test_bundle(r.payload, security_version, {1, 2}, "1." + std::to_string(security_version) + ".0");
    return r;
}

std::map<std::string, std::string> factory_state(const std::string & image) {
    sp::MemoryStorage storage;
    REQUIRE(storage.write("slot-a", 0, image).ok());
    sp::BootState state;
    state.slots[0].state = sp::SlotState::kGood;
    state.slots[0].security_version = 5;
    state.slots[0].payload_size = image.size();
    state.slots[0].payload_sha256 = strongbox::core::sha256(image);
    state.slots[0].version = "1.5.0";
    state.good_slot = 0;
    state.booted_slot = 0;
    state.security_floor = 5;
    sp::BootStore store(storage);
    REQUIRE(store.save(state).ok());
    return storage.files();
}

// Returns an empty string when three boots each find a genuine, verifiable slot.
std::string check_boots(std::map<std::string, std::string> files, const std::set<std::string> & genuine) {
    sp::MemoryStorage storage;
    storage.files() = std::move(files);
    for (int boot = 1; boot <= 3; ++boot) {
        auto decision = sp::select_boot_slot(storage);
        if (!decision.ok()) {
            return "boot " + std::to_string(boot) + ": " + decision.error().to_string();
        }
        auto state = sp::BootStore(storage).load();
        if (!state.ok()) {
            return "boot " + std::to_string(boot) + ": state unreadable after select";
        }
        auto verified = sp::verify_slot(storage, *state, decision->slot);
        if (!verified.ok()) {
            return "boot " + std::to_string(boot) + ": " + verified.error().to_string();
        }
        const auto & rec = state->slots[static_cast<size_t>(decision->slot)];
        if (genuine.count(strongbox::core::to_hex(rec.payload_sha256)) == 0) {
            return "boot " + std::to_string(boot) + ": slot holds an image nobody released";
        }
    }
    return {};
}

}  // namespace

TEST_CASE("a power cut after any write of two updates and their boots always leaves a bootable genuine slot") {
    const std::string factory = test_payload(6000, 1);
    const Release v6 = release(6, 5 * 4096 + 77);
    const Release v7 = release(7, 4 * 4096 + 3);
    const std::set<std::string> genuine = {strongbox::core::sha256_hex(factory),
                                           strongbox::core::sha256_hex(v6.payload),
                                           strongbox::core::sha256_hex(v7.payload)};

    sp::RecordingStorage rec(factory_state(factory));
    // Update to 1.6.0, which passes its check; then to 1.7.0, which never does.
    REQUIRE(sp::stage_bundle_bytes(rec, v6.bundle, 8192).ok());
    REQUIRE(sp::install_staged_bundle(rec, test_key_set(), kProduct).ok());
    auto b1 = sp::select_boot_slot(rec);
    REQUIRE(b1.ok());
    REQUIRE(sp::mark_good(rec, b1->slot).ok());
    REQUIRE(sp::stage_bundle_bytes(rec, v7.bundle, 8192).ok());
    REQUIRE(sp::install_staged_bundle(rec, test_key_set(), kProduct).ok());
    for (int boot = 0; boot < 4; ++boot) {
        REQUIRE(sp::select_boot_slot(rec).ok());
    }
    REQUIRE(sp::select_boot_slot(rec)->slot == b1->slot);

    constexpr uint64_t kSeedsPerModel = 40;
    size_t n_states = 0;
    size_t n_failures = 0;
    for (size_t w = 1; w <= rec.n_writes(); ++w) {
        for (auto model :
             {sp::DamageModel::kDropUnsynced, sp::DamageModel::kRandomSubset, sp::DamageModel::kTornLast}) {
            const uint64_t seeds = model == sp::DamageModel::kDropUnsynced ? 1 : kSeedsPerModel;
            for (uint64_t seed = 0; seed < seeds; ++seed) {
                ++n_states;
                const std::string failure = check_boots(rec.crash_state(w, model, seed * 7919 + w), genuine);
                if (!failure.empty()) {
                    ++n_failures;
                    FAIL_CHECK("crash after write " << w << " (model " << static_cast<int>(model) << ", seed " << seed
                                                    << "): " << failure);
                }
            }
        }
    }
    MESSAGE(rec.n_writes() << " writes, " << n_states << " crash states checked, " << n_failures << " failures");
    CHECK(n_states > 2000);
    CHECK(n_failures == 0);
}

TEST_CASE("the crash model loses unsynced writes and keeps synced ones") {
    sp::RecordingStorage rec({});
    REQUIRE(rec.write("f", 0, "durable").ok());
    REQUIRE(rec.sync("f").ok());
    REQUIRE(rec.write("f", 0, "LOST").ok());
    auto dropped = rec.crash_state(2, sp::DamageModel::kDropUnsynced, 0);
    CHECK(dropped["f"] == "durable");
    auto torn = rec.crash_state(2, sp::DamageModel::kTornLast, 3);
    CHECK(torn["f"] != "LOSTble");
    CHECK(torn["f"].substr(4) == "ble");
    auto first = rec.crash_state(1, sp::DamageModel::kDropUnsynced, 0);
    CHECK(first.count("f") == 0);
}
