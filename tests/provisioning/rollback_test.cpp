// Rollback: an update whose behaviour check fails in any of six ways goes back to the previous
// slot after exactly three tries, with the previous slot, the data directory and the
// anti-rollback floor untouched. Health checks run in a child process, as on the box.

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/provisioning/boot.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/slots.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "support/temp_dir.h"
#include <unistd.h>

namespace sp = strongbox::provisioning;
namespace fs = std::filesystem;
using namespace sp::testing;

namespace {

using strongbox::testing::TempDir;

struct Box {
    TempDir dir{"sb-rollback"};
    fs::path slots;
    fs::path data;
    std::unique_ptr<sp::Storage> storage;
    std::string factory = test_payload(7000, 1);
    std::string update = test_payload(3 * 4096 + 11, 2);
    std::string model = "model weights of release 1.6.0";

    Box() : slots(dir.path / "slots"), data(dir.path / "data") {
        fs::create_directories(slots);
        fs::create_directories(data);
        storage = sp::open_posix_storage(slots);
        REQUIRE(storage->write("slot-a", 0, factory).ok());
        sp::BootState state;
        state.slots[0] = {sp::SlotState::kGood, 0, 5, factory.size(), strongbox::core::sha256(factory), "1.5.0"};
        state.good_slot = 0;
        state.booted_slot = 0;
        state.security_floor = 5;
        REQUIRE(sp::BootStore(*storage).save(state).ok());
        REQUIRE(strongbox::core::write_file_atomic(data / "strongbox.db", "schema 5; 1200 documents").ok());
        REQUIRE(strongbox::core::write_file_atomic(data / "model.gguf", model).ok());

        sp::Manifest m = test_manifest(update, 6, "1.6.0");
        m.salt.model_sha256 = strongbox::core::sha256_hex(model);
        const std::vector<sp::KeyPair> signers = {test_key(1), test_key(2)};
        const fs::path stick = dir.path / "update.sbx";
        REQUIRE(strongbox::core::write_file_atomic(stick, sp::build_bundle(m, update, signers)).ok());
        REQUIRE(sp::stage_bundle(*storage, stick, 4096).ok());
        auto installed = sp::install_staged_bundle(*storage, test_key_set(), kProduct);
        REQUIRE_MESSAGE(installed.ok(), installed.error().to_string());
        manifest = installed->manifest;
    }

    std::string data_fingerprint() const {
        return strongbox::core::sha256_file_hex(data / "strongbox.db").value_or("missing");
    }

    sp::Manifest manifest;
};

// The parts of the behaviour check these scenarios exercise, as the booted system runs them.
int check_slot_and_model(sp::Storage & storage, const fs::path & data, const sp::Manifest & m, int slot) {
    auto state = sp::BootStore(storage).load();
    if (!state.ok() || !sp::verify_slot(storage, *state, slot).ok()) {
        return 10;
    }
    auto model = strongbox::core::sha256_file_hex(data / "model.gguf");
    if (!model.ok() || *model != m.salt.model_sha256) {
        return 11;
    }
    return 0;
}

// The 1.6.0 migration upgrades schema 4 databases; this box's is schema 5, so the migration
// fails. It works on a copy and only replaces the database when every step succeeded.
int migrate_to_schema_6(const fs::path & data) {
    const fs::path scratch = data / "strongbox.db.migrating";
    std::error_code ec;
    fs::copy_file(data / "strongbox.db", scratch, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        return 20;
    }
    auto text = strongbox::core::read_file(scratch);
    if (!text.ok() || text->rfind("schema 4;", 0) != 0) {
        fs::remove(scratch, ec);
        return 21;
    }
    std::string migrated = "schema 6;" + text->substr(9);
    if (!strongbox::core::write_file_atomic(scratch, migrated).ok()) {
        return 22;
    }
    fs::rename(scratch, data / "strongbox.db", ec);
    return ec ? 23 : 0;
}

struct Outcome {
    int n_trial_boots = 0;
    int final_slot = -1;
    std::string last_detail;
};

Outcome boot_until_settled(Box & box, const std::function<int(int)> & check) {
    Outcome out;
    for (int boot = 0; boot < 10; ++boot) {
        auto d = sp::select_boot_slot(*box.storage);
        REQUIRE_MESSAGE(d.ok(), d.error().to_string());
        if (!d->trial) {
            out.final_slot = d->slot;
            return out;
        }
        ++out.n_trial_boots;
        const int slot = d->slot;
        const sp::CheckOutcome c = sp::run_isolated([&] { return check(slot); }, std::chrono::milliseconds(300));
        out.last_detail = c.detail;
        if (c.passed) {
            REQUIRE(sp::mark_good(*box.storage, slot).ok());
            out.final_slot = slot;
            return out;
        }
    }
    return out;
}

void expect_rolled_back(Box & box, const Outcome & out, const std::string & detail_part) {
    CHECK(out.n_trial_boots == 3);
    CHECK(out.final_slot == 0);
    CHECK_MESSAGE(out.last_detail.find(detail_part) != std::string::npos, out.last_detail);
    auto state = sp::BootStore(*box.storage).load();
    REQUIRE(state.ok());
    CHECK(state->security_floor == 5);
    CHECK(state->good_slot == 0);
    CHECK(state->slots[1].state == sp::SlotState::kBad);
    CHECK(sp::verify_slot(*box.storage, *state, 0).ok());
    CHECK(box.storage->read("slot-a", 0, box.factory.size()).value() == box.factory);
    CHECK(box.data_fingerprint() == strongbox::core::sha256_hex("schema 5; 1200 documents"));
    // Later boots stay on the previous release.
    CHECK(sp::select_boot_slot(*box.storage)->slot == 0);
}

}  // namespace

TEST_CASE("an update whose check passes is marked good on its first boot and raises the floor") {
    Box box;
    const Outcome out = boot_until_settled(
        box, [&](int slot) { return check_slot_and_model(*box.storage, box.data, box.manifest, slot); });
    CHECK(out.n_trial_boots == 1);
    CHECK(out.final_slot == 1);
    CHECK(sp::BootStore(*box.storage).load()->security_floor == 6);
}

TEST_CASE("an update whose check exits non-zero rolls back after three tries") {
    Box box;
    expect_rolled_back(box, boot_until_settled(box, [](int) { return 3; }), "exit status 3");
}

TEST_CASE("an update whose check hangs past the deadline rolls back after three tries") {
    Box box;
    expect_rolled_back(box,
                       boot_until_settled(box,
                                          [](int) {
                                              while (true) {
                                                  ::pause();
                                              }
                                              return 0;
                                          }),
                       "no answer within 300 ms");
}

TEST_CASE("an update that crashes on every start rolls back after three tries") {
    Box box;
    expect_rolled_back(box, boot_until_settled(box, [](int) -> int { std::abort(); }), "killed by signal 6");
}

TEST_CASE("an update whose slot has a corrupt block at boot rolls back after three tries") {
    Box box;
    std::string block = box.storage->read("slot-b", 4096, 1).value();
    block[0] = static_cast<char>(block[0] ^ 0x01);
    REQUIRE(box.storage->write("slot-b", 4096, block).ok());
    expect_rolled_back(
        box,
        boot_until_settled(box,
                           [&](int slot) { return check_slot_and_model(*box.storage, box.data, box.manifest, slot); }),
        "exit status 10");
}

TEST_CASE("an update whose model file is missing rolls back after three tries") {
    Box box;
    fs::remove(box.data / "model.gguf");
    expect_rolled_back(
        box,
        boot_until_settled(box,
                           [&](int slot) { return check_slot_and_model(*box.storage, box.data, box.manifest, slot); }),
        "exit status 11");
}

TEST_CASE("an update whose data migration fails rolls back after three tries with the database untouched") {
    Box box;
    expect_rolled_back(box, boot_until_settled(box, [&](int) { return migrate_to_schema_6(box.data); }),
                       "exit status 21");
    CHECK_FALSE(fs::exists(box.data / "strongbox.db.migrating"));
}
