// Per-query limits on the grounded answerer and per-user daily token quotas. Every limit lives
// in Settings; when one stops an answer the answer says so and its audit record names the cap.
//
// QuotaLedger counts the tokens (prompt + generated) each user spent on the current UTC day.
// It is kept in memory by the running appliance and seeded from nothing at start, so a restart
// forgives the day's usage (the audit trail still holds every record).
//
// Thread-safety: QuotaLedger is internally synchronised. Caps is plain data.
//
//   QuotaLedger ledger;
//   if (!ledger.has_room("alice", caps.daily_user_tokens)) { refuse(kCapDailyQuota); }
//   ledger.charge("alice", used);
#pragma once

#include "strongbox/core/json.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace strongbox::appliance {

struct Caps {
    int64_t max_prompt_tokens = 1536;   // evidence is trimmed to fit
    int64_t max_new_tokens = 256;       // generation stops here
    int64_t deadline_ms = 60000;        // wall clock from the start of the query; generation stops here
    int64_t daily_user_tokens = 200000; // per user per UTC day, prompt + generated; 0 = unlimited
};

// Names used in answers and audit records for the cap that stopped an answer.
inline constexpr const char * kCapMaxPromptTokens = "max_prompt_tokens";
inline constexpr const char * kCapMaxNewTokens = "max_new_tokens";
inline constexpr const char * kCapDeadline = "deadline_ms";
inline constexpr const char * kCapDailyQuota = "daily_user_tokens";

core::Json to_json(const Caps & caps);

// A sentence for the user saying which cap stopped the answer.
std::string describe_cap(std::string_view cap, const Caps & caps);

class QuotaLedger {
  public:
    // Tokens `user` has spent today.
    int64_t used(const std::string & user);
    // False when the user has spent the daily quota (0 = unlimited).
    bool has_room(const std::string & user, int64_t daily_limit);
    void charge(const std::string & user, int64_t tokens);

  private:
    void roll_day_locked();

    std::mutex mu_;
    std::string day_;  // YYYY-MM-DD (UTC) the counts belong to
    std::map<std::string, int64_t> used_;
};

}  // namespace strongbox::appliance
