#include "strongbox/core/result.h"

#include <sqlite3.h>

#include <cerrno>

namespace strongbox::core {

std::string_view to_string(ErrorCode code) {
    switch (code) {
    case ErrorCode::kInvalidArgument:
        return "invalid_argument";
    case ErrorCode::kNotFound:
        return "not_found";
    case ErrorCode::kCorruptInput:
        return "corrupt_input";
    case ErrorCode::kUnsupported:
        return "unsupported";
    case ErrorCode::kIoError:
        return "io_error";
    case ErrorCode::kAlreadyExists:
        return "already_exists";
    case ErrorCode::kPermissionDenied:
        return "permission_denied";
    case ErrorCode::kResourceExhausted:
        return "resource_exhausted";
    case ErrorCode::kCancelled:
        return "cancelled";
    case ErrorCode::kDeadlineExceeded:
        return "deadline_exceeded";
    case ErrorCode::kUnavailable:
        return "unavailable";
    case ErrorCode::kInternal:
        return "internal";
    case ErrorCode::kReadOnly:
        return "read_only";
    case ErrorCode::kDiskFull:
        return "disk_full";
    }
    return "unknown";
}

ErrorCode code_for_errno(int err) {
    switch (err) {
    case ENOSPC:
    case EDQUOT:
        return ErrorCode::kDiskFull;
    case ENOENT:
        return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
        return ErrorCode::kPermissionDenied;
    default:
        return ErrorCode::kIoError;
    }
}

ErrorCode code_for_sqlite(int result_code) {
    switch (result_code & 0xFF) {
    case SQLITE_FULL:
        return ErrorCode::kDiskFull;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return ErrorCode::kCorruptInput;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ErrorCode::kUnavailable;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return ErrorCode::kIoError;
    default:
        return ErrorCode::kInternal;
    }
}

std::string Error::to_string() const {
    return std::string(core::to_string(code_)) + ": " + message_;
}

}  // namespace strongbox::core
