// The audit trail: an append-only, hash-chained, signed record of what the appliance did and
// said, and the citation-trail bundles auditors take away and verify offline.
//
// Design notes
// 1. Every record is stored with the canonical JSON of its body and
//    hash = sha256(prev_hash || "\n" || kind || "\n" || at || "\n" || actor || "\n" || body).
//    The first record chains from 64 zeros. Changing, removing or reordering any record breaks
//    the chain from that record on, which verify() reports by record id.
// 2. SQLite triggers refuse UPDATE and DELETE on the records table, so even the appliance's own
//    code cannot edit history through SQL; only the file itself can be tampered with, which
//    the chain detects. Retention expiry is itself a recorded, signed event ("retention");
//    records are not physically pruned yet.
// 3. Appends are serialised by a mutex within a process and by BEGIN IMMEDIATE across processes
//    (the CLI may append while the daemon runs), so the chain has one order.
// 4. The appliance's ed25519 key (see AuditOptions::key_dir) signs the chain head in a
//    "checkpoint" record every AuditOptions::checkpoint_every records, on checkpoint(), before
//    every export and after a retention event. A checkpoint signs "<id>\n<hash>" of the record
//    just before it, so an auditor holding an old checkpoint can prove the trail up to it was not
//    rewritten later, even by someone holding the database.
// 4a. Every record also carries the key's signature of its hash (records written before this was
//    added have none), so a record rewritten or appended by someone holding the database but not
//    the key fails verify(), even when its chain hashes were recomputed. A checkpoint verifies the
//    records since the previous one before it signs, and names how many records it vouches for.
// 4b. Inside every writing transaction, before it commits, the signed head (id, hash) is written
//    beside the key (audit-head.json) with the head it replaces: a trail that lacks the head's
//    record, or whose record at that id differs, was cut or rewritten, unless it ends exactly at
//    the replaced head (the transaction never committed: a crash or a full disk). verify() also
//    reports append-only triggers found missing at open. What this does not catch: the records
//    of the last transaction cut off (they look like a commit that never happened), and the
//    head file and the database both rolled back to an older copy.
// 5. A bundle (export_bundle) is a ustar file: manifest.json, manifest.sig, records.jsonl,
//    excerpts.jsonl (quote + provenance of every citation of every exported answer),
//    records.csv and, for citations read off scanned (OCR'd) pages, page-<record>-<n>.png: the
//    cited region of the page rendered from the source file (audit_page_image.h). The manifest
//    lists each page image (record, citation, source sha256, page, region, size) in
//    "page_images", and each scanned citation without one, with the reason (source missing or
//    changed), in "page_images_missing". The manifest lists every member with its size and sha256, every exported
//    record with its id, at, kind, actor, body sha256, prev_hash and hash, the chain head at
//    export, the filters, and the key fingerprint; manifest.sig is ed25519 over
//    "strongbox-audit-bundle-v1\0" || manifest bytes.
//    What a bundle proves: each exported record is byte for byte what the appliance holding the
//    key recorded, at that id and chain position; where exported ids are consecutive, that no
//    record lies between them; and for an unfiltered bundle ("complete": genesis to head with no
//    gaps), the whole trail up to the signed head. What a filtered bundle does not prove: that
//    every record matching the filters was included (gaps in ids show that other records exist,
//    not what they say), or anything about records outside it. A page image proves what the
//    appliance rendered from the source file it held at export, not that OCR read it correctly.
//
// Thread-safety: all AuditLog methods are safe to call concurrently. verify_bundle() is a pure
// function of its inputs. No exception escapes; failures are core::Result errors whose message
// names the record, member or file.
//
//   SB_ASSIGN_OR_RETURN(auto audit, AuditLog::open(dir / "audit.db"));
//   SB_ASSIGN_OR_RETURN(int64_t id, audit->append(audit_kind::kAsk, "alice", answer_record(answer, ctx)));
//   SB_ASSIGN_OR_RETURN(BundleSummary s, audit->export_bundle("trail.sbaudit", filter, "auditor"));
//   BundleVerification v = verify_bundle(bundle_bytes, public_key_hex);  // on another machine
#pragma once

#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

// Record kinds. The appliance writes the first seven; the audit trail itself writes the rest.
namespace audit_kind {
inline constexpr const char * kAsk = "ask";
inline constexpr const char * kIngest = "ingest";
inline constexpr const char * kDeletion = "deletion";
inline constexpr const char * kLogin = "login";
inline constexpr const char * kSettingsChange = "settings_change";
inline constexpr const char * kModelChange = "model_change";
inline constexpr const char * kImageUpdate = "image_update";
inline constexpr const char * kCheckpoint = "checkpoint";
inline constexpr const char * kExport = "export";
inline constexpr const char * kRetention = "retention";
}  // namespace audit_kind

struct AuditRecord {
    int64_t id = 0;
    std::string at;     // ISO 8601 UTC
    std::string kind;   // audit_kind::...
    std::string actor;  // user name, or "cli" for local commands
    core::Json body;
    std::string prev_hash;
    std::string hash;
};

struct AuditFilter {
    std::string since;  // ISO 8601 lower bound (inclusive), empty = no bound
    std::string until;  // upper bound (exclusive)
    std::string kind;
    std::string actor;
    // Explicit {} keeps four-value brace initialisers ({since, until, kind, actor}) warning-free.
    std::string document{};  // a source sha256, absolute path or file name the record cites or ingested
    std::string question{};  // case-insensitive substring of the question asked
};

// A region of a PDF page rendered as greyscale PNG, for the page images of bundles. The trail
// never parses a PDF itself: the appliance passes its renderer in (extract/page_render.h).
struct RegionImage {
    std::string png;
    int width = 0;  // pixels
    int height = 0;
};
using PageRegionRenderer = std::function<core::Result<RegionImage>(const std::filesystem::path & pdf, int page,
                                                                   const core::Box & region, int dpi)>;

struct AuditOptions {
    std::filesystem::path key_dir;     // holds audit-signing.key/.pub; empty = the database's directory
    int checkpoint_every = 256;        // records between automatic signed checkpoints; 0 = none
    int page_image_dpi = 100;          // resolution of scanned-page regions in bundles; 0 = none
    PageRegionRenderer render_region;  // empty: bundles say why each scanned citation has no image
};

// What the appliance knows about an answer beyond core::Answer, recorded with it.
struct RetrievedChunk {
    int64_t chunk_id = 0;
    double score = 0;
    int bm25_rank = 0;  // 0 when not ranked by that retriever
    int dense_rank = 0;
};

struct AnswerRecordContext {
    std::string channel;                    // "cli" or "http"
    std::vector<RetrievedChunk> retrieved;  // every chunk handed to the answerer, best first
    std::string embedder;                   // embedder identity
    std::string analyzer;                   // text analyzer version the index and the answerer matched words with
    std::string scorer;                     // the extractive answer scorer: version and sha256 of its weights
    std::string model_sha256;               // sha256 of the model file; empty for the extractive answerer
    std::string prompt_template_version;
    std::string prompt_template_sha256;
    std::string index_version;  // vector index / store generation the search ran against
    std::string settings_version;
    std::string salt_fingerprint;            // the hidden salt in one hash (see fingerprint.h), as /readyz reports it
    core::Json caps = core::Json::object();  // limits that applied, e.g. {"max_tokens":512,"top_k":5}
    double latency_ms = 0;                   // end to end, as the user saw it
};

// The body of an "ask" record: core::to_json(answer) (question, answer text, per-sentence support,
// citations with quote and full provenance) plus every field of the context.
core::Json answer_record(const core::Answer & answer, const AnswerRecordContext & context);

struct BundleSummary {
    std::filesystem::path path;
    size_t records = 0;
    size_t excerpts = 0;
    int64_t head_id = 0;
    std::string head_hash;
    std::string sha256;  // of the bundle file, for the export record and the auditor's receipt
};

class AuditLog {
  public:
    // Opens or creates the trail and loads (on first open: creates) the signing key.
    static core::Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path & path);
    static core::Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path & path,
                                                        const AuditOptions & options);
    ~AuditLog();
    AuditLog(const AuditLog &) = delete;
    AuditLog & operator=(const AuditLog &) = delete;

    // Appends one record and returns its id.
    core::Result<int64_t> append(const std::string & kind, const std::string & actor, const core::Json & body);

    core::Result<std::vector<AuditRecord>> list(const AuditFilter & filter) const;

    // The newest record of `kind`, or nullopt when there is none.
    core::Result<std::optional<AuditRecord>> last(const std::string & kind) const;
    // The record with this id, or nullopt when there is none (one indexed read, whatever the trail's length).
    core::Result<std::optional<AuditRecord>> get(int64_t id) const;

    // Recomputes the chain and checks every record's and checkpoint's signature, the checkpoints'
    // counts, the signed head file and the triggers; an error names the first record (or the
    // head or triggers) that does not verify.
    core::Status verify() const;

    // Signs the current head in a checkpoint record and returns its id (the existing one when
    // the head already is a checkpoint).
    core::Result<int64_t> checkpoint();

    // Writes matching records as JSON lines (one object per record, chain fields included).
    core::Result<size_t> export_jsonl(std::ostream & out, const AuditFilter & filter) const;

    // Writes matching records as RFC 4180 CSV (see write_records_csv).
    core::Result<size_t> export_csv(std::ostream & out, const AuditFilter & filter) const;

    // Records the export by `actor`, signs the head, and writes a bundle of the matching records
    // to `output` atomically.
    core::Result<BundleSummary> export_bundle(const std::filesystem::path & output, const AuditFilter & filter,
                                              const std::string & actor);

    // Records that records before `before` (ISO 8601 UTC) have reached the end of retention,
    // followed by a signed checkpoint. Nothing is deleted. Returns the retention record's id.
    core::Result<int64_t> record_retention(const std::string & before, const std::string & actor);

    core::Result<int64_t> count() const;

    std::string public_key_hex() const;
    std::string key_fingerprint() const;

  private:
    struct Impl;
    explicit AuditLog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

core::Json to_json(const AuditRecord & record);

// One row per record: id, at, kind, user, question, answer, cited_sources ("file p. N; ..."),
// hash, with a header row and CRLF line ends. Fields holding commas, quotes or line breaks are
// quoted with quotes doubled; a field starting with = + - @ gets a leading ' so spreadsheets
// show it as text instead of running it as a formula.
void write_records_csv(std::ostream & out, const std::vector<AuditRecord> & records);

struct BundleVerification {
    bool ok = false;
    std::vector<std::string> problems;  // one line each, naming the record or member; empty when ok
    size_t records = 0;
    int64_t head_id = 0;
    std::string head_hash;
    std::string key_fingerprint;  // the fingerprint the manifest claims
    bool complete = false;        // genesis to head with no gaps: the whole trail
    core::Json filters;
};

// Verifies a bundle offline with only the appliance's public key (64 hex digits).
BundleVerification verify_bundle(std::string_view bundle_bytes, std::string_view public_key_hex);

// Reads both files, then verify_bundle(). Errors only when a file cannot be read or the key
// file does not hold a key.
core::Result<BundleVerification> verify_bundle_file(const std::filesystem::path & bundle,
                                                    const std::filesystem::path & public_key_file);

}  // namespace strongbox::appliance
