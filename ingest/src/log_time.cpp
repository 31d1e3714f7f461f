#include "log_time.h"

#include <array>
#include <cctype>

namespace strongbox::ingest {

namespace {

bool iequals3(std::string_view a, const char * b) {
    if (a.size() != 3) {
        return false;
    }
    for (size_t i = 0; i < 3; ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) {
            return false;
        }
    }
    return true;
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

}  // namespace

// The usual era-based conversion (400-year cycles), valid for every proleptic Gregorian date.
int64_t days_from_civil(int year, int month, int day) {
    const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t mp = (month + 9) % 12;
    const int64_t doy = (153 * mp + 2) / 5 + day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::optional<int64_t> civil_to_unix_micros(const CivilTime & t, int utc_offset_minutes) {
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month) || t.hour < 0 ||
        t.hour > 23 || t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60 || t.microsecond < 0 ||
        t.microsecond > 999999) {
        return std::nullopt;
    }
    const int64_t days = days_from_civil(t.year, t.month, t.day);
    const int64_t secs =
        days * 86400 + t.hour * 3600 + t.minute * 60 + t.second - static_cast<int64_t>(utc_offset_minutes) * 60;
    return secs * 1000000 + t.microsecond;
}

int month_from_abbrev(std::string_view s) {
    static constexpr std::array<const char *, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                             "jul", "aug", "sep", "oct", "nov", "dec"};
    for (size_t i = 0; i < kMonths.size(); ++i) {
        if (iequals3(s, kMonths[i])) {
            return static_cast<int>(i) + 1;
        }
    }
    return 0;
}

bool is_weekday_abbrev(std::string_view s) {
    static constexpr std::array<const char *, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (const char * d : kDays) {
        if (iequals3(s, d)) {
            return true;
        }
    }
    return false;
}

}  // namespace strongbox::ingest
