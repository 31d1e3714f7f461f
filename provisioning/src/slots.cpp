#include "strongbox/provisioning/slots.h"

#include "codec.h"

#include <algorithm>
#include <optional>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;

constexpr std::string_view kRecordMagic = "SBBOOTR1";
constexpr size_t kVersionField = 32;
constexpr size_t kChecksumAt = kBootRecordSize - 32;

std::string record_name(int index) {
    return "boot-" + std::to_string(index) + ".rec";
}

}  // namespace

std::string_view to_string(SlotState state) {
    switch (state) {
    case SlotState::kEmpty:
        return "empty";
    case SlotState::kTrying:
        return "trying";
    case SlotState::kGood:
        return "good";
    case SlotState::kBad:
        return "bad";
    }
    return "unknown";
}

std::string slot_name(int slot) {
    SB_CHECK(slot >= 0 && slot < kSlotCount);
    return std::string("slot-") + slot_letter(slot);
}

char slot_letter(int slot) {
    SB_CHECK(slot >= 0 && slot < kSlotCount);
    return static_cast<char>('a' + slot);
}

core::Result<int> slot_from_letter(std::string_view letter) {
    if (letter == "a" || letter == "A") {
        return 0;
    }
    if (letter == "b" || letter == "B") {
        return 1;
    }
    return Error(ErrorCode::kInvalidArgument, "slot '" + std::string(letter) + "' is not a or b");
}

std::string encode_boot_record(const BootState & s) {
    std::string out(kRecordMagic);
    detail::put_u64(out, s.generation);
    out.push_back(static_cast<char>(static_cast<int8_t>(s.good_slot)));
    out.push_back(static_cast<char>(static_cast<int8_t>(s.booted_slot)));
    detail::put_u64(out, s.security_floor);
    for (const auto & slot : s.slots) {
        SB_CHECK(slot.version.size() <= kVersionField);
        out.push_back(static_cast<char>(slot.state));
        out.push_back(static_cast<char>(slot.tries_left));
        detail::put_u64(out, slot.security_version);
        detail::put_u64(out, slot.payload_size);
        out.append(detail::as_chars(slot.payload_sha256));
        std::string version = slot.version;
        version.resize(kVersionField, '\0');
        out += version;
    }
    SB_CHECK(out.size() <= kChecksumAt);
    out.resize(kChecksumAt, '\0');
    out.append(detail::as_chars(core::sha256(out)));
    return out;
}

core::Result<BootState> decode_boot_record(std::string_view bytes) {
    if (bytes.size() != kBootRecordSize || bytes.substr(0, kRecordMagic.size()) != kRecordMagic) {
        return Error(ErrorCode::kCorruptInput, "boot record: bad size or magic");
    }
    const core::Digest sum = core::sha256(bytes.substr(0, kChecksumAt));
    if (detail::as_chars(sum) != bytes.substr(kChecksumAt)) {
        return Error(ErrorCode::kCorruptInput, "boot record: checksum mismatch");
    }
    BootState s;
    size_t at = kRecordMagic.size();
    s.generation = detail::get_u64(bytes, at);
    at += 8;
    s.good_slot = static_cast<int8_t>(bytes[at++]);
    s.booted_slot = static_cast<int8_t>(bytes[at++]);
    s.security_floor = detail::get_u64(bytes, at);
    at += 8;
    for (auto & slot : s.slots) {
        const auto state = static_cast<uint8_t>(bytes[at++]);
        if (state > static_cast<uint8_t>(SlotState::kBad)) {
            return Error(ErrorCode::kCorruptInput, "boot record: unknown slot state");
        }
        slot.state = static_cast<SlotState>(state);
        slot.tries_left = static_cast<uint8_t>(bytes[at++]);
        slot.security_version = detail::get_u64(bytes, at);
        at += 8;
        slot.payload_size = detail::get_u64(bytes, at);
        at += 8;
        std::copy_n(reinterpret_cast<const uint8_t *>(bytes.data() + at), 32, slot.payload_sha256.begin());
        at += 32;
        std::string version(bytes.substr(at, kVersionField));
        version.resize(std::min(version.size(), version.find('\0')));
        slot.version = version;
        at += kVersionField;
    }
    if (s.good_slot < -1 || s.good_slot >= kSlotCount || s.booted_slot < -1 || s.booted_slot >= kSlotCount) {
        return Error(ErrorCode::kCorruptInput, "boot record: slot index out of range");
    }
    return s;
}

core::Result<BootState> BootStore::load() {
    std::optional<BootState> best;
    std::string faults;
    int n_missing = 0;
    for (int i = 0; i < 2; ++i) {
        auto bytes = storage_.read(record_name(i), 0, kBootRecordSize);
        auto state = bytes.ok() ? decode_boot_record(*bytes) : core::Result<BootState>(bytes.error());
        if (!state.ok()) {
            n_missing += state.error().code() == ErrorCode::kNotFound ? 1 : 0;
            faults += " " + record_name(i) + ": " + state.error().message() + ";";
            continue;
        }
        if (!best || state->generation > best->generation) {
            best = *state;
        }
    }
    if (!best && n_missing == 2) {
        return Error(ErrorCode::kNotFound, "no boot records yet");
    }
    if (!best) {
        return Error(ErrorCode::kCorruptInput, "no valid boot record:" + faults);
    }
    return *best;
}

core::Status BootStore::save(BootState & state) {
    state.generation += 1;
    const std::string name = record_name(static_cast<int>(state.generation % 2));
    auto status = storage_.write(name, 0, encode_boot_record(state));
    if (status.ok()) {
        status = storage_.sync(name);
    }
    if (!status.ok()) {
        return std::move(status).error().with_context("save boot state");
    }
    return core::ok_status();
}

core::Result<core::Digest> hash_slot(Storage & storage, int slot, uint64_t size) {
    core::Sha256 h;
    constexpr uint64_t kPiece = 1u << 20;
    for (uint64_t at = 0; at < size; at += kPiece) {
        auto bytes = storage.read(slot_name(slot), at, static_cast<size_t>(std::min(kPiece, size - at)));
        if (!bytes.ok()) {
            return std::move(bytes).error().with_context("hash " + slot_name(slot));
        }
        h.update(*bytes);
    }
    return h.finish();
}

}  // namespace strongbox::provisioning
