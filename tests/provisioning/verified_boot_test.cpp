// Verified boot: every slot is checked against its signed head before it starts, so bytes changed
// after install, or a boot record rewritten to lower the anti-rollback floor, do not start an image.

#include "test_support.h"

#include "strongbox/provisioning/boot.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/slots.h"

#include <doctest/doctest.h>

namespace sp = strongbox::provisioning;
using namespace sp::testing;

namespace {

// Installs a release into the slot that is not good, boots it and marks it good.
int install_and_confirm(sp::MemoryStorage & storage, const std::string & payload, uint64_t security_version,
                        const std::string & version) {
    REQUIRE(sp::stage_bundle_bytes(storage, test_bundle(payload, security_version, {1, 2}, version)).ok());
    auto installed = sp::install_staged_bundle(storage, test_key_set(), kProduct);
    REQUIRE_MESSAGE(installed.ok(), installed.error().to_string());
    auto booted = sp::select_verified_boot_slot(storage, {test_key_set(), kProduct});
    REQUIRE_MESSAGE(booted.ok(), booted.error().to_string());
    REQUIRE(booted->slot == installed->slot);
    REQUIRE(sp::mark_good(storage, booted->slot).ok());
    return installed->slot;
}

}  // namespace

TEST_CASE("a byte flipped in the good slot after install makes it unbootable and the other slot boots") {
    sp::MemoryStorage storage;
    const int first = install_and_confirm(storage, test_payload(9000, 1), 5, "1.4.2");
    const int second = install_and_confirm(storage, test_payload(9000, 2), 5, "1.4.3");
    REQUIRE(first != second);

    std::string & image = storage.files()[sp::slot_name(second)];
    image[4321] = static_cast<char>(image[4321] ^ 0x01);

    auto d = sp::select_verified_boot_slot(storage, {test_key_set(), kProduct});
    REQUIRE_MESSAGE(d.ok(), d.error().to_string());
    CHECK(d->slot == first);
    CHECK(d->reason.find("refused " + sp::slot_name(second)) != std::string::npos);
    auto state = sp::BootStore(storage).load();
    REQUIRE(state.ok());
    CHECK(state->slots[static_cast<size_t>(second)].state == sp::SlotState::kBad);
    CHECK(state->good_slot == first);
}

TEST_CASE("a boot record rewritten to lower the floor does not start the older image") {
    sp::MemoryStorage storage;
    const int old_slot = install_and_confirm(storage, test_payload(9000, 1), 5, "1.4.2");
    const int new_slot = install_and_confirm(storage, test_payload(9000, 2), 6, "1.5.0");
    auto state = sp::BootStore(storage).load();
    REQUIRE(state.ok());
    CHECK(state->security_floor == 6);

    // Someone with the daemon's rights rewrites the record: its checksum is no secret.
    sp::BootState forged = *state;
    forged.security_floor = 0;
    forged.good_slot = old_slot;
    forged.slots[static_cast<size_t>(old_slot)].state = sp::SlotState::kGood;
    REQUIRE(sp::BootStore(storage).save(forged).ok());

    auto d = sp::select_verified_boot_slot(storage, {test_key_set(), kProduct});
    REQUIRE_MESSAGE(d.ok(), d.error().to_string());
    CHECK(d->slot == new_slot);
    CHECK(d->reason.find("below the floor 6") != std::string::npos);
}

TEST_CASE("a slot whose kept head no longer verifies is refused") {
    sp::MemoryStorage storage;
    const int first = install_and_confirm(storage, test_payload(9000, 1), 5, "1.4.2");
    const int second = install_and_confirm(storage, test_payload(9000, 2), 5, "1.4.3");
    std::string & head = storage.files()[sp::slot_head_name(second)];
    head[head.size() - 5] = static_cast<char>(head[head.size() - 5] ^ 0x01);  // inside a signature

    auto d = sp::select_verified_boot_slot(storage, {test_key_set(), kProduct});
    REQUIRE_MESSAGE(d.ok(), d.error().to_string());
    CHECK(d->slot == first);
    CHECK(d->reason.find("refused " + sp::slot_name(second)) != std::string::npos);
}
