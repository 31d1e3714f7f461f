#include "strongbox/core/clock.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace strongbox::core {

int64_t unix_micros_now() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_iso8601_utc(int64_t unix_micros) {
    std::time_t secs = static_cast<std::time_t>(unix_micros / 1000000);
    int64_t frac = unix_micros % 1000000;
    if (frac < 0) {
        frac += 1000000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
    return buf;
}

std::string utc_now_iso8601() {
    return format_iso8601_utc(unix_micros_now());
}

std::string utc_now_compact() {
    std::string t = utc_now_iso8601();
    std::erase_if(t, [](char c) { return c == '-' || c == ':'; });
    return t;
}

}  // namespace strongbox::core
