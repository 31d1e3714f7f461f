// Figures every benchmark prints: medians of repeated runs and the process's CPU time.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <vector>

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

}  // namespace strongbox::bench
