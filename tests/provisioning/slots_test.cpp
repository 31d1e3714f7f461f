#include "strongbox/provisioning/slots.h"

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/provisioning/boot.h"
#include "strongbox/provisioning/installer.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "support/temp_dir.h"
#include <unistd.h>

namespace sp = strongbox::provisioning;
using namespace sp::testing;
using strongbox::core::ErrorCode;

namespace {

// A box running release 1.4.1 (security version 5) from slot a.
void provision_factory(sp::Storage & storage, const std::string & image) {
    REQUIRE(storage.write("slot-a", 0, image).ok());
    REQUIRE(storage.sync("slot-a").ok());
    sp::BootState state;
    state.slots[0].state = sp::SlotState::kGood;
    state.slots[0].security_version = 5;
    state.slots[0].payload_size = image.size();
    state.slots[0].payload_sha256 = strongbox::core::sha256(image);
    state.slots[0].version = "1.4.1";
    state.good_slot = 0;
    state.booted_slot = 0;
    state.security_floor = 5;
    sp::BootStore store(storage);
    REQUIRE(store.save(state).ok());
}

}  // namespace

TEST_CASE("a boot record round-trips and a single flipped bit makes it invalid") {
    sp::BootState s;
    s.generation = 7;
    s.good_slot = 1;
    s.booted_slot = 0;
    s.security_floor = 12;
    s.slots[0].state = sp::SlotState::kTrying;
    s.slots[0].tries_left = 2;
    s.slots[0].version = "2.0.0";
    const std::string bytes = sp::encode_boot_record(s);
    REQUIRE(bytes.size() == sp::kBootRecordSize);
    auto back = sp::decode_boot_record(bytes);
    REQUIRE(back.ok());
    CHECK(back->generation == 7);
    CHECK(back->slots[0].tries_left == 2);
    CHECK(back->slots[0].version == "2.0.0");
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::string t = bytes;
        t[i] ^= 0x10;
        CHECK_FALSE(sp::decode_boot_record(t).ok());
    }
}

TEST_CASE("the newer of two valid boot records wins and a torn newer record falls back to the older") {
    sp::MemoryStorage storage;
    provision_factory(storage, test_payload(5000, 1));
    sp::BootStore store(storage);
    auto s = store.load();
    REQUIRE(s.ok());
    s->security_floor = 99;
    REQUIRE(store.save(*s).ok());
    CHECK(store.load()->security_floor == 99);
    const std::string newest = "boot-" + std::to_string(s->generation % 2) + ".rec";
    storage.files()[newest].resize(100);
    auto fallback = store.load();
    REQUIRE(fallback.ok());
    CHECK(fallback->security_floor == 5);
}

TEST_CASE("an update installs into the inactive slot, boots on probation and raises the floor only when marked good") {
    sp::MemoryStorage storage;
    const std::string factory = test_payload(9000, 1);
    provision_factory(storage, factory);
    const std::string payload = test_payload(3 * 4096 + 5, 2);
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(payload, 6, {1, 2}, "1.5.0"), 4096).ok());
    auto installed = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_MESSAGE(installed.ok(), installed.error().to_string());
    CHECK(installed->slot == 1);
    CHECK(storage.files()["slot-b"] == payload);
    CHECK(storage.files()["slot-a"] == factory);

    auto boot = sp::select_boot_slot(storage);
    REQUIRE(boot.ok());
    CHECK(boot->slot == 1);
    CHECK(boot->trial);
    CHECK(boot->tries_left == 2);
    CHECK(sp::BootStore(storage).load()->security_floor == 5);

    REQUIRE(sp::mark_good(storage, 1).ok());
    auto state = sp::BootStore(storage).load();
    CHECK(state->security_floor == 6);
    CHECK(state->good_slot == 1);
    auto next = sp::select_boot_slot(storage);
    CHECK(next->slot == 1);
    CHECK_FALSE(next->trial);

    // The old release can no longer be installed.
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(factory, 5, {1, 2}, "1.4.1")).ok());
    auto rollback = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_FALSE(rollback.ok());
    CHECK(rollback.error().message().find("anti-rollback floor 6") != std::string::npos);
}

TEST_CASE("a bundle with a bad signature never touches a slot or the boot records") {
    sp::MemoryStorage storage;
    provision_factory(storage, test_payload(9000, 1));
    const auto before = storage.files();
    std::string bundle = test_bundle(test_payload(8192, 2), 6);
    bundle[sp::kBundleHeaderSize + 20] ^= 1;  // inside the manifest
    REQUIRE(sp::stage_bundle_bytes(storage, bundle).ok());
    auto installed = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_FALSE(installed.ok());
    CHECK(installed.error().code() == ErrorCode::kPermissionDenied);
    storage.files().erase("staging.bundle");
    CHECK(storage.files() == before);
}

TEST_CASE("a payload block that fails its hash stops the install and leaves the target slot unbootable") {
    sp::MemoryStorage storage;
    const std::string factory = test_payload(9000, 1);
    provision_factory(storage, factory);
    std::string bundle = test_bundle(test_payload(4 * 4096, 2), 6);
    bundle[bundle.size() - 1] ^= 1;  // the last block
    REQUIRE(sp::stage_bundle_bytes(storage, bundle).ok());
    auto installed = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_FALSE(installed.ok());
    CHECK(installed.error().message().find("block 3") != std::string::npos);
    CHECK(storage.files()["slot-a"] == factory);
    auto state = sp::BootStore(storage).load();
    CHECK(state->slots[1].state == sp::SlotState::kEmpty);
    auto boot = sp::select_boot_slot(storage);
    REQUIRE(boot.ok());
    CHECK(boot->slot == 0);
}

TEST_CASE("a second update is refused while the first still waits for its behaviour check") {
    sp::MemoryStorage storage;
    provision_factory(storage, test_payload(9000, 1));
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(test_payload(5000, 2), 6)).ok());
    REQUIRE(sp::install_staged_bundle(storage, test_key_set(), kProduct).ok());
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(test_payload(5000, 3), 7)).ok());
    auto second = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().code() == ErrorCode::kUnavailable);
}

TEST_CASE("only the booted trial slot can be marked good") {
    sp::MemoryStorage storage;
    provision_factory(storage, test_payload(9000, 1));
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(test_payload(5000, 2), 6)).ok());
    REQUIRE(sp::install_staged_bundle(storage, test_key_set(), kProduct).ok());
    auto early = sp::mark_good(storage, 1);
    REQUIRE_FALSE(early.ok());
    CHECK(early.error().message().find("not the booted slot") != std::string::npos);
    CHECK(sp::BootStore(storage).load()->security_floor == 5);
}

TEST_CASE("a fresh box with no boot records accepts its first image into slot a") {
    sp::MemoryStorage storage;
    const std::string payload = test_payload(4096 * 2, 4);
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(payload, 1)).ok());
    auto installed = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_MESSAGE(installed.ok(), installed.error().to_string());
    CHECK(installed->slot == 0);
    auto boot = sp::select_boot_slot(storage);
    REQUIRE(boot.ok());
    CHECK(boot->slot == 0);
    REQUIRE(sp::mark_good(storage, 0).ok());
}

TEST_CASE("the bundle is read from removable media once: changing it after staging does not change what installs") {
    std::string templ = (std::filesystem::temp_directory_path() / "sb-stage-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    const std::filesystem::path dir = templ;
    std::filesystem::create_directories(dir / "slots");
    const std::filesystem::path stick = dir / "update.sbx";
    const std::string payload = test_payload(3 * 4096, 12);
    REQUIRE(strongbox::core::write_file_atomic(stick, test_bundle(payload, 6)).ok());
    auto storage = sp::open_posix_storage(dir / "slots");
    REQUIRE(sp::stage_bundle(*storage, stick, 4096).ok());
    // The stick is swapped for something else between staging and installation.
    REQUIRE(strongbox::core::write_file_atomic(stick, test_bundle(test_payload(3 * 4096, 13), 6)).ok());
    auto installed = sp::install_staged_bundle(*storage, test_key_set(), kProduct);
    REQUIRE_MESSAGE(installed.ok(), installed.error().to_string());
    CHECK(storage->read("slot-a", 0, payload.size()).value() == payload);
    CHECK(installed->manifest.payload_sha256 == strongbox::core::sha256_hex(payload));
    std::filesystem::remove_all(dir);
}

TEST_CASE("an installed slot keeps its signed manifest, which reads back only for that slot's bytes and keys") {
    sp::MemoryStorage storage;
    provision_factory(storage, test_payload(9000, 1));
    const std::string payload = test_payload(2 * 4096 + 9, 2);
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(payload, 6, {1, 2}, "1.5.0"), 4096).ok());
    REQUIRE(sp::install_staged_bundle(storage, test_key_set(), kProduct).ok());
    const sp::BootState state = sp::BootStore(storage).load().value();

    auto m = sp::read_slot_manifest(storage, state, 1, test_key_set(), kProduct);
    REQUIRE_MESSAGE(m.ok(), m.error().to_string());
    CHECK(m->version == "1.5.0");
    CHECK(m->salt.model_sha256 == std::string(64, 'a'));
    CHECK(m->golden_latency_ms == 30000);
    CHECK(sp::salt_fingerprint(m->salt) == sp::salt_fingerprint(test_manifest(payload, 6, "1.5.0").salt));

    // The factory slot was never installed from a bundle: nothing to read, said so.
    auto none = sp::read_slot_manifest(storage, state, 0, test_key_set(), kProduct);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code() == ErrorCode::kNotFound);

    // Keys the box does not trust, or a head moved beside another image, are refused.
    sp::KeySet strangers = test_key_set();
    strangers.keys = {test_key(7).public_key, test_key(8).public_key};
    CHECK_FALSE(sp::read_slot_manifest(storage, state, 1, strangers, kProduct).ok());
    storage.files()["slot-a.head"] = storage.files()["slot-b.head"];
    auto moved = sp::read_slot_manifest(storage, state, 0, test_key_set(), kProduct);
    REQUIRE_FALSE(moved.ok());
    CHECK(moved.error().message().find("describes another image than slot-a") != std::string::npos);
}

TEST_CASE("a slot planted as a link to a file elsewhere is never written through") {
    strongbox::testing::TempDir dir("sb_slot_link");
    const std::filesystem::path slots = dir.path / "slots";
    std::filesystem::create_directories(slots);
    const std::filesystem::path victim = dir.path / "accounts.db";
    REQUIRE(strongbox::core::write_file_atomic(victim, "precious").ok());
    std::filesystem::create_symlink(victim, slots / "slot-b");

    auto storage = sp::open_posix_storage(slots);
    auto st = storage->write("slot-b", 0, "image bytes");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("not a block device") != std::string::npos);
    CHECK(strongbox::core::read_file(victim).value() == "precious");
}
