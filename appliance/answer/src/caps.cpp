#include "strongbox/answer/caps.h"

#include "strongbox/core/clock.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <mutex>

namespace strongbox::appliance {

core::Json to_json(const Caps & caps) {
    core::Json j = core::Json::object();
    j[kCapMaxPromptTokens] = caps.max_prompt_tokens;
    j[kCapMaxNewTokens] = caps.max_new_tokens;
    j[kCapDeadline] = caps.deadline_ms;
    j[kCapDailyQuota] = caps.daily_user_tokens;
    return j;
}

std::string describe_cap(std::string_view cap, const Caps & caps) {
    if (cap == kCapMaxNewTokens) {
        return "The answer was cut short by the limit of " + std::to_string(caps.max_new_tokens) +
               " generated tokens per question.";
    }
    if (cap == kCapDeadline) {
        return "The answer was cut short by the " + std::to_string(caps.deadline_ms) + " ms time limit per question.";
    }
    if (cap == kCapDailyQuota) {
        return "Your daily quota of " + std::to_string(caps.daily_user_tokens) +
               " tokens is used up; it renews at midnight UTC.";
    }
    if (cap == kCapMaxPromptTokens) {
        return "Some evidence was left out by the limit of " + std::to_string(caps.max_prompt_tokens) +
               " prompt tokens per question.";
    }
    return "The answer was stopped by the " + std::string(cap) + " limit.";
}

std::string utc_day() {
    return core::utc_now_iso8601().substr(0, 10);
}

struct QuotaLedger::Impl {
    explicit Impl(const std::filesystem::path & p)
        : path(p), db(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {}

    std::filesystem::path path;
    std::mutex mu;
    SQLite::Database db;

    core::Error error(const std::string & what, const std::exception & e) const {
        const auto * sql = dynamic_cast<const SQLite::Exception *>(&e);
        return core::Error(sql != nullptr ? core::code_for_sqlite(sql->getErrorCode()) : core::ErrorCode::kIoError,
                           "token usage ledger " + path.string() + ": " + what + ": " + e.what());
    }
};

QuotaLedger::QuotaLedger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

QuotaLedger::~QuotaLedger() = default;

core::Result<std::unique_ptr<QuotaLedger>> QuotaLedger::open(const std::filesystem::path & path) {
    try {
        auto impl = std::make_unique<Impl>(path);
        impl->db.setBusyTimeout(10000);
        impl->db.exec("PRAGMA journal_mode=WAL");
        impl->db.exec(R"sql(
            CREATE TABLE IF NOT EXISTS token_usage (
                user TEXT NOT NULL,
                day TEXT NOT NULL,
                tokens INTEGER NOT NULL,
                PRIMARY KEY (user, day)) WITHOUT ROWID;
        )sql");
        return std::unique_ptr<QuotaLedger>(new QuotaLedger(std::move(impl)));
    } catch (const std::exception & e) {
        return core::Error(core::ErrorCode::kIoError, "open token usage ledger " + path.string() + ": " + e.what());
    }
}

core::Result<int64_t> QuotaLedger::used_on(const std::string & user, const std::string & day) {
    std::lock_guard lock(impl_->mu);
    try {
        SQLite::Statement q(impl_->db, "SELECT tokens FROM token_usage WHERE user = ? AND day = ?");
        q.bind(1, user);
        q.bind(2, day);
        return q.executeStep() ? q.getColumn(0).getInt64() : int64_t{0};
    } catch (const std::exception & e) {
        return impl_->error("read " + user + " on " + day, e);
    }
}

core::Result<int64_t> QuotaLedger::charge_on(const std::string & user, const std::string & day, int64_t tokens) {
    std::lock_guard lock(impl_->mu);
    try {
        // One statement: the add is atomic even with another process on the same file.
        SQLite::Statement q(impl_->db, R"sql(
            INSERT INTO token_usage (user, day, tokens) VALUES (?, ?, ?)
            ON CONFLICT (user, day) DO UPDATE SET tokens = tokens + excluded.tokens
            RETURNING tokens)sql");
        q.bind(1, user);
        q.bind(2, day);
        q.bind(3, std::max<int64_t>(tokens, 0));
        if (!q.executeStep()) {
            return core::Error(core::ErrorCode::kIoError, "token usage ledger " + impl_->path.string() + ": charging " +
                                                              user + " returned no row");
        }
        const int64_t total = q.getColumn(0).getInt64();
        while (q.executeStep()) {
        }
        return total;
    } catch (const std::exception & e) {
        return impl_->error("charge " + user + " on " + day, e);
    }
}

core::Result<int64_t> QuotaLedger::used(const std::string & user) {
    return used_on(user, utc_day());
}

core::Result<bool> QuotaLedger::has_room(const std::string & user, int64_t daily_limit) {
    if (daily_limit <= 0) {
        return true;
    }
    SB_ASSIGN_OR_RETURN(int64_t spent, used(user));
    return spent < daily_limit;
}

core::Result<int64_t> QuotaLedger::charge(const std::string & user, int64_t tokens) {
    return charge_on(user, utc_day(), tokens);
}

}  // namespace strongbox::appliance
