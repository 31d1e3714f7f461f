// Installer: from a bundle on removable media to a verified, bootable inactive slot.
//
// Order, each step only after the previous one succeeded:
//   1. copy the bundle once into "staging.bundle" in the slots directory (the stick is never
//      read twice, so it cannot change between verification and installation) and sync it;
//   2. verify framing, then signatures, then product, key-set version and the anti-rollback
//      floor from the boot state;
//   3. mark the target slot (the one that is not good) empty and save the boot state;
//   4. stream the payload into the slot, checking every block against the manifest;
//   5. sync the slot, re-read it and compare its sha256 with the manifest, and keep the signed
//      head (header, manifest, signatures) beside it as "slot-X.head", so the booted system can
//      read what its image promises (model hash, golden latency, hidden salt) and re-check the
//      signatures without the bundle;
//   6. mark the slot kTrying with kMaxTries tries and save the boot state.
// A power cut at any point leaves the good slot and a valid boot record untouched.
//
// Thread-safety: none; the caller holds the data-directory lock.
// Errors: as verify_bundle_head(); kUnavailable while another update waits for confirmation;
// kIoError from storage, with context naming the step.
//
//   auto storage = open_posix_storage(slots_dir);
//   SB_TRY(stage_bundle(*storage, "/media/usb/strongbox-1.4.2.sbx"));
//   SB_ASSIGN_OR_RETURN(InstallResult r, install_staged_bundle(*storage, trust.key_set, "strongbox"));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/provisioning/bundle.h"
#include "strongbox/provisioning/io.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/provisioning/slots.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace strongbox::provisioning {

inline constexpr const char * kStagingName = "staging.bundle";

struct InstallResult {
    int slot = -1;
    Manifest manifest;
    size_t n_signers = 0;
};

// Copies `source` into staging through `storage` in `chunk`-byte writes and syncs it.
core::Status stage_bundle(Storage & storage, const std::filesystem::path & source, size_t chunk = 1u << 20);
core::Status stage_bundle_bytes(Storage & storage, std::string_view bundle, size_t chunk = 1u << 20);

core::Result<InstallResult> install_staged_bundle(Storage & storage, const KeySet & keys, std::string_view product);

// "slot-a.head", "slot-b.head": u64 bundle size, then the bundle's head.
std::string slot_head_name(int slot);

// The manifest of the image in `slot`, from its kept head: signatures checked against `keys`
// (product `product`, no floor: the slot is already installed), and the manifest's payload hash
// must be the one the boot record holds for the slot. kNotFound when the slot has no head
// (installed before heads were kept).
core::Result<Manifest> read_slot_manifest(Storage & storage, const BootState & state, int slot, const KeySet & keys,
                                          std::string_view product);

}  // namespace strongbox::provisioning
