// Leveled logging to stderr. Thread-safe: one line is written with one call. The level comes
// from STRONGBOX_LOG (debug, info, warn, error; default info) or set_log_level().
#pragma once

namespace strongbox::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();

void log(LogLevel level, const char * file, int line, const char * fmt, ...) __attribute__((format(printf, 4, 5)));

}  // namespace strongbox::core

#define SB_LOG_DEBUG(...) ::strongbox::core::log(::strongbox::core::LogLevel::kDebug, __FILE__, __LINE__, __VA_ARGS__)
#define SB_LOG_INFO(...)  ::strongbox::core::log(::strongbox::core::LogLevel::kInfo, __FILE__, __LINE__, __VA_ARGS__)
#define SB_LOG_WARN(...)  ::strongbox::core::log(::strongbox::core::LogLevel::kWarn, __FILE__, __LINE__, __VA_ARGS__)
#define SB_LOG_ERROR(...) ::strongbox::core::log(::strongbox::core::LogLevel::kError, __FILE__, __LINE__, __VA_ARGS__)
