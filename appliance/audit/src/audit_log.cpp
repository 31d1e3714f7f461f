#include "strongbox/audit/audit_log.h"

#include "bundle.h"
#include "chain.h"
#include "signing.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

namespace strongbox::appliance {
namespace {

core::Error db_error(const std::string & what, const std::exception & e) {
    const auto * sql = dynamic_cast<const SQLite::Exception *>(&e);
    return core::Error(sql != nullptr ? core::code_for_sqlite(sql->getErrorCode()) : core::ErrorCode::kIoError,
                       "audit log: " + what + ": " + e.what());
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool names_document(const std::string & value, const std::string & wanted) {
    if (value == wanted || (value.size() == 64 && lower(value) == lower(wanted))) {
        return true;
    }
    // A bare file name matches the last path component.
    return value.size() > wanted.size() && value.compare(value.size() - wanted.size(), wanted.size(), wanted) == 0 &&
           value[value.size() - wanted.size() - 1] == '/';
}

// True when any source named in the body (citations of an answer, files of an ingest, or a
// deletion's document) matches `wanted` by sha256, absolute path or file name.
bool mentions_document(const core::Json & j, const std::string & wanted) {
    if (j.is_array()) {
        return std::any_of(j.as_array().begin(), j.as_array().end(),
                           [&](const core::Json & v) { return mentions_document(v, wanted); });
    }
    if (!j.is_object()) {
        return false;
    }
    for (const auto & [key, value] : j.as_object()) {
        if (value.is_string()) {
            if ((key == "source_sha256" || key == "sha256" || key == "source_path" || key == "path") &&
                names_document(value.as_string(), wanted)) {
                return true;
            }
        } else if (mentions_document(value, wanted)) {
            return true;
        }
    }
    return false;
}

bool matches_body(const AuditFilter & f, const core::Json & body) {
    if (!f.question.empty() && lower(body.get_string("question")).find(lower(f.question)) == std::string::npos) {
        return false;
    }
    return f.document.empty() || mentions_document(body, f.document);
}

bool plausible_time(const std::string & t) {
    // At least YYYY-MM-DD; the rest is compared as text against stored ISO 8601 UTC times.
    if (t.size() < 10) {
        return false;
    }
    for (size_t i = 0; i < 10; ++i) {
        const bool dash = i == 4 || i == 7;
        if (dash ? t[i] != '-' : std::isdigit(static_cast<unsigned char>(t[i])) == 0) {
            return false;
        }
    }
    return true;
}

// The record on the statement's current row (columns id, at, kind, actor, body, prev_hash, hash).
core::Result<AuditRecord> record_at(SQLite::Statement & q) {
    AuditRecord r;
    r.id = q.getColumn(0).getInt64();
    r.at = q.getColumn(1).getString();
    r.kind = q.getColumn(2).getString();
    r.actor = q.getColumn(3).getString();
    auto body = core::Json::parse(q.getColumn(4).getString());
    if (!body.ok()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "audit record " + std::to_string(r.id) + " has a corrupt body: " + body.error().message());
    }
    r.body = std::move(body).value();
    r.prev_hash = q.getColumn(5).getString();
    r.hash = q.getColumn(6).getString();
    return r;
}

constexpr const char * kHeadFile = "audit-head.json";

std::string head_message(int64_t id, const std::string & hash) {
    return std::to_string(id) + "\n" + hash;
}

// Checks the row on the statement (id, at, kind, actor, body, prev_hash, hash, signature): it
// follows `expected_prev`, its hash is its content's, and it carries the key's signature of that
// hash. `signed_before` says a record before it was signed, so it must be too (records written
// before records were signed have none; the chain and the checkpoints cover them).
core::Status check_row(SQLite::Statement & q, const std::string & expected_prev, const PublicKey & key,
                       bool signed_before) {
    const std::string id = std::to_string(q.getColumn(0).getInt64());
    const std::string prev = q.getColumn(5).getString();
    const std::string hash = q.getColumn(6).getString();
    const std::string signature = q.getColumn(7).getString();
    if (prev != expected_prev) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "audit record " + id +
                               " does not follow the previous record (a record was removed or reordered)");
    }
    if (chain_hash(prev, q.getColumn(2).getString(), q.getColumn(1).getString(), q.getColumn(3).getString(),
                   q.getColumn(4).getString()) != hash) {
        return core::Error(core::ErrorCode::kCorruptInput, "audit record " + id + " was altered (hash mismatch)");
    }
    if (signature.empty() ? signed_before : !verify_signature(key, kRecordDomain, hash, signature).ok()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "audit record " + id +
                               " is not signed by the appliance's key (written or rewritten outside the appliance)");
    }
    return {};
}

// Checks the checkpoint on the statement's row (columns as check_row's): its signature, and the
// count of records it vouches for (checkpoints written before counts were added have none)
// against the `before` records the trail holds ahead of it.
core::Status check_checkpoint_row(SQLite::Statement & q, int64_t before, const PublicKey & key) {
    AuditRecord r;
    r.id = q.getColumn(0).getInt64();
    r.kind = q.getColumn(2).getString();
    r.prev_hash = q.getColumn(5).getString();
    r.hash = q.getColumn(6).getString();
    auto body = core::Json::parse(q.getColumn(4).getString());
    const std::string where = "audit record " + std::to_string(r.id);
    if (!body.ok()) {
        return core::Error(core::ErrorCode::kCorruptInput, where + " has a corrupt body");
    }
    r.body = std::move(body).value();
    SB_TRY(verify_checkpoint(r, key));
    if (r.body.contains("count") && r.body.get_int("count") != before) {
        return core::Error(core::ErrorCode::kCorruptInput, where + " (checkpoint) vouches for " +
                                                               std::to_string(r.body.get_int("count")) +
                                                               " records, the trail holds " + std::to_string(before) +
                                                               " before it: records were removed");
    }
    return {};
}

int64_t count_of(const SQLite::Database & db, const char * sql) {
    SQLite::Statement q(db, sql);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

// Whether the head names a record that was never committed, written just before a transaction
// that then did not commit: the database then ends, unchanged, at the head's previous record.
bool is_uncommitted_head(const core::Json & head, const SQLite::Database & db, const PublicKey & key) {
    const int64_t id = head.get_int("previous_id", -1);
    const std::string hash = head.get_string("previous_hash");
    if (id < 0 ||
        !verify_signature(key, kHeadDomain, head_message(id, hash), head.get_string("previous_signature")).ok()) {
        return false;
    }
    SQLite::Statement last(db, "SELECT id, hash FROM audit_records ORDER BY id DESC LIMIT 1");
    return last.executeStep() && last.getColumn(0).getInt64() == id && last.getColumn(1).getString() == hash;
}

// The signed head kept outside the database must name a record the database holds, unchanged:
// a shorter or rewritten trail is tampering.
core::Status check_head_file(const std::filesystem::path & file, const SQLite::Database & db, const PublicKey & key) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        const bool any_signed = count_of(db, "SELECT count(*) FROM audit_records WHERE signature != ''") > 0;
        return any_signed ? core::Error(core::ErrorCode::kCorruptInput,
                                        "the audit trail's signed head " + file.string() + " is missing")
                          : core::Status{};
    }
    auto text = core::read_file(file);
    auto head = text.ok() ? core::Json::parse(*text) : core::Result<core::Json>(text.error());
    if (!head.ok() || !head->is_object()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "the audit trail's signed head " + file.string() + " cannot be read");
    }
    const int64_t id = head->get_int("id");
    const std::string hash = head->get_string("hash");
    if (!verify_signature(key, kHeadDomain, head_message(id, hash), head->get_string("signature")).ok()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "the audit trail's signed head " + file.string() + " is not signed by the appliance's key");
    }
    SQLite::Statement q(db, "SELECT hash FROM audit_records WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) {
        if (is_uncommitted_head(*head, db, key)) {
            return {};
        }
        return core::Error(core::ErrorCode::kCorruptInput,
                           "the audit trail ends at record " +
                               std::to_string(count_of(db, "SELECT coalesce(max(id), 0) FROM audit_records")) +
                               " but its signed head names record " + std::to_string(id) + ": records were removed");
    }
    if (q.getColumn(0).getString() != hash) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "audit record " + std::to_string(id) +
                               " differs from the signed head: the trail was rewritten");
    }
    return {};
}

}  // namespace

std::string chain_hash(const std::string & prev, const std::string & kind, const std::string & at,
                       const std::string & actor, const std::string & body) {
    core::Sha256 h;
    for (const std::string * part : {&prev, &kind, &at, &actor}) {
        h.update(*part);
        h.update("\n");
    }
    h.update(body);
    core::Digest d = h.finish();
    return core::to_hex(d);
}

std::string checkpoint_message(int64_t id, const std::string & hash) {
    return std::to_string(id) + "\n" + hash;
}

core::Status verify_checkpoint(const AuditRecord & r, const PublicKey & key) {
    const std::string where = "audit record " + std::to_string(r.id) + " (checkpoint)";
    const int64_t signed_id = r.body.get_int("signed_id", -1);
    const std::string signed_hash = r.body.get_string("signed_hash");
    if (signed_id != r.id - 1 || signed_hash != r.prev_hash) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           where + ": field 'signed_id'/'signed_hash' does not name the record before it");
    }
    if (r.body.get_string("key_fingerprint") != key_fingerprint(key)) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           where + ": field 'key_fingerprint' names a different signing key");
    }
    auto st = verify_signature(key, kCheckpointDomain, checkpoint_message(signed_id, signed_hash),
                               r.body.get_string("signature"));
    if (!st.ok()) {
        return std::move(st).error().with_context(where + ": field 'signature'");
    }
    return {};
}

core::Json answer_record(const core::Answer & answer, const AnswerRecordContext & c) {
    core::Json body = core::to_json(answer);
    body["channel"] = c.channel;
    core::Json retrieved = core::Json::array();
    for (const RetrievedChunk & r : c.retrieved) {
        core::Json j = core::Json::object();
        j["chunk_id"] = r.chunk_id;
        j["score"] = r.score;
        j["bm25_rank"] = r.bm25_rank;
        j["dense_rank"] = r.dense_rank;
        retrieved.push_back(std::move(j));
    }
    body["retrieved"] = std::move(retrieved);
    body["embedder"] = c.embedder;
    body["analyzer"] = c.analyzer;
    body["scorer"] = c.scorer;
    body["model_sha256"] = c.model_sha256;
    body["prompt_template_version"] = c.prompt_template_version;
    body["prompt_template_sha256"] = c.prompt_template_sha256;
    body["index_version"] = c.index_version;
    body["settings_version"] = c.settings_version;
    body["salt_fingerprint"] = c.salt_fingerprint;
    body["caps"] = c.caps.is_null() ? core::Json::object() : c.caps;
    body["latency_ms"] = c.latency_ms;
    return body;
}

struct AuditLog::Impl {
    Impl(const std::filesystem::path & path, SigningKey k, AuditOptions o, std::filesystem::path key_directory)
        : db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX),
          key(std::move(k)),
          options(std::move(o)),
          head_file(std::move(key_directory) / kHeadFile) {}

    SQLite::Database db;
    SigningKey key;
    AuditOptions options;
    std::filesystem::path head_file;  // the signed head, kept outside the database
    bool triggers_missing = false;    // the append-only triggers were gone when the trail was opened
    mutable std::mutex mu;

    // Writes the signed head beside the key, before the transaction that makes it the head
    // commits: the new head's (id, hash), and the head the database held before (`committed`),
    // which is still the database's last record should the commit never happen (a crash, a full
    // disk). A head that cannot be written fails the transaction, so no signed record exists that
    // a head file never named.
    core::Status write_head_locked(const std::optional<AuditRecord> & committed) const {
        std::optional<AuditRecord> head = last_locked();
        if (!head) {
            return {};
        }
        core::Json j = core::Json::object();
        j["id"] = head->id;
        j["hash"] = head->hash;
        j["signature"] = key.sign(kHeadDomain, head_message(head->id, head->hash));
        if (committed) {
            j["previous_id"] = committed->id;
            j["previous_hash"] = committed->hash;
            j["previous_signature"] = key.sign(kHeadDomain, head_message(committed->id, committed->hash));
        }
        return core::write_file_atomic(head_file, j.dump() + "\n");
    }

    // Checks the records after `after_id` (whose hash is `prev_hash`) against the chain, their
    // signatures, the checkpoints among them and the signed head; returns how many records the
    // trail holds. verify() walks the whole trail, checkpoint signing the records it vouches for.
    core::Result<int64_t> verify_from_locked(int64_t after_id, const std::string & prev_hash) const {
        int64_t count = 0;
        bool signed_before = false;
        if (after_id > 0) {
            SQLite::Statement earlier(
                db, "SELECT count(*), coalesce(sum(signature != ''), 0) FROM audit_records WHERE id <= ?");
            earlier.bind(1, after_id);
            earlier.executeStep();
            count = earlier.getColumn(0).getInt64();
            signed_before = earlier.getColumn(1).getInt64() > 0;
        }
        SQLite::Statement q(db, "SELECT id, at, kind, actor, body, prev_hash, hash, signature FROM audit_records "
                                "WHERE id > ? ORDER BY id");
        q.bind(1, after_id);
        std::string expected_prev = prev_hash;
        while (q.executeStep()) {
            SB_TRY(check_row(q, expected_prev, key.public_key(), signed_before));
            signed_before = signed_before || !q.getColumn(7).getString().empty();
            expected_prev = q.getColumn(6).getString();
            if (q.getColumn(2).getString() == audit_kind::kCheckpoint) {
                SB_TRY(check_checkpoint_row(q, count, key.public_key()));
            }
            ++count;
        }
        SB_TRY(check_head_file(head_file, db, key.public_key()));
        return count;
    }

    // Caller holds mu and an IMMEDIATE transaction.
    std::optional<AuditRecord> last_locked() const {
        SQLite::Statement q(db, "SELECT id, kind, hash FROM audit_records ORDER BY id DESC LIMIT 1");
        if (!q.executeStep()) {
            return std::nullopt;
        }
        AuditRecord r;
        r.id = q.getColumn(0).getInt64();
        r.kind = q.getColumn(1).getString();
        r.hash = q.getColumn(2).getString();
        return r;
    }

    int64_t insert_locked(const std::string & kind, const std::string & actor, const std::string & text,
                          const std::string & prev) {
        const std::string at = core::utc_now_iso8601();
        SQLite::Statement insert(
            db, "INSERT INTO audit_records(at, kind, actor, body, prev_hash, hash, signature) VALUES (?,?,?,?,?,?,?)");
        const std::string hash = chain_hash(prev, kind, at, actor, text);
        insert.bind(1, at);
        insert.bind(2, kind);
        insert.bind(3, actor);
        insert.bind(4, text);
        insert.bind(5, prev);
        insert.bind(6, hash);
        insert.bind(7, key.sign(kRecordDomain, hash));
        insert.exec();
        return db.getLastInsertRowid();
    }

    // Appends a checkpoint signing the current head; returns its id (or the head's when the head
    // already is a checkpoint, or 0 for an empty trail). The records since the last checkpoint
    // are verified first: a checkpoint never vouches for records it has not checked.
    core::Result<int64_t> checkpoint_locked() {
        std::optional<AuditRecord> head = last_locked();
        if (!head) {
            return int64_t{0};
        }
        if (head->kind == audit_kind::kCheckpoint) {
            return head->id;
        }
        SQLite::Statement last_checkpoint(
            db, "SELECT id, hash FROM audit_records WHERE kind = 'checkpoint' ORDER BY id DESC LIMIT 1");
        const bool any = last_checkpoint.executeStep();
        auto count = verify_from_locked(any ? last_checkpoint.getColumn(0).getInt64() : 0,
                                        any ? last_checkpoint.getColumn(1).getString() : kGenesisHash);
        if (!count.ok()) {
            return std::move(count).error().with_context("refusing to sign a checkpoint");
        }
        core::Json body = core::Json::object();
        body["signed_id"] = head->id;
        body["signed_hash"] = head->hash;
        body["count"] = *count;
        body["key_fingerprint"] = appliance::key_fingerprint(key.public_key());
        body["signature"] = key.sign(kCheckpointDomain, checkpoint_message(head->id, head->hash));
        return insert_locked(audit_kind::kCheckpoint, "strongbox", body.dump(), head->hash);
    }

    bool checkpoint_due_locked(int64_t last_id) const {
        if (options.checkpoint_every <= 0) {
            return false;
        }
        SQLite::Statement q(db, "SELECT coalesce(max(id), 0) FROM audit_records WHERE kind = 'checkpoint'");
        q.executeStep();
        return last_id - q.getColumn(0).getInt64() >= options.checkpoint_every;
    }

    core::Result<std::vector<AuditRecord>> list_locked(const AuditFilter & filter, int64_t max_id) const {
        SQLite::Statement q(db, R"sql(
            SELECT id, at, kind, actor, body, prev_hash, hash FROM audit_records
            WHERE (?1 = '' OR at >= ?1) AND (?2 = '' OR at < ?2) AND (?3 = '' OR kind = ?3) AND (?4 = '' OR actor = ?4)
              AND (?5 < 0 OR id <= ?5)
            ORDER BY id)sql");
        q.bind(1, filter.since);
        q.bind(2, filter.until);
        q.bind(3, filter.kind);
        q.bind(4, filter.actor);
        q.bind(5, max_id);
        std::vector<AuditRecord> out;
        while (q.executeStep()) {
            SB_ASSIGN_OR_RETURN(AuditRecord r, record_at(q));
            if (matches_body(filter, r.body)) {
                out.push_back(std::move(r));
            }
        }
        return out;
    }
};

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AuditLog::~AuditLog() = default;

core::Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path & path) {
    return open(path, AuditOptions{});
}

core::Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path & path,
                                                       const AuditOptions & options) {
    std::filesystem::path key_dir = options.key_dir;
    if (key_dir.empty()) {
        key_dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    }
    auto key = SigningKey::load_or_create(key_dir);
    if (!key.ok()) {
        return std::move(key).error().with_context("open audit trail " + path.string());
    }
    try {
        auto impl = std::make_unique<Impl>(path, std::move(key).value(), options, key_dir);
        // The CLI may append (exports, retention) while the daemon runs: wait for its write instead of failing.
        impl->db.setBusyTimeout(10000);
        impl->db.exec("PRAGMA journal_mode=WAL");
        impl->db.exec("PRAGMA synchronous=FULL");  // an acknowledged answer's record must survive power loss
        // An existing trail whose append-only triggers are gone was edited with SQL; verify()
        // reports it although they are put back below.
        if (count_of(impl->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_records'") >
            0) {
            impl->triggers_missing =
                count_of(impl->db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                                   "('audit_records_no_update', 'audit_records_no_delete')") < 2;
        }
        impl->db.exec(R"sql(
            CREATE TABLE IF NOT EXISTS audit_records (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                body TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_records_at ON audit_records(at);
            CREATE INDEX IF NOT EXISTS audit_records_kind ON audit_records(kind, id);
            CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
            CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
        )sql");
        // Records are signed one by one since the trail's second format; older rows have none.
        if (count_of(impl->db, "SELECT count(*) FROM pragma_table_info('audit_records') WHERE name = 'signature'") ==
            0) {
            impl->db.exec("ALTER TABLE audit_records ADD COLUMN signature TEXT NOT NULL DEFAULT ''");
        }
        return std::unique_ptr<AuditLog>(new AuditLog(std::move(impl)));
    } catch (const std::exception & e) {
        return db_error("open " + path.string(), e);
    }
}

core::Result<int64_t> AuditLog::append(const std::string & kind, const std::string & actor, const core::Json & body) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        std::optional<AuditRecord> last = impl_->last_locked();
        const int64_t id = impl_->insert_locked(kind, actor, body.dump(), last ? last->hash : kGenesisHash);
        if (impl_->checkpoint_due_locked(id)) {
            // A trail that fails the check is not signed; the record itself is still kept, and
            // verify() names what is wrong.
            (void)impl_->checkpoint_locked();
        }
        SB_TRY(impl_->write_head_locked(last));
        tx.commit();
        return id;
    } catch (const std::exception & e) {
        return db_error("append " + kind + " record", e);
    }
}

core::Result<int64_t> AuditLog::checkpoint() {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        const std::optional<AuditRecord> committed = impl_->last_locked();
        SB_ASSIGN_OR_RETURN(const int64_t id, impl_->checkpoint_locked());
        SB_TRY(impl_->write_head_locked(committed));
        tx.commit();
        return id;
    } catch (const std::exception & e) {
        return db_error("sign a checkpoint", e);
    }
}

core::Result<std::vector<AuditRecord>> AuditLog::list(const AuditFilter & filter) const {
    std::lock_guard lock(impl_->mu);
    try {
        return impl_->list_locked(filter, -1);
    } catch (const std::exception & e) {
        return db_error("list records", e);
    }
}

core::Result<std::optional<AuditRecord>> AuditLog::last(const std::string & kind) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT id, at, kind, actor, body, prev_hash, hash FROM audit_records "
                                       "WHERE kind = ? ORDER BY id DESC LIMIT 1");
        q.bind(1, kind);
        if (!q.executeStep()) {
            return std::optional<AuditRecord>();
        }
        SB_ASSIGN_OR_RETURN(AuditRecord r, record_at(q));
        return std::optional<AuditRecord>(std::move(r));
    } catch (const std::exception & e) {
        return db_error("read the last " + kind + " record", e);
    }
}

core::Result<std::optional<AuditRecord>> AuditLog::get(int64_t id) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db,
                            "SELECT id, at, kind, actor, body, prev_hash, hash FROM audit_records WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep()) {
            return std::optional<AuditRecord>();
        }
        SB_ASSIGN_OR_RETURN(AuditRecord r, record_at(q));
        return std::optional<AuditRecord>(std::move(r));
    } catch (const std::exception & e) {
        return db_error("read audit record " + std::to_string(id), e);
    }
}

core::Status AuditLog::verify() const {
    std::lock_guard lock(impl_->mu);
    try {
        SB_ASSIGN_OR_RETURN([[maybe_unused]] const int64_t count, impl_->verify_from_locked(0, kGenesisHash));
        if (impl_->triggers_missing) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               "the audit trail's append-only triggers were missing when it was opened (put back "
                               "since): its database was edited directly");
        }
        return {};
    } catch (const std::exception & e) {
        return db_error("verify", e);
    }
}

core::Result<size_t> AuditLog::export_jsonl(std::ostream & out, const AuditFilter & filter) const {
    SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, list(filter));
    for (const AuditRecord & r : records) {
        out << to_json(r).dump() << '\n';
    }
    if (!out) {
        return core::Error(core::ErrorCode::kIoError, "audit export: write failed");
    }
    return records.size();
}

core::Result<size_t> AuditLog::export_csv(std::ostream & out, const AuditFilter & filter) const {
    SB_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, list(filter));
    write_records_csv(out, records);
    if (!out) {
        return core::Error(core::ErrorCode::kIoError, "audit export: write failed");
    }
    return records.size();
}

core::Result<BundleSummary> AuditLog::export_bundle(const std::filesystem::path & output, const AuditFilter & filter,
                                                    const std::string & actor) {
    BundleInput input;
    input.filter = filter;
    input.exported_by = actor;
    {
        std::lock_guard lock(impl_->mu);
        try {
            // The export is recorded and the head signed before reading, in one transaction, so the
            // bundle's head is exactly the checkpoint that vouches for it.
            SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
            core::Json body = core::Json::object();
            body["format"] = "bundle";
            body["filters"] = filters_json(filter);
            body["output"] = output.filename().string();
            std::optional<AuditRecord> last = impl_->last_locked();
            impl_->insert_locked(audit_kind::kExport, actor, body.dump(), last ? last->hash : kGenesisHash);
            SB_ASSIGN_OR_RETURN([[maybe_unused]] const int64_t checkpoint, impl_->checkpoint_locked());
            std::optional<AuditRecord> head = impl_->last_locked();
            SB_CHECK(head.has_value());
            input.head_id = head->id;
            input.head_hash = head->hash;
            SB_ASSIGN_OR_RETURN(input.records, impl_->list_locked(filter, head->id));
            SB_TRY(impl_->write_head_locked(last));
            tx.commit();
        } catch (const std::exception & e) {
            return db_error("export bundle", e);
        }
    }
    input.page_images = collect_page_images(input.records, impl_->options.page_image_dpi, impl_->options.render_region);
    const int64_t now = core::unix_micros_now();
    input.created_at = core::format_iso8601_utc(now);
    input.created_unix = now / 1000000;
    BuiltBundle built = build_bundle(input, impl_->key);
    if (auto st = core::write_file_atomic(output, built.bytes); !st.ok()) {
        return std::move(st).error().with_context("write audit bundle");
    }
    BundleSummary s;
    s.path = output;
    s.records = input.records.size();
    s.excerpts = built.excerpts;
    s.head_id = input.head_id;
    s.head_hash = input.head_hash;
    s.sha256 = core::sha256_hex(built.bytes);
    return s;
}

core::Result<int64_t> AuditLog::record_retention(const std::string & before, const std::string & actor) {
    if (!plausible_time(before)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "retention cut-off '" + before + "' is not an ISO 8601 UTC time (YYYY-MM-DD[THH:MM:SSZ])");
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement n(impl_->db, "SELECT count(*) FROM audit_records WHERE at < ?");
        n.bind(1, before);
        n.executeStep();
        core::Json body = core::Json::object();
        body["expire_before"] = before;
        body["records_expired"] = n.getColumn(0).getInt64();
        body["records_deleted"] = 0;  // the event is the policy; pruning is not implemented
        std::optional<AuditRecord> last = impl_->last_locked();
        const int64_t id =
            impl_->insert_locked(audit_kind::kRetention, actor, body.dump(), last ? last->hash : kGenesisHash);
        SB_ASSIGN_OR_RETURN([[maybe_unused]] const int64_t checkpoint, impl_->checkpoint_locked());
        SB_TRY(impl_->write_head_locked(last));
        tx.commit();
        return id;
    } catch (const std::exception & e) {
        return db_error("record retention", e);
    }
}

core::Result<int64_t> AuditLog::count() const {
    std::lock_guard lock(impl_->mu);
    try {
        return impl_->db.execAndGet("SELECT count(*) FROM audit_records").getInt64();
    } catch (const std::exception & e) {
        return db_error("count", e);
    }
}

std::string AuditLog::public_key_hex() const {
    return appliance::public_key_hex(impl_->key.public_key());
}

std::string AuditLog::key_fingerprint() const {
    return appliance::key_fingerprint(impl_->key.public_key());
}

core::Json to_json(const AuditRecord & r) {
    core::Json j = core::Json::object();
    j["id"] = r.id;
    j["at"] = r.at;
    j["kind"] = r.kind;
    j["actor"] = r.actor;
    j["record"] = r.body;
    j["prev_hash"] = r.prev_hash;
    j["hash"] = r.hash;
    return j;
}

}  // namespace strongbox::appliance
