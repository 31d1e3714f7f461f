// The services the web UI needs. webui declares them; the appliance implements them and hands
// an instance to the server, so webui never depends on ingest, retrieval or inference.
//
// Split of duties: the handler authenticates, checks the caller's ROLE and resolves a Caller
// (groups, readable and writable collections from the accounts store); the service enforces
// COLLECTION access with that Caller and does the work. A document or chunk in a collection the
// caller cannot read is kNotFound, exactly as if it did not exist.
//
// Thread-safety: the server calls these from its worker threads concurrently; implementations
// must be thread-safe. Errors come back as Result and the server maps their codes to HTTP
// statuses (kInvalidArgument -> 400, kNotFound -> 404, kPermissionDenied -> 403,
// kResourceExhausted -> 429, kUnavailable -> 503, everything else -> 500). kReadOnly (a write
// refused because the appliance is in read-only mode) and kDiskFull (a write that ran out of
// space) are 507 Insufficient Storage, so clients can tell them from a quota or cap.
//
// No method has a default: an implementation that misses one does not compile. Where the handler
// can do without an answer (readiness, collection_names, record_event), kUnsupported says so.
#pragma once

#include "strongbox/core/answer.h"
#include "strongbox/core/document.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/webui/views.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::webui {

// Who is calling, resolved by the handler from the session or API token.
struct Caller {
    std::string user;  // never "" for authenticated routes
    std::string role;  // "admin" | "staff" | "auditor"
    std::vector<std::string> groups;
    std::vector<std::string> readable;  // collections the caller may read (admins: all)
    std::vector<std::string> writable;  // collections the caller may write (subset of readable)

    bool is_admin() const { return role == "admin"; }
};

struct AskRequest {
    std::string question;
    std::string user;  // who asked, for the audit trail ("anonymous" until accounts exist)
    int top_k = 5;     // passages to consider
    Caller caller;     // scopes retrieval to caller.readable
    // Optional narrowing; the service intersects it with caller.readable. Empty = all readable;
    // non-empty with an empty intersection searches nothing.
    std::vector<std::string> collections;
};

// A cited passage shown in its surrounding source: the chunks before and after it in the same
// document (same page for PDFs), so the reader sees the passage where it stands.
struct SourceView {
    int64_t chunk_id = 0;
    core::Provenance provenance;
    std::string location;  // "report.pdf p. 3"
    std::vector<std::string> before;
    std::string passage;
    std::vector<std::string> after;
    std::string kind;       // "pdf" | "log" | "text"
    double page_width = 0;  // PDF points of provenance.page; 0 when not a PDF
    double page_height = 0;
    std::vector<core::Box> boxes;  // cited region on provenance.page, PDF coords, origin top-left
    std::string log_template;      // logs: the template of the cited records, "" otherwise
    std::string collection;        // the collection the document belongs to
    int64_t document_id = 0;
};

// A file handed to the browser as a download.
struct Download {
    std::string content_type;  // "application/zip", "application/x-ndjson", "text/csv"
    std::string file_name;     // for Content-Disposition
    std::string bytes;
};

// One step of a streamed answer. Events arrive in order: any number of kStage and kText events,
// then exactly one kAnswer event carrying the complete answer (sentences, citations, refusal).
struct AskProgress {
    enum class Kind { kStage, kText, kAnswer };
    Kind kind = Kind::kAnswer;
    std::string text;     // kStage: what is happening ("retrieving", "generating"); kText: next answer text
    core::Answer answer;  // kAnswer only
};

// Receives streamed events; returns false when the client has gone away and work should stop.
using AskSink = std::function<bool(const AskProgress & event)>;

// Asking and reading: answers (whole or streamed), sources, page images, search, history.
class QueryService {
  public:
    virtual ~QueryService() = default;

    virtual core::Result<core::Answer> ask(const AskRequest & request) = 0;

    // The passage of `chunk_id` in context; kNotFound when the chunk is not in caller.readable.
    virtual core::Result<SourceView> source(int64_t chunk_id, const Caller & caller) = 0;

    // Streams an answer to `sink` (server-sent events in the web UI). Implementations without
    // incremental text answer with stream_whole_answer(). Returns kCancelled when the sink refused
    // an event.
    virtual core::Status ask_stream(const AskRequest & request, const AskSink & sink) = 0;

    // PNG bytes of the chunk's PDF page rendered at `dpi` (clamped to 36..300). kNotFound when
    // unreadable ("no chunk N"), not a PDF, or when the source file is gone or changed since
    // ingest (the message says so: "... is no longer on disk, so its pages cannot be shown").
    virtual core::Result<std::string> page_image(int64_t chunk_id, int dpi, const Caller & caller) = 0;

    // Hybrid retrieval over caller.readable ∩ collections (empty collections = all readable).
    virtual core::Result<std::vector<SearchHit>> search(const std::string & query, int top_k,
                                                        const std::vector<std::string> & collections,
                                                        const Caller & caller) = 0;

    // The caller's recent questions, newest first, at most 20.
    virtual core::Result<std::vector<AskedQuestion>> history(const Caller & caller) = 0;
};

// Collections, documents, uploads and their jobs, quarantine.
class DocumentService {
  public:
    virtual ~DocumentService() = default;

    // The readable collections with the caller's access and their document counts.
    virtual core::Result<std::vector<CollectionEntry>> collections(const Caller & caller) = 0;

    // The names of every collection: an admin caller's readable set, resolved on each request, so
    // it must stay cheap (collections() also counts documents). kUnsupported: the handler falls
    // back to collections().
    virtual core::Result<std::vector<std::string>> collection_names() = 0;

    // Admin only (kPermissionDenied otherwise); kAlreadyExists when present; kInvalidArgument for
    // a bad name (1..64 chars of [A-Za-z0-9._-], not starting with '.'). Records the creation on the
    // audit trail itself.
    virtual core::Status create_collection(const std::string & name, const Caller & caller) = 0;

    // Current versions (and the last removed version of paths without one); kNotFound for an
    // unreadable collection.
    virtual core::Result<std::vector<DocumentEntry>> documents(const std::string & collection,
                                                               const Caller & caller) = 0;

    // Every version of the document's path, newest first; older ones have status "superseded".
    virtual core::Result<std::vector<DocumentEntry>> document_versions(int64_t id, const Caller & caller) = 0;

    // Tombstones the document (audited as a deletion). Needs write on its collection:
    // kNotFound when unreadable, kPermissionDenied when readable but not writable.
    virtual core::Status remove_document(int64_t id, const Caller & caller) = 0;

    // Stages `bytes` and queues an ingest job into `collection`; returns the job id. Needs write
    // on the collection; kResourceExhausted when the job queue is full.
    virtual core::Result<std::string> start_upload(const std::string & collection, const std::string & file_name,
                                                   std::string bytes, const Caller & caller) = 0;

    // kNotFound for unknown jobs and for jobs of collections not readable.
    virtual core::Result<UploadJob> job(const std::string & job_id, const Caller & caller) = 0;

    // Files refused at ingest (admin).
    virtual core::Result<std::vector<QuarantinedFile>> quarantine(const Caller & caller) = 0;
};

// The audit trail: search, single records, exports, and events the handler records.
class AuditService {
  public:
    virtual ~AuditService() = default;

    // filters: {"since","until" (ISO 8601), "user","document","text","kind" (strings), "limit" (int)}.
    virtual core::Result<AuditPage> audit_search(const core::Json & filters, const Caller & caller) = 0;

    virtual core::Result<AuditRecordDetail> audit_record(int64_t id, const Caller & caller) = 0;

    // format "bundle" (zip, verifiable offline) | "jsonl" | "csv", same filters as audit_search.
    virtual core::Result<Download> audit_export(const std::string & format, const core::Json & filters,
                                                const Caller & caller) = 0;

    // Appends an event (login, login_failed, logout, user_change, grant_change, ...) to the audit trail.
    virtual core::Status record_event(const std::string & kind, const std::string & actor, const core::Json & body) = 0;
};

// Liveness, readiness, read-only mode, status, self-test, settings and image updates.
class AdminService {
  public:
    virtual ~AdminService() = default;

    // Liveness for /healthz and the service's figures for /metrics.
    virtual Health health() = 0;

    // Readiness for /readyz. ready == false (or a kUnavailable error) makes /readyz answer 503 so a
    // load balancer holds traffic back, e.g. while the index or the model is still loading.
    // kUnsupported: the server treats the service as ready whenever it can serve at all.
    virtual core::Result<Readiness> readiness() = 0;

    // Ok while changes may be stored, else the read-only refusal (kReadOnly, its message naming
    // the reason). The handler asks it before account, group, grant and token changes, which it
    // stores itself, so they are refused up front like the service's own writes.
    virtual core::Status writable() = 0;

    virtual core::Result<AdminStatus> admin_status(const Caller & caller) = 0;

    // Runs the appliance self-test now.
    virtual core::Result<SelftestResult> run_selftest(const Caller & caller) = 0;

    virtual core::Result<SettingsView> settings(const Caller & caller) = 0;

    // Applies a partial or full settings object (members of "settings" or top-level members; an
    // optional "version" must equal the current one). Invalid values come back in
    // SettingsUpdate::refused, one reason per field, and change nothing; errors are for failures
    // (I/O, read-only mode, permissions).
    virtual core::Result<SettingsUpdate> update_settings(const core::Json & changes, const Caller & caller) = 0;

    // Verifies an image bundle exactly as `strongbox image flash` does and stages it.
    // kInvalidArgument / kCorruptInput with the reason when it fails.
    virtual core::Result<InstalledUpdate> install_update(std::string bundle_bytes, const Caller & caller) = 0;
};

// One object implementing every service, as the appliance's adapter does.
class AllServices : public QueryService, public DocumentService, public AuditService, public AdminService {};

// The four services a handler works with: four objects, or one AllServices.
struct Services {
    Services(QueryService & q, DocumentService & d, AuditService & a, AdminService & m)
        : query(q), documents(d), audit(a), admin(m) {}
    Services(AllServices & all) : query(all), documents(all), audit(all), admin(all) {}  // NOLINT: implicit by design

    QueryService & query;
    DocumentService & documents;
    AuditService & audit;
    AdminService & admin;
};

// For implementations without incremental text: computes the whole answer with ask() and emits it
// as the single kAnswer event. kCancelled when the sink refused it.
core::Status stream_whole_answer(QueryService & service, const AskRequest & request, const AskSink & sink);

}  // namespace strongbox::webui
