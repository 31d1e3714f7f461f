#include "strongbox/appliance/appliance.h"

#include "data_dir.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/log.h"
#include "strongbox/ingest/ingest.h"
#include "strongbox/retrieval/retriever.h"
#include "strongbox/webui/service.h"

#include <chrono>
#include <map>
#include <mutex>

namespace strongbox::appliance {
namespace {

std::string new_job_id() {
    // 2026-11-22T13:45:12.123456Z -> ingest-20261122T134512.123456Z
    std::string t = core::utc_now_iso8601();
    std::erase_if(t, [](char c) { return c == '-' || c == ':'; });
    return "ingest-" + t;
}

std::string_view outcome_name(IngestFileResult::Outcome o) {
    switch (o) {
        case IngestFileResult::Outcome::kAdded: return "added";
        case IngestFileResult::Outcome::kNewVersion: return "new_version";
        case IngestFileResult::Outcome::kUnchanged: return "unchanged";
        case IngestFileResult::Outcome::kFailed: return "failed";
    }
    return "failed";
}

}  // namespace

size_t IngestReport::count(IngestFileResult::Outcome outcome) const {
    return static_cast<size_t>(
        std::count_if(files.begin(), files.end(), [&](const IngestFileResult & f) { return f.outcome == outcome; }));
}

struct Appliance::Impl {
    Impl(Settings s, DataDir d, retrieval::Retriever r, std::unique_ptr<AuditLog> a)
        : settings(std::move(s)), data_dir(std::move(d)), retriever(std::move(r)), audit(std::move(a)) {}

    Settings settings;
    DataDir data_dir;
    retrieval::Retriever retriever;
    std::unique_ptr<AuditLog> audit;
    std::mutex ingest_mu;

    // Until accounts and collections exist every caller reads the default collection.
    retrieval::SearchOptions search_options(int top_k) const {
        retrieval::SearchOptions o;
        o.k = top_k;
        o.filter.collections = {std::string(retrieval::kDefaultCollection)};
        return o;
    }
};

Appliance::Appliance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Appliance::~Appliance() = default;

core::Result<std::unique_ptr<Appliance>> Appliance::open(const Settings & settings) {
    SB_ASSIGN_OR_RETURN(DataDir dir, DataDir::acquire(settings.data_dir, settings.holder));
    retrieval::RetrieverOptions ro;
    ro.database = dir.store_path();
    ro.vector_index = dir.index_path();
    auto retriever = retrieval::Retriever::open(ro, std::make_shared<retrieval::HashedEmbedder>());
    if (!retriever.ok()) {
        return std::move(retriever).error().with_context("open the document store in " + dir.root().string());
    }
    const retrieval::ReconcileReport & repaired = retriever->open_report();
    if (repaired.added > 0 || repaired.removed > 0) {
        SB_LOG_WARN("vector index repaired on open: %s", repaired.to_string().c_str());
    }
    SB_ASSIGN_OR_RETURN(auto audit, AuditLog::open(dir.audit_path()));
    return std::unique_ptr<Appliance>(
        new Appliance(std::make_unique<Impl>(settings, std::move(dir), std::move(retriever).value(), std::move(audit))));
}

IngestReport Appliance::ingest(const std::vector<std::filesystem::path> & inputs, const IngestProgress & progress) {
    std::lock_guard lock(impl_->ingest_mu);
    IngestReport report;
    report.job_id = new_job_id();
    ingest::IngestOptions options;
    options.ingest_job = report.job_id;
    options.max_chunk_chars = impl_->settings.max_chunk_chars;
    options.log_lines_per_chunk = impl_->settings.log_lines_per_chunk;

    // Active documents by path, so unchanged files are skipped before any (possibly slow) extraction.
    std::map<std::string, std::string> active_sha;
    if (auto docs = impl_->retriever.store().list_documents(); docs.ok()) {
        for (const retrieval::DocumentInfo & d : *docs) {
            active_sha[d.path] = d.sha256;
        }
    }

    const std::vector<std::filesystem::path> sources = ingest::collect_sources(inputs);
    core::Json files = core::Json::array();
    for (size_t i = 0; i < sources.size(); ++i) {
        IngestFileResult r;
        r.path = sources[i];
        std::error_code ec;
        const std::string abs = std::filesystem::absolute(sources[i], ec).lexically_normal().string();
        auto sha = core::sha256_file_hex(sources[i]);
        auto known = active_sha.find(abs);
        if (sha.ok() && known != active_sha.end() && known->second == *sha) {
            r.outcome = IngestFileResult::Outcome::kUnchanged;
        } else if (auto doc = ingest::extract_file(sources[i], options); !doc.ok()) {
            r.error = doc.error().message();
        } else {
            r.warnings = doc->warnings;
            auto added = impl_->retriever.index_document(*doc);
            if (!added.ok()) {
                r.error = abs + ": " + added.error().message();
            } else {
                r.chunks = added->chunk_ids.size();
                r.outcome = added->outcome == retrieval::AddOutcome::kAdded        ? IngestFileResult::Outcome::kAdded
                            : added->outcome == retrieval::AddOutcome::kNewVersion ? IngestFileResult::Outcome::kNewVersion
                                                                                   : IngestFileResult::Outcome::kUnchanged;
            }
        }
        core::Json f = core::Json::object();
        f["path"] = abs;
        f["outcome"] = std::string(outcome_name(r.outcome));
        if (sha.ok()) {
            f["sha256"] = *sha;
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
        SB_LOG_ERROR("ingest %s: saving the vector index failed (it is rebuilt from the store on next start): %s",
                     report.job_id.c_str(), st.error().message().c_str());
    }
    core::Json body = core::Json::object();
    body["job"] = report.job_id;
    body["files"] = std::move(files);
    if (auto id = impl_->audit->append("ingest", impl_->settings.holder, body); !id.ok()) {
        SB_LOG_ERROR("ingest %s: audit record failed: %s", report.job_id.c_str(), id.error().message().c_str());
    }
    return report;
}

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k) {
    const auto start = std::chrono::steady_clock::now();
    if (question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "the question is empty");
    }
    if (top_k < 1 || top_k > 50) {
        return core::Error(core::ErrorCode::kInvalidArgument, "top_k must be between 1 and 50");
    }
    SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                        impl_->retriever.search(question, impl_->search_options(top_k)));
    std::vector<Passage> passages;
    for (retrieval::SearchHit & h : hits) {
        passages.push_back(Passage{h.chunk_id, std::move(h.text), std::move(h.provenance), h.score});
    }
    core::Answer answer = answer_extractively(question, passages, impl_->settings.answer);
    answer.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    core::Json body = core::to_json(answer);
    body["channel"] = channel;
    core::Json retrieved = core::Json::array();
    for (const retrieval::SearchHit & h : hits) {
        core::Json r = core::Json::object();
        r["chunk_id"] = h.chunk_id;
        r["score"] = h.score;
        r["bm25_rank"] = h.bm25_rank;
        r["dense_rank"] = h.dense_rank;
        retrieved.push_back(std::move(r));
    }
    body["retrieved"] = std::move(retrieved);
    body["embedder"] = impl_->retriever.embedder().identity().to_string();
    auto id = impl_->audit->append("ask", user, body);
    if (!id.ok()) {
        return std::move(id).error().with_context("the answer was not returned because its audit record failed");
    }
    answer.audit_id = *id;
    return answer;
}

core::Result<webui::SourceView> Appliance::source(int64_t chunk_id) {
    const retrieval::Store & store = impl_->retriever.store();
    SB_ASSIGN_OR_RETURN(retrieval::StoredChunk chunk, store.get_chunk(chunk_id));
    if (chunk.document.collection != retrieval::kDefaultCollection) {
        return core::Error(core::ErrorCode::kNotFound, "no chunk " + std::to_string(chunk_id));
    }
    SB_ASSIGN_OR_RETURN(std::vector<retrieval::StoredChunk> around, store.neighbours(chunk_id, 2, 2));
    webui::SourceView view;
    view.chunk_id = chunk_id;
    view.provenance = chunk.provenance;
    view.location = core::describe_location(chunk.provenance);
    view.passage = chunk.text;
    for (const retrieval::StoredChunk & c : around) {
        if (c.ordinal < chunk.ordinal) {
            view.before.push_back(c.text);
        } else if (c.ordinal > chunk.ordinal) {
            view.after.push_back(c.text);
        }
    }
    return view;
}

core::Json Appliance::health() {
    core::Json j = core::Json::object();
    j["status"] = "ok";
    j["data_dir"] = impl_->data_dir.root().string();
    if (auto stats = impl_->retriever.store().stats(); stats.ok()) {
        j["documents"] = stats->documents;
        j["chunks"] = stats->chunks;
    } else {
        j["status"] = "degraded";
        j["store_error"] = stats.error().message();
    }
    if (auto n = impl_->audit->count(); n.ok()) {
        j["audit_records"] = *n;
    }
    j["embedder"] = impl_->retriever.embedder().identity().to_string();
    return j;
}

AuditLog & Appliance::audit() {
    return *impl_->audit;
}

const Settings & Appliance::settings() const {
    return impl_->settings;
}

}  // namespace strongbox::appliance
