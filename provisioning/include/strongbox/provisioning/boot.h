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
