// Design notes:
//  1. One SQLite file, one connection, one mutex. Statements are short; the slow part of a login
//     (argon2id, ~50 ms and 64 MiB at INTERACTIVE limits) runs outside the mutex so session
//     lookups of other requests never wait behind it.
//  2. Secrets at rest are one-way: password hashes from crypto_pwhash_str, and only the SHA-256 of
//     session ids and API tokens. A 256-bit random value needs no salt or slow hash: guessing its
//     preimage is as hard as guessing the value.
//  3. Unknown names cost the same argon2id verification as known ones (against a dummy hash), so
//     login timing does not tell which user names exist.
//  4. Throttling is in memory, keyed "u:<lower-case name>" and "a:<address>". A lock holds for
//     lockout_s whatever the password, so a correct guess during a lock is worth nothing.
//  5. Revocation is deletion: a session or token row that is gone cannot authenticate. Checks of
//     the user's disabled flag happen on every lookup, so disabling takes effect immediately.
//  6. API tokens authenticate every request of a script, so a token's Principal is cached by its
//     hash. An entry is used only while the database is exactly as it was when the entry was
//     made: SQLite's count of rows this connection changed and its data version (commits by other
//     connections) are both unchanged. Any revocation, user change or deletion, here or in another
//     process, therefore sends the next lookup back to the tables (note 5 holds).
#include "strongbox/access/accounts.h"

#include "strongbox/core/hash.h"
#include "strongbox/core/log.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <set>

#include <sodium.h>
#include <sys/stat.h>

namespace strongbox::access {
namespace {

constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;
constexpr const char * kOverflowKey = "overflow";  // where failures go once the throttle table is full

constexpr int64_t kTokenTouchInterval = 60;  // last_used_at is written at most this often
constexpr size_t kMaxCachedTokens = 1000;    // bounds the token cache (note 6)

core::Error db_error(const std::string & what, const std::exception & e) {
    // A full disk (SQLITE_FULL: ENOSPC or EDQUOT under the file) is the appliance's read-only
    // refusal, not an I/O fault: the web API answers 507 and the CLI exits 4 with the reason. The
    // statement or transaction was rolled back whole, so nothing was changed.
    const auto * sql = dynamic_cast<const SQLite::Exception *>(&e);
    if (sql != nullptr && (sql->getErrorCode() & 0xff) == SQLITE_FULL) {
        return core::Error(core::ErrorCode::kReadOnly, std::string("read-only: disk full: cannot ") + what + ": " +
                                                           e.what() + "; nothing was changed");
    }
    return core::Error(core::ErrorCode::kIoError, what + ": " + e.what());
}

std::string random_hex(size_t bytes) {
    std::vector<uint8_t> buf(bytes);
    randombytes_buf(buf.data(), buf.size());
    return core::to_hex(buf);
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool valid_collection(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    });
}

core::Status check_password(const std::string & password) {
    if (password.size() < kMinPassword || password.size() > kMaxPassword) {
        return core::Error(core::ErrorCode::kInvalidArgument, "password must be " + std::to_string(kMinPassword) +
                                                                  " to " + std::to_string(kMaxPassword) +
                                                                  " bytes long");
    }
    return core::ok_status();
}

core::Status check_language(const std::string & language) {
    if (language != "en" && language != "ko") {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "language must be \"en\" or \"ko\", got \"" + language.substr(0, 16) + "\"");
    }
    return core::ok_status();
}

core::Status check_groups(const std::vector<std::string> & groups) {
    for (const std::string & g : groups) {
        if (!Accounts::valid_name(g)) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "group name \"" + g.substr(0, 64) + "\" must be 1-64 characters of A-Z a-z 0-9 . _ - @");
        }
    }
    return core::ok_status();
}

struct Throttle {
    std::deque<int64_t> failures;  // times of recent failures, oldest first
    int64_t locked_until = 0;
};

}  // namespace

struct Accounts::Impl {
    Impl(const std::filesystem::path & p, AccountsOptions o)
        : path(p),
          db(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX),
          options(std::move(o)) {}

    std::filesystem::path path;
    SQLite::Database db;
    AccountsOptions options;
    std::mutex mu;
    std::map<std::string, Throttle> throttles;  // guarded by mu
    struct CachedToken {
        Principal principal;
        int64_t last_used = 0;
        std::pair<int64_t, int64_t> version;
    };
    std::map<std::string, CachedToken> token_cache;       // by token hash; guarded by mu; see note 6
    std::optional<SQLite::Statement> data_version_query;  // guarded by mu
    std::string dummy_hash;                               // guarded by mu; see note 3

    int64_t now() const { return options.clock ? options.clock() : static_cast<int64_t>(std::time(nullptr)); }
    uint64_t opslimit() const {
        return options.pwhash_opslimit ? options.pwhash_opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    }
    size_t memlimit() const {
        return options.pwhash_memlimit ? options.pwhash_memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
    std::string where(const std::string & what) const { return what + " in " + path.string(); }

    core::Result<std::string> hash_password(const std::string & password) const {
        char out[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(out, password.data(), password.size(), opslimit(), memlimit(),
                                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
            return core::Error(core::ErrorCode::kResourceExhausted, "hashing a password: out of memory");
        }
        return std::string(out);
    }

    // Caller holds mu. Changes whenever any row of the database changes, from any connection.
    // PRAGMA data_version reads the file's current state, so commits by other processes show.
    std::pair<int64_t, int64_t> version_locked() {
        if (!data_version_query) {
            data_version_query.emplace(db, "PRAGMA data_version");
        }
        data_version_query->reset();
        const int64_t data_version =
            data_version_query->executeStep() ? data_version_query->getColumn(0).getInt64() : -1;
        data_version_query->reset();
        return {sqlite3_total_changes64(db.getHandle()), data_version};
    }

    // Caller holds mu. Records a token's use; false when that cannot be stored. last_used_at is
    // bookkeeping: a script's token must keep working when the disk is full (read-only mode, where
    // search and answers go on), so a failed touch is logged and the lookup carries on.
    bool touch_token_locked(int64_t token_id, int64_t t) {
        try {
            SQLite::Statement touch(db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
            touch.bind(1, t);
            touch.bind(2, token_id);
            touch.exec();
            return true;
        } catch (const std::exception & e) {
            SB_LOG_WARN("accounts: cannot record the use of token %lld in %s: %s", static_cast<long long>(token_id),
                        path.c_str(), e.what());
            return false;
        }
    }

    // Caller holds mu.
    std::vector<std::string> groups_of_locked(const std::string & user) {
        SQLite::Statement q(db, "SELECT group_name FROM memberships WHERE user = ? ORDER BY group_name");
        q.bind(1, user);
        std::vector<std::string> out;
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getString());
        }
        return out;
    }

    // Caller holds mu.
    std::optional<User> user_locked(const std::string & name) {
        SQLite::Statement q(db, "SELECT name, role, language, disabled, created_at FROM users WHERE name = ?");
        q.bind(1, name);
        if (!q.executeStep()) {
            return std::nullopt;
        }
        User u;
        u.name = q.getColumn(0).getString();
        u.role = q.getColumn(1).getString();
        u.language = q.getColumn(2).getString();
        u.disabled = q.getColumn(3).getInt() != 0;
        u.created_at = q.getColumn(4).getInt64();
        u.groups = groups_of_locked(u.name);
        return u;
    }

    // Caller holds mu and a transaction.
    void set_groups_locked(const std::string & user, const std::vector<std::string> & groups) {
        SQLite::Statement del(db, "DELETE FROM memberships WHERE user = ?");
        del.bind(1, user);
        del.exec();
        for (const std::string & g : groups) {
            SQLite::Statement add_group(db, "INSERT OR IGNORE INTO account_groups(name, created_at) VALUES (?, ?)");
            add_group.bind(1, g);
            add_group.bind(2, now());
            add_group.exec();
            SQLite::Statement add(db, "INSERT OR IGNORE INTO memberships(user, group_name) VALUES (?, ?)");
            add.bind(1, user);
            add.bind(2, g);
            add.exec();
        }
    }

    // Caller holds mu.
    int64_t enabled_admins_locked() {
        SQLite::Statement q(db, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0");
        q.executeStep();
        return q.getColumn(0).getInt64();
    }

    // Caller holds mu.
    void revoke_sessions_locked(const std::string & user) {
        SQLite::Statement del(db, "DELETE FROM sessions WHERE user = ?");
        del.bind(1, user);
        del.exec();
    }

    // Caller holds mu. A token outlives no credential change: a new password or a disabled account
    // ends every token, and re-enabling the account does not bring them back.
    void revoke_tokens_locked(const std::string & user) {
        SQLite::Statement del(db, "DELETE FROM api_tokens WHERE user = ?");
        del.bind(1, user);
        del.exec();
    }

    // A key and how many failures lock it. A loopback pair never falls into the shared overflow
    // bucket: a flood from outside must not lock the console out.
    struct ThrottleKey {
        std::string key;
        int limit = 0;
        bool shares_overflow = true;
    };

    // Caller holds mu. Seconds until `key` may try again. A key the full table could not track
    // answers with the overflow bucket's lock: memory stays bounded and a flood fails closed.
    int64_t locked_for_locked(const ThrottleKey & k, int64_t t) {
        auto it = throttles.find(k.key);
        if (it == throttles.end() && k.shares_overflow && throttles.size() >= options.max_throttle_entries) {
            it = throttles.find(kOverflowKey);
        }
        if (it == throttles.end()) {
            return 0;
        }
        return std::max<int64_t>(0, it->second.locked_until - t);
    }

    // Caller holds mu. True when the failure went to (or, with `overflow_counted`, belonged in) the
    // overflow bucket, which counts each failed login once however many of its keys land there.
    bool record_failure_locked(const ThrottleKey & k, int64_t t, bool overflow_counted) {
        std::string key = k.key;
        int limit = k.limit;
        if (throttles.size() >= options.max_throttle_entries && throttles.find(key) == throttles.end()) {
            // Forget entries with nothing left to hold before admitting a new one.
            for (auto it = throttles.begin(); it != throttles.end();) {
                const bool idle =
                    it->first != kOverflowKey && it->second.locked_until <= t &&
                    (it->second.failures.empty() || it->second.failures.back() <= t - options.failure_window_s);
                it = idle ? throttles.erase(it) : std::next(it);
            }
            if (throttles.size() >= options.max_throttle_entries) {
                if (!k.shares_overflow) {
                    return false;
                }
                if (overflow_counted) {
                    return true;
                }
                // Still flooded: every key without a place counts in one shared bucket, which locks
                // them all together rather than letting them through uncounted.
                key = kOverflowKey;
                limit = options.max_failures_per_address;
            }
        }
        Throttle & th = throttles[key];
        while (!th.failures.empty() && th.failures.front() <= t - options.failure_window_s) {
            th.failures.pop_front();
        }
        th.failures.push_back(t);
        if (static_cast<int>(th.failures.size()) >= limit) {
            th.locked_until = t + options.lockout_s;
            th.failures.clear();
        }
        return key == kOverflowKey;
    }

    std::vector<ThrottleKey> throttle_keys(const std::string & name, const std::string & address) const {
        const std::string user = lower(name);
        const bool loopback = is_loopback_address(address);
        std::vector<ThrottleKey> keys{{"p:" + user + "|" + address, options.max_failures, !loopback}};
        if (!loopback) {
            keys.push_back({"u:" + user, options.max_failures_per_name});
            if (!address.empty()) {
                keys.push_back({"a:" + address, options.max_failures_per_address});
            }
        }
        return keys;
    }
};

Accounts::Accounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Accounts::~Accounts() = default;

bool Accounts::valid_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' || c == '@';
    });
}

bool Accounts::valid_role(std::string_view role) {
    return role == kRoleAdmin || role == kRoleStaff || role == kRoleAuditor;
}

bool is_loopback_address(std::string_view ip) {
    return ip.starts_with("127.") || ip == "::1" || ip.starts_with("::ffff:127.");
}

std::string new_setup_code() {
    if (sodium_init() < 0) {
        std::abort();  // no random source: nothing secret can be made
    }
    return random_hex(8);
}

core::Result<std::unique_ptr<Accounts>> Accounts::open(const std::filesystem::path & path, AccountsOptions options) {
    if (sodium_init() < 0) {
        return core::Error(core::ErrorCode::kInternal,
                           "open accounts " + path.string() + ": libsodium failed to start");
    }
    if (options.max_failures < 1 || options.session_lifetime_s < 1) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "open accounts " + path.string() + ": max_failures and session_lifetime_s must be >= 1");
    }
    try {
        auto impl = std::make_unique<Impl>(path, std::move(options));
        // Password hashes and grants are nobody else's business, before the WAL file inherits the mode.
        ::chmod(path.c_str(), 0600);
        impl->db.setBusyTimeout(10000);
        impl->db.exec("PRAGMA journal_mode=WAL");
        impl->db.exec("PRAGMA foreign_keys=ON");
        impl->db.exec(R"sql(
            CREATE TABLE IF NOT EXISTS users (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'auditor')),
                password_hash TEXT NOT NULL,
                language TEXT NOT NULL DEFAULT 'en',
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS account_groups (
                name TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS memberships (
                user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                group_name TEXT NOT NULL REFERENCES account_groups(name),
                PRIMARY KEY (user, group_name));
            CREATE TABLE IF NOT EXISTS grants (
                group_name TEXT NOT NULL REFERENCES account_groups(name),
                collection TEXT NOT NULL,
                access TEXT NOT NULL CHECK (access IN ('read', 'write')),
                PRIMARY KEY (group_name, collection));
            CREATE TABLE IF NOT EXISTS sessions (
                id_hash TEXT PRIMARY KEY,
                user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);
            CREATE TABLE IF NOT EXISTS api_tokens (
                id INTEGER PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                last_used_at INTEGER NOT NULL DEFAULT 0);
        )sql");
        return std::unique_ptr<Accounts>(new Accounts(std::move(impl)));
    } catch (const std::exception & e) {
        return db_error("open accounts " + path.string(), e);
    }
}

core::Result<bool> Accounts::has_users() {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT EXISTS (SELECT 1 FROM users)");
        q.executeStep();
        return q.getColumn(0).getInt() != 0;
    } catch (const std::exception & e) {
        return db_error(impl_->where("count users"), e);
    }
}

core::Status Accounts::add_user(const User & user, const std::string & password) {
    if (!valid_name(user.name)) {
        return core::Error(core::ErrorCode::kInvalidArgument, "user name \"" + user.name.substr(0, 64) +
                                                                  "\" must be 1-64 characters of A-Z a-z 0-9 . _ - @");
    }
    if (!valid_role(user.role)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "role must be admin, staff or auditor, got \"" + user.role.substr(0, 16) + "\"");
    }
    SB_TRY(check_password(password));
    SB_TRY(check_language(user.language));
    SB_TRY(check_groups(user.groups));
    SB_ASSIGN_OR_RETURN(std::string hash, impl_->hash_password(password));
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        if (impl_->user_locked(user.name)) {
            return core::Error(core::ErrorCode::kAlreadyExists, "user \"" + user.name + "\" already exists");
        }
        SQLite::Statement insert(impl_->db,
                                 "INSERT INTO users(name, role, password_hash, language, disabled, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)");
        insert.bind(1, user.name);
        insert.bind(2, user.role);
        insert.bind(3, hash);
        insert.bind(4, user.language);
        insert.bind(5, user.disabled ? 1 : 0);
        insert.bind(6, impl_->now());
        insert.exec();
        impl_->set_groups_locked(user.name, user.groups);
        tx.commit();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("add user " + user.name), e);
    }
}

core::Status Accounts::create_first_admin(const std::string & name, const std::string & password) {
    if (!valid_name(name)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "user name \"" + name.substr(0, 64) + "\" must be 1-64 characters of A-Z a-z 0-9 . _ - @");
    }
    SB_TRY(check_password(password));
    SB_ASSIGN_OR_RETURN(std::string hash, impl_->hash_password(password));
    std::lock_guard lock(impl_->mu);
    try {
        // IMMEDIATE takes the write lock first, so two setups racing (even from two processes)
        // cannot both see an empty table.
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement any(impl_->db, "SELECT EXISTS (SELECT 1 FROM users)");
        any.executeStep();
        if (any.getColumn(0).getInt() != 0) {
            return core::Error(core::ErrorCode::kAlreadyExists, "setup is done: an account already exists");
        }
        SQLite::Statement insert(impl_->db,
                                 "INSERT INTO users(name, role, password_hash, language, disabled, created_at) "
                                 "VALUES (?, 'admin', ?, 'en', 0, ?)");
        insert.bind(1, name);
        insert.bind(2, hash);
        insert.bind(3, impl_->now());
        insert.exec();
        tx.commit();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("create the first admin"), e);
    }
}

core::Result<User> Accounts::user(const std::string & name) {
    std::lock_guard lock(impl_->mu);
    try {
        std::optional<User> u = impl_->user_locked(name);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no user named \"" + name.substr(0, 64) + "\"");
        }
        return *u;
    } catch (const std::exception & e) {
        return db_error(impl_->where("read user " + name), e);
    }
}

core::Result<std::vector<User>> Accounts::users() {
    std::lock_guard lock(impl_->mu);
    try {
        std::vector<std::string> names;
        SQLite::Statement q(impl_->db, "SELECT name FROM users ORDER BY name");
        while (q.executeStep()) {
            names.push_back(q.getColumn(0).getString());
        }
        std::vector<User> out;
        for (const std::string & n : names) {
            if (std::optional<User> u = impl_->user_locked(n)) {
                out.push_back(std::move(*u));
            }
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->where("list users"), e);
    }
}

core::Status Accounts::update_user(const std::string & name, const UserChange & change) {
    if (change.role && !valid_role(*change.role)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "role must be admin, staff or auditor, got \"" + change.role->substr(0, 16) + "\"");
    }
    if (change.language) {
        SB_TRY(check_language(*change.language));
    }
    if (change.groups) {
        SB_TRY(check_groups(*change.groups));
    }
    std::string hash;
    if (change.password) {
        SB_TRY(check_password(*change.password));
        SB_ASSIGN_OR_RETURN(hash, impl_->hash_password(*change.password));
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        std::optional<User> u = impl_->user_locked(name);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no user named \"" + name.substr(0, 64) + "\"");
        }
        const bool stays_admin = change.role.value_or(u->role) == kRoleAdmin && !change.disabled.value_or(u->disabled);
        if (u->role == kRoleAdmin && !u->disabled && !stays_admin && impl_->enabled_admins_locked() <= 1) {
            return core::Error(core::ErrorCode::kPermissionDenied,
                               "\"" + name + "\" is the last enabled admin; add another admin first");
        }
        bool revoke = false;
        bool revoke_tokens = false;
        if (change.role && *change.role != u->role) {
            SQLite::Statement s(impl_->db, "UPDATE users SET role = ? WHERE name = ?");
            s.bind(1, *change.role);
            s.bind(2, name);
            s.exec();
            revoke = true;
        }
        if (change.password) {
            SQLite::Statement s(impl_->db, "UPDATE users SET password_hash = ? WHERE name = ?");
            s.bind(1, hash);
            s.bind(2, name);
            s.exec();
            revoke = true;
            revoke_tokens = true;
        }
        if (change.language) {
            SQLite::Statement s(impl_->db, "UPDATE users SET language = ? WHERE name = ?");
            s.bind(1, *change.language);
            s.bind(2, name);
            s.exec();
        }
        if (change.disabled) {
            SQLite::Statement s(impl_->db, "UPDATE users SET disabled = ? WHERE name = ?");
            s.bind(1, *change.disabled ? 1 : 0);
            s.bind(2, name);
            s.exec();
            revoke = revoke || *change.disabled;
            revoke_tokens = revoke_tokens || *change.disabled;
        }
        if (change.groups) {
            impl_->set_groups_locked(name, *change.groups);
        }
        if (revoke) {
            impl_->revoke_sessions_locked(name);
        }
        if (revoke_tokens) {
            impl_->revoke_tokens_locked(name);
        }
        tx.commit();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("update user " + name), e);
    }
}

core::Status Accounts::delete_user(const std::string & name) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        std::optional<User> u = impl_->user_locked(name);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no user named \"" + name.substr(0, 64) + "\"");
        }
        if (u->role == kRoleAdmin && !u->disabled && impl_->enabled_admins_locked() <= 1) {
            return core::Error(core::ErrorCode::kPermissionDenied,
                               "\"" + name + "\" is the last enabled admin; add another admin first");
        }
        // Sessions, tokens and memberships go with the user (ON DELETE CASCADE).
        SQLite::Statement del(impl_->db, "DELETE FROM users WHERE name = ?");
        del.bind(1, name);
        del.exec();
        tx.commit();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("delete user " + name), e);
    }
}

core::Status Accounts::add_group(const std::string & name) {
    SB_TRY(check_groups({name}));
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement insert(impl_->db, "INSERT OR IGNORE INTO account_groups(name, created_at) VALUES (?, ?)");
        insert.bind(1, name);
        insert.bind(2, impl_->now());
        if (insert.exec() == 0) {
            return core::Error(core::ErrorCode::kAlreadyExists, "group \"" + name + "\" already exists");
        }
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("add group " + name), e);
    }
}

core::Result<std::vector<std::string>> Accounts::groups() {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT name FROM account_groups ORDER BY name");
        std::vector<std::string> out;
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getString());
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->where("list groups"), e);
    }
}

core::Status Accounts::set_grant(const std::string & group, const std::string & collection,
                                 const std::string & access) {
    if (!valid_collection(collection)) {
        return core::Error(core::ErrorCode::kInvalidArgument, "collection name \"" + collection.substr(0, 64) +
                                                                  "\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
    }
    if (access != "read" && access != "write" && access != "none") {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "access must be read, write or none, got \"" + access.substr(0, 16) + "\"");
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement exists(impl_->db, "SELECT EXISTS (SELECT 1 FROM account_groups WHERE name = ?)");
        exists.bind(1, group);
        exists.executeStep();
        if (exists.getColumn(0).getInt() == 0) {
            return core::Error(core::ErrorCode::kNotFound, "no group named \"" + group.substr(0, 64) + "\"");
        }
        if (access == "none") {
            SQLite::Statement del(impl_->db, "DELETE FROM grants WHERE group_name = ? AND collection = ?");
            del.bind(1, group);
            del.bind(2, collection);
            del.exec();
        } else {
            SQLite::Statement up(impl_->db,
                                 "INSERT INTO grants(group_name, collection, access) VALUES (?, ?, ?) "
                                 "ON CONFLICT(group_name, collection) DO UPDATE SET access = excluded.access");
            up.bind(1, group);
            up.bind(2, collection);
            up.bind(3, access);
            up.exec();
        }
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("grant " + group + " on " + collection), e);
    }
}

core::Status Accounts::replace_grants(const std::string & collection, const std::vector<Grant> & grants) {
    if (!valid_collection(collection)) {
        return core::Error(core::ErrorCode::kInvalidArgument, "collection name \"" + collection.substr(0, 64) +
                                                                  "\" must be 1-64 characters of A-Z a-z 0-9 . _ -");
    }
    std::set<std::string> seen;
    for (const Grant & g : grants) {
        if (g.access != "read" && g.access != "write") {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "access must be read or write, got \"" + g.access.substr(0, 16) + "\"");
        }
        if (!seen.insert(g.group).second) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "group \"" + g.group.substr(0, 64) + "\" is listed twice");
        }
    }
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
        for (const Grant & g : grants) {
            SQLite::Statement exists(impl_->db, "SELECT EXISTS (SELECT 1 FROM account_groups WHERE name = ?)");
            exists.bind(1, g.group);
            exists.executeStep();
            if (exists.getColumn(0).getInt() == 0) {
                return core::Error(core::ErrorCode::kNotFound, "no group named \"" + g.group.substr(0, 64) + "\"");
            }
        }
        SQLite::Statement del(impl_->db, "DELETE FROM grants WHERE collection = ?");
        del.bind(1, collection);
        del.exec();
        for (const Grant & g : grants) {
            SQLite::Statement insert(impl_->db, "INSERT INTO grants(group_name, collection, access) VALUES (?, ?, ?)");
            insert.bind(1, g.group);
            insert.bind(2, collection);
            insert.bind(3, g.access);
            insert.exec();
        }
        tx.commit();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("replace the grants on " + collection), e);
    }
}

core::Result<std::vector<Grant>> Accounts::grants() {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db,
                            "SELECT group_name, collection, access FROM grants ORDER BY collection, group_name");
        std::vector<Grant> out;
        while (q.executeStep()) {
            out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()});
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->where("list grants"), e);
    }
}

core::Result<std::vector<Grant>> Accounts::grants_of(const std::vector<std::string> & groups) {
    std::lock_guard lock(impl_->mu);
    try {
        std::vector<Grant> out;
        for (const std::string & g : groups) {
            SQLite::Statement q(impl_->db,
                                "SELECT collection, access FROM grants WHERE group_name = ? ORDER BY collection");
            q.bind(1, g);
            while (q.executeStep()) {
                out.push_back({g, q.getColumn(0).getString(), q.getColumn(1).getString()});
            }
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->where("read grants"), e);
    }
}

int64_t Accounts::retry_after(const std::string & name, const std::string & client_address) {
    std::lock_guard lock(impl_->mu);
    const int64_t t = impl_->now();
    int64_t wait = 0;
    for (const Impl::ThrottleKey & k : impl_->throttle_keys(name, client_address)) {
        wait = std::max(wait, impl_->locked_for_locked(k, t));
    }
    return wait;
}

core::Result<LoginAttempt> Accounts::login(const std::string & name, const std::string & password,
                                           const std::string & client_address) {
    LoginAttempt attempt;
    if (int64_t wait = retry_after(name, client_address); wait > 0) {
        attempt.outcome = LoginAttempt::Outcome::kThrottled;
        attempt.retry_after_s = wait;
        return attempt;
    }
    std::string stored;
    bool usable = false;
    {
        std::lock_guard lock(impl_->mu);
        try {
            SQLite::Statement q(impl_->db, "SELECT password_hash, disabled FROM users WHERE name = ?");
            q.bind(1, name);
            if (q.executeStep()) {
                stored = q.getColumn(0).getString();
                usable = q.getColumn(1).getInt() == 0;
            }
        } catch (const std::exception & e) {
            return db_error(impl_->where("log in " + name), e);
        }
        if (stored.empty()) {
            stored = impl_->dummy_hash;  // empty until the first unknown name
            usable = false;
        }
    }
    if (stored.empty()) {
        // Hashed outside mu like every argon2id call (note 1); two first callers may both hash.
        SB_ASSIGN_OR_RETURN(std::string dummy, impl_->hash_password(random_hex(16)));
        std::lock_guard lock(impl_->mu);
        if (impl_->dummy_hash.empty()) {
            impl_->dummy_hash = std::move(dummy);
        }
        stored = impl_->dummy_hash;
    }
    const bool matches = password.size() <= kMaxPassword &&
                         crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;

    std::lock_guard lock(impl_->mu);
    const int64_t t = impl_->now();
    if (!matches || !usable) {
        bool overflowed = false;
        for (const Impl::ThrottleKey & k : impl_->throttle_keys(name, client_address)) {
            overflowed = impl_->record_failure_locked(k, t, overflowed) || overflowed;
        }
        attempt.outcome = LoginAttempt::Outcome::kBadCredentials;
        return attempt;
    }
    impl_->throttles.erase("p:" + lower(name) + "|" + client_address);
    try {
        SQLite::Statement purge(impl_->db, "DELETE FROM sessions WHERE expires_at <= ?");
        purge.bind(1, t);
        purge.exec();
        Session s;
        s.id = random_hex(32);
        s.csrf_token = random_hex(32);
        s.issued_at = t;
        s.expires_at = t + impl_->options.session_lifetime_s;
        SQLite::Statement insert(impl_->db, "INSERT INTO sessions(id_hash, user, csrf_token, created_at, expires_at) "
                                            "VALUES (?, ?, ?, ?, ?)");
        insert.bind(1, core::sha256_hex(s.id));
        insert.bind(2, name);
        insert.bind(3, s.csrf_token);
        insert.bind(4, t);
        insert.bind(5, s.expires_at);
        insert.exec();
        std::optional<User> u = impl_->user_locked(name);
        if (!u) {
            return core::Error(core::ErrorCode::kInternal, "user " + name + " vanished while logging in");
        }
        s.user = std::move(*u);
        attempt.outcome = LoginAttempt::Outcome::kOk;
        attempt.session = std::move(s);
        return attempt;
    } catch (const std::exception & e) {
        return db_error(impl_->where("start a session for " + name), e);
    }
}

core::Result<Principal> Accounts::session(std::string_view raw_session_id) {
    if (raw_session_id.empty() || raw_session_id.size() > 128) {
        return core::Error(core::ErrorCode::kNotFound, "no such session");
    }
    const std::string id_hash = core::sha256_hex(raw_session_id);
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT s.user, s.csrf_token, s.expires_at, u.disabled FROM sessions s "
                                       "JOIN users u ON u.name = s.user WHERE s.id_hash = ?");
        q.bind(1, id_hash);
        if (!q.executeStep()) {
            return core::Error(core::ErrorCode::kNotFound, "no such session");
        }
        const std::string user = q.getColumn(0).getString();
        Principal p;
        p.csrf_token = q.getColumn(1).getString();
        const int64_t expires_at = q.getColumn(2).getInt64();
        const bool disabled = q.getColumn(3).getInt() != 0;
        q.reset();
        if (expires_at <= impl_->now()) {
            SQLite::Statement del(impl_->db, "DELETE FROM sessions WHERE id_hash = ?");
            del.bind(1, id_hash);
            del.exec();
            return core::Error(core::ErrorCode::kNotFound, "session expired");
        }
        if (disabled) {
            return core::Error(core::ErrorCode::kNotFound, "account disabled");
        }
        std::optional<User> u = impl_->user_locked(user);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no such session");
        }
        p.user = std::move(*u);
        return p;
    } catch (const std::exception & e) {
        return db_error(impl_->where("look up a session"), e);
    }
}

core::Status Accounts::logout(std::string_view raw_session_id) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement del(impl_->db, "DELETE FROM sessions WHERE id_hash = ?");
        del.bind(1, core::sha256_hex(raw_session_id));
        del.exec();
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("end a session"), e);
    }
}

core::Result<ApiToken> Accounts::create_token(const std::string & user, const std::string & name) {
    if (name.empty() || name.size() > 100) {
        return core::Error(core::ErrorCode::kInvalidArgument, "token name must be 1-100 bytes");
    }
    std::lock_guard lock(impl_->mu);
    try {
        std::optional<User> u = impl_->user_locked(user);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no user named \"" + user.substr(0, 64) + "\"");
        }
        ApiToken t;
        t.token = "sbt_" + random_hex(32);
        t.name = name;
        t.user = user;
        t.created_at = impl_->now();
        SQLite::Statement insert(impl_->db,
                                 "INSERT INTO api_tokens(token_hash, user, name, created_at) VALUES (?, ?, ?, ?)");
        insert.bind(1, core::sha256_hex(t.token));
        insert.bind(2, user);
        insert.bind(3, name);
        insert.bind(4, t.created_at);
        insert.exec();
        t.id = impl_->db.getLastInsertRowid();
        return t;
    } catch (const std::exception & e) {
        return db_error(impl_->where("create a token for " + user), e);
    }
}

core::Result<std::vector<ApiToken>> Accounts::tokens(const std::string & user) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT id, name, user, created_at, last_used_at FROM api_tokens "
                                       "WHERE ?1 = '' OR user = ?1 ORDER BY id");
        q.bind(1, user);
        std::vector<ApiToken> out;
        while (q.executeStep()) {
            ApiToken t;
            t.id = q.getColumn(0).getInt64();
            t.name = q.getColumn(1).getString();
            t.user = q.getColumn(2).getString();
            t.created_at = q.getColumn(3).getInt64();
            t.last_used_at = q.getColumn(4).getInt64();
            out.push_back(std::move(t));
        }
        return out;
    } catch (const std::exception & e) {
        return db_error(impl_->where("list tokens"), e);
    }
}

core::Result<ApiToken> Accounts::token_by_id(int64_t id) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT id, name, user, created_at, last_used_at FROM api_tokens WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep()) {
            return core::Error(core::ErrorCode::kNotFound, "no token with id " + std::to_string(id));
        }
        ApiToken t;
        t.id = q.getColumn(0).getInt64();
        t.name = q.getColumn(1).getString();
        t.user = q.getColumn(2).getString();
        t.created_at = q.getColumn(3).getInt64();
        t.last_used_at = q.getColumn(4).getInt64();
        return t;
    } catch (const std::exception & e) {
        return db_error(impl_->where("read token " + std::to_string(id)), e);
    }
}

core::Status Accounts::revoke_token(int64_t id) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement del(impl_->db, "DELETE FROM api_tokens WHERE id = ?");
        del.bind(1, id);
        if (del.exec() == 0) {
            return core::Error(core::ErrorCode::kNotFound, "no token with id " + std::to_string(id));
        }
        return core::ok_status();
    } catch (const std::exception & e) {
        return db_error(impl_->where("revoke token " + std::to_string(id)), e);
    }
}

core::Result<Principal> Accounts::token(std::string_view raw_token) {
    if (!raw_token.starts_with("sbt_") || raw_token.size() > 128) {
        return core::Error(core::ErrorCode::kNotFound, "no such token");
    }
    const std::string token_hash = core::sha256_hex(raw_token);
    std::lock_guard lock(impl_->mu);
    try {
        const auto version = impl_->version_locked();
        if (auto it = impl_->token_cache.find(token_hash);
            it != impl_->token_cache.end() && version.second >= 0 && it->second.version == version) {
            const int64_t t = impl_->now();
            if (t - it->second.last_used >= kTokenTouchInterval &&
                impl_->touch_token_locked(it->second.principal.token_id, t)) {
                it->second.last_used = t;
                it->second.version = impl_->version_locked();  // the touch is the only change
            }
            return it->second.principal;
        }
        SQLite::Statement q(impl_->db, "SELECT t.id, t.user, t.last_used_at, u.disabled FROM api_tokens t "
                                       "JOIN users u ON u.name = t.user WHERE t.token_hash = ?");
        q.bind(1, token_hash);
        if (!q.executeStep()) {
            return core::Error(core::ErrorCode::kNotFound, "no such token");
        }
        Principal p;
        p.is_token = true;
        p.token_id = q.getColumn(0).getInt64();
        const std::string user = q.getColumn(1).getString();
        const int64_t last_used = q.getColumn(2).getInt64();
        const bool disabled = q.getColumn(3).getInt() != 0;
        q.reset();
        if (disabled) {
            return core::Error(core::ErrorCode::kNotFound, "account disabled");
        }
        const int64_t t = impl_->now();
        int64_t touched = last_used;
        if (t - last_used >= kTokenTouchInterval && impl_->touch_token_locked(p.token_id, t)) {
            touched = t;
        }
        std::optional<User> u = impl_->user_locked(user);
        if (!u) {
            return core::Error(core::ErrorCode::kNotFound, "no such token");
        }
        p.user = std::move(*u);
        if (impl_->token_cache.size() >= kMaxCachedTokens) {
            impl_->token_cache.clear();
        }
        impl_->token_cache[token_hash] = Impl::CachedToken{p, touched, impl_->version_locked()};
        return p;
    } catch (const std::exception & e) {
        return db_error(impl_->where("look up a token"), e);
    }
}

}  // namespace strongbox::access
