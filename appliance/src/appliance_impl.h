// Appliance::Impl, shared by the files that implement Appliance: appliance.cpp (opening, sources,
// removal, health), appliance_ingest.cpp and appliance_ask.cpp.
#pragma once

#include "model_embedder.h"
#include "settings_store.h"

#include "strongbox/answer/grounded.h"
#include "strongbox/answer/prompt.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/audit_trail.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/appliance/fingerprint.h"
#include "strongbox/appliance/jobs.h"
#include "strongbox/appliance/local_state.h"
#include "strongbox/appliance/read_only.h"
#include "strongbox/appliance/uploads.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"
#include "strongbox/extract/page_render.h"
#include "strongbox/ingest/ingest.h"
#include "strongbox/retrieval/analyzer.h"
#include "strongbox/retrieval/retriever.h"
#include "strongbox/webui/service.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

namespace strongbox::appliance {

struct Appliance::Impl {
    Impl(Settings s, DataDir d, retrieval::Retriever r, std::shared_ptr<PageRenderer> p, std::unique_ptr<AuditLog> a)
        : settings(std::move(s)),
          data_dir(std::move(d)),
          retriever(std::move(r)),
          pages(std::move(p)),
          audit(std::move(a)) {}

    Settings settings;
    DataDir data_dir;
    retrieval::Retriever retriever;
    std::shared_ptr<PageRenderer> pages;  // the source viewer's and the trail's; renders in a worker
    std::unique_ptr<AuditLog> audit;
    std::unique_ptr<GroundedAnswerer> grounded;  // null: extractive answers
    std::unique_ptr<QuotaLedger> quota;          // usage.db: survives restarts, shared by the CLI and the daemon
    std::mutex ingest_mu;
    std::unique_ptr<DiskGuard> disk;       // read-only mode when the disk fills
    provisioning::HiddenSalt loaded_salt;  // the file parts, hashed at open; settings are hashed per use

    provisioning::HiddenSalt salt() const {
        provisioning::HiddenSalt s = loaded_salt;
        s.settings_sha256 = settings_sha256(settings.to_json());
        return s;
    }

    std::unique_ptr<LocalState> local;
    std::unique_ptr<SettingsStore> settings_store;
    std::unique_ptr<JobQueue> jobs;  // last: its worker uses everything above

    // Callers pass the collections they may read; nullptr (local commands) reads every one.
    retrieval::SearchOptions search_options(int top_k, const std::vector<std::string> * collections,
                                            Appliance & self) const {
        retrieval::SearchOptions o;
        o.k = top_k;
        o.filter.collections = collections != nullptr ? *collections : self.all_collections();
        return o;
    }
};

}  // namespace strongbox::appliance
