#include "strongbox/appliance/appliance.h"

#include "audit_salt.h"
#include "data_dir.h"
#include "jobs.h"
#include "local_state.h"
#include "model_embedder.h"
#include "page_render.h"
#include "read_only.h"
#include "settings_store.h"
#include "uploads.h"
#include "strongbox/appliance/grounded.h"
#include "strongbox/appliance/prompt.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
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
    return "ingest-" + core::utc_now_compact();  // ingest-20261122T134512.123456Z
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
    std::unique_ptr<QuotaLedger> quota;  // usage.db: survives restarts, shared by the CLI and the daemon
    std::mutex ingest_mu;
    std::unique_ptr<DiskGuard> disk;  // read-only mode when the disk fills
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

Appliance::Appliance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Appliance::~Appliance() {
    // Stop the upload worker while everything it uses is still alive.
    if (impl_ && impl_->jobs) {
        impl_->jobs->shutdown();
    }
}

core::Result<std::unique_ptr<Appliance>> Appliance::open(const Settings & settings) {
    SB_ASSIGN_OR_RETURN(DataDir dir, DataDir::acquire(settings.data_dir, settings.holder));
    // Before any database opens: on a full disk the reserve's blocks let SQLite create its WAL index.
    auto disk = std::make_unique<DiskGuard>(dir.root(), settings.disk_reserve_bytes);
    disk->start();
    retrieval::RetrieverOptions ro;
    ro.database = dir.store_path();
    ro.vector_index = dir.index_path();
    // The embedder is chosen before the index opens: the CLI's model, else the admin's saved one.
    SB_ASSIGN_OR_RETURN(auto settings_store, SettingsStore::open(dir.root() / "settings.json"));
    SB_ASSIGN_OR_RETURN(std::filesystem::path embedding_model,
                        configured_embedding_model(settings.embedding_model_path, dir.root()));
    SB_ASSIGN_OR_RETURN(std::shared_ptr<const retrieval::Embedder> embedder,
                        open_embedder(embedding_model, settings.model_threads));
    auto retriever = retrieval::Retriever::open(ro, std::move(embedder));
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
    provisioning::HiddenSalt salt;
    salt.index_params_sha256 = index_params_sha256(retriever->embedder().identity().to_string());
    if (grounded) {
        salt.model_sha256 = grounded->model_info().sha256;
        SB_ASSIGN_OR_RETURN(salt.prompts_sha256, hash_prompt_tree(find_prompt_dir(settings.prompt_dir)));
    }
    // A model other than the last one recorded is itself an event auditors must see.
    const std::string model_file = grounded ? grounded->model_info().file_name : std::string();
    if (auto changed = record_model_change(*audit, salt.model_sha256, model_file, settings.holder); !changed.ok()) {
        return std::move(changed).error().with_context("record the model change");
    }
    auto impl = std::make_unique<Impl>(settings, std::move(dir), std::move(retriever).value(), std::move(audit));
    impl->grounded = std::move(grounded);
    impl->disk = std::move(disk);
    SB_ASSIGN_OR_RETURN(impl->quota, QuotaLedger::open(impl->data_dir.root() / kUsageFile));
    impl->loaded_salt = std::move(salt);
    SB_ASSIGN_OR_RETURN(impl->local, LocalState::open(impl->data_dir.root() / "appliance.db"));
    impl->settings_store = std::move(settings_store);
    if (impl->settings_store->version() > 0) {
        // What an admin saved in the web UI outlives restarts.
        apply_stored_settings(impl->settings_store->current()["settings"], impl->settings);
    }
    // Stores written before collections were registered still list theirs.
    if (auto docs = impl->retriever.store().list_documents(true); docs.ok()) {
        std::set<std::string> seen;
        for (const retrieval::DocumentInfo & d : *docs) {
            if (seen.insert(d.collection).second) {
                SB_TRY(impl->local->ensure_collection(d.collection));
            }
        }
    }
    SB_TRY(impl->local->ensure_collection(std::string(retrieval::kDefaultCollection)));
    std::unique_ptr<Appliance> app(new Appliance(std::move(impl)));
    Appliance * self = app.get();
    app->impl_->jobs = std::make_unique<JobQueue>(kUploadQueueCapacity, [self](const Job & job) { run_upload_job(*self, job); });
    return app;
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
        bool box_at_fault = false;
        std::error_code ec;
        const std::string abs = std::filesystem::absolute(sources[i], ec).lexically_normal().string();
        auto sha = core::sha256_file_hex(sources[i]);
        if (sha.ok()) {
            r.sha256 = *sha;
        }
        auto known = active_sha.find(abs);
        if (target.on_pages) {
            options.progress = [&target, i](size_t done, size_t total) { target.on_pages(i, done, total); };
        }
        if (core::Status writable = impl_->disk->writable(); !writable.ok()) {
            r.error = abs + ": " + writable.error().message();
        } else if (!collection_ok.ok()) {
            r.error = abs + ": " + collection_ok.error().message();
        } else if (sha.ok() && known != active_sha.end() && known->second == *sha) {
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
                r.outcome = added->outcome == retrieval::AddOutcome::kAdded        ? IngestFileResult::Outcome::kAdded
                            : added->outcome == retrieval::AddOutcome::kNewVersion ? IngestFileResult::Outcome::kNewVersion
                                                                                   : IngestFileResult::Outcome::kUnchanged;
            }
        }
        // A full disk is not the file's fault: it stays out of quarantine and can be ingested later.
        if (r.outcome == IngestFileResult::Outcome::kFailed && collection_ok.ok() && sha.ok() && !box_at_fault &&
            !impl_->disk->read_only()) {
            r.quarantined = quarantine_file(*this, sources[i], *sha, r.error, target.collection, report.job_id);
        }
        core::Json f = core::Json::object();
        f["path"] = abs;
        f["collection"] = target.collection;
        if (r.quarantined) {
            f["quarantined"] = true;
        }
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

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k) {
    return ask(question, user, channel, top_k, {});
}

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k,
                                          const std::function<bool(std::string_view)> & on_text,
                                          const std::vector<std::string> * collections) {
    const auto start = std::chrono::steady_clock::now();
    const Settings & settings = impl_->settings;
    if (question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "the question is empty");
    }
    if (top_k < 1 || top_k > 50) {
        return core::Error(core::ErrorCode::kInvalidArgument, "top_k must be between 1 and 50");
    }
    SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                        impl_->retriever.search(question, impl_->search_options(top_k, collections, *this)));
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
    bool quota_left = true;
    if (generative) {
        SB_ASSIGN_OR_RETURN(quota_left, impl_->quota->has_room(user, settings.caps.daily_user_tokens));
    }
    if (!quota_left) {
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
        // The tokens are spent whether or not the answer survives verification.
        if (auto charged = impl_->quota->charge(user, static_cast<int64_t>(run.prompt_tokens + run.generated_tokens));
            !charged.ok()) {
            SB_LOG_ERROR("ask: %s", charged.error().message().c_str());
        }
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
    ctx.salt_fingerprint = provisioning::salt_fingerprint(impl_->salt());
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
        tokens["user_today"] = impl_->quota->used(user).value_or(-1);
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
    view.collection = chunk.document.collection;
    view.document_id = chunk.document.id;
    view.boxes = chunk.provenance.boxes;
    const std::string & media = chunk.document.media_type;
    view.kind = media == "application/pdf" ? "pdf" : media == "text/x-log" ? "log" : "text";
    if (view.kind == "pdf" && chunk.provenance.page > 0) {
        // Sizes come from the kept bytes; a source that moved away leaves them 0 and the viewer
        // shows the text alone.
        if (auto file = locate_source(*this, chunk.document, false); file.ok()) {
            if (auto size = pdf_page_size(*file, chunk.provenance.page); size.ok()) {
                view.page_width = size->width;
                view.page_height = size->height;
            }
        }
    }
    if (const core::Json * records = chunk.metadata.is_object() ? chunk.metadata.find("records") : nullptr;
        records != nullptr && records->is_array()) {
        std::set<std::string> seen;
        for (const core::Json & r : records->as_array()) {
            const std::string t = r.get_string("template");
            if (!t.empty() && seen.insert(t).second) {
                view.log_template += (view.log_template.empty() ? "" : "\n") + t;
            }
        }
    }
    return view;
}

core::Result<std::vector<retrieval::SearchHit>> Appliance::search(const std::string & query, int top_k,
                                                                  const std::vector<std::string> & collections) {
    if (core::trim(query).empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "the search query is empty");
    }
    if (top_k < 1 || top_k > 50) {
        return core::Error(core::ErrorCode::kInvalidArgument, "top_k must be between 1 and 50");
    }
    return impl_->retriever.search(query, impl_->search_options(top_k, &collections, *this));
}

std::vector<std::string> Appliance::all_collections() {
    auto names = impl_->local->collections();
    return names.ok() ? std::move(names).value() : std::vector<std::string>{std::string(retrieval::kDefaultCollection)};
}

retrieval::Retriever & Appliance::retriever() {
    return impl_->retriever;
}

LocalState & Appliance::local_state() {
    return *impl_->local;
}

SettingsStore & Appliance::settings_store() {
    return *impl_->settings_store;
}

JobQueue & Appliance::jobs() {
    return *impl_->jobs;
}

const std::filesystem::path & Appliance::data_dir() const {
    return impl_->data_dir.root();
}

core::Status Appliance::remove(const std::filesystem::path & path, const std::string & actor) {
    std::lock_guard lock(impl_->ingest_mu);
    SB_TRY(impl_->disk->writable());
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    auto removing = impl_->retriever.remove_document(abs);
    if (!removing.ok()) {
        impl_->disk->note_failure(removing.error());
        return std::move(removing).error();
    }
    retrieval::RemoveResult removed = std::move(removing).value();
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
    j["disk"] = impl_->disk->to_json();  // "read_only" with its reason when the disk is full
    j["answerer"] = impl_->grounded ? "generative (" + impl_->grounded->model_info().file_name + ")" : "extractive";
    return j;
}

core::Status Appliance::writable() {
    return impl_->disk->writable();
}

bool Appliance::note_write_failure(const core::Error & error) {
    return impl_->disk->note_failure(error);
}

core::Json Appliance::disk_status() {
    return impl_->disk->to_json();
}

core::Json Appliance::fingerprint() const {
    return salt_to_json(impl_->salt());
}

provisioning::HiddenSalt Appliance::hidden_salt() const {
    return impl_->salt();
}

AuditLog & Appliance::audit() {
    return *impl_->audit;
}

const Settings & Appliance::settings() const {
    return impl_->settings;
}

}  // namespace strongbox::appliance
