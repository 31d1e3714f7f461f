// Building citation-trail bundles (see audit_log.h, design note 5, for the format and what a
// bundle proves). The verifier lives in audit_bundle.cpp too and is public in audit_log.h.
// Stateless functions, safe to call concurrently.
#pragma once

#include "page_image.h"
#include "signing.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <string>
#include <vector>

namespace strongbox::appliance {

inline constexpr const char * kBundleFormat = "strongbox-audit-bundle-v1";

struct BundleInput {
    std::vector<AuditRecord> records;  // in id order
    int64_t head_id = 0;               // the chain head when the records were read
    std::string head_hash;
    AuditFilter filter;
    std::string exported_by;
    std::string created_at;    // ISO 8601 UTC
    int64_t created_unix = 0;  // seconds, stamped on the archive members
    PageImages page_images;    // scanned-page regions of the exported citations, and why some are missing
};

struct BuiltBundle {
    std::string bytes;
    size_t excerpts = 0;
};

// The filters as JSON, non-empty ones only ({"user":"alice","since":"2026-11-01"}).
core::Json filters_json(const AuditFilter & filter);

// One canonical JSON line per citation of every "ask" record: record id, citation number, chunk
// id, the exact quote, a readable location and the full provenance.
std::string excerpts_jsonl(const std::vector<AuditRecord> & records, size_t * count);

BuiltBundle build_bundle(const BundleInput & input, const SigningKey & key);

}  // namespace strongbox::appliance
