// Per-query limits on the grounded answerer and per-user daily token quotas. Every limit lives
// in Settings; when one stops an answer the answer says so and its audit record names the cap.
//
// QuotaLedger counts the tokens (prompt + generated) each user spent per UTC day in a small
// SQLite table in the data directory (usage.db), so a restart does not forgive the day's usage
// and the CLI and the daemon, which take turns owning the directory, charge the same ledger.
// A charge is one upsert, atomic on its own; the check before an answer and the charge after it
// are not one transaction, so concurrent questions of one user may overshoot the quota by at most
// the answers already in flight.
//
// Thread-safety: QuotaLedger is internally synchronised. Caps is plain data.
// Errors: open() names the file; used()/charge() return kIoError naming the ledger.
//
//   SB_ASSIGN_OR_RETURN(auto ledger, QuotaLedger::open(data_paths.usage()));
//   SB_ASSIGN_OR_RETURN(bool room, ledger->has_room("alice", caps.daily_user_tokens));
//   if (!room) { refuse(kCapDailyQuota); }
//   SB_TRY(ledger->charge("alice", used));
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace strongbox::appliance {

struct Caps {
    int64_t max_prompt_tokens = 1536;    // evidence is trimmed to fit
    int64_t max_new_tokens = 256;        // generation stops here
    int64_t deadline_ms = 60000;         // wall clock from the start of the query; generation stops here
    int64_t daily_user_tokens = 200000;  // per user per UTC day, prompt + generated; 0 = unlimited
};

// Names used in answers and audit records for the cap that stopped an answer.
inline constexpr const char * kCapMaxPromptTokens = "max_prompt_tokens";
inline constexpr const char * kCapMaxNewTokens = "max_new_tokens";
inline constexpr const char * kCapDeadline = "deadline_ms";
inline constexpr const char * kCapDailyQuota = "daily_user_tokens";

core::Json to_json(const Caps & caps);

// A sentence for the user saying which cap stopped the answer.
std::string describe_cap(std::string_view cap, const Caps & caps);

// The ledger's file name inside the data directory.
class QuotaLedger {
  public:
    static core::Result<std::unique_ptr<QuotaLedger>> open(const std::filesystem::path & path);
    ~QuotaLedger();
    QuotaLedger(const QuotaLedger &) = delete;
    QuotaLedger & operator=(const QuotaLedger &) = delete;

    // Tokens `user` has spent today (UTC).
    core::Result<int64_t> used(const std::string & user);
    // False when the user has spent the daily quota (0 = unlimited).
    core::Result<bool> has_room(const std::string & user, int64_t daily_limit);
    // Adds `tokens` to today's count in one statement; returns the new count.
    core::Result<int64_t> charge(const std::string & user, int64_t tokens);

    // As above for a given UTC day "YYYY-MM-DD" (today's is utc_day()).
    core::Result<int64_t> used_on(const std::string & user, const std::string & day);
    core::Result<int64_t> charge_on(const std::string & user, const std::string & day, int64_t tokens);

  private:
    struct Impl;
    explicit QuotaLedger(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Today's UTC day, "YYYY-MM-DD".
std::string utc_day();

}  // namespace strongbox::appliance
