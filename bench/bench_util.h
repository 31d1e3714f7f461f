// What the benchmarks share: medians of repeated runs, wall and CPU time, comma-separated options.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace strongbox::bench {

// The middle value, the mean of the two middle ones for an even count; 0 for no values.
inline double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// CPU seconds (user + system, every thread) this process has used so far.
inline double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Seconds on the steady clock, for differences.
inline double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "a,b,,c" -> {"a", "b", "", "c"}: the list arguments of the benchmarks.
inline std::vector<std::string> split(const std::string & s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) {
            comma = s.size();
        }
        out.push_back(s.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

}  // namespace strongbox::bench
