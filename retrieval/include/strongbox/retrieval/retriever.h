// Retriever: hybrid search over the Store (BM25) and the VectorIndex (dense), fused by reciprocal
// rank fusion, with access control applied inside retrieval.
//
// Access control: SearchOptions::filter.collections lists what the caller may read. Chunks of
// other collections are excluded by the store query itself and by the vector selector, so they
// never enter either candidate list, the BM25 statistics, the counts or the fused scores: a user
// cannot tell whether a restricted document exists. An empty list allows nothing.
//
// Fusion: score = w_bm25 / (rrf_k + rank_bm25) + w_dense / (rrf_k + rank_dense), ranks from 1,
// a missing rank contributes 0. Minimum evidence: a chunk may be returned only when it matched at
// least one non-stopword query term lexically, or its dense cosine similarity reaches
// min_dense_similarity. A query with no such chunk returns no hits, so the answerer can refuse.
// The 0.25 default suits HashedEmbedder: unrelated texts score 0 +- 0.05 (hash collisions), texts
// that share a content word or its stem score above 0.25. Other embedders need their own value.
// Optional maximal marginal relevance (mmr_lambda < 1) re-orders the fused list to skip
// near-duplicate chunks.
//
// Thread-safety: search() may run concurrently with itself and with index_document(); writes are
// serialised by the store and the index. Vectors reach disk on flush() (call it after an ingest
// job); after a crash, open() re-embeds whatever the store holds and the index file lacks, drops
// vectors of chunks that are no longer active, deletes temporary files of an interrupted save and
// saves the repaired index (open_report() says what it did). tests/retrieval/crash_soak.h proves
// this by SIGKILLing a writer at random points.
// Errors: as Store and VectorIndex; open() fails on a damaged index file or an embedder mismatch
// unless rebuild_unusable_index is set, in which case the index is rebuilt from the store.
//
//   RetrieverOptions opts{.database = dir / "strongbox.db"};
//   SB_ASSIGN_OR_RETURN(Retriever r, Retriever::open(opts, std::make_shared<HashedEmbedder>()));
//   SB_TRY(r.index_document(extracted, "finance").status());
//   SearchOptions so;
//   so.filter.collections = {"default", "finance"};
//   SB_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, r.search("rotate the disk encryption key", so));
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"
#include "strongbox/retrieval/embedder.h"
#include "strongbox/retrieval/store.h"
#include "strongbox/retrieval/vector_index.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

struct RetrieverOptions {
    std::filesystem::path database;       // the SQLite file
    std::filesystem::path vector_index;   // default: database + ".vectors"
    std::string index_factory = "auto";   // used when the index is built from scratch
    bool rebuild_unusable_index = false;  // damaged file or other embedder: rebuild instead of failing
};

struct SearchOptions {
    int k = 5;
    SearchFilter filter;  // access control (collections) and metadata filters
    bool use_bm25 = true;
    bool use_dense = true;
    // Defaults tuned on half of the PubMedQA dev questions and checked on the other half
    // (bench/retrieval/eval_bench.cpp): with the lexical HashedEmbedder the dense list adds little
    // that BM25 lacks, so it mostly re-orders near-ties; equal weights with rrf_k = 60 were worse
    // than BM25 alone. Raise dense_weight for a semantic embedder.
    double bm25_weight = 1.0;
    double dense_weight = 0.2;
    int rrf_k = 5;
    int candidates = 50;                 // per list, before fusion
    double min_dense_similarity = 0.25;  // minimum evidence for a chunk with no lexical match (see above)
    double mmr_lambda = 1.0;             // 1 = plain fused order; lower trades relevance for novelty
};

struct SearchHit {
    int64_t chunk_id = 0;
    std::string text;
    core::Provenance provenance;
    DocumentInfo document;
    double score = 0;   // fused RRF score
    int bm25_rank = 0;  // 1-based rank in the BM25 list, 0 when absent
    double bm25_score = 0;
    int dense_rank = 0;           // 1-based rank in the dense list, 0 when absent
    double dense_similarity = 0;  // cosine similarity, 0 when absent
};

class Retriever {
  public:
    static core::Result<Retriever> open(const RetrieverOptions & options, std::shared_ptr<const Embedder> embedder);

    Retriever(Retriever &&) noexcept;
    Retriever & operator=(Retriever &&) noexcept;
    ~Retriever();

    // What open() repaired in the vector index.
    const ReconcileReport & open_report() const;

    // Store add (one transaction) then vectors for the new chunks; superseded chunks leave the
    // vector index. kUnchanged documents are not re-embedded.
    core::Result<AddResult> index_document(const core::ExtractedDocument & doc,
                                           std::string_view collection = kDefaultCollection);
    core::Result<RemoveResult> remove_document(std::string_view path);

    core::Result<std::vector<SearchHit>> search(std::string_view query, const SearchOptions & options) const;

    // Persists the vector index (atomic replace). An HNSW index whose tombstones exceed 30% of its
    // vectors is rebuilt from the store first, with the same index type.
    core::Status flush();

    // Replaces the vector index with one rebuilt from the store ("auto" picks the type by size).
    core::Status rebuild_index(std::string_view factory = "auto");

    Store & store();
    const Store & store() const;
    const VectorIndex & vectors() const;
    const Embedder & embedder() const;

  private:
    struct Impl;
    explicit Retriever(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::retrieval
