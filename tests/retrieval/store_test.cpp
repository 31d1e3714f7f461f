#include "strongbox/retrieval/store.h"

#include "test_support.h"

#include "strongbox/retrieval/analyzer.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <fstream>
#include <random>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::make_doc;
using retrieval::testing::TempDir;

namespace {

SearchFilter all_of(std::vector<std::string> collections = {"default"}) {
    SearchFilter f;
    f.collections = std::move(collections);
    return f;
}

std::vector<int64_t> lexical_ids(const Store & store, const std::string & query, const SearchFilter & f) {
    auto hits = store.lexical_search(query, f, 10);
    REQUIRE_MESSAGE(hits.ok(), (hits.ok() ? "" : hits.error().message()));
    std::vector<int64_t> ids;
    for (const auto & h : *hits) {
        ids.push_back(h.chunk_id);
    }
    return ids;
}

std::vector<int64_t> exhaustive_ids(const Store & store, const std::string & query) {
    auto hits = store.lexical_search_exhaustive(query, all_of(), 10);
    REQUIRE_MESSAGE(hits.ok(), (hits.ok() ? "" : hits.error().message()));
    std::vector<int64_t> ids;
    for (const auto & h : *hits) {
        ids.push_back(h.chunk_id);
    }
    return ids;
}

}  // namespace

TEST_CASE("a new database gets the current schema and reopens with its documents") {
    TempDir dir("schema");
    {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        CHECK(store->schema_version() == 3);
        auto added = store->add_document(make_doc("/docs/a.txt", {"alpha", "beta"}));
        REQUIRE(added.ok());
        CHECK(added->outcome == AddOutcome::kAdded);
        CHECK(added->chunk_ids.size() == 2);
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto stats = store->stats();
    REQUIRE(stats.ok());
    CHECK(stats->documents == 1);
    CHECK(stats->chunks == 2);
    auto docs = store->list_documents();
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK(docs->front().path == "/docs/a.txt");
    CHECK(docs->front().collection == "default");
    CHECK(docs->front().status == DocumentStatus::kActive);
    CHECK(docs->front().chunk_count == 2);
    SQLite::Database raw((dir / "sb.db").string());
    CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("a database written by a newer schema is refused with both versions named") {
    TempDir dir("newer");
    REQUIRE(Store::open(dir / "sb.db").ok());
    {
        SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READWRITE);
        raw.exec("UPDATE schema_version SET version = 99");
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code() == core::ErrorCode::kUnsupported);
    CHECK(store.error().message().find("99") != std::string::npos);
    CHECK(store.error().message().find("sb.db") != std::string::npos);
}

TEST_CASE("a file that is not a database is reported as corrupt input naming the file") {
    TempDir dir("notdb");
    {
        std::ofstream out(dir / "sb.db");
        out << std::string(4096, 'x');
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(store.error().message().find("sb.db") != std::string::npos);
}

TEST_CASE("re-adding identical bytes at the same path is a no-op reported as unchanged") {
    TempDir dir("same");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto doc = make_doc("/docs/a.txt", {"alpha", "beta"});
    auto first = store->add_document(doc);
    REQUIRE(first.ok());
    auto second = store->add_document(doc);
    REQUIRE(second.ok());
    CHECK(second->outcome == AddOutcome::kUnchanged);
    CHECK(second->document_id == first->document_id);
    CHECK(second->chunk_ids == first->chunk_ids);
    auto docs = store->list_documents(true);
    REQUIRE(docs.ok());
    CHECK(docs->size() == 1);
}

TEST_CASE("new bytes at the same path supersede the old version which stays readable by id") {
    TempDir dir("version");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto v1 = store->add_document(make_doc("/docs/policy.txt", {"retention is thirty days"}));
    REQUIRE(v1.ok());
    auto v2 = store->add_document(make_doc("/docs/policy.txt", {"retention is ninety days"}));
    REQUIRE(v2.ok());
    CHECK(v2->outcome == AddOutcome::kNewVersion);
    CHECK(v2->version == 2);
    CHECK(v2->superseded_document_id == v1->document_id);
    CHECK(v2->superseded_chunk_ids == v1->chunk_ids);

    CHECK(lexical_ids(*store, "thirty", all_of()).empty());
    CHECK(lexical_ids(*store, "ninety", all_of()) == v2->chunk_ids);

    auto old_chunk = store->get_chunk(v1->chunk_ids[0]);
    REQUIRE(old_chunk.ok());
    CHECK(old_chunk->text == "retention is thirty days");
    CHECK(old_chunk->document.status == DocumentStatus::kSuperseded);
    CHECK(old_chunk->provenance.document_version == 1);
    auto new_chunk = store->get_chunk(v2->chunk_ids[0]);
    REQUIRE(new_chunk.ok());
    CHECK(new_chunk->provenance.document_version == 2);

    auto stats = store->stats();
    REQUIRE(stats.ok());
    CHECK(stats->documents == 1);
    CHECK(stats->chunks == 1);
    CHECK(stats->superseded_documents == 1);
}

TEST_CASE("removing a document tombstones it: gone from search and listings, still readable by id") {
    TempDir dir("tombstone");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto added = store->add_document(make_doc("/docs/old.txt", {"obsolete procedure for backups"}));
    REQUIRE(added.ok());
    REQUIRE(lexical_ids(*store, "backups", all_of()).size() == 1);
    auto removed = store->remove_document("/docs/old.txt");
    REQUIRE(removed.ok());
    CHECK(removed->chunk_ids == added->chunk_ids);
    CHECK(lexical_ids(*store, "backups", all_of()).empty());
    auto docs = store->list_documents();
    REQUIRE(docs.ok());
    CHECK(docs->empty());
    auto chunk = store->get_chunk(added->chunk_ids[0]);
    REQUIRE(chunk.ok());
    CHECK(chunk->document.status == DocumentStatus::kDeleted);
    auto again = store->remove_document("/docs/old.txt");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == core::ErrorCode::kNotFound);
    // The path can come back later as a new version.
    auto back = store->add_document(make_doc("/docs/old.txt", {"new procedure for backups"}));
    REQUIRE(back.ok());
    CHECK(back->version == 2);
    CHECK(lexical_ids(*store, "backups", all_of()) == back->chunk_ids);
}

TEST_CASE("a failure midway through add_document leaves nothing half-written") {
    TempDir dir("atomic");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto v1 = store->add_document(make_doc("/docs/a.txt", {"first version text"}));
    REQUIRE(v1.ok());
    {
        // Inject a failure on the third chunk insert, after the document row, the supersede
        // update and two chunks (with their FTS rows) were written.
        SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READWRITE);
        raw.exec("CREATE TRIGGER fail_third BEFORE INSERT ON chunks WHEN NEW.ordinal = 2 "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    }
    auto v2 = store->add_document(make_doc("/docs/a.txt", {"second zebra one", "second zebra two", "three", "four"}));
    REQUIRE_FALSE(v2.ok());
    CHECK(v2.error().message().find("/docs/a.txt") != std::string::npos);
    CHECK(v2.error().message().find("injected failure") != std::string::npos);

    auto docs = store->list_documents(true);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK(docs->front().status == DocumentStatus::kActive);
    CHECK(docs->front().version == 1);
    auto stats = store->stats();
    REQUIRE(stats.ok());
    CHECK(stats->chunks == 1);
    CHECK(lexical_ids(*store, "zebra", all_of()).empty());
    CHECK(lexical_ids(*store, "first", all_of()) == v1->chunk_ids);
    SQLite::Database raw((dir / "sb.db").string());
    CHECK(raw.execAndGet("SELECT count(*) FROM chunks").getInt() == 1);
    CHECK(exhaustive_ids(*store, "zebra").empty());
    CHECK(store->check_integrity().ok());
}

TEST_CASE("chunks that are not valid UTF-8 are rejected naming the chunk") {
    TempDir dir("utf8");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto doc = make_doc("/docs/bad.txt", {"fine", std::string("bad \xC3\x28 bytes")});
    auto added = store->add_document(doc);
    REQUIRE_FALSE(added.ok());
    CHECK(added.error().code() == core::ErrorCode::kInvalidArgument);
    CHECK(added.error().message().find("chunk 1") != std::string::npos);
}

TEST_CASE("neighbours returns the surrounding chunks of the same page in document order") {
    TempDir dir("neighbours");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto doc = make_doc("/docs/r.pdf", {"p1 a", "p1 b", "p2 a", "p2 b", "p2 c", "p3 a"}, "application/pdf");
    int pages[] = {1, 1, 2, 2, 2, 3};
    for (size_t i = 0; i < doc.chunks.size(); ++i) {
        doc.chunks[i].provenance.page = pages[i];
    }
    auto added = store->add_document(doc);
    REQUIRE(added.ok());
    auto around = store->neighbours(added->chunk_ids[3], 5, 5);  // "p2 b"
    REQUIRE(around.ok());
    std::vector<std::string> texts;
    for (const auto & c : *around) {
        texts.push_back(c.text);
    }
    CHECK(texts == std::vector<std::string>{"p2 a", "p2 b", "p2 c"});
    auto narrow = store->neighbours(added->chunk_ids[4], 1, 1);  // "p2 c", last on its page
    REQUIRE(narrow.ok());
    REQUIRE(narrow->size() == 2);
    CHECK((*narrow)[0].text == "p2 b");

    auto text_doc = store->add_document(make_doc("/docs/n.txt", {"l1", "l2", "l3", "l4"}));
    REQUIRE(text_doc.ok());
    auto lines = store->neighbours(text_doc->chunk_ids[1], 1, 2);
    REQUIRE(lines.ok());
    REQUIRE(lines->size() == 4);
    CHECK((*lines)[3].text == "l4");
    CHECK_FALSE(store->neighbours(999999, 1, 1).ok());
}

TEST_CASE("lexical queries with quotes, operators, wildcards and non-ASCII text never error") {
    TempDir dir("fts_safe");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    REQUIRE(store
                ->add_document(make_doc("/docs/a.txt", {"The café on Rue Émile serves crème brûlée",
                                                        "NEAR the AND gate, an OR gate sits",
                                                        "error code 0x80070005 in C:\\Windows\\System32"}))
                .ok());
    const char * queries[] = {
        "\"unbalanced quote",
        "((nested (parens",
        "AND",
        "OR NOT",
        "a AND OR b",
        "NEAR(café, rue)",
        "crème*",
        "*",
        "^start",
        "col:value",
        "\"\"",
        "-minus +plus",
        "'single' quotes",
        "\xF0\x9F\x98\x80 emoji",
        "日本語のテキスト",
        "C:\\Windows\\System32",
        "text\0with nul",
        "{braces} [brackets]",
        "x\"y\"z",
        "",
    };
    for (const char * q : queries) {
        CAPTURE(q);
        auto hits = store->lexical_search(q, all_of(), 10);
        CHECK(hits.ok());
    }
    // Diacritics fold both ways, and operator words are matched as plain words.
    CHECK(lexical_ids(*store, "cafe creme", all_of()).size() == 1);
    CHECK(lexical_ids(*store, "CAFÉ", all_of()).size() == 1);
    CHECK(lexical_ids(*store, "NEAR", all_of()).size() == 1);
    CHECK(lexical_ids(*store, "0x80070005", all_of()).size() == 1);
    // Stopwords alone are no evidence.
    CHECK(lexical_ids(*store, "the on an", all_of()).empty());
}

TEST_CASE("BM25 statistics ignore chunks outside the allowed collections") {
    TempDir dir("bm25_acl");
    auto with_secret = Store::open(dir / "a.db");
    auto without = Store::open(dir / "b.db");
    REQUIRE(with_secret.ok());
    REQUIRE(without.ok());
    auto pub = make_doc("/pub/a.txt", {"merger talks stalled", "quarterly budget review", "merger budget"});
    REQUIRE(with_secret->add_document(pub).ok());
    REQUIRE(without->add_document(pub).ok());
    REQUIRE(with_secret->add_document(make_doc("/secret/m.txt", {"merger merger merger with Contoso"}), "board").ok());
    auto a = with_secret->lexical_search("merger budget", all_of(), 10);
    auto b = without->lexical_search("merger budget", all_of(), 10);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a->size() == b->size());
    for (size_t i = 0; i < a->size(); ++i) {
        CHECK((*a)[i].chunk_id == (*b)[i].chunk_id);
        CHECK((*a)[i].score == (*b)[i].score);  // exactly: no statistic saw the secret chunk
    }
    CHECK(with_secret->lexical_search("Contoso", all_of(), 10)->empty());
    CHECK(with_secret->lexical_search("Contoso", all_of({"default", "board"}), 10)->size() == 1);
    CHECK(with_secret->lexical_search("Contoso", all_of({}), 10)->empty());
}

TEST_CASE("metadata filters narrow by media type, path prefix, record time and template id") {
    TempDir dir("filters");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto log = make_doc("/var/log/auth.log", {"sshd failed password for root", "sshd accepted password for alice"},
                        "text/x-log");
    log.chunks[0].metadata = *core::Json::parse(
        R"({"format":"syslog","records":[{"line":1,"time":"2026-11-20T10:00:00Z","template_id":"T1"}]})");
    log.chunks[1].metadata = *core::Json::parse(
        R"({"format":"syslog","records":[{"line":2,"time":"2026-11-21T10:00:00Z","template_id":"T2"}]})");
    REQUIRE(store->add_document(log).ok());
    REQUIRE(store->add_document(make_doc("/docs/ssh.md", {"how sshd password login works"}, "text/markdown")).ok());

    SearchFilter f = all_of();
    CHECK(lexical_ids(*store, "sshd password", f).size() == 3);
    f.media_types = {"text/x-log"};
    CHECK(lexical_ids(*store, "sshd password", f).size() == 2);
    f = all_of();
    f.path_prefix = "/docs/";
    CHECK(lexical_ids(*store, "sshd password", f).size() == 1);
    f.path_prefix = "/docs%";  // no wildcard semantics
    CHECK(lexical_ids(*store, "sshd password", f).empty());
    f = all_of();
    f.time_from = "2026-11-21";
    auto late = store->visible_chunk_ids(f);
    REQUIRE(late.ok());
    CHECK(late->size() == 1);
    CHECK(store->get_chunk(late->front())->text == "sshd accepted password for alice");
    f = all_of();
    f.time_to = "2026-11-21";
    CHECK(lexical_ids(*store, "sshd", f).size() == 1);
    f = all_of();
    f.template_ids = {"T1"};
    auto t1 = lexical_ids(*store, "sshd password", f);
    REQUIRE(t1.size() == 1);
    CHECK(store->get_chunk(t1.front())->text == "sshd failed password for root");
}

TEST_CASE("random queries built from FTS5 syntax fragments and raw bytes never error") {
    TempDir dir("fts_random");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    REQUIRE(store->add_document(make_doc("/docs/a.txt", {"alpha beta gamma", "delta \"quoted\" epsilon"})).ok());
    const std::vector<std::string> fragments = {
        "\"",   "(",     ")",  "*",  "^",  ":", "-",     "+",    "AND", "OR",           "NOT",
        "NEAR", "NEAR(", "{",  "}",  ",",  "'", "alpha", "beta", "é",   "\xE2\x80\x9C", "\xF0\x9F\x94\x91",
        "\xFF", "\xC3",  "\\", "\t", "\n", " ", "0",
    };
    std::mt19937 rng(11);
    for (int i = 0; i < 400; ++i) {
        std::string q;
        int parts = 1 + static_cast<int>(rng() % 8);
        for (int p = 0; p < parts; ++p) {
            q += fragments[rng() % fragments.size()];
        }
        CAPTURE(q);
        auto hits = store->lexical_search(q, all_of(), 5);
        CHECK(hits.ok());
    }
}

TEST_CASE("cached BM25 statistics give exactly the scores computed from scratch and follow every write") {
    TempDir dir("bm25_cache");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    REQUIRE(store
                ->add_document(
                    make_doc("/ops/a.txt", {"backup volume rotation", "backup key escrow", "volume snapshot schedule"}))
                .ok());
    REQUIRE(store->add_document(make_doc("/board/b.txt", {"backup of the merger data room"}), "board").ok());
    const std::vector<std::string> queries = {"backup volume", "merger backup", "snapshot", "key rotation schedule"};
    const std::vector<SearchFilter> filters = {all_of(), all_of({"default", "board"}), all_of({"board"})};
    // Every answer of the long-lived store (whose cache is warm) equals that of a store opened
    // afresh on the same file, whose first search computes everything from the database.
    auto same_as_fresh = [&](const char * when) {
        CAPTURE(when);
        auto fresh = Store::open(dir / "sb.db");
        REQUIRE(fresh.ok());
        for (const auto & q : queries) {
            for (size_t f = 0; f < filters.size(); ++f) {
                CAPTURE(q);
                CAPTURE(f);
                for (int pass = 0; pass < 2; ++pass) {  // the second pass is served from the cache
                    auto warm = store->lexical_search(q, filters[f], 10);
                    auto cold = fresh->lexical_search(q, filters[f], 10);
                    REQUIRE(warm.ok());
                    REQUIRE(cold.ok());
                    REQUIRE(warm->size() == cold->size());
                    for (size_t i = 0; i < warm->size(); ++i) {
                        CHECK((*warm)[i].chunk_id == (*cold)[i].chunk_id);
                        CHECK((*warm)[i].score == (*cold)[i].score);
                    }
                }
                CHECK(*store->visible_chunk_ids(filters[f]) == *fresh->visible_chunk_ids(filters[f]));
            }
        }
    };
    same_as_fresh("initial");
    REQUIRE(store->add_document(make_doc("/ops/c.txt", {"backup backup volume", "merger snapshot"})).ok());
    same_as_fresh("after an add");
    REQUIRE(store->add_document(make_doc("/ops/a.txt", {"volume rotation retired"})).ok());
    same_as_fresh("after a new version");
    REQUIRE(store->remove_document("/board/b.txt").ok());
    same_as_fresh("after a removal");
    CHECK(store->lexical_search("merger", all_of({"board"}), 10)->empty());
}

TEST_CASE("a query word in a chunk's heading outranks the same word in another chunk's body") {
    TempDir dir("heading_weight");
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    auto doc = make_doc("/docs/net.md",
                        {"Open ports are listed in the table below for every zone.",
                         "The firewall ports are listed in the table below for every zone."},
                        "text/markdown");
    doc.chunks[0].metadata = *core::Json::parse(R"({"heading":"Firewall"})");
    doc.chunks[1].metadata = *core::Json::parse(R"({"heading":"Network"})");
    auto added = store->add_document(doc);
    REQUIRE(added.ok());
    auto hits = store->lexical_search("firewall", all_of(), 10);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 2);
    CHECK((*hits)[0].chunk_id == added->chunk_ids[0]);
    CHECK((*hits)[0].score > (*hits)[1].score);
    // Diacritics are folded in both columns.
    CHECK(lexical_ids(*store, "fïrewäll", all_of()).size() == 2);
}

TEST_CASE("a schema 1 database is migrated: headings become searchable and old chunks stay found") {
    TempDir dir("migrate_v1");
    {
        // The tables as schema 1 created them, with one chunk whose heading is only in its metadata.
        SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec(R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, version INTEGER NOT NULL,
    media_type TEXT NOT NULL, size_bytes INTEGER NOT NULL, page_count INTEGER NOT NULL,
    collection TEXT NOT NULL DEFAULT 'default',
    status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'deleted')), ingested_at TEXT NOT NULL,
    ingest_job TEXT NOT NULL DEFAULT '', UNIQUE (path, version));
CREATE UNIQUE INDEX documents_one_active_per_path ON documents (path) WHERE status = 'active';
CREATE INDEX documents_by_collection ON documents (collection, status);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents (id),
    ordinal INTEGER NOT NULL, text TEXT NOT NULL, provenance TEXT NOT NULL, page INTEGER NOT NULL DEFAULT 0,
    line_start INTEGER NOT NULL DEFAULT 0, line_end INTEGER NOT NULL DEFAULT 0, metadata TEXT,
    n_tokens INTEGER NOT NULL DEFAULT 0, UNIQUE (document_id, ordinal));
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO documents VALUES (1, '/docs/net.md', 'abc', 1, 'text/markdown', 10, 1, 'default', 'active',
    '2026-01-01T00:00:00Z', '');
INSERT INTO chunks VALUES (7, 1, 0, 'Open ports are listed below.', '{"source_path":"/docs/net.md"}', 0, 1, 1,
    '{"heading":"Firewall"}', 5);
INSERT INTO chunks VALUES (8, 1, 1, 'Nothing to see.', '{"source_path":"/docs/net.md"}', 0, 2, 2, NULL, 3);
INSERT INTO chunks_fts (rowid, text) VALUES (7, 'Open ports are listed below.'), (8, 'Nothing to see.');
)sql");
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().message()));
    CHECK(store->schema_version() == 3);
    CHECK(lexical_ids(*store, "firewall", all_of()) == std::vector<int64_t>{7});
    CHECK(lexical_ids(*store, "ports", all_of()) == std::vector<int64_t>{7});
    CHECK(lexical_ids(*store, "nothing", all_of()) == std::vector<int64_t>{8});
    CHECK(exhaustive_ids(*store, "ports") == std::vector<int64_t>{7});
    SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READWRITE);
    CHECK(raw.execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(raw.execAndGet("SELECT version FROM analyzer").getString() == kAnalyzerVersion);
    CHECK(raw.execAndGet("SELECT n_tokens FROM chunks WHERE id = 7").getInt() == 5);
}

TEST_CASE("an index built by another analyzer is rebuilt on open, and then matches word forms") {
    TempDir dir("reanalyze");
    {
        auto store = Store::open(dir / "sb.db");
        REQUIRE(store.ok());
        REQUIRE(store
                    ->add_document(make_doc("/docs/lgpl.txt", {"You may redistribute the library under the "
                                                               "terms of the GNU Lesser General Public License."}))
                    .ok());
    }
    {
        // What a database written by the previous analyzer looks like to this one.
        SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READWRITE);
        raw.exec("UPDATE analyzer SET version = 'unicode61'; UPDATE chunks SET n_tokens = 0");
    }
    auto store = Store::open(dir / "sb.db");
    REQUIRE(store.ok());
    CHECK(lexical_ids(*store, "Under what licence may it be redistributed?", all_of()).size() == 1);
    CHECK(exhaustive_ids(*store, "licence redistributed") == lexical_ids(*store, "licence redistributed", all_of()));
    SQLite::Database raw((dir / "sb.db").string(), SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT version FROM analyzer").getString() == kAnalyzerVersion);
    CHECK(raw.execAndGet("SELECT n_tokens FROM chunks").getInt() > 10);
}
