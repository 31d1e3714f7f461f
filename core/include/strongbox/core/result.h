// Result<T>: the value of an operation that can fail on bad input or failing I/O.
//
// Errors carry a stable code, a message that says what was being done to what, and context
// added on the way up ("ingest samples/a.pdf: page 3: ..."). Broken invariants are not errors:
// they are SB_CHECK failures and abort. Result is not thread-safe to share mutably; copies are
// independent.
//
//   Result<Config> load(const std::filesystem::path& p) {
//       SB_ASSIGN_OR_RETURN(std::string text, read_file(p));
//       return parse_config(text);
//   }
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace strongbox::core {

// Stable codes: they appear in API error bodies and audit records, so never renumber them.
enum class ErrorCode {
    kInvalidArgument = 1,  // the caller asked for something malformed
    kNotFound = 2,         // a named thing does not exist
    kCorruptInput = 3,     // outside bytes do not parse (PDF, GGUF, log, JSON, bundle)
    kUnsupported = 4,      // well-formed but not something we handle (GGUF v1, encrypted PDF)
    kIoError = 5,          // the OS refused a read, write, fsync or rename
    kAlreadyExists = 6,
    kPermissionDenied = 7,   // access control said no
    kResourceExhausted = 8,  // disk full, quota, caps, overload
    kCancelled = 9,
    kDeadlineExceeded = 10,
    kUnavailable = 11,  // a dependency (daemon, device) is not there right now
    kInternal = 12,
    kReadOnly = 13,  // a change refused: the appliance is in read-only mode (its disk is full)
    kDiskFull = 14,  // a write failed for want of space: ENOSPC, EDQUOT, SQLITE_FULL
};

std::string_view to_string(ErrorCode code);

// The one mapping from the OS and SQLite to our codes, so every store and file operation decides
// alike (a full disk is kDiskFull wherever it happens, never recognised by its message).
// errno: ENOSPC/EDQUOT kDiskFull, ENOENT kNotFound, EACCES/EPERM kPermissionDenied, else kIoError.
ErrorCode code_for_errno(int err);
// A SQLite result code, primary or extended: SQLITE_FULL kDiskFull, SQLITE_CORRUPT/NOTADB
// kCorruptInput, SQLITE_BUSY/LOCKED kUnavailable, SQLITE_IOERR/CANTOPEN/READONLY/PERM kIoError,
// else kInternal.
ErrorCode code_for_sqlite(int result_code);

class Error {
  public:
    Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

    ErrorCode code() const { return code_; }

    const std::string & message() const { return message_; }

    // Prepends what the caller was doing: "ingest a.pdf" + "page 3: bad xref" -> "ingest a.pdf: page 3: bad xref".
    Error & with_context(std::string_view context) {
        message_ = std::string(context) + ": " + message_;
        return *this;
    }

    std::string to_string() const;

  private:
    ErrorCode code_;
    std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }

    explicit operator bool() const { return ok(); }

    T & value() & { return std::get<0>(checked()); }
    const T & value() const & { return std::get<0>(checked()); }
    // By value, so `for (auto & x : f().value())` does not iterate a destroyed temporary.
    T value() && { return std::get<0>(std::move(checked())); }

    T & operator*() & { return value(); }
    const T & operator*() const & { return value(); }
    T * operator->() { return &value(); }
    const T * operator->() const { return &value(); }

    template <typename U>
    T value_or(U && fallback) const & {
        return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

    const Error & error() const & { return std::get<1>(v_); }
    Error && error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> & checked() {
        if (!ok()) {
            std::fprintf(stderr, "strongbox: value() on a failed Result: %s\n", error().to_string().c_str());
            std::abort();
        }
        return v_;
    }

    const std::variant<T, Error> & checked() const { return const_cast<Result *>(this)->checked(); }

    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return !failed_; }

    explicit operator bool() const { return ok(); }

    const Error & error() const & { return error_; }
    Error && error() && { return std::move(error_); }

  private:
    Error error_{ErrorCode::kInternal, ""};
    bool failed_ = false;
};

using Status = Result<void>;

inline Status ok_status() {
    return {};
}

}  // namespace strongbox::core

#define SB_CONCAT_INNER(a, b) a##b
#define SB_CONCAT(a, b)       SB_CONCAT_INNER(a, b)

// Returns the error of a failed Result/Status from the enclosing function.
#define SB_TRY(expr)                                  \
    do {                                              \
        auto && sb_try_result_ = (expr);              \
        if (!sb_try_result_.ok()) {                   \
            return std::move(sb_try_result_).error(); \
        }                                             \
    } while (0)

// SB_ASSIGN_OR_RETURN(auto x, f()): declares x from f()'s value, or returns its error.
#define SB_ASSIGN_OR_RETURN(lhs, expr) SB_ASSIGN_OR_RETURN_IMPL(SB_CONCAT(sb_result_, __LINE__), lhs, expr)
#define SB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                           \
    if (!tmp.ok()) {                             \
        return std::move(tmp).error();           \
    }                                            \
    lhs = std::move(tmp).value()

// Invariants that user input can never break. Always on, in every build type.
#define SB_CHECK(cond)                                                                                 \
    do {                                                                                               \
        if (!(cond)) {                                                                                 \
            std::fprintf(stderr, "strongbox: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                              \
        }                                                                                              \
    } while (0)
