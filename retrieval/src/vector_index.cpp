// VectorIndex over FAISS.
//
// Design notes:
// 1. FAISS labels are our "slots", not chunk ids: slots_[label] is the chunk id, -1 once removed.
//    Selectors then work the same way for every index type (FAISS 1.7.3's IndexIDMap throws when
//    searched with a selector), and access control is a bitmap over slots built per query.
// 2. Flat indexes remove for real and compact; FAISS keeps the order of the remaining vectors,
//    so slots_ is compacted the same way. IVF indexes are given slot numbers as ids and remove
//    by id without renumbering. HNSW cannot remove: its slots become tombstones that the search
//    bitmap leaves out, and rebuild() drops them.
// 3. File layout: "SBVEC001", u64 header length, header JSON (identity, factory, slot count,
//    payload sha256), payload = i64 slots[] then the FAISS serialisation. The checksum is
//    verified before FAISS parses anything, so damaged bytes never reach FAISS's reader.
#include "strongbox/retrieval/vector_index.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"
#include "strongbox/core/log.h"
#include "strongbox/retrieval/store.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Result;
using core::Status;
using faiss_idx = faiss::Index::idx_t;

namespace {

constexpr std::string_view kMagic = "SBVEC001";
constexpr size_t kEmbedBatch = 256;
constexpr int64_t kFlatBelow = 50'000;
constexpr int64_t kHnswBelow = 1'000'000;
constexpr int kHnswEfSearch = 128;

enum class Kind { kFlat, kHnsw, kIvf };

std::string resolve_factory(std::string_view factory, int64_t n, int dimension) {
    if (factory != "auto") {
        return std::string(factory);
    }
    if (n < kFlatBelow) {
        return "Flat";
    }
    if (n < kHnswBelow) {
        return "HNSW32";
    }
    auto lists = static_cast<int64_t>(4 * std::sqrt(static_cast<double>(n)));
    int m = dimension % 8 == 0 ? dimension / 8 : dimension;
    return "IVF" + std::to_string(lists) + ",PQ" + std::to_string(m);
}

std::string rebuild_hint() {
    return "rebuild it from the store (Retriever::rebuild_index, `strongbox reindex`)";
}

}  // namespace

std::string ReconcileReport::to_string() const {
    return std::string(created ? "built from the store: " : "") + std::to_string(added) + " vectors added, " +
           std::to_string(removed) + " removed";
}

struct VectorIndex::Impl {
    EmbedderIdentity identity;
    std::string factory;
    Kind kind = Kind::kFlat;
    std::unique_ptr<faiss::Index> index;
    std::vector<int64_t> slots;
    std::unordered_map<int64_t, int64_t> slot_of;
    int64_t live = 0;
    mutable std::shared_mutex mu;

    Status classify() {
        if (dynamic_cast<faiss::IndexFlat *>(index.get()) != nullptr) {
            kind = Kind::kFlat;
        } else if (auto * hnsw = dynamic_cast<faiss::IndexHNSW *>(index.get()); hnsw != nullptr) {
            kind = Kind::kHnsw;
            // FAISS 1.7.3 does not take the search depth from SearchParametersHNSW alone; set it here too.
            hnsw->hnsw.efSearch = kHnswEfSearch;
        } else if (dynamic_cast<faiss::IndexIVF *>(index.get()) != nullptr) {
            kind = Kind::kIvf;
        } else {
            return Error(ErrorCode::kUnsupported, "vector index type '" + factory +
                                                      "' is not supported (use Flat, HNSW<M> or IVF<n>,...)");
        }
        return {};
    }

    void rebuild_slot_map() {
        slot_of.clear();
        live = 0;
        for (size_t label = 0; label < slots.size(); ++label) {
            if (slots[label] >= 0) {
                slot_of[slots[label]] = static_cast<int64_t>(label);
                ++live;
            }
        }
    }

    int64_t remove_locked(std::span<const int64_t> chunk_ids) {
        std::vector<faiss_idx> labels;
        for (int64_t id : chunk_ids) {
            auto it = slot_of.find(id);
            if (it != slot_of.end()) {
                labels.push_back(it->second);
            }
        }
        if (labels.empty()) {
            return 0;
        }
        if (kind == Kind::kFlat || kind == Kind::kIvf) {
            faiss::IDSelectorBatch sel(labels.size(), labels.data());
            index->remove_ids(sel);
        }
        for (faiss_idx label : labels) {
            slots[static_cast<size_t>(label)] = -1;
        }
        if (kind == Kind::kFlat) {
            slots.erase(std::remove(slots.begin(), slots.end(), int64_t{-1}), slots.end());
        }
        rebuild_slot_map();
        return static_cast<int64_t>(labels.size());
    }

    Status add_locked(std::span<const int64_t> chunk_ids, std::span<const float> vectors) {
        const auto dim = static_cast<size_t>(identity.dimension);
        if (vectors.size() != chunk_ids.size() * dim) {
            return Error(ErrorCode::kInvalidArgument, "add vectors: " + std::to_string(vectors.size()) +
                                                          " floats for " + std::to_string(chunk_ids.size()) +
                                                          " chunks of dimension " + std::to_string(dim));
        }
        if (chunk_ids.empty()) {
            return {};
        }
        std::unordered_set<int64_t> unique(chunk_ids.begin(), chunk_ids.end());
        if (unique.size() != chunk_ids.size()) {
            return Error(ErrorCode::kInvalidArgument, "add vectors: duplicate chunk ids in one batch");
        }
        remove_locked(chunk_ids);
        const auto n = static_cast<faiss_idx>(chunk_ids.size());
        try {
            if (!index->is_trained) {
                auto * ivf = dynamic_cast<faiss::IndexIVF *>(index.get());
                if (ivf != nullptr && static_cast<size_t>(n) < ivf->nlist) {
                    return Error(ErrorCode::kInvalidArgument,
                                 "vector index " + factory + " needs at least " + std::to_string(ivf->nlist) +
                                     " vectors to train, got " + std::to_string(n));
                }
                index->train(n, vectors.data());
            }
            auto first = static_cast<faiss_idx>(slots.size());
            if (kind == Kind::kIvf) {
                std::vector<faiss_idx> labels(static_cast<size_t>(n));
                for (faiss_idx i = 0; i < n; ++i) {
                    labels[static_cast<size_t>(i)] = first + i;
                }
                index->add_with_ids(n, vectors.data(), labels.data());
            } else {
                index->add(n, vectors.data());
            }
        } catch (const std::exception & e) {
            return Error(ErrorCode::kInternal, "add vectors to " + factory + ": " + e.what());
        }
        for (int64_t id : chunk_ids) {
            slot_of[id] = static_cast<int64_t>(slots.size());
            slots.push_back(id);
            ++live;
        }
        return {};
    }
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::VectorIndex(VectorIndex &&) noexcept = default;
VectorIndex & VectorIndex::operator=(VectorIndex &&) noexcept = default;
VectorIndex::~VectorIndex() = default;

Result<VectorIndex> VectorIndex::create(const EmbedderIdentity & identity, std::string_view factory) {
    if (identity.dimension <= 0) {
        return Error(ErrorCode::kInvalidArgument, "vector index: embedder " + identity.to_string() +
                                                      " has no dimension");
    }
    auto impl = std::make_unique<Impl>();
    impl->identity = identity;
    impl->factory = resolve_factory(factory, 0, identity.dimension);
    try {
        impl->index.reset(faiss::index_factory(identity.dimension, impl->factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    } catch (const std::exception & e) {
        return Error(ErrorCode::kUnsupported, "vector index type '" + impl->factory + "': " + e.what());
    }
    SB_TRY(impl->classify());
    return VectorIndex(std::move(impl));
}

Result<VectorIndex> VectorIndex::load(const std::filesystem::path & path, const EmbedderIdentity & expected) {
    const std::string where = "vector index " + path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return Error(ErrorCode::kNotFound, where + ": no such file");
    }
    SB_ASSIGN_OR_RETURN(std::string bytes, core::read_file(path));
    auto corrupt = [&](const std::string & why) {
        return Error(ErrorCode::kCorruptInput, where + " is damaged (" + why + "); " + rebuild_hint());
    };
    if (bytes.size() < kMagic.size() + 8 || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
        return corrupt("bad magic or truncated header");
    }
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data() + kMagic.size(), 8);
    size_t header_at = kMagic.size() + 8;
    if (header_len > bytes.size() - header_at) {
        return corrupt("header runs past the end of the file");
    }
    auto header = core::Json::parse(std::string_view(bytes).substr(header_at, header_len));
    if (!header.ok() || !header->is_object()) {
        return corrupt("header is not a JSON object");
    }
    std::string_view payload = std::string_view(bytes).substr(header_at + header_len);
    if (core::sha256_hex(payload) != header->get_string("payload_sha256")) {
        return corrupt("payload checksum mismatch, " + std::to_string(payload.size()) + " payload bytes");
    }
    EmbedderIdentity stored{header->get_string("embedder"), header->get_string("embedder_version"),
                            static_cast<int>(header->get_int("dimension"))};
    if (!(stored == expected)) {
        return Error(ErrorCode::kUnsupported, where + " was built with embedder " + stored.to_string() +
                                                  " but the configured embedder is " + expected.to_string() +
                                                  "; re-embed the corpus: " + rebuild_hint());
    }
    int64_t n_slots = header->get_int("slots", -1);
    if (n_slots < 0 || static_cast<uint64_t>(n_slots) > payload.size() / 8) {
        return corrupt("slot count out of range");
    }
    auto impl = std::make_unique<Impl>();
    impl->identity = stored;
    impl->factory = header->get_string("factory");
    impl->slots.resize(static_cast<size_t>(n_slots));
    std::memcpy(impl->slots.data(), payload.data(), static_cast<size_t>(n_slots) * 8);
    faiss::VectorIOReader reader;
    reader.data.assign(payload.begin() + n_slots * 8, payload.end());
    try {
        impl->index.reset(faiss::read_index(&reader));
    } catch (const std::exception & e) {
        return corrupt(std::string("FAISS cannot read it: ") + e.what());
    }
    if (impl->index == nullptr || impl->index->d != stored.dimension) {
        return corrupt("index dimension does not match the header");
    }
    SB_TRY(impl->classify());
    impl->rebuild_slot_map();
    auto expected_total = impl->kind == Kind::kIvf ? impl->live : n_slots;
    if (impl->index->ntotal != expected_total) {
        return corrupt("index holds " + std::to_string(impl->index->ntotal) + " vectors, header says " +
                       std::to_string(expected_total));
    }
    return VectorIndex(std::move(impl));
}

Status VectorIndex::save(const std::filesystem::path & path) const {
    std::shared_lock lock(impl_->mu);
    faiss::VectorIOWriter writer;
    try {
        faiss::write_index(impl_->index.get(), &writer);
    } catch (const std::exception & e) {
        return Error(ErrorCode::kInternal, "serialise vector index for " + path.string() + ": " + e.what());
    }
    std::string payload(impl_->slots.size() * 8, '\0');
    std::memcpy(payload.data(), impl_->slots.data(), payload.size());
    payload.append(reinterpret_cast<const char *>(writer.data.data()), writer.data.size());
    core::Json header = core::Json::object();
    header["embedder"] = impl_->identity.name;
    header["embedder_version"] = impl_->identity.version;
    header["dimension"] = impl_->identity.dimension;
    header["factory"] = impl_->factory;
    header["slots"] = static_cast<int64_t>(impl_->slots.size());
    header["vectors"] = impl_->live;
    header["payload_sha256"] = core::sha256_hex(payload);
    std::string header_text = header.dump();
    std::string bytes(kMagic);
    uint64_t header_len = header_text.size();
    bytes.append(reinterpret_cast<const char *>(&header_len), 8);
    bytes += header_text;
    bytes += payload;
    auto st = core::write_file_atomic(path, bytes);
    if (!st.ok()) {
        return std::move(st).error().with_context("save vector index");
    }
    return {};
}

Result<ReconcileReport> VectorIndex::reconcile(const Store & store, const Embedder & embedder) {
    if (!(embedder.identity() == impl_->identity)) {
        return Error(ErrorCode::kUnsupported, "reconcile: vector index uses " + impl_->identity.to_string() +
                                                  ", embedder is " + embedder.identity().to_string());
    }
    SB_ASSIGN_OR_RETURN(std::vector<int64_t> active, store.active_chunk_ids());
    std::unique_lock lock(impl_->mu);
    ReconcileReport report;
    std::unordered_set<int64_t> active_set(active.begin(), active.end());
    std::vector<int64_t> stale;
    for (const auto & [id, slot] : impl_->slot_of) {
        if (active_set.count(id) == 0) {
            stale.push_back(id);
        }
    }
    report.removed = impl_->remove_locked(stale);
    std::vector<int64_t> missing;
    for (int64_t id : active) {
        if (impl_->slot_of.count(id) == 0) {
            missing.push_back(id);
        }
    }
    // IVF trains on its first batch, so an untrained index gets every missing vector at once.
    size_t batch = impl_->index->is_trained ? kEmbedBatch : std::max<size_t>(missing.size(), 1);
    for (size_t at = 0; at < missing.size(); at += batch) {
        std::vector<int64_t> ids(missing.begin() + static_cast<std::ptrdiff_t>(at),
                                 missing.begin() + static_cast<std::ptrdiff_t>(std::min(missing.size(), at + batch)));
        SB_ASSIGN_OR_RETURN(std::vector<std::string> texts, store.chunk_texts(ids));
        std::vector<float> vectors;
        for (size_t t = 0; t < texts.size(); t += kEmbedBatch) {
            auto end = std::min(texts.size(), t + kEmbedBatch);
            SB_ASSIGN_OR_RETURN(std::vector<float> part,
                                embedder.embed_batch(std::span<const std::string>(texts.data() + t, end - t)));
            vectors.insert(vectors.end(), part.begin(), part.end());
        }
        SB_TRY(impl_->add_locked(ids, vectors));
        report.added += static_cast<int64_t>(ids.size());
    }
    return report;
}

Result<VectorIndex> VectorIndex::open(const std::filesystem::path & path, const Store & store,
                                      const Embedder & embedder, ReconcileReport * report) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    Result<VectorIndex> index = exists ? load(path, embedder.identity()) : create(embedder.identity(), "Flat");
    if (!index.ok()) {
        return std::move(index).error();
    }
    SB_ASSIGN_OR_RETURN(ReconcileReport r, index->reconcile(store, embedder));
    r.created = !exists;
    if (r.created || r.added > 0 || r.removed > 0) {
        SB_LOG_INFO("vector index %s: %s", path.c_str(), r.to_string().c_str());
    }
    if (report != nullptr) {
        *report = r;
    }
    return index;
}

Result<VectorIndex> VectorIndex::rebuild(const Store & store, const Embedder & embedder, std::string_view factory) {
    SB_ASSIGN_OR_RETURN(std::vector<int64_t> active, store.active_chunk_ids());
    std::string resolved = resolve_factory(factory, static_cast<int64_t>(active.size()), embedder.identity().dimension);
    SB_ASSIGN_OR_RETURN(VectorIndex index, create(embedder.identity(), resolved));
    SB_ASSIGN_OR_RETURN([[maybe_unused]] ReconcileReport report, index.reconcile(store, embedder));
    return index;
}

Status VectorIndex::add(std::span<const int64_t> chunk_ids, std::span<const float> vectors) {
    std::unique_lock lock(impl_->mu);
    return impl_->add_locked(chunk_ids, vectors);
}

int64_t VectorIndex::remove(std::span<const int64_t> chunk_ids) {
    std::unique_lock lock(impl_->mu);
    return impl_->remove_locked(chunk_ids);
}

Result<std::vector<VectorHit>> VectorIndex::search(std::span<const float> query, int k,
                                                   const std::vector<int64_t> * allowed) const {
    std::shared_lock lock(impl_->mu);
    std::vector<VectorHit> hits;
    if (query.size() != static_cast<size_t>(impl_->identity.dimension)) {
        return Error(ErrorCode::kInvalidArgument, "vector search: query has " + std::to_string(query.size()) +
                                                      " dimensions, index has " +
                                                      std::to_string(impl_->identity.dimension));
    }
    if (k <= 0 || impl_->live == 0) {
        return hits;
    }
    // Bitmap over slots: allowed and live (design note 1). Without a filter and without
    // tombstones every stored vector qualifies and the selector is skipped.
    bool tombstones = impl_->kind == Kind::kHnsw && impl_->live != static_cast<int64_t>(impl_->slots.size());
    bool need_selector = allowed != nullptr || tombstones;
    std::vector<uint8_t> bitmap;
    int64_t selected = impl_->live;
    if (need_selector) {
        bitmap.assign((impl_->slots.size() + 7) / 8, 0);
        selected = 0;
        auto select = [&](int64_t label) {
            bitmap[static_cast<size_t>(label) >> 3] |= static_cast<uint8_t>(1u << (label & 7));
            ++selected;
        };
        if (allowed != nullptr) {
            for (int64_t id : *allowed) {
                auto it = impl_->slot_of.find(id);
                if (it != impl_->slot_of.end()) {
                    select(it->second);
                }
            }
        } else {
            for (const auto & entry : impl_->slot_of) {
                select(entry.second);
            }
        }
        if (selected == 0) {
            return hits;
        }
    }
    faiss::IDSelectorBitmap selector(bitmap.size(), bitmap.data());
    faiss::SearchParameters flat_params;
    faiss::SearchParametersHNSW hnsw_params;
    faiss::SearchParametersIVF ivf_params;
    faiss::SearchParameters * params = &flat_params;
    if (impl_->kind == Kind::kHnsw) {
        hnsw_params.efSearch = kHnswEfSearch;
        params = &hnsw_params;
    } else if (impl_->kind == Kind::kIvf) {
        auto * ivf = dynamic_cast<faiss::IndexIVF *>(impl_->index.get());
        ivf_params.nprobe = std::min<size_t>(ivf->nlist, 32);
        params = &ivf_params;
    }
    params->sel = need_selector ? &selector : nullptr;
    auto kk = static_cast<faiss_idx>(std::min<int64_t>(k, selected));
    std::vector<float> distances(static_cast<size_t>(kk));
    std::vector<faiss_idx> labels(static_cast<size_t>(kk));
    try {
        impl_->index->search(1, query.data(), kk, distances.data(), labels.data(), params);
    } catch (const std::exception & e) {
        return Error(ErrorCode::kInternal, std::string("vector search in ") + impl_->factory + ": " + e.what());
    }
    for (faiss_idx i = 0; i < kk; ++i) {
        faiss_idx label = labels[static_cast<size_t>(i)];
        if (label < 0 || static_cast<size_t>(label) >= impl_->slots.size()) {
            continue;
        }
        int64_t chunk_id = impl_->slots[static_cast<size_t>(label)];
        if (chunk_id >= 0) {
            hits.push_back(VectorHit{chunk_id, distances[static_cast<size_t>(i)]});
        }
    }
    return hits;
}

bool VectorIndex::contains(int64_t chunk_id) const {
    std::shared_lock lock(impl_->mu);
    return impl_->slot_of.count(chunk_id) != 0;
}

int64_t VectorIndex::size() const {
    std::shared_lock lock(impl_->mu);
    return impl_->live;
}

int64_t VectorIndex::tombstones() const {
    std::shared_lock lock(impl_->mu);
    return impl_->kind == Kind::kHnsw ? static_cast<int64_t>(impl_->slots.size()) - impl_->live : 0;
}

std::vector<int64_t> VectorIndex::chunk_ids() const {
    std::shared_lock lock(impl_->mu);
    std::vector<int64_t> ids;
    ids.reserve(impl_->slot_of.size());
    for (const auto & entry : impl_->slot_of) {
        ids.push_back(entry.first);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

const EmbedderIdentity & VectorIndex::identity() const { return impl_->identity; }

std::string VectorIndex::factory() const { return impl_->factory; }

}  // namespace strongbox::retrieval
