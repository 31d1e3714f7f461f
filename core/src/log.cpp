#include "strongbox/core/log.h"

#include "strongbox/core/clock.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace strongbox::core {
namespace {

LogLevel level_from_env() {
    const char * v = std::getenv("STRONGBOX_LOG");  // NOLINT(concurrency-mt-unsafe): read once at start
    if (v == nullptr) {
        return LogLevel::kInfo;
    }
    if (std::strcmp(v, "debug") == 0) {
        return LogLevel::kDebug;
    }
    if (std::strcmp(v, "warn") == 0) {
        return LogLevel::kWarn;
    }
    if (std::strcmp(v, "error") == 0) {
        return LogLevel::kError;
    }
    return LogLevel::kInfo;
}

std::atomic<LogLevel> & current_level() {
    static std::atomic<LogLevel> level{level_from_env()};
    return level;
}

}  // namespace

void set_log_level(LogLevel level) {
    current_level().store(level);
}

LogLevel log_level() {
    return current_level().load();
}

void log(LogLevel level, const char * file, int line, const char * fmt, ...) {
    if (level < log_level()) {
        return;
    }
    static constexpr const char * kNames[] = {"debug", "info", "warn", "error"};
    char msg[2048];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);
    const char * base = std::strrchr(file, '/');
    std::string out = utc_now_iso8601() + " " + kNames[static_cast<int>(level)] + " " + (base ? base + 1 : file) + ":" +
                      std::to_string(line) + " " + msg + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
}

}  // namespace strongbox::core
