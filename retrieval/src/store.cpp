// Store over one SQLite database.
//
// Design notes:
// 1. The database is the source of truth. The FAISS index and every cache are derived from it and
//    are repaired from it (VectorIndex reconciles on open), never the other way round.
// 2. Chunks are immutable once written. A new version of a document is a new documents row with
//    new chunks; the old row is marked superseded and its chunks stay for audit. So the FTS5
//    external-content table only ever receives inserts and can never drift from `chunks`.
// 3. Search visibility is decided by one SQL predicate (active document, allowed collection,
//    filters), applied inside every query that can see chunks: candidate lists, BM25 statistics
//    and counts. FTS5's built-in bm25() uses whole-table statistics, which would let restricted
//    documents move the scores a user sees, so BM25 is our own auxiliary function fed with
//    statistics computed over the visible chunks only.
// 4. Durability: WAL with synchronous=FULL. With NORMAL, WAL commits can be lost on power failure
//    (the database stays consistent); ingest acknowledges a document once, and audit records may
//    cite its chunk ids right away, so a commit must survive power loss. We commit once per
//    document, so the extra fsync per commit costs little.
// 5. One connection behind a mutex: simple, and SQLite serialises writers anyway. Reads that
//    need more throughput can get their own connections later without changing the API.
// 6. Search cache: the visible chunk set of a filter (a bitmap over chunk ids) and the BM25
//    statistics over it are cached per filter and dropped by every committed write, under the
//    same mutex. With them a lexical search is one FTS5 query that tests visibility with
//    sb_visible(set, rowid) instead of joining chunks and documents for every matching row, and
//    its scores are exactly those computed from scratch (tested).
// 7. Lexical top-k: an in-memory postings index derived from `chunks` (lexical_index.h) ranks a
//    query with dynamic pruning instead of scoring every chunk that matches any term, with the
//    same statistics, scores and tie order as the FTS5 query, which stays as the reference
//    (lexical_search_exhaustive) and as the path while the index builds.
//    It is rebuilt after every open rather than persisted: a file beside the database would need
//    its own crash-safe reconciliation, and the database already has everything. A thread owned
//    by the Store builds it without the mutex, through its own read-only connection, reading the
//    active chunks in id order in short batches (one read transaction each, so checkpoints are
//    not held back). Rows committed meanwhile are caught up under the mutex, where the index is
//    swapped in. Until then lexical searches take the FTS5 path, so results never depend on
//    whether the index is ready, only their latency does. Ids only grow and an inactive chunk
//    never becomes active again, so the build cannot miss an insert, and the chunks that left
//    search while it ran are logged under the mutex and dropped from it before the swap. Once
//    swapped in, the index is extended after each committed insert and loses the chunks of each
//    superseded or removed document, under the mutex, so it is never ahead of or behind the
//    database it serves. The destructor stops the build between two rows and joins it.
// 8. Terms: chunks_fts, the postings, chunk lengths (n_tokens) and queries all take their terms
//    from the text analyzer (analyzer.h), so the two paths see the same words. The `analyzer`
//    table names the analyzer the index was built with; when it differs from this build's,
//    open() re-indexes every chunk in one transaction, logging progress, so the index never mixes
//    two analyzers and an interrupted rebuild starts again on the next open. n_tokens is derived
//    data, the only column of a chunk that is ever rewritten.
#include "strongbox/retrieval/store.h"

#include "fts_tokenizer.h"
#include "lexical_index.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"
#include "strongbox/retrieval/analyzer.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

// Ordered migrations: entry i takes the schema from version i to i + 1. Never edit a released
// entry; append a new one.
const std::vector<std::string_view> & migrations() {
    static const std::vector<std::string_view> kMigrations = {
        R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (0);
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    page_count  INTEGER NOT NULL,
    collection  TEXT NOT NULL DEFAULT 'default',
    status      TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'deleted')),
    ingested_at TEXT NOT NULL,
    ingest_job  TEXT NOT NULL DEFAULT '',
    UNIQUE (path, version)
);
CREATE UNIQUE INDEX documents_one_active_per_path ON documents (path) WHERE status = 'active';
CREATE INDEX documents_by_collection ON documents (collection, status);
CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    ordinal     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    provenance  TEXT NOT NULL,
    page        INTEGER NOT NULL DEFAULT 0,
    line_start  INTEGER NOT NULL DEFAULT 0,
    line_end    INTEGER NOT NULL DEFAULT 0,
    metadata    TEXT,
    n_tokens    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, ordinal)
);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
)sql",
        // 1 -> 2: the heading (section title) of each chunk becomes its own weighted FTS column.
        R"sql(
ALTER TABLE chunks ADD COLUMN heading TEXT NOT NULL DEFAULT '';
UPDATE chunks SET heading = trim(coalesce(json_extract(metadata, '$.title'), '') || ' ' ||
                                 coalesce(json_extract(metadata, '$.heading'), ''))
 WHERE metadata IS NOT NULL AND json_valid(metadata) AND json_type(metadata) = 'object';
DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    heading, text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
)sql",
        // 2 -> 3: chunks_fts is tokenized by the text analyzer (analyzer.h). The analyzer table
        // names the analyzer the index was built with; the empty name makes open() build it.
        R"sql(
DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    heading, text, content = 'chunks', content_rowid = 'id', tokenize = 'strongbox'
);
CREATE TABLE analyzer (version TEXT NOT NULL);
INSERT INTO analyzer (version) VALUES ('');
)sql",
    };
    return kMigrations;
}

constexpr double kBm25K1 = detail::kBm25K1;
constexpr double kBm25B = detail::kBm25B;
// Field weights (BM25F-style): an occurrence in the heading column counts as kHeadingWeight
// occurrences in the body. Length normalisation uses the body only, so a long heading does not
// penalise its chunk.
constexpr int kHeadingColumn = 0;
constexpr int kBodyColumn = 1;
constexpr double kHeadingWeight = detail::kHeadingWeight;
constexpr size_t kMaxQueryTerms = 32;

// BM25 with caller-supplied statistics: sb_bm25(chunks_fts, n_chunks, avg_len, df_0, ..., df_n-1),
// one document frequency per phrase of the MATCH expression, in order; term frequencies are
// weighted by column (see kHeadingWeight). Higher is better.
void sb_bm25(const Fts5ExtensionApi * api, Fts5Context * fts, sqlite3_context * ctx, int n_val, sqlite3_value ** vals) {
    int n_phrase = api->xPhraseCount(fts);
    if (n_val != 2 + n_phrase) {
        sqlite3_result_error(ctx, "sb_bm25: expects chunk count, average length and one frequency per phrase", -1);
        return;
    }
    double n_chunks = sqlite3_value_double(vals[0]);
    double avg_len = std::max(1.0, sqlite3_value_double(vals[1]));
    int len = 0;
    if (api->xColumnSize(fts, kBodyColumn, &len) != SQLITE_OK) {
        sqlite3_result_error(ctx, "sb_bm25: no column size", -1);
        return;
    }
    std::vector<double> tf(static_cast<size_t>(n_phrase), 0.0);
    int n_inst = 0;
    if (api->xInstCount(fts, &n_inst) != SQLITE_OK) {
        sqlite3_result_error(ctx, "sb_bm25: no instance count", -1);
        return;
    }
    for (int i = 0; i < n_inst; ++i) {
        int phrase = 0;
        int column = 0;
        int offset = 0;
        if (api->xInst(fts, i, &phrase, &column, &offset) == SQLITE_OK && phrase >= 0 && phrase < n_phrase) {
            tf[static_cast<size_t>(phrase)] += column == kHeadingColumn ? kHeadingWeight : 1.0;
        }
    }
    double norm = kBm25K1 * (1.0 - kBm25B + kBm25B * static_cast<double>(len) / avg_len);
    double score = 0;
    for (int p = 0; p < n_phrase; ++p) {
        double f = tf[static_cast<size_t>(p)];
        if (f <= 0) {
            continue;
        }
        double df = std::max(0.0, sqlite3_value_double(vals[2 + p]));
        double idf = std::log(1.0 + (n_chunks - df + 0.5) / (df + 0.5));
        score += idf * f * (kBm25K1 + 1.0) / (f + norm);
    }
    sqlite3_result_double(ctx, score);
}

constexpr size_t kMaxCachedFilters = 64;

// sb_visible(rowid): whether the chunk is in the set the running query was given. The function's
// user data points at a `const ChunkIdSet *` slot of the Store, set around each query under the
// Store mutex (one connection, so one query at a time).
void sb_visible(sqlite3_context * ctx, int, sqlite3_value ** vals) {
    const auto * const * slot = static_cast<const ChunkIdSet * const *>(sqlite3_user_data(ctx));
    const ChunkIdSet * set = *slot;
    sqlite3_result_int(ctx, set != nullptr && set->contains(sqlite3_value_int64(vals[0])) ? 1 : 0);
}

Result<void> register_visible(sqlite3 * db, const std::filesystem::path & path, const ChunkIdSet ** slot) {
    if (sqlite3_create_function_v2(db, "sb_visible", 1, SQLITE_UTF8, static_cast<void *>(slot), &sb_visible, nullptr,
                                   nullptr, nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kInternal, "open " + path.string() + ": cannot register sb_visible");
    }
    return {};
}

Result<void> register_bm25(sqlite3 * db, const std::filesystem::path & path) {
    fts5_api * api = nullptr;
    sqlite3_stmt * stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kUnsupported, "open " + path.string() + ": this SQLite has no FTS5");
    }
    sqlite3_bind_pointer(stmt, 1, static_cast<void *>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (api == nullptr || api->iVersion < 2) {
        return Error(ErrorCode::kUnsupported, "open " + path.string() + ": FTS5 API unavailable");
    }
    if (api->xCreateFunction(api, "sb_bm25", nullptr, &sb_bm25, nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kInternal, "open " + path.string() + ": cannot register sb_bm25");
    }
    return {};
}

std::string_view status_sql(DocumentStatus s) {
    switch (s) {
    case DocumentStatus::kActive:
        return "active";
    case DocumentStatus::kSuperseded:
        return "superseded";
    case DocumentStatus::kDeleted:
        return "deleted";
    }
    return "active";
}

DocumentStatus status_from_sql(std::string_view s) {
    if (s == "superseded") {
        return DocumentStatus::kSuperseded;
    }
    if (s == "deleted") {
        return DocumentStatus::kDeleted;
    }
    return DocumentStatus::kActive;
}

constexpr const char * kDocumentColumns =
    "d.id, d.path, d.sha256, d.version, d.media_type, d.size_bytes, d.page_count, d.collection, d.status, "
    "d.ingested_at, d.ingest_job, (SELECT count(*) FROM chunks x WHERE x.document_id = d.id)";
constexpr int kDocumentColumnCount = 12;

DocumentInfo read_document(SQLite::Statement & q, int first) {
    DocumentInfo d;
    d.id = q.getColumn(first + 0).getInt64();
    d.path = q.getColumn(first + 1).getString();
    d.sha256 = q.getColumn(first + 2).getString();
    d.version = q.getColumn(first + 3).getInt64();
    d.media_type = q.getColumn(first + 4).getString();
    d.size_bytes = q.getColumn(first + 5).getInt64();
    d.page_count = q.getColumn(first + 6).getInt();
    d.collection = q.getColumn(first + 7).getString();
    d.status = status_from_sql(q.getColumn(first + 8).getString());
    d.ingested_at = q.getColumn(first + 9).getString();
    d.ingest_job = q.getColumn(first + 10).getString();
    d.chunk_count = q.getColumn(first + 11).getInt64();
    return d;
}

// The visibility predicate of design note 3, as SQL over `c` (chunks) and `d` (documents).
struct FilterSql {
    std::string where;
    std::vector<std::string> binds;
};

void append_in_list(FilterSql & f, std::string_view column, const std::vector<std::string> & values) {
    f.where += " AND ";
    f.where += column;
    f.where += " IN (";
    for (size_t i = 0; i < values.size(); ++i) {
        f.where += i == 0 ? "?" : ",?";
        f.binds.push_back(values[i]);
    }
    f.where += ")";
}

FilterSql filter_sql(const SearchFilter & filter) {
    FilterSql f;
    f.where = "d.status = 'active'";
    append_in_list(f, "d.collection", filter.collections);
    if (!filter.media_types.empty()) {
        append_in_list(f, "d.media_type", filter.media_types);
    }
    if (!filter.path_prefix.empty()) {
        f.where += " AND substr(d.path, 1, length(?)) = ?";
        f.binds.push_back(filter.path_prefix);
        f.binds.push_back(filter.path_prefix);
    }
    if (!filter.time_from.empty() || !filter.time_to.empty() || !filter.template_ids.empty()) {
        f.where += " AND EXISTS (SELECT 1 FROM json_each(c.metadata, '$.records') r WHERE 1";
        if (!filter.time_from.empty()) {
            f.where += " AND json_extract(r.value, '$.time') >= ?";
            f.binds.push_back(filter.time_from);
        }
        if (!filter.time_to.empty()) {
            f.where += " AND json_extract(r.value, '$.time') < ?";
            f.binds.push_back(filter.time_to);
        }
        if (!filter.template_ids.empty()) {
            append_in_list(f, "json_extract(r.value, '$.template_id')", filter.template_ids);
        }
        f.where += ")";
    }
    return f;
}

// The cache key of a filter: every member, collections order-insensitive.
std::string filter_key(const SearchFilter & filter) {
    std::string key;
    auto add_list = [&key](std::vector<std::string> values) {
        std::sort(values.begin(), values.end());
        for (const auto & v : values) {
            key += v;
            key += '\x1f';
        }
        key += '\x1e';
    };
    add_list(filter.collections);
    add_list(filter.media_types);
    add_list(filter.template_ids);
    for (const auto * v : {&filter.path_prefix, &filter.time_from, &filter.time_to}) {
        key += *v;
        key += '\x1e';
    }
    return key;
}

int bind_all(SQLite::Statement & q, const std::vector<std::string> & binds, int first = 1) {
    int i = first;
    for (const auto & b : binds) {
        q.bind(i++, b);
    }
    return i;
}

// The weighted FTS column of a chunk: its document title and section heading, when the
// extractor recorded them (metadata "title", "heading"); the same rule as migration 1 -> 2.
std::string heading_of(const core::Json & metadata) {
    if (!metadata.is_object()) {
        return "";
    }
    std::string title = metadata.get_string("title");
    std::string heading = metadata.get_string("heading");
    if (title.empty() || heading.empty()) {
        return title + heading;
    }
    return title + " " + heading;
}

// A text column without a copy, valid until the statement steps again.
std::string_view text_of(const SQLite::Column & column) {
    const char * text = column.getText("");
    return {text, static_cast<size_t>(column.getBytes())};
}

std::string quote_phrase(std::string_view raw) {
    std::string out = "\"";
    for (char ch : raw) {
        if (ch == '"') {
            out += "\"\"";
        } else {
            out.push_back(ch);
        }
    }
    out += "\"";
    return out;
}

}  // namespace

std::string_view to_string(DocumentStatus status) {
    return status_sql(status);
}

ChunkIdSet::ChunkIdSet(const std::vector<int64_t> & ids) {
    for (int64_t id : ids) {
        if (id < 0) {
            continue;
        }
        auto u = static_cast<uint64_t>(id);
        if ((u >> 6) >= bits_.size()) {
            bits_.resize((u >> 6) + 1, 0);
        }
        uint64_t bit = uint64_t{1} << (u & 63);
        if ((bits_[u >> 6] & bit) == 0) {
            bits_[u >> 6] |= bit;
            ++size_;
        }
    }
}

std::vector<int64_t> ChunkIdSet::ids() const {
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(size_));
    for (size_t w = 0; w < bits_.size(); ++w) {
        for (uint64_t word = bits_[w]; word != 0; word &= word - 1) {
            out.push_back(static_cast<int64_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
        }
    }
    return out;
}

struct Store::Impl {
    std::filesystem::path path;
    mutable std::mutex mu;
    std::unique_ptr<SQLite::Database> db;
    // Compiled once, under mu: a search loads its hits one by one, and compiling this join for
    // every hit was the largest single cost of a search request. Declared after db, so it is
    // finalised first.
    mutable std::unique_ptr<SQLite::Statement> chunk_query;
    int schema_version = 0;

    // Design note 6: what one filter sees, valid until the next write.
    struct Visibility {
        std::shared_ptr<const ChunkIdSet> chunks;
        double total_len = 0;
        std::unordered_map<std::string, int64_t> df;      // FTS5 phrase -> visible chunks containing it
        std::unordered_map<std::string, int64_t> df_fts;  // the same, counted by FTS5 for the reference
    };
    mutable std::unordered_map<std::string, Visibility> cache;
    mutable const ChunkIdSet * visible_slot = nullptr;  // what sb_visible() tests, during one query
    mutable std::vector<std::string> heading_terms;     // scratch for index_chunk, under mu
    mutable std::vector<std::string> body_terms;

    // Design note 7. Under mu: the index once swapped in (null before), whether a build runs, and
    // the chunks that left search while it ran.
    std::unique_ptr<detail::LexicalIndex> lexical;
    bool lexical_building = false;
    std::vector<int64_t> left_while_building;
    mutable std::condition_variable lexical_done;  // signalled when a build ends, swapped in or not
    std::atomic<bool> stopping{false};
    std::thread lexical_builder;

    static constexpr int kLexicalBatch = 2048;  // rows per read transaction of the build

    ~Impl() {
        stopping = true;
        if (lexical_builder.joinable()) {
            lexical_builder.join();
        }
    }

    // Before the Store is shared (design note 8): rebuilds chunks_fts and n_tokens when the index
    // was built with another analyzer.
    void reindex_for_analyzer() {
        const std::string built_with = db->execAndGet("SELECT version FROM analyzer").getString();
        if (built_with == kAnalyzerVersion) {
            return;
        }
        const int64_t total = db->execAndGet("SELECT count(*) FROM chunks").getInt64();
        if (total > 0) {
            SB_LOG_INFO("%s: index built with analyzer \"%s\", this build uses \"%s\": re-indexing %lld chunks",
                        path.string().c_str(), built_with.empty() ? "unicode61" : built_with.c_str(),
                        std::string(kAnalyzerVersion).c_str(), static_cast<long long>(total));
        }
        SQLite::Transaction tx(*db);
        db->exec("INSERT INTO chunks_fts (chunks_fts) VALUES ('delete-all')");
        SQLite::Statement rows(*db, "SELECT id, heading, text FROM chunks ORDER BY id");
        SQLite::Statement set_length(*db, "UPDATE chunks SET n_tokens = ? WHERE id = ?");
        SQLite::Statement insert_fts(*db, "INSERT INTO chunks_fts (rowid, heading, text) VALUES (?, ?, ?)");
        const int64_t report_every = std::max<int64_t>(1000, total / 10);
        int64_t done = 0;
        while (rows.executeStep()) {
            const int64_t id = rows.getColumn(0).getInt64();
            const std::string heading = rows.getColumn(1).getString();
            const std::string text = rows.getColumn(2).getString();
            set_length.reset();
            set_length.bind(1, count_positions(text));
            set_length.bind(2, id);
            set_length.exec();
            insert_fts.reset();
            insert_fts.bind(1, id);
            insert_fts.bind(2, heading);
            insert_fts.bind(3, text);
            insert_fts.exec();
            if (++done % report_every == 0) {
                SB_LOG_INFO("%s: re-indexed %lld of %lld chunks", path.string().c_str(), static_cast<long long>(done),
                            static_cast<long long>(total));
            }
        }
        SQLite::Statement record(*db, "UPDATE analyzer SET version = ?");
        record.bind(1, std::string(kAnalyzerVersion));
        record.exec();
        tx.commit();
        if (total > 0) {
            SB_LOG_INFO("%s: re-indexed %lld chunks", path.string().c_str(), static_cast<long long>(total));
        }
    }

    // Called with mu held, or before the Store is shared: starts a background build.
    void start_lexical_build() {
        if (lexical_builder.joinable()) {
            lexical_builder.join();  // a finished build: it touches nothing after its swap
        }
        lexical.reset();
        lexical_building = true;
        left_while_building.clear();
        lexical_builder = std::thread([this] { build_lexical(); });
    }

    // The terms of `text` as chunks_fts indexes them; returns the number of positions.
    static uint32_t terms_of(std::string_view text, std::vector<std::string> & out) {
        out.clear();
        uint32_t positions = 0;
        for (Term & t : analyze(text)) {
            positions += t.colocated ? 0 : 1;
            out.push_back(std::move(t.text));
        }
        return positions;
    }

    static void index_chunk(detail::LexicalIndex & index, int64_t id, std::string_view heading, std::string_view text,
                            std::vector<std::string> & heading_buf, std::vector<std::string> & body_buf) {
        terms_of(heading, heading_buf);
        const uint32_t body_len = terms_of(text, body_buf);
        if (!index.add(id, heading_buf, body_buf, body_len)) {
            throw std::runtime_error("chunk " + std::to_string(id) + " is not newer than the lexical index");
        }
    }

    // The top frame of the build thread.
    void build_lexical() {
        try {
            auto index = std::make_unique<detail::LexicalIndex>();
            int64_t last = 0;
            {
                SQLite::Database reader(path.string(), SQLite::OPEN_READONLY);
                reader.setBusyTimeout(5000);
                std::vector<std::string> heading_buf;
                std::vector<std::string> body_buf;
                SQLite::Statement batch(reader, "SELECT c.id, c.heading, c.text FROM chunks c JOIN documents d "
                                                "ON d.id = c.document_id WHERE c.id > ? AND d.status = 'active' "
                                                "ORDER BY c.id LIMIT ?");
                for (int rows = kLexicalBatch; rows == kLexicalBatch;) {
                    batch.reset();
                    batch.bind(1, last);
                    batch.bind(2, kLexicalBatch);
                    for (rows = 0; batch.executeStep(); ++rows) {
                        if (stopping) {
                            return;
                        }
                        last = batch.getColumn(0).getInt64();
                        index_chunk(*index, last, text_of(batch.getColumn(1)), text_of(batch.getColumn(2)), heading_buf,
                                    body_buf);
                    }
                }
            }
            std::lock_guard lock(mu);
            if (stopping) {
                return;
            }
            SQLite::Statement rest(*db, "SELECT c.id, c.heading, c.text FROM chunks c JOIN documents d "
                                        "ON d.id = c.document_id WHERE c.id > ? AND d.status = 'active' ORDER BY c.id");
            rest.bind(1, last);
            while (rest.executeStep()) {
                index_chunk(*index, rest.getColumn(0).getInt64(), text_of(rest.getColumn(1)),
                            text_of(rest.getColumn(2)), heading_terms, body_terms);
            }
            drop_from(*index, left_while_building);
            lexical = std::move(index);
            lexical_building = false;
            left_while_building.clear();
            lexical_done.notify_all();
        } catch (const std::exception & e) {
            SB_LOG_ERROR("lexical index of %s: build failed, lexical search stays on the FTS5 path: %s",
                         path.string().c_str(), e.what());
            std::lock_guard lock(mu);
            lexical_building = false;
            left_while_building.clear();
            lexical_done.notify_all();
        }
    }

    // Called with mu held: drops chunks that left search from `index`, reading their terms back
    // from the database.
    void drop_from(detail::LexicalIndex & index, const std::vector<int64_t> & ids) const {
        if (ids.empty()) {
            return;
        }
        std::vector<std::pair<int64_t, std::vector<std::string>>> chunks;
        chunks.reserve(ids.size());
        SQLite::Statement q(*db, "SELECT heading, text FROM chunks WHERE id = ?");
        for (int64_t id : ids) {
            q.reset();
            q.bind(1, id);
            if (!q.executeStep()) {
                continue;
            }
            terms_of(text_of(q.getColumn(0)), heading_terms);
            terms_of(text_of(q.getColumn(1)), body_terms);
            auto & terms = chunks.emplace_back(id, std::move(heading_terms)).second;
            terms.insert(terms.end(), body_terms.begin(), body_terms.end());
            heading_terms = {};
        }
        index.remove(chunks);
    }

    // Called with mu held after a committed insert. A failure drops the index and builds it again
    // in the background; searches take the FTS5 path meanwhile.
    // `bodies` holds each chunk's body terms and positions, as add_document analyzed them for
    // n_tokens, so the text is not analyzed again here.
    void extend_lexical(const std::vector<int64_t> & ids, const std::vector<std::string> & headings,
                        const std::vector<std::pair<std::vector<std::string>, uint32_t>> & bodies) {
        if (!lexical) {
            return;
        }
        try {
            for (size_t i = 0; i < ids.size(); ++i) {
                terms_of(headings[i], heading_terms);
                if (!lexical->add(ids[i], heading_terms, bodies[i].first, bodies[i].second)) {
                    throw std::runtime_error("chunk " + std::to_string(ids[i]) +
                                             " is not newer than the lexical index");
                }
            }
        } catch (const std::exception & e) {
            SB_LOG_WARN("lexical index of %s: %s; rebuilding it", path.string().c_str(), e.what());
            start_lexical_build();
        }
    }

    // Called with mu held after a committed write that took chunks out of search.
    void lexical_left(const std::vector<int64_t> & ids) {
        if (ids.empty()) {
            return;
        }
        if (lexical_building) {
            left_while_building.insert(left_while_building.end(), ids.begin(), ids.end());
            return;
        }
        if (!lexical) {
            return;
        }
        try {
            drop_from(*lexical, ids);
        } catch (const std::exception & e) {
            // Still exact: the visible sets exclude these chunks; they only cost memory until reopen.
            SB_LOG_WARN("lexical index of %s: cannot drop chunks that left search: %s", path.string().c_str(),
                        e.what());
        }
    }

    // Points sb_visible() at a set for the lifetime of one query.
    struct VisibleScope {
        const ChunkIdSet ** slot;
        VisibleScope(const ChunkIdSet ** s, const ChunkIdSet & set) : slot(s) { *slot = &set; }
        ~VisibleScope() { *slot = nullptr; }
        VisibleScope(const VisibleScope &) = delete;
        VisibleScope & operator=(const VisibleScope &) = delete;
    };

    void invalidate_cache() { cache.clear(); }

    // Called with mu held.
    Visibility & visibility(const SearchFilter & filter) const {
        std::string key = filter_key(filter);
        auto it = cache.find(key);
        if (it != cache.end()) {
            return it->second;
        }
        if (cache.size() >= kMaxCachedFilters) {
            cache.clear();
        }
        Visibility v;
        std::vector<int64_t> ids;
        if (!filter.collections.empty()) {
            FilterSql f = filter_sql(filter);
            SQLite::Statement q(*db, "SELECT c.id, c.n_tokens FROM chunks c JOIN documents d ON d.id = c.document_id "
                                     "WHERE " +
                                         f.where);
            bind_all(q, f.binds);
            while (q.executeStep()) {
                ids.push_back(q.getColumn(0).getInt64());
                v.total_len += static_cast<double>(q.getColumn(1).getInt64());
            }
        }
        v.chunks = std::make_shared<const ChunkIdSet>(ids);
        return cache.emplace(std::move(key), std::move(v)).first->second;
    }

    Error sqlite_error(std::string_view what, const SQLite::Exception & e) const {
        return Error(core::code_for_sqlite(e.getErrorCode()),
                     std::string(what) + " in " + path.string() + ": " + e.what());
    }

    Error other_error(std::string_view what, const std::exception & e) const {
        return Error(ErrorCode::kInternal, std::string(what) + " in " + path.string() + ": " + e.what());
    }

    Result<StoredChunk> load_chunk(int64_t chunk_id) const {
        if (!chunk_query) {
            chunk_query = std::make_unique<SQLite::Statement>(
                *db, std::string("SELECT c.id, c.ordinal, c.text, c.provenance, c.metadata, ") + kDocumentColumns +
                         " FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?");
        }
        SQLite::Statement & q = *chunk_query;
        // Reset on every way out, or the open statement would pin this connection's read snapshot.
        struct Reset {
            SQLite::Statement & q;
            ~Reset() { q.tryReset(); }
        } reset{q};
        q.bind(1, chunk_id);
        if (!q.executeStep()) {
            return Error(ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) + " not found in " + path.string());
        }
        StoredChunk chunk;
        chunk.id = q.getColumn(0).getInt64();
        chunk.ordinal = q.getColumn(1).getInt();
        chunk.text = q.getColumn(2).getString();
        auto prov_json = core::Json::parse(q.getColumn(3).getString());
        if (!prov_json.ok()) {
            return Error(ErrorCode::kCorruptInput,
                         "chunk " + std::to_string(chunk_id) + " provenance: " + prov_json.error().message());
        }
        auto prov = core::provenance_from_json(*prov_json);
        if (!prov.ok()) {
            return Error(ErrorCode::kCorruptInput,
                         "chunk " + std::to_string(chunk_id) + " provenance: " + prov.error().message());
        }
        chunk.provenance = std::move(prov).value();
        if (!q.getColumn(4).isNull()) {
            auto meta = core::Json::parse(q.getColumn(4).getString());
            if (!meta.ok()) {
                return Error(ErrorCode::kCorruptInput,
                             "chunk " + std::to_string(chunk_id) + " metadata: " + meta.error().message());
            }
            chunk.metadata = std::move(meta).value();
        }
        chunk.document = read_document(q, 5);
        return chunk;
    }

    std::vector<int64_t> chunk_ids_of(int64_t document_id) const {
        std::vector<int64_t> ids;
        SQLite::Statement q(*db, "SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal");
        q.bind(1, document_id);
        while (q.executeStep()) {
            ids.push_back(q.getColumn(0).getInt64());
        }
        return ids;
    }

    int read_schema_version() const {
        SQLite::Statement exists(*db, "SELECT count(*) FROM sqlite_master "
                                      "WHERE type = 'table' AND name = 'schema_version'");
        exists.executeStep();
        if (exists.getColumn(0).getInt() == 0) {
            return 0;
        }
        SQLite::Statement q(*db, "SELECT version FROM schema_version");
        return q.executeStep() ? q.getColumn(0).getInt() : 0;
    }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store &&) noexcept = default;
Store & Store::operator=(Store &&) noexcept = default;
Store::~Store() = default;

const std::filesystem::path & Store::path() const {
    return impl_->path;
}

int Store::schema_version() const {
    return impl_->schema_version;
}

bool Store::lexical_index_ready(std::chrono::milliseconds wait) const {
    std::unique_lock lock(impl_->mu);
    impl_->lexical_done.wait_for(lock, wait, [this] { return !impl_->lexical_building; });
    return impl_->lexical != nullptr;
}

Result<Store> Store::open(const std::filesystem::path & path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    try {
        impl->db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        impl->db->setBusyTimeout(5000);
        impl->db->exec("PRAGMA foreign_keys = ON");
        {
            SQLite::Statement wal(*impl->db, "PRAGMA journal_mode = WAL");
            wal.executeStep();
            if (wal.getColumn(0).getString() != "wal") {
                return Error(ErrorCode::kIoError, "open " + path.string() + ": cannot switch to WAL journal mode");
            }
        }
        impl->db->exec("PRAGMA synchronous = FULL");  // design note 4
        if (auto registered = detail::register_fts_tokenizer(impl->db->getHandle()); !registered.ok()) {
            return std::move(registered).error().with_context("open " + path.string());
        }

        int version = impl->read_schema_version();
        const auto & steps = migrations();
        if (version > static_cast<int>(steps.size())) {
            return Error(ErrorCode::kUnsupported,
                         "open " + path.string() + ": database schema version " + std::to_string(version) +
                             " is newer than this Strongbox supports (" + std::to_string(steps.size()) +
                             "); upgrade Strongbox or restore a matching backup");
        }
        for (int v = version; v < static_cast<int>(steps.size()); ++v) {
            SQLite::Transaction tx(*impl->db);
            impl->db->exec(std::string(steps[static_cast<size_t>(v)]));
            SQLite::Statement bump(*impl->db, "UPDATE schema_version SET version = ?");
            bump.bind(1, v + 1);
            bump.exec();
            tx.commit();
        }
        impl->schema_version = static_cast<int>(steps.size());
        impl->reindex_for_analyzer();
    } catch (const SQLite::Exception & e) {
        return impl->sqlite_error("open database", e);
    } catch (const std::exception & e) {
        return impl->other_error("open database", e);
    }
    SB_TRY(register_bm25(impl->db->getHandle(), path));
    SB_TRY(register_visible(impl->db->getHandle(), path, &impl->visible_slot));
    impl->start_lexical_build();  // design note 7
    return Store(std::move(impl));
}

Result<AddResult> Store::add_document(const core::ExtractedDocument & doc, std::string_view collection) {
    std::string what = "add " + doc.source_path;
    if (doc.source_path.empty()) {
        return Error(ErrorCode::kInvalidArgument, "add document: empty source path");
    }
    if (doc.sha256.empty()) {
        return Error(ErrorCode::kInvalidArgument, what + ": missing sha256");
    }
    if (collection.empty()) {
        return Error(ErrorCode::kInvalidArgument, what + ": empty collection name");
    }
    for (size_t i = 0; i < doc.chunks.size(); ++i) {
        if (!core::is_valid_utf8(doc.chunks[i].text)) {
            return Error(ErrorCode::kInvalidArgument, what + ": chunk " + std::to_string(i) + " is not valid UTF-8");
        }
    }
    std::lock_guard lock(impl_->mu);
    auto & db = *impl_->db;
    try {
        SQLite::Transaction tx(db);
        AddResult result;
        int64_t previous_id = 0;
        {
            SQLite::Statement q(db, "SELECT id, sha256, version FROM documents WHERE path = ? AND status = 'active'");
            q.bind(1, doc.source_path);
            if (q.executeStep()) {
                previous_id = q.getColumn(0).getInt64();
                if (q.getColumn(1).getString() == doc.sha256) {
                    result.outcome = AddOutcome::kUnchanged;
                    result.document_id = previous_id;
                    result.version = q.getColumn(2).getInt64();
                    result.chunk_ids = impl_->chunk_ids_of(previous_id);
                    return result;  // the transaction rolls back; nothing was written
                }
            }
        }
        int64_t version = 1;
        {
            SQLite::Statement q(db, "SELECT coalesce(max(version), 0) + 1 FROM documents WHERE path = ?");
            q.bind(1, doc.source_path);
            q.executeStep();
            version = q.getColumn(0).getInt64();
        }
        if (previous_id != 0) {
            SQLite::Statement q(db, "UPDATE documents SET status = 'superseded' WHERE id = ?");
            q.bind(1, previous_id);
            q.exec();
            result.outcome = AddOutcome::kNewVersion;
            result.superseded_document_id = previous_id;
            result.superseded_chunk_ids = impl_->chunk_ids_of(previous_id);
        }
        std::string ingested_at;
        std::string ingest_job;
        if (!doc.chunks.empty()) {
            ingested_at = doc.chunks.front().provenance.ingested_at;
            ingest_job = doc.chunks.front().provenance.ingest_job;
        }
        if (ingested_at.empty()) {
            ingested_at = core::utc_now_iso8601();
        }
        {
            SQLite::Statement q(db, "INSERT INTO documents (path, sha256, version, media_type, size_bytes, page_count, "
                                    "collection, status, ingested_at, ingest_job) VALUES (?,?,?,?,?,?,?,?,?,?)");
            q.bind(1, doc.source_path);
            q.bind(2, doc.sha256);
            q.bind(3, version);
            q.bind(4, doc.media_type);
            q.bind(5, doc.size_bytes);
            q.bind(6, doc.page_count);
            q.bind(7, std::string(collection));
            q.bind(8, std::string(status_sql(DocumentStatus::kActive)));
            q.bind(9, ingested_at);
            q.bind(10, ingest_job);
            q.exec();
        }
        result.document_id = db.getLastInsertRowid();
        result.version = version;
        SQLite::Statement insert_chunk(db,
                                       "INSERT INTO chunks (document_id, ordinal, text, provenance, page, line_start, "
                                       "line_end, metadata, n_tokens, heading) VALUES (?,?,?,?,?,?,?,?,?,?)");
        SQLite::Statement insert_fts(db, "INSERT INTO chunks_fts (rowid, heading, text) VALUES (?, ?, ?)");
        std::vector<std::string> headings;
        std::vector<std::pair<std::vector<std::string>, uint32_t>> bodies;  // analyzed once (design note 8)
        for (size_t i = 0; i < doc.chunks.size(); ++i) {
            const core::Chunk & chunk = doc.chunks[i];
            core::Provenance p = chunk.provenance;
            if (p.source_path.empty()) {
                p.source_path = doc.source_path;
            }
            if (p.source_sha256.empty()) {
                p.source_sha256 = doc.sha256;
            }
            p.document_version = version;
            if (p.ingested_at.empty()) {
                p.ingested_at = ingested_at;
            }
            if (p.ingest_job.empty()) {
                p.ingest_job = ingest_job;
            }
            insert_chunk.reset();
            insert_chunk.clearBindings();
            insert_chunk.bind(1, result.document_id);
            insert_chunk.bind(2, static_cast<int64_t>(i));
            insert_chunk.bind(3, chunk.text);
            insert_chunk.bind(4, core::to_json(p).dump());
            insert_chunk.bind(5, p.page);
            insert_chunk.bind(6, p.line_start);
            insert_chunk.bind(7, p.line_end);
            if (chunk.metadata.is_null()) {
                insert_chunk.bind(8);
            } else {
                insert_chunk.bind(8, chunk.metadata.dump());
            }
            auto & [body, positions] = bodies.emplace_back();
            positions = Impl::terms_of(chunk.text, body);
            insert_chunk.bind(9, static_cast<int64_t>(positions));
            const std::string heading = heading_of(chunk.metadata);
            insert_chunk.bind(10, heading);
            insert_chunk.exec();
            int64_t chunk_id = db.getLastInsertRowid();
            insert_fts.reset();
            insert_fts.bind(1, chunk_id);
            insert_fts.bind(2, heading);
            insert_fts.bind(3, chunk.text);
            insert_fts.exec();
            result.chunk_ids.push_back(chunk_id);
            headings.push_back(heading);
        }
        tx.commit();
        impl_->invalidate_cache();
        impl_->extend_lexical(result.chunk_ids, headings, bodies);
        impl_->lexical_left(result.superseded_chunk_ids);
        return result;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error(what, e);
    } catch (const std::exception & e) {
        return impl_->other_error(what, e);
    }
}

Result<RemoveResult> Store::remove_document(std::string_view path) {
    std::string what = "remove " + std::string(path);
    std::lock_guard lock(impl_->mu);
    auto & db = *impl_->db;
    try {
        SQLite::Transaction tx(db);
        SQLite::Statement q(db, "SELECT id FROM documents WHERE path = ? AND status = 'active'");
        q.bind(1, std::string(path));
        if (!q.executeStep()) {
            return Error(ErrorCode::kNotFound, what + ": no active document at this path in " + impl_->path.string());
        }
        RemoveResult result;
        result.document_id = q.getColumn(0).getInt64();
        SQLite::Statement upd(db, "UPDATE documents SET status = 'deleted' WHERE id = ?");
        upd.bind(1, result.document_id);
        upd.exec();
        result.chunk_ids = impl_->chunk_ids_of(result.document_id);
        tx.commit();
        impl_->invalidate_cache();
        impl_->lexical_left(result.chunk_ids);
        return result;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error(what, e);
    } catch (const std::exception & e) {
        return impl_->other_error(what, e);
    }
}

Result<StoredChunk> Store::get_chunk(int64_t chunk_id) const {
    std::lock_guard lock(impl_->mu);
    try {
        return impl_->load_chunk(chunk_id);
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("get chunk " + std::to_string(chunk_id), e);
    } catch (const std::exception & e) {
        return impl_->other_error("get chunk " + std::to_string(chunk_id), e);
    }
}

Result<std::vector<StoredChunk>> Store::neighbours(int64_t chunk_id, int before, int after) const {
    std::string what = "neighbours of chunk " + std::to_string(chunk_id);
    if (before < 0 || after < 0) {
        return Error(ErrorCode::kInvalidArgument, what + ": negative window");
    }
    std::lock_guard lock(impl_->mu);
    auto & db = *impl_->db;
    try {
        SQLite::Statement self(db, "SELECT document_id, ordinal, page FROM chunks WHERE id = ?");
        self.bind(1, chunk_id);
        if (!self.executeStep()) {
            return Error(ErrorCode::kNotFound, what + ": no such chunk in " + impl_->path.string());
        }
        int64_t document_id = self.getColumn(0).getInt64();
        int64_t ordinal = self.getColumn(1).getInt64();
        int page = self.getColumn(2).getInt();
        auto around = [&](const char * op, const char * order, int limit) {
            std::vector<int64_t> ids;
            SQLite::Statement q(db, std::string("SELECT id FROM chunks WHERE document_id = ? AND ordinal ") + op +
                                        " ? AND (? = 0 OR page = ?) ORDER BY ordinal " + order + " LIMIT ?");
            q.bind(1, document_id);
            q.bind(2, ordinal);
            q.bind(3, page);
            q.bind(4, page);
            q.bind(5, limit);
            while (q.executeStep()) {
                ids.push_back(q.getColumn(0).getInt64());
            }
            return ids;
        };
        std::vector<int64_t> ids = around("<", "DESC", before);
        std::reverse(ids.begin(), ids.end());
        ids.push_back(chunk_id);
        for (int64_t id : around(">", "ASC", after)) {
            ids.push_back(id);
        }
        std::vector<StoredChunk> out;
        for (int64_t id : ids) {
            SB_ASSIGN_OR_RETURN(StoredChunk c, impl_->load_chunk(id));
            out.push_back(std::move(c));
        }
        return out;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error(what, e);
    } catch (const std::exception & e) {
        return impl_->other_error(what, e);
    }
}

Result<std::vector<DocumentInfo>> Store::list_documents(bool include_inactive) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(*impl_->db, std::string("SELECT ") + kDocumentColumns + " FROM documents d" +
                                            (include_inactive ? "" : " WHERE d.status = 'active'") +
                                            " ORDER BY d.path, d.version");
        std::vector<DocumentInfo> out;
        while (q.executeStep()) {
            out.push_back(read_document(q, 0));
        }
        return out;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("list documents", e);
    } catch (const std::exception & e) {
        return impl_->other_error("list documents", e);
    }
}

Result<DocumentInfo> Store::get_document(int64_t document_id) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(*impl_->db, std::string("SELECT ") + kDocumentColumns + " FROM documents d WHERE d.id = ?");
        q.bind(1, document_id);
        if (!q.executeStep()) {
            return Error(ErrorCode::kNotFound,
                         "document " + std::to_string(document_id) + " not found in " + impl_->path.string());
        }
        static_assert(kDocumentColumnCount == 12);
        return read_document(q, 0);
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("get document", e);
    } catch (const std::exception & e) {
        return impl_->other_error("get document", e);
    }
}

Result<void> Store::check_integrity() const {
    std::lock_guard lock(impl_->mu);
    try {
        const std::string sqlite = impl_->db->execAndGet("PRAGMA integrity_check").getString();
        if (sqlite != "ok") {
            return Error(ErrorCode::kCorruptInput, impl_->path.string() + ": integrity_check: " + sqlite);
        }
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("integrity check", e);
    }
    try {
        impl_->db->exec("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')");
    } catch (const SQLite::Exception & e) {
        return Error(ErrorCode::kCorruptInput, impl_->path.string() + ": full-text index: " + e.what());
    }
    return {};
}

Result<StoreStats> Store::stats() const {
    std::lock_guard lock(impl_->mu);
    try {
        StoreStats s;
        SQLite::Statement q(*impl_->db, "SELECT (SELECT count(*) FROM documents WHERE status = 'active'), "
                                        "(SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
                                        " WHERE d.status = 'active'), "
                                        "(SELECT count(*) FROM documents WHERE status = 'superseded'), "
                                        "(SELECT count(*) FROM documents WHERE status = 'deleted')");
        q.executeStep();
        s.documents = q.getColumn(0).getInt64();
        s.chunks = q.getColumn(1).getInt64();
        s.superseded_documents = q.getColumn(2).getInt64();
        s.deleted_documents = q.getColumn(3).getInt64();
        return s;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("stats", e);
    } catch (const std::exception & e) {
        return impl_->other_error("stats", e);
    }
}

Result<std::vector<int64_t>> Store::active_chunk_ids() const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(*impl_->db, "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
                                        "WHERE d.status = 'active' ORDER BY c.id");
        std::vector<int64_t> ids;
        while (q.executeStep()) {
            ids.push_back(q.getColumn(0).getInt64());
        }
        return ids;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("list active chunks", e);
    } catch (const std::exception & e) {
        return impl_->other_error("list active chunks", e);
    }
}

Result<std::vector<int64_t>> Store::visible_chunk_ids(const SearchFilter & filter) const {
    SB_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkIdSet> set, visible_chunks(filter));
    return set->ids();
}

Result<std::shared_ptr<const ChunkIdSet>> Store::visible_chunks(const SearchFilter & filter) const {
    if (filter.collections.empty()) {
        return std::make_shared<const ChunkIdSet>();
    }
    std::lock_guard lock(impl_->mu);
    try {
        return impl_->visibility(filter).chunks;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("list visible chunks", e);
    } catch (const std::exception & e) {
        return impl_->other_error("list visible chunks", e);
    }
}

Result<std::vector<std::string>> Store::chunk_texts(const std::vector<int64_t> & chunk_ids) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(*impl_->db, "SELECT text FROM chunks WHERE id = ?");
        std::vector<std::string> texts;
        texts.reserve(chunk_ids.size());
        for (int64_t id : chunk_ids) {
            q.reset();
            q.bind(1, id);
            if (!q.executeStep()) {
                return Error(ErrorCode::kNotFound,
                             "chunk " + std::to_string(id) + " not found in " + impl_->path.string());
            }
            texts.push_back(q.getColumn(0).getString());
        }
        return texts;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("read chunk texts", e);
    } catch (const std::exception & e) {
        return impl_->other_error("read chunk texts", e);
    }
}

namespace {

// A free-text query as lexical search reads it: its distinct search terms (analyzer.h), each also
// as one quoted FTS5 phrase, so user punctuation, quotes and operator words (AND, NEAR, *) are
// plain text to FTS5. The tokenizer passes query terms through unchanged (fts_tokenizer.h).
struct LexicalQuery {
    std::vector<std::string> terms;
    std::vector<std::string> phrases;
};

LexicalQuery parse_lexical_query(std::string_view query) {
    LexicalQuery q;
    q.terms = query_terms(query);
    if (q.terms.size() > kMaxQueryTerms) {
        q.terms.resize(kMaxQueryTerms);
    }
    for (const std::string & term : q.terms) {
        q.phrases.push_back(quote_phrase(term));
    }
    return q;
}

}  // namespace

Result<std::vector<LexicalHit>> Store::lexical_search(std::string_view query, const SearchFilter & filter,
                                                      int limit) const {
    return lexical_search_with(query, filter, limit, false);
}

Result<std::vector<LexicalHit>> Store::lexical_search_exhaustive(std::string_view query, const SearchFilter & filter,
                                                                 int limit) const {
    return lexical_search_with(query, filter, limit, true);
}

Result<std::vector<LexicalHit>> Store::lexical_search_with(std::string_view query, const SearchFilter & filter,
                                                           int limit, bool exhaustive) const {
    std::vector<LexicalHit> hits;
    if (filter.collections.empty() || limit <= 0) {
        return hits;
    }
    const LexicalQuery parsed = parse_lexical_query(query);
    if (parsed.phrases.empty()) {
        return hits;
    }
    std::lock_guard lock(impl_->mu);
    auto & db = *impl_->db;
    try {
        Impl::Visibility & vis = impl_->visibility(filter);
        const ChunkIdSet & visible = *vis.chunks;
        Impl::VisibleScope scope(&impl_->visible_slot, visible);
        const auto n_chunks = static_cast<double>(visible.size());
        if (n_chunks == 0) {
            return hits;
        }
        const double avg_len = vis.total_len / n_chunks;

        // Design note 7: the postings path.
        if (!exhaustive && impl_->lexical) {
            const detail::LexicalIndex & index = *impl_->lexical;
            std::vector<detail::ScoredPhrase> scored;
            for (size_t i = 0; i < parsed.terms.size(); ++i) {
                int64_t term = index.find(parsed.terms[i]);
                if (term < 0) {
                    continue;  // no chunk has it: it cannot match
                }
                auto cached = vis.df.find(parsed.phrases[i]);
                int64_t df =
                    cached != vis.df.end()
                        ? cached->second
                        : vis.df.emplace(parsed.phrases[i], index.visible_df(static_cast<uint32_t>(term), visible))
                              .first->second;
                if (df > 0) {
                    auto d = static_cast<double>(df);
                    scored.push_back(detail::ScoredPhrase{static_cast<uint32_t>(term),
                                                          std::log(1.0 + (n_chunks - d + 0.5) / (d + 0.5))});
                }
            }
            return index.top_k(scored, visible, std::max(1.0, avg_len), limit);
        }

        std::vector<std::string> kept;
        std::vector<int64_t> dfs;
        std::optional<SQLite::Statement> df_query;
        for (const auto & phrase : parsed.phrases) {
            auto cached = vis.df_fts.find(phrase);
            int64_t df = 0;
            if (cached != vis.df_fts.end()) {
                df = cached->second;
            } else {
                try {
                    if (!df_query) {
                        df_query.emplace(db, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND "
                                             "sb_visible(rowid)");
                    }
                    df_query->reset();
                    df_query->bind(1, phrase);
                    df_query->executeStep();
                    df = df_query->getColumn(0).getInt64();
                } catch (const SQLite::Exception &) {
                    df = 0;  // a phrase FTS5 reduces to nothing: it cannot match, so it is dropped
                }
                vis.df_fts.emplace(phrase, df);
            }
            if (df > 0) {
                kept.push_back(phrase);
                dfs.push_back(df);
            }
        }
        if (kept.empty()) {
            return hits;
        }
        std::string match;
        std::string df_args;
        for (size_t i = 0; i < kept.size(); ++i) {
            match += (i == 0 ? "" : " OR ") + kept[i];
            df_args += ", " + std::to_string(dfs[i]);
        }
        SQLite::Statement q(db, "SELECT rowid, sb_bm25(chunks_fts, ?, ?" + df_args +
                                    ") AS score FROM chunks_fts WHERE chunks_fts MATCH ? AND sb_visible(rowid) "
                                    "ORDER BY score DESC, rowid LIMIT ?");
        q.bind(1, n_chunks);
        q.bind(2, avg_len);
        q.bind(3, match);
        q.bind(4, limit);
        while (q.executeStep()) {
            hits.push_back(LexicalHit{q.getColumn(0).getInt64(), q.getColumn(1).getDouble()});
        }
        return hits;
    } catch (const SQLite::Exception & e) {
        return impl_->sqlite_error("lexical search", e);
    } catch (const std::exception & e) {
        return impl_->other_error("lexical search", e);
    }
}

}  // namespace strongbox::retrieval
