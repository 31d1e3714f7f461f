#include "strongbox/appliance/caps.h"

#include "strongbox/core/clock.h"

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

void QuotaLedger::roll_day_locked() {
    std::string today = core::utc_now_iso8601().substr(0, 10);
    if (today != day_) {
        day_ = std::move(today);
        used_.clear();
    }
}

int64_t QuotaLedger::used(const std::string & user) {
    std::lock_guard lock(mu_);
    roll_day_locked();
    auto it = used_.find(user);
    return it == used_.end() ? 0 : it->second;
}

bool QuotaLedger::has_room(const std::string & user, int64_t daily_limit) {
    return daily_limit <= 0 || used(user) < daily_limit;
}

void QuotaLedger::charge(const std::string & user, int64_t tokens) {
    std::lock_guard lock(mu_);
    roll_day_locked();
    used_[user] += tokens;
}

}  // namespace strongbox::appliance
