// VectorIndex: the dense-retrieval index over chunk ids, a FAISS index persisted next to the
// database.
//
// It is a cache derived from the Store: open() loads it and reconciles it with the store (vectors
// of new chunks are added, vectors of superseded or removed chunks dropped) and reports what it
// repaired, so a crash between a store commit and an index save costs only re-embedding. The
// file records the embedder identity and dimension; opening under another embedder is refused
// with a message telling the admin to re-embed. The file is written atomically (temp file, fsync,
// rename, directory fsync) and carries a SHA-256 of its payload, so a truncated or damaged file is
// a clear kCorruptInput error that names the rebuild path, never a crash.
//
// Index types (FAISS factory strings, inner product on L2-normalised vectors = cosine):
// "Flat" (exact; default), "HNSW<M>" (graph ANN), "IVF<lists>,Flat|PQ<m>|SQ8" (trained on the
// vectors given to the first add, which must be at least as many as lists; at most 100k of them,
// sampled evenly, train it). "auto" picks by size: Flat below 50k vectors, HNSW32 below 1M,
// IVF<sqrt(n)>,SQ8 from 1M. Deleting from Flat compacts it; IVF
// removes by id; HNSW keeps tombstones that searches skip, until the next rebuild (Retriever::flush
// rebuilds once they pass 30%).
//
// Thread-safety: searches may run concurrently with each other; add, remove, reconcile and save
// take an exclusive lock. Errors: kCorruptInput (damaged file), kUnsupported (embedder mismatch,
// unknown factory string), kIoError (file system), kInvalidArgument (bad vector sizes).
//
//   ReconcileReport report;
//   SB_ASSIGN_OR_RETURN(VectorIndex index, VectorIndex::open(dir / "strongbox.vectors", store, embedder, &report));
//   SB_ASSIGN_OR_RETURN(auto hits, index.search(query_vector, 10, &visible_chunk_ids));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/retrieval/embedder.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

class ChunkIdSet;
class Store;

struct ReconcileReport {
    bool created = false;             // there was no index file; it was built from the store
    int64_t added = 0;                // chunks that had no vector
    int64_t removed = 0;              // vectors of chunks no longer active
    int64_t stale_files_removed = 0;  // temporary files of saves interrupted by a crash

    std::string to_string() const;
};

struct VectorHit {
    int64_t chunk_id = 0;
    float similarity = 0;  // cosine similarity, higher is better
};

class VectorIndex {
  public:
    static core::Result<VectorIndex> create(const EmbedderIdentity & identity, std::string_view factory = "Flat");

    // Reads an index file and checks it was built with `expected`.
    static core::Result<VectorIndex> load(const std::filesystem::path & path, const EmbedderIdentity & expected);

    // load() + reconcile() against the store; a missing file is built from the store. A damaged
    // file or an embedder mismatch is an error: call rebuild() to replace it.
    static core::Result<VectorIndex> open(const std::filesystem::path & path, const Store & store,
                                          const Embedder & embedder, ReconcileReport * report = nullptr);

    // Deletes the temporary files a save interrupted by a crash left beside `path`; returns how
    // many. open() calls it; call it before rebuilding when there is no index file.
    static int64_t remove_stale_temporaries(const std::filesystem::path & path);

    // The index type "auto" resolves to for n vectors of a dimension (see the header comment).
    static std::string factory_for(int64_t n, int dimension);

    // A fresh index over every active chunk of the store (re-embeds everything).
    static core::Result<VectorIndex> rebuild(const Store & store, const Embedder & embedder,
                                             std::string_view factory = "auto");

    VectorIndex(VectorIndex &&) noexcept;
    VectorIndex & operator=(VectorIndex &&) noexcept;
    ~VectorIndex();

    core::Status save(const std::filesystem::path & path) const;
    core::Result<ReconcileReport> reconcile(const Store & store, const Embedder & embedder);

    // vectors is row-major chunk_ids.size() x dimension. Ids already present are replaced.
    core::Status add(std::span<const int64_t> chunk_ids, std::span<const float> vectors);
    int64_t remove(std::span<const int64_t> chunk_ids);

    // Top-k chunks by cosine similarity. When `allowed` is given (ascending or not), only those
    // chunk ids are considered: others never enter the candidate list.
    core::Result<std::vector<VectorHit>> search(std::span<const float> query, int k,
                                                const std::vector<int64_t> * allowed = nullptr) const;
    // The same with the allowed set as a bitmap (Store::visible_chunks): nothing per query is
    // proportional to the corpus, so graph and IVF searches stay fast at millions of chunks.
    core::Result<std::vector<VectorHit>> search(std::span<const float> query, int k, const ChunkIdSet & allowed) const;

    bool contains(int64_t chunk_id) const;
    int64_t size() const;        // live vectors
    int64_t tombstones() const;  // removed vectors an HNSW index still holds (0 for Flat and IVF)
    std::vector<int64_t> chunk_ids() const;
    const EmbedderIdentity & identity() const;
    std::string factory() const;

    // IVF,SQ8 searches scan the probed lists with Strongbox's own kernel; `true` sends them through
    // FAISS's IndexIVF::search instead, the reference tests and benchmarks compare it with. Other
    // index types ignore it. Safe to call while searches run.
    void set_faiss_ivf_scan(bool on);
    // The code that answers searches now: "strongbox-flat", "strongbox-ivf-sq8" (a trained IVF,SQ8
    // index) or "faiss" (HNSW, other IVF codes, or set_faiss_ivf_scan(true)).
    std::string search_kernel() const;

  private:
    struct Impl;
    explicit VectorIndex(std::unique_ptr<Impl> impl);
    core::Result<std::vector<VectorHit>> search_impl(std::span<const float> query, int k,
                                                     const ChunkIdSet * allowed) const;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::retrieval
