// Calendar arithmetic and timestamp pieces shared by the log format parsers. Everything here is
// pure and thread-safe; times are microseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace strongbox::ingest {

struct CivilTime {
    int year = 1970;
    int month = 1;  // 1..12
    int day = 1;    // 1..31
    int hour = 0;
    int minute = 0;
    int second = 0;  // 0..60 (a leap second is accepted and folded into the next minute)
    int microsecond = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int year, int month, int day);

// UTC microseconds of a civil time at `utc_offset_minutes` east of UTC; nullopt when a field is
// out of range (month 13, February 30, hour 25, ...).
std::optional<int64_t> civil_to_unix_micros(const CivilTime & t, int utc_offset_minutes);

// "Jan".."Dec" (any case) -> 1..12; 0 when not a month abbreviation.
int month_from_abbrev(std::string_view s);

// "Mon".."Sun" (any case) -> true.
bool is_weekday_abbrev(std::string_view s);

}  // namespace strongbox::ingest
