#include "appliance_impl.h"

namespace strongbox::appliance {

core::Json Settings::to_json() const {
    core::Json j = core::Json::object();
    j["top_k"] = top_k;
    j["min_coverage"] = answer.min_coverage;
    // The extractive answerer's weights shape answers like any setting: pinned in the fingerprint.
    j["answer_scorer"] = AnswerScorer::shipped().version + " sha256:" + AnswerScorer::shipped().sha256();
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
    ro.database = dir.paths().store();
    ro.vector_index = dir.paths().vector_index();
    // The embedder is chosen before the index opens: the CLI's model, else the admin's saved one.
    SB_ASSIGN_OR_RETURN(auto settings_store, SettingsStore::open(dir.paths().settings()));
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
                                                             settings.model_threads, settings.model_device));
    }
    auto pages = std::make_shared<PageRenderer>(settings.extract);
    SB_ASSIGN_OR_RETURN(auto audit, open_audit_trail(dir.paths().audit(), pages));
    provisioning::HiddenSalt salt;
    salt.index_params_sha256 =
        index_params_sha256(retriever->embedder().identity().to_string(), std::string(retrieval::kAnalyzerVersion));
    if (grounded) {
        salt.model_sha256 = grounded->model_info().sha256;
        SB_ASSIGN_OR_RETURN(salt.prompts_sha256, hash_prompt_tree(find_prompt_dir(settings.prompt_dir)));
    }
    // A model other than the last one recorded is itself an event auditors must see.
    const std::string model_file = grounded ? grounded->model_info().file_name : std::string();
    if (auto changed = record_model_change(*audit, salt.model_sha256, model_file, settings.holder); !changed.ok()) {
        return std::move(changed).error().with_context("record the model change");
    }
    auto impl = std::make_unique<Impl>(settings, std::move(dir), std::move(retriever).value(), std::move(pages),
                                       std::move(audit));
    impl->grounded = std::move(grounded);
    impl->disk = std::move(disk);
    SB_ASSIGN_OR_RETURN(impl->quota, QuotaLedger::open(impl->data_dir.paths().usage()));
    impl->loaded_salt = std::move(salt);
    SB_ASSIGN_OR_RETURN(impl->local, LocalState::open(impl->data_dir.paths().local_state()));
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
    app->impl_->jobs =
        std::make_unique<JobQueue>(kUploadQueueCapacity, [self](const Job & job) { run_upload_job(*self, job); });
    return app;
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
            if (auto size = impl_->pages->page_size(*file, chunk.provenance.page, chunk.document.sha256); size.ok()) {
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

PageRenderer & Appliance::pages() {
    return *impl_->pages;
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
    j["analyzer"] = std::string(retrieval::kAnalyzerVersion);
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
