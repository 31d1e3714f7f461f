// Appliance::ingest: extraction in the worker, one store transaction per file, the vectors, the
// index save and one audit record per run (design notes in appliance.h).
#include "appliance_impl.h"

namespace strongbox::appliance {
namespace {

std::string new_job_id() {
    return "ingest-" + core::utc_now_compact();  // ingest-20261122T134512.123456Z
}

}  // namespace

std::string_view outcome_name(IngestFileResult::Outcome o) {
    switch (o) {
    case IngestFileResult::Outcome::kAdded:
        return "added";
    case IngestFileResult::Outcome::kNewVersion:
        return "new_version";
    case IngestFileResult::Outcome::kUnchanged:
        return "unchanged";
    case IngestFileResult::Outcome::kFailed:
        return "failed";
    }
    return "failed";
}

size_t IngestReport::count(IngestFileResult::Outcome outcome) const {
    return static_cast<size_t>(
        std::count_if(files.begin(), files.end(), [&](const IngestFileResult & f) { return f.outcome == outcome; }));
}

IngestReport Appliance::ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress) {
    return ingest(inputs, progress, IngestTarget{});
}

IngestReport Appliance::ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress,
                               const IngestTarget & target) {
    std::lock_guard lock(impl_->ingest_mu);
    const std::string actor = target.actor.empty() ? impl_->settings.holder : target.actor;
    core::Status collection_ok = impl_->local->ensure_collection(target.collection);
    if (!collection_ok.ok()) {
        impl_->disk->note_failure(collection_ok.error());
    }
    IngestReport report;
    report.job_id = new_job_id();
    ingest::IngestOptions options;
    options.ingest_job = report.job_id;
    options.max_chunk_chars = impl_->settings.max_chunk_chars;
    // One read: an admin may save settings between a check and a second read.
    if (const core::Json language = impl_->settings_store->get("ocr_language"); language.is_string()) {
        options.ocr_language = language.as_string();
    }
    options.log_lines_per_chunk = impl_->settings.log_lines_per_chunk;
    const core::Json max_pages = impl_->settings_store->get("max_document_pages");
    options.max_pages = max_pages.is_int() ? static_cast<int>(max_pages.as_int()) : 0;
    const core::Json max_document_bytes = impl_->settings_store->get("max_document_bytes");
    const int64_t max_bytes = max_document_bytes.is_int() ? max_document_bytes.as_int() : 0;

    // Active documents by path, so unchanged files are skipped before any (possibly slow) extraction.
    std::map<std::string, std::string> active_sha;
    if (auto docs = impl_->retriever.store().list_documents(); docs.ok()) {
        for (const retrieval::DocumentInfo & d : *docs) {
            active_sha[d.path] = d.sha256;
        }
    }

    ingest::CollectedSources collected = ingest::collect_sources(inputs, target.follow_symlinks);
    report.skipped_links = std::move(collected.skipped_links);
    const std::vector<std::filesystem::path> & sources = collected.files;
    core::Json files = core::Json::array();
    for (size_t i = 0; i < sources.size(); ++i) {
        IngestFileResult r;
        r.path = sources[i];
        bool box_at_fault = false;
        std::error_code ec;
        const std::string abs = std::filesystem::absolute(sources[i], ec).lexically_normal().string();
        const uintmax_t size = std::filesystem::file_size(sources[i], ec);
        const bool too_big = !ec && max_bytes > 0 && size > static_cast<uintmax_t>(max_bytes);
        // Not read when over the cap: no hash, so nothing is compared, quarantined or recorded by hash.
        if (auto sha = too_big ? core::Result<std::string>(std::string()) : core::sha256_file_hex(sources[i]);
            sha.ok()) {
            r.sha256 = *sha;
        }
        const bool hashed = !r.sha256.empty();
        auto known = active_sha.find(abs);
        if (target.on_pages) {
            options.progress = [&target, i](size_t done, size_t total) {
                target.on_pages(i, done, total);
            };
        }
        if (core::Status writable = impl_->disk->writable(); !writable.ok()) {
            r.error = abs + ": " + writable.error().message();
        } else if (!collection_ok.ok()) {
            r.error = abs + ": " + collection_ok.error().message();
        } else if (too_big) {
            r.error = abs + ": is " + std::to_string(size) + " bytes, more than the limit of " +
                      std::to_string(max_bytes) + " (setting max_document_bytes)";
        } else if (hashed && known != active_sha.end() && known->second == r.sha256) {
            r.outcome = IngestFileResult::Outcome::kUnchanged;
        } else if (auto doc = extract_isolated(sources[i], options, impl_->settings.extract); !doc.ok()) {
            r.error = doc.error().message();
            // A missing or unstartable worker is the box's fault, not the file's.
            box_at_fault = doc.error().code() == core::ErrorCode::kUnavailable;
        } else {
            r.warnings = doc->warnings;
            auto added = impl_->retriever.index_document(*doc, target.collection);
            if (!added.ok()) {
                r.error = abs + ": " + (impl_->disk->note_failure(added.error()) ? "disk full, not stored: " : "") +
                          added.error().message();
            } else {
                r.chunks = added->chunk_ids.size();
                r.document_id = added->document_id;
                if (!r.warnings.empty() && added->outcome != retrieval::AddOutcome::kUnchanged) {
                    if (auto st = impl_->local->set_warnings(added->document_id, r.warnings); !st.ok()) {
                        SB_LOG_WARN("ingest %s: %s", report.job_id.c_str(), st.error().message().c_str());
                    }
                }
                r.outcome = added->outcome == retrieval::AddOutcome::kAdded ? IngestFileResult::Outcome::kAdded
                            : added->outcome == retrieval::AddOutcome::kNewVersion
                                ? IngestFileResult::Outcome::kNewVersion
                                : IngestFileResult::Outcome::kUnchanged;
            }
        }
        // A full disk is not the file's fault: it stays out of quarantine and can be ingested later.
        if (r.outcome == IngestFileResult::Outcome::kFailed && collection_ok.ok() && hashed && !box_at_fault &&
            !impl_->disk->read_only()) {
            r.quarantined = quarantine_file(*this, sources[i], r.sha256, r.error, target.collection, report.job_id);
        }
        core::Json f = core::Json::object();
        f["path"] = abs;
        f["collection"] = target.collection;
        if (r.quarantined) {
            f["quarantined"] = true;
        }
        f["outcome"] = std::string(outcome_name(r.outcome));
        if (hashed) {
            f["sha256"] = r.sha256;
        }
        if (!r.error.empty()) {
            f["error"] = r.error;
        }
        files.push_back(std::move(f));
        report.files.push_back(r);
        if (progress) {
            progress(i + 1, sources.size(), report.files.back());
        }
    }
    if (auto st = impl_->retriever.flush(); !st.ok()) {
        impl_->disk->note_failure(st.error());
        SB_LOG_ERROR("ingest %s: saving the vector index failed (it is rebuilt from the store on next start): %s",
                     report.job_id.c_str(), st.error().message().c_str());
    }
    core::Json body = core::Json::object();
    body["job"] = report.job_id;
    body["files"] = std::move(files);
    if (auto id = impl_->audit->append("ingest", actor, body); !id.ok()) {
        SB_LOG_ERROR("ingest %s: audit record failed: %s", report.job_id.c_str(), id.error().message().c_str());
    }
    return report;
}

}  // namespace strongbox::appliance
