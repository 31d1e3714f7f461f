// Offline update and go-live through the real strongbox binary and the shipped boot scripts: a
// bundle flashed from removable media is recorded in the audit trail; the booted trial slot is
// marked good only when its behaviour check passes against its signed manifest, and a failing
// check leaves it on probation until the try counter returns to the previous good slot.

#include "test_support.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/fingerprint.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/provisioning/bundle.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/provisioning/slots.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <random>

using namespace strongbox;
namespace fs = std::filesystem;
namespace prov = strongbox::provisioning;

namespace {

using appliance::testing::CommandRun;
using appliance::testing::run_command;
using appliance::testing::TempDir;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "appliance";
const fs::path kStrongbox = fs::path(SB_BINARY_DIR) / "appliance" / "strongbox";
const fs::path kScripts = fs::path(SB_TEST_DATA_DIR) / ".." / ".." / "provisioning" / "scripts";

std::string quoted(const fs::path & p) {
    return "'" + p.string() + "'";
}

prov::KeyPair key(uint8_t n) {
    std::array<uint8_t, 32> seed{};
    seed.fill(n);
    return prov::key_pair_from_seed(seed);
}

std::string payload(size_t size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(size, '\0');
    for (auto & c : out) {
        c = static_cast<char>(rng() & 0xff);
    }
    return out;
}

// A box running release 1.5.0 (security version 5) from slot a, with a data directory holding
// the operations guide, golden questions about it, and a 1.6.0 bundle on a "stick" whose manifest
// pins the settings hash of `signed_settings`.
struct Box {
    TempDir dir;
    fs::path slots;
    fs::path data;
    fs::path trust;
    fs::path golden;
    fs::path stick;
    std::string factory = payload(5000, 1);

    Box(const std::string & name, const appliance::Settings & signed_settings)
        : dir(name),
          slots(dir.path / "slots"),
          data(dir.path / "data"),
          trust(dir.path / "trusted-keys.json"),
          golden(dir.path / "golden.json"),
          stick(dir.path / "stick" / "strongbox-1.6.0.sbx") {
        {
            appliance::Settings s;
            s.data_dir = data;
            auto app = appliance::Appliance::open(s);
            REQUIRE_MESSAGE(app.ok(), app.error().to_string());
            REQUIRE((*app)
                        ->ingest({kData / "operations-guide.pdf"}, nullptr)
                        .count(appliance::IngestFileResult::Outcome::kAdded) == 1);
        }
        REQUIRE(core::write_file_atomic(golden, R"([{"question":"How long are monthly archive tapes kept?",)"
                                                R"("expect":[{"file":"operations-guide.pdf","page":2}]}])")
                    .ok());
        fs::create_directories(slots);
        auto storage = prov::open_posix_storage(slots);
        REQUIRE(storage->write("slot-a", 0, factory).ok());
        prov::BootState state;
        state.slots[0] = {prov::SlotState::kGood, 0, 5, factory.size(), core::sha256(factory), "1.5.0"};
        state.good_slot = 0;
        state.booted_slot = 0;
        state.security_floor = 5;
        REQUIRE(prov::BootStore(*storage).save(state).ok());

        const prov::KeyPair root = key(100);
        prov::KeySet set;
        set.product = "strongbox";
        set.version = 1;
        set.threshold = 2;
        set.keys = {key(1).public_key, key(2).public_key, key(3).public_key};
        REQUIRE(core::write_file_atomic(trust, prov::encode_trust_store(root.public_key, prov::sign_key_set(set, root)))
                    .ok());

        const std::string image = payload(3 * 4096 + 17, 2);
        prov::Manifest m;
        m.product = "strongbox";
        m.version = "1.6.0";
        m.security_version = 6;
        m.key_set_version = 1;
        m.block_size = 4096;
        m.salt.settings_sha256 = appliance::settings_sha256(signed_settings.to_json());
        m.hardware_class = "cpu-2core";
        m.golden_latency_ms = 30000;
        prov::describe_payload(m, image);
        fs::create_directories(stick.parent_path());
        const std::vector<prov::KeyPair> signers = {key(1), key(2)};
        REQUIRE(core::write_file_atomic(stick, prov::build_bundle(m, image, signers)).ok());
    }

    CommandRun strongbox(const std::string & args) const {
        return run_command(quoted(kStrongbox) + " " + args + " --data-dir " + quoted(data));
    }

    CommandRun flash() const {
        return strongbox("image flash " + quoted(stick) + " --slots " + quoted(slots) + " --trusted-keys " +
                         quoted(trust));
    }

    // One boot: the initramfs picks and "mounts" a slot, then the booted image confirms itself.
    CommandRun initramfs() const {
        return run_command("STRONGBOX=" + quoted(kStrongbox) + " STRONGBOX_SLOTS=" + quoted(slots) + " sh " +
                           quoted(kScripts / "initramfs-boot.sh") + " --dry-run");
    }
    CommandRun confirm() const {
        // boot-confirm.sh splits STRONGBOX_CONFIRM_ARGS on blanks and keeps any quotes as part of the
        // words, so the paths go in bare.
        const std::string extra = "--trusted-keys " + trust.string() + " --golden " + golden.string();
        REQUIRE(extra.find_first_of("'\"\t\n") == std::string::npos);
        REQUIRE(std::count(extra.begin(), extra.end(), ' ') == 3);
        return run_command("STRONGBOX=" + quoted(kStrongbox) + " STRONGBOX_DATA=" + quoted(data) +
                           " STRONGBOX_SLOTS=" + quoted(slots) + " STRONGBOX_CONFIRM_ARGS='" + extra + "' sh " +
                           quoted(kScripts / "boot-confirm.sh") + " --dry-run");
    }

    prov::BootState state() const {
        auto storage = prov::open_posix_storage(slots);
        auto s = prov::BootStore(*storage).load();
        REQUIRE(s.ok());
        return *s;
    }

    std::vector<appliance::AuditRecord> image_updates() const {
        auto log = appliance::AuditLog::open(data / "audit.db");
        REQUIRE(log.ok());
        appliance::AuditFilter f;
        f.kind = appliance::audit_kind::kImageUpdate;
        return (*log)->list(f).value();
    }
};

}  // namespace

TEST_CASE("a bundle flashed from removable media is staged, verified, installed and recorded in the audit trail") {
    Box box("sb_confirm_flash", appliance::Settings());
    const CommandRun flash = box.flash();
    INFO(flash.output);
    REQUIRE(flash.exit_code == 0);
    CHECK(flash.output.find("copying") != std::string::npos);
    // The copy in staging is what was verified and installed; the stick is not read again.
    CHECK(core::read_file(box.slots / "staging.bundle").value().substr(8) == core::read_file(box.stick).value());
    CHECK(box.state().slots[1].state == prov::SlotState::kTrying);
    const auto updates = box.image_updates();
    REQUIRE(updates.size() == 1);
    CHECK(updates[0].body.get_bool("ok"));
    CHECK(updates[0].body.get_string("version") == "1.6.0");
    CHECK(updates[0].body.get_string("slot") == "b");
    CHECK(updates[0].body.get_string("salt_fingerprint").size() == 64);

    // A damaged bundle is refused, and the refusal is recorded too.
    std::string bytes = core::read_file(box.stick).value();
    bytes[bytes.size() - 100] = static_cast<char>(bytes[bytes.size() - 100] ^ 1);
    REQUIRE(core::write_file_atomic(box.stick, bytes).ok());
    CHECK(box.flash().exit_code != 0);
    const auto after = box.image_updates();
    REQUIRE(after.size() == 2);
    CHECK_FALSE(after[1].body.get_bool("ok", true));
    CHECK_FALSE(after[1].body.get_string("error").empty());
}

TEST_CASE("the booted trial slot is marked good only after its behaviour check passes, raising the floor") {
    Box box("sb_confirm_good", appliance::Settings());
    REQUIRE(box.flash().exit_code == 0);
    const CommandRun boot = box.initramfs();
    INFO(boot.output);
    REQUIRE(boot.exit_code == 0);
    CHECK(boot.output.find("mount -t squashfs -o ro,loop " + (box.slots / "slot-b").string()) != std::string::npos);
    CHECK(box.state().slots[1].tries_left == 2);

    const CommandRun confirm = box.confirm();
    INFO(confirm.output);
    REQUIRE(confirm.exit_code == 0);
    CHECK(confirm.output.find("PASS  hidden salt matches the manifest") != std::string::npos);
    CHECK(confirm.output.find("slot-b (1.6.0) passed its behaviour check and is marked good") != std::string::npos);
    CHECK(confirm.output.find("exec " + kStrongbox.string() + " serve") != std::string::npos);
    const prov::BootState state = box.state();
    CHECK(state.good_slot == 1);
    CHECK(state.slots[1].state == prov::SlotState::kGood);
    CHECK(state.security_floor == 6);
    const auto updates = box.image_updates();
    REQUIRE(updates.size() == 2);
    CHECK(updates[1].body.get_string("action") == "marked_good");
}

TEST_CASE("a booted image that fails its behaviour check stays unmarked and rolls back after three boots") {
    appliance::Settings other;
    other.top_k = 8;  // the image promises settings this box does not run
    Box box("sb_confirm_rollback", other);
    REQUIRE(box.flash().exit_code == 0);
    for (int boot = 1; boot <= 3; ++boot) {
        CAPTURE(boot);
        const CommandRun select = box.initramfs();
        CHECK(select.output.find("slot-b") != std::string::npos);
        const CommandRun confirm = box.confirm();
        INFO(confirm.output);
        CHECK(confirm.exit_code != 0);
        CHECK(confirm.output.find("FAIL  hidden salt matches the manifest: differs: settings") != std::string::npos);
        CHECK(confirm.output.find("reboot -f") != std::string::npos);
        const prov::BootState state = box.state();
        CHECK(state.slots[1].state == prov::SlotState::kTrying);
        CHECK(state.security_floor == 5);
    }
    const CommandRun fallback = box.initramfs();
    INFO(fallback.output);
    CHECK(fallback.output.find("mount -t squashfs -o ro,loop " + (box.slots / "slot-a").string()) != std::string::npos);
    const prov::BootState state = box.state();
    CHECK(state.good_slot == 0);
    CHECK(state.slots[1].state == prov::SlotState::kBad);
    CHECK(state.security_floor == 5);
    CHECK(core::read_file(box.slots / "slot-a").value() == box.factory);
}
