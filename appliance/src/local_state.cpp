#include "strongbox/appliance/local_state.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/json.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <mutex>

namespace strongbox::appliance {
namespace {

core::Error db_error(const std::filesystem::path & path, const std::string & what, const std::exception & e) {
    const auto * sql = dynamic_cast<const SQLite::Exception *>(&e);
    return core::Error(sql != nullptr ? core::code_for_sqlite(sql->getErrorCode()) : core::ErrorCode::kIoError,
                       path.string() + ": " + what + ": " + e.what());
}

}  // namespace

bool valid_collection_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') {
        return false;
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

struct LocalState::Impl {
    explicit Impl(const std::filesystem::path & p)
        : path(p), db(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {}

    std::filesystem::path path;
    mutable std::mutex mu;
    SQLite::Database db;
};

LocalState::LocalState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LocalState::~LocalState() = default;

core::Result<std::unique_ptr<LocalState>> LocalState::open(const std::filesystem::path & path) {
    try {
        auto impl = std::make_unique<Impl>(path);
        impl->db.exec("PRAGMA journal_mode=WAL");
        impl->db.exec("PRAGMA busy_timeout=5000");
        impl->db.exec(
            "CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
            "created_by TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "reason TEXT NOT NULL, at TEXT NOT NULL, collection TEXT NOT NULL, source_path TEXT NOT NULL, "
            "job TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS document_warnings (document_id INTEGER PRIMARY KEY, warnings TEXT NOT NULL);");
        return std::unique_ptr<LocalState>(new LocalState(std::move(impl)));
    } catch (const std::exception & e) {
        return db_error(path, "open", e);
    }
}

core::Status LocalState::create_collection(const std::string & name, const std::string & actor) {
    if (!valid_collection_name(name)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "collection name \"" + name +
                               "\" must be 1-64 characters of A-Z a-z 0-9 . _ - and not "
                               "start with '.'");
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db,
                            "INSERT OR IGNORE INTO collections (name, created_at, created_by) VALUES (?, ?, ?)");
        q.bind(1, name);
        q.bind(2, core::utc_now_iso8601());
        q.bind(3, actor);
        if (q.exec() == 0) {
            return core::Error(core::ErrorCode::kAlreadyExists, "collection \"" + name + "\" already exists");
        }
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->path, "create collection " + name, e);
    }
}

core::Status LocalState::ensure_collection(const std::string & name) {
    core::Status st = create_collection(name, "ingest");
    if (!st.ok() && st.error().code() == core::ErrorCode::kAlreadyExists) {
        return core::ok_status();
    }
    return st;
}

core::Result<std::vector<std::string>> LocalState::collections() const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT name FROM collections ORDER BY name");
        std::vector<std::string> out;
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getString());
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->path, "list collections", e);
    }
}

bool LocalState::has_collection(const std::string & name) const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT 1 FROM collections WHERE name = ?");
        q.bind(1, name);
        return q.executeStep();
    } catch (const std::exception &) {
        return false;
    }
}

core::Status LocalState::add_quarantine(const QuarantineRecord & r) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db,
                            "INSERT INTO quarantine (name, sha256, reason, at, collection, source_path, job) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        q.bind(1, r.name);
        q.bind(2, r.sha256);
        q.bind(3, r.reason);
        q.bind(4, r.at);
        q.bind(5, r.collection);
        q.bind(6, r.source_path);
        q.bind(7, r.job);
        q.exec();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->path, "quarantine " + r.name, e);
    }
}

core::Result<std::vector<QuarantineRecord>> LocalState::quarantine() const {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT name, sha256, reason, at, collection, source_path, job FROM quarantine "
                                       "ORDER BY id DESC");
        std::vector<QuarantineRecord> out;
        while (q.executeStep()) {
            out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                           q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                           q.getColumn(6).getString()});
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->path, "list quarantine", e);
    }
}

core::Status LocalState::set_warnings(int64_t document_id, const std::vector<std::string> & warnings) {
    core::Json list = core::Json::array();
    for (const std::string & w : warnings) {
        list.push_back(w);
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db,
                            "INSERT OR REPLACE INTO document_warnings (document_id, warnings) VALUES (?, ?)");
        q.bind(1, document_id);
        q.bind(2, list.dump());
        q.exec();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->path, "warnings of document " + std::to_string(document_id), e);
    }
}

std::vector<std::string> LocalState::warnings(int64_t document_id) const {
    std::string text;
    {
        std::lock_guard lock(impl_->mu);
        try {
            SQLite::Statement q(impl_->db, "SELECT warnings FROM document_warnings WHERE document_id = ?");
            q.bind(1, document_id);
            if (!q.executeStep()) {
                return {};
            }
            text = q.getColumn(0).getString();
        } catch (const std::exception &) {
            return {};
        }
    }
    std::vector<std::string> out;
    if (auto j = core::Json::parse(text); j.ok() && j->is_array()) {
        for (const core::Json & w : j->as_array()) {
            if (w.is_string()) {
                out.push_back(w.as_string());
            }
        }
    }
    return out;
}

}  // namespace strongbox::appliance
