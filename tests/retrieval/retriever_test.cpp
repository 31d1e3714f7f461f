#include "strongbox/retrieval/retriever.h"

#include "test_support.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::make_doc;
using retrieval::testing::TempDir;

namespace {

std::shared_ptr<const Embedder> embedder() {
    return std::make_shared<HashedEmbedder>();
}

Retriever open_retriever(const TempDir & dir, bool rebuild = false) {
    RetrieverOptions opts;
    opts.database = dir / "sb.db";
    opts.rebuild_unusable_index = rebuild;
    auto r = Retriever::open(opts, embedder());
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
    return std::move(r).value();
}

SearchOptions allow(std::vector<std::string> collections = {"default"}, int k = 5) {
    SearchOptions o;
    o.k = k;
    o.filter.collections = std::move(collections);
    return o;
}

std::vector<SearchHit> search(const Retriever & r, const std::string & q, const SearchOptions & o) {
    auto hits = r.search(q, o);
    REQUIRE_MESSAGE(hits.ok(), (hits.ok() ? "" : hits.error().message()));
    return std::move(hits).value();
}

void add_ops_corpus(Retriever & r) {
    REQUIRE(r.index_document(make_doc("/docs/keys.md",
                                      {
                                          "Disk encryption keys are rotated every ninety days by the security team.",
                                          "Key rotation requires two administrators to approve the change ticket.",
                                      }))
                .ok());
    REQUIRE(r.index_document(make_doc("/docs/backup.md",
                                      {
                                          "Nightly backups are written to the tape library at 02:00.",
                                          "Restoring a backup needs the operator password and a signed request.",
                                      }))
                .ok());
    REQUIRE(r.index_document(make_doc("/docs/canteen.md", {"The canteen serves soup and bread on Fridays."})).ok());
}

}  // namespace

TEST_CASE("hybrid search returns cited passages with both ranks recorded") {
    TempDir dir("r_basic");
    Retriever r = open_retriever(dir);
    add_ops_corpus(r);
    auto hits = search(r, "how often are encryption keys rotated?", allow());
    REQUIRE_FALSE(hits.empty());
    CHECK(hits[0].text.find("Disk encryption keys are rotated") == 0);
    CHECK(hits[0].bm25_rank == 1);
    CHECK(hits[0].dense_rank == 1);
    CHECK(hits[0].provenance.source_path == "/docs/keys.md");
    CHECK(hits[0].provenance.line_start == 1);
    CHECK(hits[0].document.path == "/docs/keys.md");
    for (size_t i = 1; i < hits.size(); ++i) {
        CHECK(hits[i - 1].score >= hits[i].score);
    }
}

TEST_CASE("a query with no lexical or dense support returns no hits") {
    TempDir dir("r_evidence");
    Retriever r = open_retriever(dir);
    add_ops_corpus(r);
    CHECK(search(r, "zebra xylophone quasar", allow()).empty());
    CHECK(search(r, "what is the", allow()).empty());
    CHECK(search(r, "?!", allow()).empty());
    CHECK_FALSE(search(r, "backups", allow()).empty());
}

TEST_CASE("dense search finds a passage that shares only word pieces with the query") {
    TempDir dir("r_dense");
    Retriever r = open_retriever(dir);
    add_ops_corpus(r);
    SearchOptions o = allow();
    o.use_bm25 = false;
    auto hits = search(r, "encrypted key rotating", o);
    REQUIRE_FALSE(hits.empty());
    CHECK(hits[0].provenance.source_path == "/docs/keys.md");
    CHECK(hits[0].bm25_rank == 0);
    CHECK(hits[0].dense_similarity >= 0.25);
}

TEST_CASE("a restricted collection leaves no trace in search results, filters or scores") {
    TempDir dir("r_acl");
    TempDir control_dir("r_acl_control");
    Retriever r = open_retriever(dir);
    Retriever control = open_retriever(control_dir);
    add_ops_corpus(r);
    add_ops_corpus(control);
    REQUIRE(r.index_document(make_doc("/board/nightingale.md",
                                      {"Project Nightingale: acquisition of Contoso, encryption keys escrowed "
                                       "with the board, backups of the deal room nightly."}),
                             "board")
                .ok());
    // A user without "board" sees nothing of it, however they ask.
    CHECK(search(r, "Project Nightingale Contoso acquisition", allow()).empty());
    SearchOptions by_path = allow();
    by_path.filter.path_prefix = "/board/";
    CHECK(search(r, "Nightingale", by_path).empty());
    CHECK(search(r, "encryption keys backups", by_path).empty());
    SearchOptions nothing = allow({});
    CHECK(search(r, "backups", nothing).empty());
    // Results, ranks and scores are exactly those of a box where the document does not exist.
    for (const char * q : {"encryption keys rotated", "nightly backups", "deal room"}) {
        CAPTURE(q);
        auto seen = search(r, q, allow({"default"}, 10));
        auto expected = search(control, q, allow({"default"}, 10));
        REQUIRE(seen.size() == expected.size());
        for (size_t i = 0; i < seen.size(); ++i) {
            CHECK(seen[i].text == expected[i].text);
            CHECK(seen[i].score == expected[i].score);
            CHECK(seen[i].bm25_score == expected[i].bm25_score);
            CHECK(seen[i].dense_similarity == expected[i].dense_similarity);
            CHECK(seen[i].document.collection == "default");
        }
    }
    // A board member finds it.
    auto board = search(r, "Project Nightingale", allow({"default", "board"}));
    REQUIRE_FALSE(board.empty());
    CHECK(board[0].document.collection == "board");
}

namespace {

core::ExtractedDocument log_doc(const std::string & path, const std::vector<std::string> & lines,
                                const std::string & time, const std::string & template_id) {
    auto doc = make_doc(path, lines, "text/x-log");
    for (auto & c : doc.chunks) {
        c.metadata = *core::Json::parse(R"({"format":"syslog","records":[{"line":1,"time":")" + time +
                                        R"(","template_id":")" + template_id + R"("}]})");
    }
    return doc;
}

}  // namespace

TEST_CASE("no search mode, metadata filter or count reveals a restricted log document") {
    TempDir dir("r_acl_modes");
    TempDir control_dir("r_acl_modes_control");
    Retriever r = open_retriever(dir);
    Retriever control = open_retriever(control_dir);
    for (Retriever * box : {&r, &control}) {
        add_ops_corpus(*box);
        REQUIRE(box->index_document(log_doc("/var/log/app.log",
                                            {"backup job finished, key rotation pending", "backup job failed"},
                                            "2026-11-20T10:00:00Z", "T1"))
                    .ok());
    }
    // Same media type, time, template and words as the visible log: every filter that admits one
    // would admit the other, were it not for the collection.
    REQUIRE(r.index_document(log_doc("/var/log/board/deal.log",
                                     {"backup of deal room failed, key rotation for Contoso pending",
                                      "backup job failed for the Nightingale deal room"},
                                     "2026-11-20T10:00:00Z", "T1"),
                             "board")
                .ok());
    std::vector<SearchOptions> filters;
    filters.push_back(allow({"default"}, 20));
    filters.push_back(allow({"default"}, 20));
    filters.back().filter.media_types = {"text/x-log"};
    filters.push_back(allow({"default"}, 20));
    filters.back().filter.path_prefix = "/var/log/";
    filters.push_back(allow({"default"}, 20));
    filters.back().filter.time_from = "2026-11-20";
    filters.back().filter.time_to = "2026-11-21";
    filters.push_back(allow({"default"}, 20));
    filters.back().filter.template_ids = {"T1"};
    for (size_t f = 0; f < filters.size(); ++f) {
        for (int mode = 0; mode < 4; ++mode) {  // hybrid, BM25 only, dense only, hybrid with MMR
            SearchOptions o = filters[f];
            o.use_dense = mode != 1;
            o.use_bm25 = mode != 2;
            o.mmr_lambda = mode == 3 ? 0.5 : 1.0;
            for (const char * q : {"backup failed deal room", "key rotation Contoso", "Nightingale", "backup job"}) {
                CAPTURE(f);
                CAPTURE(mode);
                CAPTURE(q);
                auto seen = search(r, q, o);
                auto expected = search(control, q, o);
                REQUIRE(seen.size() == expected.size());
                for (size_t i = 0; i < seen.size(); ++i) {
                    CHECK(seen[i].chunk_id == expected[i].chunk_id);
                    CHECK(seen[i].text == expected[i].text);
                    CHECK(seen[i].score == expected[i].score);
                    CHECK(seen[i].bm25_score == expected[i].bm25_score);
                    CHECK(seen[i].dense_similarity == expected[i].dense_similarity);
                    CHECK(seen[i].document.collection == "default");
                }
            }
        }
        // Counts: the visible set and the number of lexical matches are those of the control box.
        CHECK(*r.store().visible_chunk_ids(filters[f].filter) == *control.store().visible_chunk_ids(filters[f].filter));
        CHECK(r.store().lexical_search("backup failed deal room Contoso", filters[f].filter, 1000)->size() ==
              control.store().lexical_search("backup failed deal room Contoso", filters[f].filter, 1000)->size());
    }
    // The board sees it through the same filters.
    SearchOptions board = allow({"default", "board"}, 20);
    board.filter.template_ids = {"T1"};
    auto found = search(r, "Nightingale deal room", board);
    REQUIRE_FALSE(found.empty());
    CHECK(found[0].document.collection == "board");
}

TEST_CASE("a new version hides the old text from search while citations of it stay readable") {
    TempDir dir("r_version");
    Retriever r = open_retriever(dir);
    auto v1 = r.index_document(make_doc("/docs/policy.md", {"Passwords expire after thirty days."}));
    REQUIRE(v1.ok());
    auto v2 = r.index_document(make_doc("/docs/policy.md", {"Passwords expire after ninety days."}));
    REQUIRE(v2.ok());
    CHECK(v2->outcome == AddOutcome::kNewVersion);
    CHECK(search(r, "thirty", allow()).empty());
    auto hits = search(r, "password expiry", allow());
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].chunk_id == v2->chunk_ids[0]);
    CHECK(hits[0].provenance.document_version == 2);
    CHECK_FALSE(r.vectors().contains(v1->chunk_ids[0]));
    auto old = r.store().get_chunk(v1->chunk_ids[0]);
    REQUIRE(old.ok());
    CHECK(old->text == "Passwords expire after thirty days.");
    // Same bytes again: nothing changes.
    auto again = r.index_document(make_doc("/docs/policy.md", {"Passwords expire after ninety days."}));
    REQUIRE(again.ok());
    CHECK(again->outcome == AddOutcome::kUnchanged);
    CHECK(r.vectors().size() == 1);
}

TEST_CASE("a removed document disappears from both lexical and dense search") {
    TempDir dir("r_remove");
    Retriever r = open_retriever(dir);
    add_ops_corpus(r);
    REQUIRE(r.remove_document("/docs/backup.md").ok());
    SearchOptions dense_only = allow();
    dense_only.use_bm25 = false;
    dense_only.min_dense_similarity = -1;  // every vector is evidence: only removal can hide it
    for (const auto & hit : search(r, "nightly backups tape", dense_only)) {
        CHECK(hit.provenance.source_path != "/docs/backup.md");
    }
    CHECK(search(r, "backups tape", allow()).empty());
}

TEST_CASE("the index persisted and reopened gives identical results") {
    TempDir dir("r_persist");
    std::vector<SearchHit> before;
    {
        Retriever r = open_retriever(dir);
        add_ops_corpus(r);
        before = search(r, "backup restore password", allow());
        REQUIRE(r.flush().ok());
    }
    Retriever r = open_retriever(dir);
    CHECK_FALSE(r.open_report().created);
    CHECK(r.open_report().added == 0);
    CHECK(r.open_report().removed == 0);
    auto after = search(r, "backup restore password", allow());
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); ++i) {
        CHECK(after[i].chunk_id == before[i].chunk_id);
        CHECK(after[i].score == before[i].score);
        CHECK(after[i].dense_similarity == before[i].dense_similarity);
    }
}

TEST_CASE("vectors not flushed before a crash are re-embedded when the retriever reopens") {
    TempDir dir("r_crash");
    {
        Retriever r = open_retriever(dir);
        REQUIRE(r.flush().ok());
        add_ops_corpus(r);  // never flushed
    }
    Retriever r = open_retriever(dir);
    CHECK(r.open_report().added == 5);
    SearchOptions dense_only = allow();
    dense_only.use_bm25 = false;
    CHECK_FALSE(search(r, "nightly backups", dense_only).empty());
}

TEST_CASE("a truncated index file fails open clearly and the rebuild option recovers it") {
    TempDir dir("r_truncated");
    std::vector<SearchHit> before;
    {
        Retriever r = open_retriever(dir);
        add_ops_corpus(r);
        REQUIRE(r.flush().ok());
        before = search(r, "encryption key rotation approval", allow());
    }
    auto bytes = core::read_file(dir / "sb.db.vectors");
    REQUIRE(bytes.ok());
    REQUIRE(core::write_file_atomic(dir / "sb.db.vectors", bytes->substr(0, bytes->size() / 3)).ok());
    RetrieverOptions opts;
    opts.database = dir / "sb.db";
    auto failed = Retriever::open(opts, embedder());
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(failed.error().message().find("sb.db.vectors") != std::string::npos);
    CHECK(failed.error().message().find("rebuild") != std::string::npos);

    Retriever r = open_retriever(dir, true);
    CHECK(r.open_report().created);
    CHECK(r.open_report().added == 5);
    auto after = search(r, "encryption key rotation approval", allow());
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); ++i) {
        CHECK(after[i].chunk_id == before[i].chunk_id);
    }
    // The rebuilt index was saved: a plain open works again.
    CHECK(Retriever::open(opts, embedder()).ok());
}

TEST_CASE("opening with a different embedder is refused until the corpus is re-embedded") {
    TempDir dir("r_identity");
    {
        Retriever r = open_retriever(dir);
        add_ops_corpus(r);
        REQUIRE(r.flush().ok());
    }
    RetrieverOptions opts;
    opts.database = dir / "sb.db";
    auto other = Retriever::open(opts, std::make_shared<HashedEmbedder>(256));
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().code() == core::ErrorCode::kUnsupported);
    CHECK(other.error().message().find("re-embed") != std::string::npos);
    opts.rebuild_unusable_index = true;
    auto rebuilt = Retriever::open(opts, std::make_shared<HashedEmbedder>(256));
    REQUIRE(rebuilt.ok());
    CHECK(rebuilt->vectors().identity().dimension == 256);
    CHECK(rebuilt->vectors().size() == 5);
}

TEST_CASE("maximal marginal relevance keeps a near-duplicate passage out of the top results") {
    TempDir dir("r_mmr");
    Retriever r = open_retriever(dir);
    REQUIRE(r.index_document(make_doc("/a.md", {"Firewall rule changes need a ticket approved by the network team."}))
                .ok());
    REQUIRE(r.index_document(make_doc("/b.md", {"Firewall rule changes need a ticket approved by the network team!"}))
                .ok());
    REQUIRE(r.index_document(make_doc("/c.md", {"Emergency firewall changes are reviewed the next morning."})).ok());
    SearchOptions plain = allow({"default"}, 2);
    auto top = search(r, "firewall rule change approval", plain);
    REQUIRE(top.size() == 2);
    CHECK(top[0].text.substr(0, 40) == top[1].text.substr(0, 40));  // the duplicates crowd the top
    SearchOptions diverse = plain;
    diverse.mmr_lambda = 0.5;
    auto mixed = search(r, "firewall rule change approval", diverse);
    REQUIRE(mixed.size() == 2);
    CHECK(mixed[0].chunk_id == top[0].chunk_id);
    CHECK(mixed[1].provenance.source_path == "/c.md");
}

TEST_CASE("searches run safely while documents are being indexed") {
    TempDir dir("r_threads");
    Retriever r = open_retriever(dir);
    add_ops_corpus(r);
    std::atomic<bool> failed{false};
    std::thread writer([&] {
        for (int i = 0; i < 40; ++i) {
            auto st = r.index_document(
                make_doc("/gen/" + std::to_string(i) + ".md", {"generated backup note number " + std::to_string(i)}));
            if (!st.ok()) {
                failed = true;
            }
        }
    });
    std::thread reader([&] {
        for (int i = 0; i < 40; ++i) {
            auto hits = r.search("backup note", allow());
            if (!hits.ok() || hits->empty()) {
                failed = true;
            }
        }
    });
    writer.join();
    reader.join();
    CHECK_FALSE(failed.load());
    CHECK(r.vectors().size() == 45);
    CHECK(r.store().stats()->chunks == 45);
}

TEST_CASE("an HNSW index drops removed chunks at once and compacts its tombstones on flush") {
    TempDir dir("r_hnsw");
    RetrieverOptions opts;
    opts.database = dir / "sb.db";
    opts.index_factory = "HNSW16";
    auto opened = Retriever::open(opts, embedder());
    REQUIRE(opened.ok());
    Retriever r = std::move(opened).value();
    CHECK(r.vectors().factory() == "HNSW16");
    add_ops_corpus(r);
    REQUIRE(r.remove_document("/docs/backup.md").ok());
    REQUIRE(r.remove_document("/docs/canteen.md").ok());
    CHECK(r.vectors().size() == 2);
    CHECK(r.vectors().tombstones() == 3);
    SearchOptions dense_only = allow();
    dense_only.use_bm25 = false;
    dense_only.min_dense_similarity = -1;
    for (const auto & hit : search(r, "nightly backups soup", dense_only)) {
        CHECK(hit.provenance.source_path == "/docs/keys.md");
    }
    REQUIRE(r.flush().ok());
    CHECK(r.vectors().tombstones() == 0);
    CHECK(r.vectors().factory() == "HNSW16");
    CHECK(search(r, "nightly backups soup", dense_only).size() == 2);  // every live vector, nothing else
}
