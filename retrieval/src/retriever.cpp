#include "strongbox/retrieval/retriever.h"

#include "fusion.h"

#include "strongbox/core/log.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Result;
using core::Status;

namespace {

using detail::Fused;

constexpr double kCompactFraction = 0.3;

double dot(const float * a, const float * b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) {
        s += static_cast<double>(a[i]) * b[i];
    }
    return s;
}

}  // namespace

struct Retriever::Impl {
    RetrieverOptions options;
    std::shared_ptr<const Embedder> embedder;
    Store store;
    VectorIndex index;
    ReconcileReport report;
    std::mutex write_mu;                // keeps a document's store write and its vectors in step
    mutable std::shared_mutex swap_mu;  // searches share it; rebuild_index() takes it to swap the index

    Impl(RetrieverOptions o, std::shared_ptr<const Embedder> e, Store s, VectorIndex i, ReconcileReport r)
        : options(std::move(o)), embedder(std::move(e)), store(std::move(s)), index(std::move(i)), report(r) {}

    Status embed_and_add(const std::vector<int64_t> & ids, const std::vector<std::string> & texts) {
        if (ids.empty()) {
            return {};
        }
        SB_ASSIGN_OR_RETURN(std::vector<float> vectors, embedder->embed_batch(texts));
        return index.add(ids, vectors);
    }

    // Re-orders `ranked` by maximal marginal relevance and keeps k.
    Result<std::vector<Fused>> diversify(const std::vector<Fused> & ranked, int k, double lambda) const {
        std::vector<int64_t> ids;
        for (const auto & f : ranked) {
            ids.push_back(f.chunk_id);
        }
        SB_ASSIGN_OR_RETURN(std::vector<std::string> texts, store.chunk_texts(ids));
        SB_ASSIGN_OR_RETURN(std::vector<float> vectors, embedder->embed_batch(texts));
        const auto dim = static_cast<size_t>(embedder->identity().dimension);
        double top = ranked.front().score > 0 ? ranked.front().score : 1.0;
        std::vector<bool> taken(ranked.size(), false);
        std::vector<size_t> chosen;
        while (chosen.size() < static_cast<size_t>(k) && chosen.size() < ranked.size()) {
            double best = -1e300;
            size_t best_i = 0;
            for (size_t i = 0; i < ranked.size(); ++i) {
                if (taken[i]) {
                    continue;
                }
                double redundancy = 0;
                for (size_t j : chosen) {
                    redundancy = std::max(redundancy, dot(&vectors[i * dim], &vectors[j * dim], dim));
                }
                double value = lambda * ranked[i].score / top - (1.0 - lambda) * redundancy;
                if (value > best) {
                    best = value;
                    best_i = i;
                }
            }
            taken[best_i] = true;
            chosen.push_back(best_i);
        }
        std::vector<Fused> out;
        for (size_t i : chosen) {
            out.push_back(ranked[i]);
        }
        return out;
    }
};

Retriever::Retriever(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Retriever::Retriever(Retriever &&) noexcept = default;
Retriever & Retriever::operator=(Retriever &&) noexcept = default;
Retriever::~Retriever() = default;

Result<Retriever> Retriever::open(const RetrieverOptions & options, std::shared_ptr<const Embedder> embedder) {
    SB_CHECK(embedder != nullptr);
    RetrieverOptions opts = options;
    if (opts.vector_index.empty()) {
        opts.vector_index = opts.database;
        opts.vector_index += ".vectors";
    }
    SB_ASSIGN_OR_RETURN(Store store, Store::open(opts.database));
    ReconcileReport report;
    std::error_code ec;
    Result<VectorIndex> index = Error(ErrorCode::kInternal, "unset");
    if (!std::filesystem::exists(opts.vector_index, ec)) {
        int64_t stale = VectorIndex::remove_stale_temporaries(opts.vector_index);
        index = VectorIndex::rebuild(store, *embedder, opts.index_factory);
        if (index.ok()) {
            report.created = true;
            report.added = index->size();
            report.stale_files_removed = stale;
        }
    } else {
        index = VectorIndex::open(opts.vector_index, store, *embedder, &report);
        if (!index.ok() && opts.rebuild_unusable_index &&
            (index.error().code() == ErrorCode::kCorruptInput || index.error().code() == ErrorCode::kUnsupported)) {
            SB_LOG_WARN("%s; rebuilding from the store", index.error().message().c_str());
            index = VectorIndex::rebuild(store, *embedder, opts.index_factory);
            if (index.ok()) {
                report.created = true;
                report.added = index->size();
            }
        }
    }
    if (!index.ok()) {
        return std::move(index).error();
    }
    // Repairs are saved at once, so a crash before the next flush does not have to redo them.
    if (report.created || report.added > 0 || report.removed > 0) {
        SB_TRY(index->save(opts.vector_index));
    }
    return Retriever(std::make_unique<Impl>(std::move(opts), std::move(embedder), std::move(store),
                                            std::move(index).value(), report));
}

const ReconcileReport & Retriever::open_report() const {
    return impl_->report;
}

Result<AddResult> Retriever::index_document(const core::ExtractedDocument & doc, std::string_view collection) {
    std::lock_guard lock(impl_->write_mu);
    SB_ASSIGN_OR_RETURN(AddResult added, impl_->store.add_document(doc, collection));
    if (!added.superseded_chunk_ids.empty()) {
        impl_->index.remove(added.superseded_chunk_ids);
    }
    std::vector<int64_t> ids;
    std::vector<std::string> texts;
    for (size_t i = 0; i < added.chunk_ids.size(); ++i) {
        // An unchanged document is only embedded where an earlier attempt left vectors missing.
        if (added.outcome != AddOutcome::kUnchanged || !impl_->index.contains(added.chunk_ids[i])) {
            ids.push_back(added.chunk_ids[i]);
            texts.push_back(doc.chunks[i].text);
        }
    }
    auto st = impl_->embed_and_add(ids, texts);
    if (!st.ok()) {
        return std::move(st).error().with_context("embed " + doc.source_path +
                                                  " (stored; vectors are added on retry or next open)");
    }
    return added;
}

Result<RemoveResult> Retriever::remove_document(std::string_view path) {
    std::lock_guard lock(impl_->write_mu);
    SB_ASSIGN_OR_RETURN(RemoveResult removed, impl_->store.remove_document(path));
    impl_->index.remove(removed.chunk_ids);
    return removed;
}

Result<std::vector<SearchHit>> Retriever::search(std::string_view query, const SearchOptions & options) const {
    std::vector<SearchHit> out;
    if (options.k <= 0 || options.filter.collections.empty()) {
        return out;
    }
    const int candidates = std::max(options.candidates, options.k);
    std::vector<detail::RankedId> lexical_list;
    std::vector<detail::RankedId> dense_list;
    if (options.use_bm25) {
        SB_ASSIGN_OR_RETURN(std::vector<LexicalHit> lexical,
                            impl_->store.lexical_search(query, options.filter, candidates));
        for (const auto & h : lexical) {
            lexical_list.push_back(detail::RankedId{h.chunk_id, h.score});
        }
    }
    if (options.use_dense) {
        SB_ASSIGN_OR_RETURN(std::vector<float> q, impl_->embedder->embed(query));
        bool any = std::any_of(q.begin(), q.end(), [](float x) { return x != 0.0f; });
        if (any) {
            SB_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkIdSet> visible, impl_->store.visible_chunks(options.filter));
            std::shared_lock swap_lock(impl_->swap_mu);
            SB_ASSIGN_OR_RETURN(std::vector<VectorHit> dense, impl_->index.search(q, candidates, *visible));
            for (const auto & h : dense) {
                dense_list.push_back(detail::RankedId{h.chunk_id, h.similarity});
            }
        }
    }
    std::vector<Fused> ranked = detail::fuse(
        lexical_list, dense_list,
        detail::FusionParams{options.bm25_weight, options.dense_weight, options.rrf_k, options.min_dense_similarity});
    if (ranked.empty()) {
        return out;
    }
    if (options.mmr_lambda < 1.0) {
        ranked.resize(std::min<size_t>(ranked.size(), static_cast<size_t>(std::max(candidates, 2 * options.k))));
        SB_ASSIGN_OR_RETURN(ranked, impl_->diversify(ranked, options.k, options.mmr_lambda));
    } else if (ranked.size() > static_cast<size_t>(options.k)) {
        ranked.resize(static_cast<size_t>(options.k));
    }
    for (const auto & f : ranked) {
        SB_ASSIGN_OR_RETURN(StoredChunk chunk, impl_->store.get_chunk(f.chunk_id));
        SearchHit hit;
        hit.chunk_id = f.chunk_id;
        hit.text = std::move(chunk.text);
        hit.provenance = std::move(chunk.provenance);
        hit.document = std::move(chunk.document);
        hit.score = f.score;
        hit.bm25_rank = f.bm25_rank;
        hit.bm25_score = f.bm25_score;
        hit.dense_rank = f.dense_rank;
        hit.dense_similarity = f.dense_similarity;
        out.push_back(std::move(hit));
    }
    return out;
}

Status Retriever::flush() {
    std::lock_guard lock(impl_->write_mu);
    int64_t dead = impl_->index.tombstones();
    if (dead > 0 && static_cast<double>(dead) > kCompactFraction * static_cast<double>(dead + impl_->index.size())) {
        SB_LOG_INFO("vector index: compacting %lld tombstones", static_cast<long long>(dead));
        SB_ASSIGN_OR_RETURN(VectorIndex fresh,
                            VectorIndex::rebuild(impl_->store, *impl_->embedder, impl_->index.factory()));
        std::unique_lock swap_lock(impl_->swap_mu);
        impl_->index = std::move(fresh);
    }
    return impl_->index.save(impl_->options.vector_index);
}

Status Retriever::rebuild_index(std::string_view factory) {
    std::lock_guard lock(impl_->write_mu);
    SB_ASSIGN_OR_RETURN(VectorIndex fresh, VectorIndex::rebuild(impl_->store, *impl_->embedder, factory));
    SB_TRY(fresh.save(impl_->options.vector_index));
    std::unique_lock swap_lock(impl_->swap_mu);
    impl_->index = std::move(fresh);
    return {};
}

Store & Retriever::store() {
    return impl_->store;
}
const Store & Retriever::store() const {
    return impl_->store;
}
const VectorIndex & Retriever::vectors() const {
    return impl_->index;
}
const Embedder & Retriever::embedder() const {
    return *impl_->embedder;
}

}  // namespace strongbox::retrieval
