// Boot selection, mark-good and the isolated health-check runner.
//
// select_boot_slot() is what a bootloader script or initramfs calls (`strongbox boot select`):
// a slot waiting for confirmation (kTrying) gets one of its kMaxTries tries decremented and
// durably saved *before* it is started, so a crash loop still counts down; when its tries are
// spent it is marked bad and the good slot boots again. Only the booted system, once its
// behaviour check passed, calls mark_good(); only then does the anti-rollback floor rise.
//
// Thread-safety: none; one boot selection at a time.
// Errors: kCorruptInput/kNotFound when no boot record is valid, kUnavailable when no slot can
// boot, kInvalidArgument when mark_good() names a slot that is not the booted trial slot.
//
//   SB_ASSIGN_OR_RETURN(BootDecision d, select_boot_slot(storage));
//   start(slot_name(d.slot));
//   ... in the booted system, after the behaviour check:
//   SB_TRY(mark_good(storage, d.slot));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/provisioning/io.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/provisioning/slots.h"

#include <chrono>
#include <functional>
#include <string>

namespace strongbox::provisioning {

struct BootDecision {
    int slot = -1;
    bool trial = false;      // a new image on probation
    uint8_t tries_left = 0;  // after this boot
    std::string reason;
};

core::Result<BootDecision> select_boot_slot(Storage & storage);

// What a verified boot checks slots against: the trusted key set and the product.
struct BootTrust {
    const KeySet & keys;
    std::string product;
};

// select_boot_slot() that verifies each candidate before choosing it (what `strongbox boot
// select` runs when trusted keys are installed):
//   - its kept signed head ("slot-X.head") verifies with the trusted keys and describes the image
//     the boot record names (a slot installed before heads were kept is checked against its
//     record alone, and the reason says so);
//   - its signed security version is not below the floor, taken as the highest of the record's
//     floor and the signed versions of the slots marked good, so a record rewritten to lower the
//     floor does not let an older image start while a newer good one is there;
//   - its bytes hash to the image's sha256 (the whole slot is read).
// A slot that fails is marked bad, with the reason in the decision, and the next candidate (a
// trial slot, then the good slot, then another good slot) is tried.
core::Result<BootDecision> select_verified_boot_slot(Storage & storage, const BootTrust & trust);

core::Status mark_good(Storage & storage, int slot);

// Checks that a slot's bytes still hash to what its record says.
core::Status verify_slot(Storage & storage, const BootState & state, int slot);

struct CheckOutcome {
    bool passed = false;
    std::string detail;  // "exit status 3", "killed by signal 6", "no answer within 200 ms"
};

// Runs `check` in a child process: exit status 0 passes; a non-zero status, death by a signal,
// or running past `deadline` (the child is then killed) fails. A check that hangs or crashes
// therefore cannot take the caller down with it.
CheckOutcome run_isolated(const std::function<int()> & check, std::chrono::milliseconds deadline);

}  // namespace strongbox::provisioning
