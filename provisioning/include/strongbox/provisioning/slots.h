// A/B slots and the boot state that says which slot boots.
//
// Design notes:
// 1. Two slots, "slot-a" and "slot-b". The good slot is never written; the installer only writes
//    the other one, after first marking it empty, so a half-written slot is never bootable.
// 2. Boot state lives in two redundant records, "boot-0.rec" and "boot-1.rec", each 256 bytes
//    ending in a sha256 of the rest. A save writes generation g+1 into the record that does not
//    hold generation g and syncs it; a torn or lost write leaves the record with generation g
//    intact, so a load always finds one valid record.
// 3. The anti-rollback floor lives in the boot state and rises only in mark_good().
//
// Thread-safety: none; callers serialise access to the slots directory.
// Errors: kCorruptInput when neither record is valid, I/O errors from Storage with context.
//
//   BootStore store(storage);
//   SB_ASSIGN_OR_RETURN(BootState state, store.load());
//   state.slots[1].state = SlotState::kEmpty;
//   SB_TRY(store.save(state));
#pragma once

#include "strongbox/core/hash.h"
#include "strongbox/core/result.h"
#include "strongbox/provisioning/io.h"

#include <array>
#include <cstdint>
#include <string>

namespace strongbox::provisioning {

inline constexpr int kSlotCount = 2;
inline constexpr uint8_t kMaxTries = 3;

enum class SlotState : uint8_t {
    kEmpty = 0,   // nothing bootable (or being written)
    kTrying = 1,  // installed and verified, waiting for the booted system to mark it good
    kGood = 2,    // passed its behaviour check on this box
    kBad = 3,     // ran out of tries
};

std::string_view to_string(SlotState state);

struct SlotRecord {
    SlotState state = SlotState::kEmpty;
    uint8_t tries_left = 0;
    uint64_t security_version = 0;
    uint64_t payload_size = 0;
    core::Digest payload_sha256{};
    std::string version;  // display version, at most 32 bytes
};

struct BootState {
    uint64_t generation = 0;
    std::array<SlotRecord, kSlotCount> slots{};
    int good_slot = -1;    // the slot to fall back to; -1 before the first image
    int booted_slot = -1;  // what the last boot selection started
    uint64_t security_floor = 0;
};

std::string slot_name(int slot);  // "slot-a", "slot-b"
char slot_letter(int slot);       // 'a', 'b'
core::Result<int> slot_from_letter(std::string_view letter);

inline constexpr size_t kBootRecordSize = 256;

std::string encode_boot_record(const BootState & state);
core::Result<BootState> decode_boot_record(std::string_view bytes);

class BootStore {
  public:
    explicit BootStore(Storage & storage) : storage_(storage) {}

    // The valid record with the highest generation; kNotFound when neither record exists yet.
    core::Result<BootState> load();
    // Bumps the generation and durably writes the other record.
    core::Status save(BootState & state);

  private:
    Storage & storage_;
};

// Sha256 of the first `size` bytes of a slot, read in 1 MiB pieces.
core::Result<core::Digest> hash_slot(Storage & storage, int slot, uint64_t size);

}  // namespace strongbox::provisioning
