#include "strongbox/appliance/appliance.h"

#include "data_dir.h"
#include "strongbox/appliance/grounded.h"
#include "strongbox/appliance/prompt.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"
#include "strongbox/ingest/ingest.h"
#include "strongbox/retrieval/retriever.h"
#include "strongbox/webui/service.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

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

// The refusal shown when retrieval found nothing close enough, or the answerer found no answer:
// says so explicitly and shows the nearest passages as numbered sources.
void refuse_with_nearest(core::Answer & answer, const std::string & reason, const std::vector<Passage> & passages) {
    answer.refused = true;
    answer.sentences.clear();
    answer.citations.clear();
    answer.refusal_reason = refusal_with_nearest(reason, passages);
    for (size_t i = 0; i < passages.size() && i < 3; ++i) {
        core::Citation c;
        c.number = static_cast<int>(i) + 1;
        c.chunk_id = passages[i].chunk_id;
        c.quote = core::collapse_whitespace(passages[i].text);
        c.provenance = passages[i].provenance;
        c.score = passages[i].score;
        answer.citations.push_back(std::move(c));
    }
}

}  // namespace

double best_question_coverage(const std::string & question, const std::vector<Passage> & passages) {
    const std::vector<std::string> q = content_words(question);
    const std::set<std::string> want(q.begin(), q.end());
    if (want.empty()) {
        return 0;
    }
    double best = 0;
    for (const Passage & p : passages) {
        const std::vector<std::string> w = content_words(p.text);
        const std::set<std::string> have(w.begin(), w.end());
        size_t n = 0;
        for (const std::string & x : want) {
            n += have.count(x);
        }
        best = std::max(best, static_cast<double>(n) / static_cast<double>(want.size()));
    }
    return best;
}

core::Json Settings::to_json() const {
    core::Json j = core::Json::object();
    j["top_k"] = top_k;
    j["min_coverage"] = answer.min_coverage;
    j["relative_floor"] = answer.relative_floor;
    j["max_sentences"] = answer.max_sentences;
    j["max_chunk_chars"] = static_cast<uint64_t>(max_chunk_chars);
    j["log_lines_per_chunk"] = static_cast<uint64_t>(log_lines_per_chunk);
    j["model"] = model_path.filename().string();
    j["caps"] = appliance::to_json(caps);
    j["supported_coverage"] = verifier.supported_coverage;
    j["partial_coverage"] = verifier.partial_coverage;
    j["remove_unsupported"] = verifier.remove_unsupported;
    j["min_question_coverage"] = min_question_coverage;
    return j;
}

std::string Settings::settings_version() const {
    return core::sha256_hex(to_json().dump()).substr(0, 16);
}

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
    std::unique_ptr<GroundedAnswerer> grounded;  // null: extractive answers
    QuotaLedger quota;
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
    std::unique_ptr<GroundedAnswerer> grounded;
    if (!settings.model_path.empty()) {
        SB_ASSIGN_OR_RETURN(grounded, GroundedAnswerer::open(settings.model_path, find_prompt_dir(settings.prompt_dir),
                                                             settings.model_threads));
    }
    SB_ASSIGN_OR_RETURN(auto audit, AuditLog::open(dir.audit_path()));
    auto impl = std::make_unique<Impl>(settings, std::move(dir), std::move(retriever).value(), std::move(audit));
    impl->grounded = std::move(grounded);
    return std::unique_ptr<Appliance>(new Appliance(std::move(impl)));
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
    return ask(question, user, channel, top_k, {});
}

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k,
                                          const std::function<bool(std::string_view)> & on_text) {
    const auto start = std::chrono::steady_clock::now();
    const Settings & settings = impl_->settings;
    if (question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "the question is empty");
    }
    if (top_k < 1 || top_k > 50) {
        return core::Error(core::ErrorCode::kInvalidArgument, "top_k must be between 1 and 50");
    }
    SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                        impl_->retriever.search(question, impl_->search_options(top_k)));
    std::vector<Passage> passages;
    double best_bm25 = 0;
    for (retrieval::SearchHit & h : hits) {
        best_bm25 = std::max(best_bm25, h.bm25_score);
        passages.push_back(Passage{h.chunk_id, h.text, h.provenance, h.score});
    }
    const double coverage = best_question_coverage(question, passages);

    core::Answer answer;
    answer.question = question;
    std::vector<SentenceCheck> checks;
    std::string stopped_by;
    GroundedRun run;
    const bool generative = impl_->grounded != nullptr;
    answer.answerer = generative ? "generative (" + impl_->grounded->model_info().file_name + ")" : "extractive";
    if (generative && !impl_->quota.has_room(user, settings.caps.daily_user_tokens)) {
        stopped_by = kCapDailyQuota;
        refuse_with_nearest(answer, "Not answered: " + describe_cap(kCapDailyQuota, settings.caps), {});
    } else if (passages.empty() || coverage < settings.min_question_coverage) {
        refuse_with_nearest(answer, "Not found in the indexed documents: no passage is close enough to the question.",
                            passages);
    } else if (generative) {
        GroundedRequest request;
        request.caps = settings.caps;
        request.verifier = settings.verifier;
        request.deadline = start + std::chrono::milliseconds(settings.caps.deadline_ms);
        request.on_text = on_text;
        SB_ASSIGN_OR_RETURN(run, impl_->grounded->answer(question, passages, request));
        impl_->quota.charge(user, static_cast<int64_t>(run.prompt_tokens + run.generated_tokens));
        answer = std::move(run.answer);
        checks = run.checks;
        stopped_by = run.stopped_by;
    } else {
        answer = answer_extractively(question, passages, settings.answer);
        // The extractive sentences are quotes, so this should always pass; it is checked anyway
        // so a fault in sentence splitting or citation numbering cannot reach a user unflagged.
        checks = verify_citations(answer, passages);
        if (settings.verifier.remove_unsupported) {
            std::erase_if(answer.sentences,
                          [](const core::AnswerSentence & s) { return s.support == core::Support::kUnsupported; });
        }
        const bool any_supported = std::any_of(answer.sentences.begin(), answer.sentences.end(), [](const auto & s) {
            return s.support == core::Support::kSupported;
        });
        if (answer.refused || !any_supported) {
            refuse_with_nearest(answer,
                                answer.refused && !answer.refusal_reason.empty()
                                    ? answer.refusal_reason
                                    : "Not found in the indexed documents: no passage states an answer to the question.",
                                passages);
        }
        if (on_text && !on_text(answer.text())) {
            return core::Error(core::ErrorCode::kCancelled, "the client went away before the answer was sent");
        }
    }
    answer.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    AnswerRecordContext ctx;
    ctx.channel = channel;
    for (const retrieval::SearchHit & h : hits) {
        ctx.retrieved.push_back(RetrievedChunk{h.chunk_id, h.score, h.bm25_rank, h.dense_rank});
    }
    ctx.embedder = impl_->retriever.embedder().identity().to_string();
    ctx.settings_version = settings.settings_version();
    ctx.caps = appliance::to_json(settings.caps);
    ctx.caps["top_k"] = top_k;
    ctx.latency_ms = answer.latency_ms;
    if (generative) {
        const PromptTemplate & t = impl_->grounded->prompt_template();
        ctx.model_sha256 = impl_->grounded->model_info().sha256;
        ctx.prompt_template_version = t.id + "/v" + std::to_string(t.version);
        ctx.prompt_template_sha256 = t.sha256;
    }
    core::Json body = answer_record(answer, ctx);
    body["stopped_by"] = stopped_by;  // empty when no cap stopped the answer
    body["best_bm25_score"] = best_bm25;
    body["question_coverage"] = coverage;
    body["min_question_coverage"] = settings.min_question_coverage;
    core::Json verification = core::Json::array();
    for (const SentenceCheck & c : checks) {
        verification.push_back(to_json(c));
    }
    body["verification"] = std::move(verification);
    if (generative) {
        core::Json model = core::Json::object();
        model["file"] = impl_->grounded->model_info().file_name;
        model["sha256"] = impl_->grounded->model_info().sha256;
        model["architecture"] = impl_->grounded->model_info().architecture;
        body["model"] = std::move(model);
        core::Json tokens = core::Json::object();
        tokens["prompt"] = static_cast<uint64_t>(run.prompt_tokens);
        tokens["generated"] = static_cast<uint64_t>(run.generated_tokens);
        tokens["passages_in_prompt"] = static_cast<uint64_t>(run.passages_in_prompt);
        tokens["user_today"] = impl_->quota.used(user);
        body["tokens"] = std::move(tokens);
        body["generated_text"] = run.raw_text;
    }
    auto id = impl_->audit->append(audit_kind::kAsk, user, body);
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

core::Status Appliance::remove(const std::filesystem::path & path, const std::string & actor) {
    std::lock_guard lock(impl_->ingest_mu);
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    SB_ASSIGN_OR_RETURN(retrieval::RemoveResult removed, impl_->retriever.remove_document(abs));
    if (auto st = impl_->retriever.flush(); !st.ok()) {
        SB_LOG_ERROR("remove %s: saving the vector index failed (rebuilt from the store on next start): %s",
                     abs.c_str(), st.error().message().c_str());
    }
    core::Json body = core::Json::object();
    body["path"] = abs;
    body["document_id"] = removed.document_id;
    body["chunks"] = static_cast<int64_t>(removed.chunk_ids.size());
    if (auto doc = impl_->retriever.store().get_document(removed.document_id); doc.ok()) {
        body["source_sha256"] = doc->sha256;
    }
    SB_TRY(impl_->audit->append(audit_kind::kDeletion, actor, body));
    return {};
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
    j["answerer"] = impl_->grounded ? "generative (" + impl_->grounded->model_info().file_name + ")" : "extractive";
    return j;
}

AuditLog & Appliance::audit() {
    return *impl_->audit;
}

const Settings & Appliance::settings() const {
    return impl_->settings;
}

}  // namespace strongbox::appliance
