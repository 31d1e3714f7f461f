// Wall-clock helpers. All times Strongbox stores are UTC.
#pragma once

#include <cstdint>
#include <string>

namespace strongbox::core {

int64_t unix_micros_now();

// "2026-11-22T13:45:12.123456Z"
std::string utc_now_iso8601();
std::string format_iso8601_utc(int64_t unix_micros);

// The same without '-' and ':', for ids and file names: "20261122T134512.123456Z".
std::string utc_now_compact();

}  // namespace strongbox::core
