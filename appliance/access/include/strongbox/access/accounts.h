// Accounts: the web console's users, groups, collection grants, browser sessions and API tokens,
// kept in one SQLite file (<data dir>/accounts.db, WAL) that the daemon and the `strongbox user`
// commands share.
//
// What is stored, and what never is:
//   - passwords only as argon2id hashes (libsodium crypto_pwhash_str, salted, self-describing);
//   - session ids and API tokens only as their SHA-256; the raw values exist once, in the answer
//     to login()/create_token(), so a copy of the file lets nobody log in;
//   - each session's CSRF token in clear: it is useless without the session cookie it belongs to.
// Sessions end at their expiry, on logout, and for every session of a user whose password changes
// or who is disabled or deleted. Failed logins are throttled per name and address pair, per name
// and per address (AccountsOptions; in memory: a restart forgets them, and a flood past the table's
// bound counts in one shared bucket, failing closed), correct password or not; loopback clients
// only per pair, so the console always has a way in.
//
// Thread-safety: every method may be called from many threads at once (one mutex; SQLite calls are
// short). Several processes may open the same file; writers wait up to 10 s for each other.
// Error contract: storage failures are kIoError/kInternal naming the file, except a full disk
// (SQLITE_FULL), which is kReadOnly, the appliance's read-only refusal (507, CLI exit 4); bad input is
// kInvalidArgument naming the field; unknown users, groups and tokens are kNotFound; duplicates
// kAlreadyExists; refusing to demote, disable or delete the last enabled admin is
// kPermissionDenied. Nothing throws.
//
//   SB_ASSIGN_OR_RETURN(auto accounts, Accounts::open(data_dir / "accounts.db"));
//   SB_TRY(accounts->add_user({.name = "alice", .role = "staff", .groups = {"lab"}}, password));
//   SB_TRY(accounts->set_grant("lab", "papers", "write"));
//   SB_ASSIGN_OR_RETURN(LoginAttempt attempt, accounts->login("alice", password, "10.0.0.7"));
#pragma once

#include "strongbox/core/result.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::access {

inline constexpr const char * kRoleAdmin = "admin";
inline constexpr const char * kRoleStaff = "staff";
inline constexpr const char * kRoleAuditor = "auditor";

// Whether a client address (no port) is the box itself: 127.0.0.0/8, ::1 or a v4-mapped 127.x.
// The throttle and the web handler decide by this one test what counts as the console.
bool is_loopback_address(std::string_view ip);

// A one-time code for first-start setup from another machine (HandlerOptions::setup_code): 16 hex
// digits from the OS's random source, short enough to type from the console.
std::string new_setup_code();

struct AccountsOptions {
    // argon2id cost; 0 picks libsodium's INTERACTIVE limits (2 passes, 64 MiB). Tests lower them.
    uint64_t pwhash_opslimit = 0;
    size_t pwhash_memlimit = 0;
    int64_t session_lifetime_s = 8 * 3600;
    // Failed logins within the window lock, for lockout_s: a name from one address after
    // max_failures; a name from anywhere after max_failures_per_name (guessing from many
    // addresses); an address for any name after max_failures_per_address (spraying names). A
    // loopback client (the box's own console) is held by the first only, so nobody elsewhere can
    // lock the admin out of the box.
    int max_failures = 5;
    int max_failures_per_name = 20;
    int max_failures_per_address = 20;
    int64_t failure_window_s = 15 * 60;
    int64_t lockout_s = 15 * 60;
    // Names, addresses and pairs tracked at once; past it failures share one bucket (fail closed).
    size_t max_throttle_entries = 10000;
    // Unix seconds; tests move time with it. Empty: the system clock.
    std::function<int64_t()> clock;
};

struct User {
    std::string name;
    std::string role;                 // kRoleAdmin | kRoleStaff | kRoleAuditor
    std::vector<std::string> groups;  // sorted
    std::string language = "en";      // "en" | "ko"
    bool disabled = false;
    int64_t created_at = 0;  // unix seconds
};

// Changes to a user; unset members stay as they are.
struct UserChange {
    std::optional<std::string> role;
    std::optional<std::vector<std::string>> groups;
    std::optional<std::string> password;
    std::optional<std::string> language;
    std::optional<bool> disabled;
};

struct Session {
    std::string id;          // raw session id: only in login()'s answer, "" when read back
    std::string csrf_token;  // required in X-CSRF-Token on state-changing requests
    User user;
    int64_t issued_at = 0;  // unix seconds
    int64_t expires_at = 0;
};

struct LoginAttempt {
    enum class Outcome { kOk, kBadCredentials, kThrottled };
    Outcome outcome = Outcome::kBadCredentials;
    Session session;            // kOk only
    int64_t retry_after_s = 0;  // kThrottled only
};

struct Grant {
    std::string group;
    std::string collection;
    std::string access;  // "read" | "write" (write implies read)
};

struct ApiToken {
    int64_t id = 0;
    std::string name;  // what the owner called it ("nightly export")
    std::string user;
    int64_t created_at = 0;
    int64_t last_used_at = 0;  // 0 when never used
    std::string token;         // raw token: only in create_token()'s answer
};

// A resolved API token or session: who it acts as.
struct Principal {
    User user;
    std::string csrf_token;  // sessions only
    bool is_token = false;
    int64_t token_id = 0;  // tokens only
};

class Accounts {
  public:
    static core::Result<std::unique_ptr<Accounts>> open(const std::filesystem::path & path,
                                                        AccountsOptions options = {});
    ~Accounts();
    Accounts(const Accounts &) = delete;
    Accounts & operator=(const Accounts &) = delete;

    // ---- Users and groups
    core::Result<bool> has_users();
    // Groups named in user.groups are created when missing. Password rules: 8..1024 bytes.
    core::Status add_user(const User & user, const std::string & password);
    // Creates the first admin, atomically refusing (kAlreadyExists) once any user exists.
    core::Status create_first_admin(const std::string & name, const std::string & password);
    core::Result<User> user(const std::string & name);
    core::Result<std::vector<User>> users();
    // A password change, disabling and a role change revoke the user's sessions; disabling also
    // stops their tokens. The last enabled admin cannot be demoted, disabled or deleted.
    core::Status update_user(const std::string & name, const UserChange & change);
    core::Status delete_user(const std::string & name);
    core::Status add_group(const std::string & name);
    core::Result<std::vector<std::string>> groups();

    // ---- Collection grants
    // access "read" | "write"; "none" removes the grant.
    core::Status set_grant(const std::string & group, const std::string & collection, const std::string & access);
    // Replaces every grant on `collection` with `grants` (their collection member is ignored).
    core::Status replace_grants(const std::string & collection, const std::vector<Grant> & grants);
    core::Result<std::vector<Grant>> grants();
    core::Result<std::vector<Grant>> grants_of(const std::vector<std::string> & groups);

    // ---- Sessions
    // Storage errors only; a wrong password, unknown or disabled user is kBadCredentials, and a
    // locked name or address kThrottled, checked before the password.
    core::Result<LoginAttempt> login(const std::string & name, const std::string & password,
                                     const std::string & client_address);
    // kNotFound for unknown, expired or revoked sessions and disabled users.
    core::Result<Principal> session(std::string_view raw_session_id);
    core::Status logout(std::string_view raw_session_id);
    // Seconds a login of this name from this address must wait; 0 when it may try now.
    int64_t retry_after(const std::string & name, const std::string & client_address);

    // ---- API tokens
    core::Result<ApiToken> create_token(const std::string & user, const std::string & name);
    // All tokens when user is "", else that user's.
    core::Result<std::vector<ApiToken>> tokens(const std::string & user);
    core::Result<ApiToken> token_by_id(int64_t id);
    core::Status revoke_token(int64_t id);
    // kNotFound for unknown or revoked tokens and disabled users.
    core::Result<Principal> token(std::string_view raw_token);

    static bool valid_name(std::string_view name);  // users, groups: 1..64 of [A-Za-z0-9._-@], no leading '.'
    static bool valid_role(std::string_view role);

  private:
    struct Impl;
    explicit Accounts(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::access
