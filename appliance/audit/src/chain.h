// The audit chain's hashing and checkpoint rules, shared by the live trail (audit_log.cpp) and
// the offline bundle verifier (audit_bundle.cpp) so both check exactly the same thing.
// Stateless; safe to call concurrently.
#pragma once

#include "signing.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <string>

namespace strongbox::appliance {

inline constexpr const char * kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

std::string chain_hash(const std::string & prev, const std::string & kind, const std::string & at,
                       const std::string & actor, const std::string & body);

// The bytes a checkpoint signs: "<id>\n<hash>" of the record it vouches for.
std::string checkpoint_message(int64_t id, const std::string & hash);

// Checks a checkpoint record: it must vouch for the record right before it (id - 1, prev_hash)
// and its signature must verify with `key`.
core::Status verify_checkpoint(const AuditRecord & record, const PublicKey & key);

}  // namespace strongbox::appliance
