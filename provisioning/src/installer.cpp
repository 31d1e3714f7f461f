#include "strongbox/provisioning/installer.h"

#include "codec.h"

#include "strongbox/core/hash.h"
#include "strongbox/provisioning/slots.h"

#include <fstream>

namespace strongbox::provisioning {
namespace {

using core::Error;
using core::ErrorCode;

// Staging holds a u64 length and then the bundle, so a shorter bundle staged over a longer one
// needs no truncate.
constexpr size_t kStagingPrefix = 8;

core::Status with_context(core::Status status, std::string_view what) {
    if (!status.ok()) {
        return std::move(status).error().with_context(what);
    }
    return status;
}

core::Status finish_staging(Storage & storage, uint64_t length) {
    std::string prefix;
    detail::put_u64(prefix, length);
    SB_TRY(storage.write(kStagingName, 0, prefix));
    return storage.sync(kStagingName);
}

}  // namespace

core::Status stage_bundle(Storage & storage, const std::filesystem::path & source, size_t chunk) {
    std::ifstream in(source, std::ios::binary);
    if (!in) {
        return Error(ErrorCode::kNotFound, "stage bundle: cannot open " + source.string());
    }
    std::string buffer(chunk, '\0');
    uint64_t total = 0;
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto n = static_cast<size_t>(in.gcount());
        if (n == 0) {
            break;
        }
        SB_TRY(with_context(storage.write(kStagingName, kStagingPrefix + total, std::string_view(buffer).substr(0, n)),
                            "stage bundle"));
        total += n;
    }
    if (in.bad()) {
        return Error(ErrorCode::kIoError, "stage bundle: read error in " + source.string());
    }
    return with_context(finish_staging(storage, total), "stage bundle");
}

core::Status stage_bundle_bytes(Storage & storage, std::string_view bundle, size_t chunk) {
    for (size_t at = 0; at < bundle.size(); at += chunk) {
        SB_TRY(
            with_context(storage.write(kStagingName, kStagingPrefix + at, bundle.substr(at, chunk)), "stage bundle"));
    }
    return with_context(finish_staging(storage, bundle.size()), "stage bundle");
}

core::Result<InstallResult> install_staged_bundle(Storage & storage, const KeySet & keys, std::string_view product) {
    // 1. The staged bundle and its head.
    SB_ASSIGN_OR_RETURN(std::string prefix, storage.read(kStagingName, 0, kStagingPrefix));
    const uint64_t total = detail::get_u64(prefix, 0);
    SB_ASSIGN_OR_RETURN(uint64_t staged_size, storage.size(kStagingName));
    if (total < kBundleHeaderSize || staged_size < kStagingPrefix + total) {
        return Error(ErrorCode::kCorruptInput, "install: staged bundle is incomplete");
    }
    SB_ASSIGN_OR_RETURN(std::string header, storage.read(kStagingName, kStagingPrefix, kBundleHeaderSize));
    SB_ASSIGN_OR_RETURN(BundleLayout layout, parse_bundle_header(header, total));
    SB_ASSIGN_OR_RETURN(std::string head,
                        storage.read(kStagingName, kStagingPrefix, static_cast<size_t>(layout.payload_offset)));

    // 2. Signatures, product, key set and floor.
    BootStore store(storage);
    auto loaded = store.load();
    BootState state;
    if (loaded.ok()) {
        state = *loaded;
    } else if (loaded.error().code() != ErrorCode::kNotFound) {
        return std::move(loaded).error().with_context("install");
    }
    auto verified = verify_bundle_head(head, total, keys, VerifyPolicy{std::string(product), state.security_floor});
    if (!verified.ok()) {
        return std::move(verified).error().with_context("install");
    }
    const Manifest & m = verified->manifest;
    if (m.version.size() > 32) {
        return Error(ErrorCode::kInvalidArgument, "install: version '" + m.version + "' is longer than 32 bytes");
    }
    for (const auto & slot : state.slots) {
        if (slot.state == SlotState::kTrying) {
            return Error(ErrorCode::kUnavailable, "install: update " + slot.version +
                                                      " is still waiting for its behaviour check; boot it first");
        }
    }

    // 3. The target is never the good slot; mark it empty before touching its bytes.
    const int target = state.good_slot == 0 ? 1 : 0;
    SlotRecord & rec = state.slots[static_cast<size_t>(target)];
    rec = SlotRecord{};
    SB_TRY(with_context(store.save(state), "install"));

    // 4. Stream, checking every block before it is written.
    const std::string slot = slot_name(target);
    core::Sha256 whole;
    for (uint64_t i = 0; i < m.block_sha256.size(); ++i) {
        const uint64_t offset = i * m.block_size;
        const auto length = static_cast<size_t>(std::min<uint64_t>(m.block_size, m.payload_size - offset));
        SB_ASSIGN_OR_RETURN(std::string block,
                            storage.read(kStagingName, kStagingPrefix + layout.payload_offset + offset, length));
        SB_TRY(with_context(check_payload_block(m, i, block), "install"));
        whole.update(block);
        SB_TRY(with_context(storage.write(slot, offset, block), "install: write " + slot));
    }
    const core::Digest expected = whole.finish();
    if (core::to_hex(expected) != m.payload_sha256) {
        return Error(ErrorCode::kCorruptInput, "install: payload sha256 does not match the manifest");
    }

    // 5. Durable, then re-read: what the slot holds is what gets recorded.
    if (m.payload_size == 0) {
        SB_TRY(with_context(storage.write(slot, 0, ""), "install: create " + slot));
    }
    SB_TRY(with_context(storage.sync(slot), "install: sync " + slot));
    SB_ASSIGN_OR_RETURN(core::Digest reread, hash_slot(storage, target, m.payload_size));
    if (reread != expected) {
        return Error(ErrorCode::kIoError, "install: " + slot + " reads back different bytes than were written");
    }
    std::string kept_head;
    detail::put_u64(kept_head, total);
    kept_head += head;
    SB_TRY(with_context(storage.write(slot_head_name(target), 0, kept_head), "install: keep the signed head"));
    SB_TRY(with_context(storage.sync(slot_head_name(target)), "install: keep the signed head"));

    // 6. Bootable, on probation.
    rec.state = SlotState::kTrying;
    rec.tries_left = kMaxTries;
    rec.security_version = m.security_version;
    rec.payload_size = m.payload_size;
    rec.payload_sha256 = expected;
    rec.version = m.version;
    SB_TRY(with_context(store.save(state), "install"));
    return InstallResult{target, m, verified->signers.size()};
}

std::string slot_head_name(int slot) {
    return slot_name(slot) + ".head";
}

core::Result<Manifest> read_slot_manifest(Storage & storage, const BootState & state, int slot, const KeySet & keys,
                                          std::string_view product) {
    if (slot < 0 || slot >= kSlotCount) {
        return Error(ErrorCode::kInvalidArgument, "read slot manifest: no slot " + std::to_string(slot));
    }
    const std::string name = slot_head_name(slot);
    SB_ASSIGN_OR_RETURN(uint64_t size, storage.size(name));
    if (size < kStagingPrefix + kBundleHeaderSize ||
        size > kStagingPrefix + kBundleHeaderSize + kMaxManifestSize + 4 + kMaxSignatures * kSignatureEntrySize) {
        return Error(ErrorCode::kCorruptInput, name + ": " + std::to_string(size) + " bytes is not a bundle head");
    }
    SB_ASSIGN_OR_RETURN(std::string bytes, storage.read(name, 0, static_cast<size_t>(size)));
    const uint64_t total = detail::get_u64(bytes, 0);
    auto verified = verify_bundle_head(std::string_view(bytes).substr(kStagingPrefix), total, keys,
                                       VerifyPolicy{std::string(product), 0});
    if (!verified.ok()) {
        return std::move(verified).error().with_context(name);
    }
    const SlotRecord & rec = state.slots[static_cast<size_t>(slot)];
    if (verified->manifest.payload_sha256 != core::to_hex(rec.payload_sha256) ||
        verified->manifest.payload_size != rec.payload_size) {
        return Error(ErrorCode::kCorruptInput, name + ": its manifest describes another image than " + slot_name(slot));
    }
    return verified->manifest;
}

}  // namespace strongbox::provisioning
