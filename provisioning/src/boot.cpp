#include "strongbox/provisioning/boot.h"

#include "strongbox/provisioning/installer.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;

}  // namespace

core::Result<BootDecision> select_boot_slot(Storage & storage) {
    BootStore store(storage);
    auto loaded = store.load();
    if (!loaded.ok()) {
        return std::move(loaded).error().with_context("boot select");
    }
    BootState state = *loaded;
    for (int s = 0; s < kSlotCount; ++s) {
        SlotRecord & rec = state.slots[static_cast<size_t>(s)];
        if (rec.state != SlotState::kTrying) {
            continue;
        }
        if (rec.tries_left > 0) {
            // Count the try down before starting it: a crash loop must not boot forever.
            rec.tries_left -= 1;
            state.booted_slot = s;
            SB_TRY(store.save(state));
            return BootDecision{s, true, rec.tries_left,
                                "trying " + rec.version + " in " + slot_name(s) + ", " +
                                    std::to_string(rec.tries_left) + " tries left after this one"};
        }
        rec.state = SlotState::kBad;
        SB_TRY(store.save(state));
    }
    if (state.good_slot < 0 || state.slots[static_cast<size_t>(state.good_slot)].state != SlotState::kGood) {
        return Error(ErrorCode::kUnavailable, "boot select: no good slot to boot");
    }
    const int good = state.good_slot;
    if (state.booted_slot != good) {
        state.booted_slot = good;
        SB_TRY(store.save(state));
    }
    return BootDecision{good, false, 0,
                        "booting good " + state.slots[static_cast<size_t>(good)].version + " in " + slot_name(good)};
}

core::Result<BootDecision> select_verified_boot_slot(Storage & storage, const BootTrust & trust) {
    BootStore store(storage);
    auto loaded = store.load();
    if (!loaded.ok()) {
        return std::move(loaded).error().with_context("boot select");
    }
    BootState state = *loaded;
    // What each slot's signed head says (kNotFound: installed before heads were kept), and the
    // floor the good ones imply.
    std::array<core::Result<Manifest>, kSlotCount> head = {Error(ErrorCode::kNotFound, ""),
                                                           Error(ErrorCode::kNotFound, "")};
    uint64_t floor = state.security_floor;
    for (int s = 0; s < kSlotCount; ++s) {
        const auto i = static_cast<size_t>(s);
        if (state.slots[i].state != SlotState::kEmpty) {
            head[i] = read_slot_manifest(storage, state, s, trust.keys, trust.product);
        }
        if (head[i].ok() && state.slots[i].state == SlotState::kGood) {
            floor = std::max(floor, head[i]->security_version);
        }
    }
    std::string notes;
    auto check = [&](int s) -> core::Status {
        const auto i = static_cast<size_t>(s);
        if (!head[i].ok() && head[i].error().code() != ErrorCode::kNotFound) {
            return head[i].error();  // a head that does not verify, or describes another image
        }
        if (!head[i].ok()) {
            notes += slot_name(s) + " has no signed head, checked against its record only; ";
        }
        const uint64_t version = head[i].ok() ? head[i]->security_version : state.slots[i].security_version;
        if (version < floor) {
            return Error(ErrorCode::kCorruptInput, slot_name(s) + ": security version " + std::to_string(version) +
                                                       " is below the floor " + std::to_string(floor));
        }
        return verify_slot(storage, state, s);
    };
    auto reject = [&](int s, const core::Error & why) -> core::Status {
        state.slots[static_cast<size_t>(s)].state = SlotState::kBad;
        notes += "refused " + slot_name(s) + ": " + why.message() + "; ";
        return store.save(state);
    };
    for (int s = 0; s < kSlotCount; ++s) {
        SlotRecord & rec = state.slots[static_cast<size_t>(s)];
        if (rec.state != SlotState::kTrying) {
            continue;
        }
        if (rec.tries_left == 0) {
            rec.state = SlotState::kBad;
            SB_TRY(store.save(state));
            continue;
        }
        if (auto st = check(s); !st.ok()) {
            SB_TRY(reject(s, st.error()));
            continue;
        }
        rec.tries_left -= 1;
        state.booted_slot = s;
        SB_TRY(store.save(state));
        return BootDecision{s, true, rec.tries_left,
                            notes + "trying " + rec.version + " in " + slot_name(s) + ", " +
                                std::to_string(rec.tries_left) + " tries left after this one"};
    }
    std::vector<int> good;
    if (state.good_slot >= 0) {
        good.push_back(state.good_slot);
    }
    for (int s = 0; s < kSlotCount; ++s) {
        if (s != state.good_slot) {
            good.push_back(s);
        }
    }
    for (int s : good) {
        if (state.slots[static_cast<size_t>(s)].state != SlotState::kGood) {
            continue;
        }
        if (auto st = check(s); !st.ok()) {
            SB_TRY(reject(s, st.error()));
            continue;
        }
        if (state.booted_slot != s || state.good_slot != s) {
            state.booted_slot = s;
            state.good_slot = s;
            SB_TRY(store.save(state));
        }
        return BootDecision{
            s, false, 0, notes + "booting good " + state.slots[static_cast<size_t>(s)].version + " in " + slot_name(s)};
    }
    return Error(ErrorCode::kUnavailable, "boot select: no slot passes verification: " + notes);
}

core::Status mark_good(Storage & storage, int slot) {
    if (slot < 0 || slot >= kSlotCount) {
        return Error(ErrorCode::kInvalidArgument, "mark good: no slot " + std::to_string(slot));
    }
    BootStore store(storage);
    SB_ASSIGN_OR_RETURN(BootState state, store.load());
    SlotRecord & rec = state.slots[static_cast<size_t>(slot)];
    if (state.booted_slot != slot) {
        return Error(ErrorCode::kInvalidArgument, "mark good: " + slot_name(slot) + " is not the booted slot");
    }
    if (rec.state == SlotState::kGood && state.good_slot == slot) {
        return core::ok_status();
    }
    if (rec.state != SlotState::kTrying) {
        return Error(ErrorCode::kInvalidArgument,
                     "mark good: " + slot_name(slot) + " is " + std::string(to_string(rec.state)) + ", not trying");
    }
    rec.state = SlotState::kGood;
    rec.tries_left = 0;
    state.good_slot = slot;
    state.security_floor = std::max(state.security_floor, rec.security_version);
    return store.save(state);
}

core::Status verify_slot(Storage & storage, const BootState & state, int slot) {
    const SlotRecord & rec = state.slots[static_cast<size_t>(slot)];
    if (rec.state == SlotState::kEmpty) {
        return Error(ErrorCode::kNotFound, "verify " + slot_name(slot) + ": slot is empty");
    }
    SB_ASSIGN_OR_RETURN(core::Digest digest, hash_slot(storage, slot, rec.payload_size));
    if (digest != rec.payload_sha256) {
        return Error(ErrorCode::kCorruptInput, "verify " + slot_name(slot) + ": contents do not match " + rec.version);
    }
    return core::ok_status();
}

CheckOutcome run_isolated(const std::function<int()> & check, std::chrono::milliseconds deadline) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        return {false, "could not start the check process"};
    }
    if (pid == 0) {
        // Judge a crash by the signal that ended the check, not by handlers inherited from us.
        for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM}) {
            ::signal(sig, SIG_DFL);
        }
        int code = 1;
        try {
            code = check();
        } catch (...) {
            code = 1;
        }
        ::_exit(code);
    }
    const auto until = std::chrono::steady_clock::now() + deadline;
    int status = 0;
    while (true) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (std::chrono::steady_clock::now() >= until) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return {false, "no answer within " + std::to_string(deadline.count()) + " ms"};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        return {code == 0, "exit status " + std::to_string(code)};
    }
    if (WIFSIGNALED(status)) {
        return {false, "killed by signal " + std::to_string(WTERMSIG(status))};
    }
    return {false, "ended abnormally"};
}

}  // namespace strongbox::provisioning
