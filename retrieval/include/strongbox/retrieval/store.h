// Store: the durable home of every ingested document and chunk, in one SQLite database file.
//
// It keeps documents (path, sha256, version, collection, status), their chunks (text, provenance,
// metadata) and an FTS5 full-text index over chunk text, and it is the source of truth the vector
// index is reconciled against. Versions: adding new bytes at a path that is already active makes
// a new version and marks the previous one superseded; superseded and removed (tombstoned)
// documents stay readable by id for audit but never appear in search, counts or neighbours.
//
// Thread-safety: one Store may be shared by any number of threads. It owns a single SQLite
// connection behind a mutex, so calls are serialised; each write is one transaction. After open a
// thread it owns builds the lexical postings index through a second, read-only connection; the
// destructor stops and joins it.
// Errors: I/O and SQLite failures come back as kIoError/kInternal, malformed input as
// kInvalidArgument, unknown ids and paths as kNotFound, a database written by a newer Strongbox as
// kUnsupported; every message names the database or the input. Nothing throws.
//
//   SB_ASSIGN_OR_RETURN(Store store, Store::open(data_dir / "strongbox.db"));
//   SB_ASSIGN_OR_RETURN(AddResult added, store.add_document(extracted, "finance"));
//   if (added.outcome == AddOutcome::kUnchanged) { /* same bytes already indexed */ }
//   SB_ASSIGN_OR_RETURN(StoredChunk chunk, store.get_chunk(added.chunk_ids.front()));
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

inline constexpr std::string_view kDefaultCollection = "default";

enum class DocumentStatus { kActive, kSuperseded, kDeleted };

std::string_view to_string(DocumentStatus status);

struct DocumentInfo {
    int64_t id = 0;
    std::string path;
    std::string sha256;
    int64_t version = 0;
    std::string media_type;
    int64_t size_bytes = 0;
    int page_count = 0;
    std::string collection;
    DocumentStatus status = DocumentStatus::kActive;
    std::string ingested_at;
    std::string ingest_job;
    int64_t chunk_count = 0;
};

enum class AddOutcome {
    kAdded,       // first version of this path
    kNewVersion,  // new bytes at a path that was active: the previous version is now superseded
    kUnchanged,   // identical bytes already active at this path: nothing was written
};

struct AddResult {
    AddOutcome outcome = AddOutcome::kAdded;
    int64_t document_id = 0;
    int64_t version = 0;
    std::vector<int64_t> chunk_ids;             // in chunk order
    int64_t superseded_document_id = 0;         // 0 unless outcome == kNewVersion
    std::vector<int64_t> superseded_chunk_ids;  // chunks that left search with the old version
};

struct RemoveResult {
    int64_t document_id = 0;
    std::vector<int64_t> chunk_ids;  // chunks that left search
};

struct StoredChunk {
    int64_t id = 0;
    int ordinal = 0;  // position of the chunk within its document, from 0
    std::string text;
    core::Provenance provenance;
    core::Json metadata;
    DocumentInfo document;
};

struct StoreStats {
    int64_t documents = 0;  // active documents
    int64_t chunks = 0;     // chunks of active documents
    int64_t superseded_documents = 0;
    int64_t deleted_documents = 0;
};

// Which chunks a search may see. Access control is the collections list: a chunk outside it is
// invisible to every search step (candidates, statistics, counts). An empty list allows nothing.
// The other members narrow further; empty means "no constraint".
struct SearchFilter {
    std::vector<std::string> collections;
    std::vector<std::string> media_types;  // e.g. "application/pdf", "text/x-log"
    std::string path_prefix;               // plain prefix of the source path, no wildcards
    // Log records: chunk metadata {"records":[{"time":"...","template_id":"..."}]}. A chunk passes
    // when one of its records has time in [time_from, time_to) (ISO 8601 strings compare in
    // order) and, when template_ids is set, one of those template ids.
    std::string time_from;
    std::string time_to;
    std::vector<std::string> template_ids;
};

// A set of chunk ids as a bitmap over the id space: the chunks one SearchFilter lets a caller see
// at one point in time. Immutable once built, so concurrent searches share it.
class ChunkIdSet {
  public:
    ChunkIdSet() = default;
    explicit ChunkIdSet(const std::vector<int64_t> & ids);

    bool contains(int64_t id) const {
        auto u = static_cast<uint64_t>(id);
        return id >= 0 && (u >> 6) < bits_.size() && ((bits_[u >> 6] >> (u & 63)) & 1) != 0;
    }
    int64_t size() const { return size_; }
    std::vector<int64_t> ids() const;  // ascending

  private:
    std::vector<uint64_t> bits_;
    int64_t size_ = 0;
};

// A chunk that matched a lexical query, with its BM25 score (higher is better).
struct LexicalHit {
    int64_t chunk_id = 0;
    double score = 0;
};

class Store {
  public:
    // Opens or creates the database, applying schema migrations in order. A database whose schema
    // is newer than this build knows is refused (kUnsupported) rather than misread.
    static core::Result<Store> open(const std::filesystem::path & path);

    Store(Store &&) noexcept;
    Store & operator=(Store &&) noexcept;
    ~Store();

    const std::filesystem::path & path() const;
    int schema_version() const;

    // Stores a document and all its chunks in one transaction: either everything is written or
    // nothing is. Provenance of each chunk gets the document version assigned here.
    core::Result<AddResult> add_document(const core::ExtractedDocument & doc,
                                         std::string_view collection = kDefaultCollection);

    // Tombstones the active document at path (kNotFound when there is none).
    core::Result<RemoveResult> remove_document(std::string_view path);

    // Any chunk by id, including those of superseded or removed versions (for audit and citations).
    core::Result<StoredChunk> get_chunk(int64_t chunk_id) const;

    // The chunk with up to `before` chunks before it and `after` after it, in document order,
    // from the same document version (and the same page for paged sources).
    core::Result<std::vector<StoredChunk>> neighbours(int64_t chunk_id, int before, int after) const;

    core::Result<std::vector<DocumentInfo>> list_documents(bool include_inactive = false) const;
    core::Result<DocumentInfo> get_document(int64_t document_id) const;
    core::Result<StoreStats> stats() const;

    // SQLite's integrity check and FTS5's check that chunks_fts holds exactly the analyzed
    // chunks; kCorruptInput naming what failed.
    core::Result<void> check_integrity() const;

    // ---- used by the vector index and the retriever ----

    // Ids of all chunks of active documents, ascending.
    core::Result<std::vector<int64_t>> active_chunk_ids() const;
    // Ids of active chunks that pass the filter (access control included), ascending.
    core::Result<std::vector<int64_t>> visible_chunk_ids(const SearchFilter & filter) const;
    // The same set as a bitmap. It is cached per filter together with the BM25 statistics of those
    // chunks (count, average length, document frequencies) until the next write, because computing
    // them scans every visible chunk: seconds per query at a million chunks.
    core::Result<std::shared_ptr<const ChunkIdSet>> visible_chunks(const SearchFilter & filter) const;
    // Texts of the given chunks, in the same order (kNotFound if one is missing).
    core::Result<std::vector<std::string>> chunk_texts(const std::vector<int64_t> & chunk_ids) const;

    // BM25 over the chunks the filter lets through, best first. Collection statistics (number of
    // chunks, average length, document frequencies) are computed over those chunks only, so the
    // scores a user sees do not depend on documents they may not see. Free text is turned into a
    // safe query: no input can produce an FTS syntax error. Stopwords alone match nothing. Field
    // weights: a term in the chunk's heading (metadata "title" and "heading") counts three times
    // as much as one in its body; FTS5 folds case and removes diacritics in both.
    // The ranking is exact: chunks that cannot reach the top `limit` are skipped, never approximated.
    core::Result<std::vector<LexicalHit>> lexical_search(std::string_view query, const SearchFilter & filter,
                                                         int limit) const;
    // Whether lexical_search runs on its postings index yet, waiting up to `wait` for a build in
    // progress. The index is built in the background after open (seconds per 100,000 chunks);
    // until it is ready, and if its build fails, lexical_search takes the exhaustive path, with
    // the same results. For benchmarks and tests; callers never need to wait.
    bool lexical_index_ready(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) const;

    // The same ranking computed the plain way, by letting FTS5 score every visible chunk that
    // matches any term: the reference lexical_search is tested and benchmarked against. Slow on
    // large stores (about a second per query at a million chunks).
    core::Result<std::vector<LexicalHit>> lexical_search_exhaustive(std::string_view query, const SearchFilter & filter,
                                                                    int limit) const;

  private:
    core::Result<std::vector<LexicalHit>> lexical_search_with(std::string_view query, const SearchFilter & filter,
                                                              int limit, bool exhaustive) const;
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::retrieval
