#include "strongbox/core/result.h"

namespace strongbox::core {

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument: return "invalid_argument";
        case ErrorCode::kNotFound: return "not_found";
        case ErrorCode::kCorruptInput: return "corrupt_input";
        case ErrorCode::kUnsupported: return "unsupported";
        case ErrorCode::kIoError: return "io_error";
        case ErrorCode::kAlreadyExists: return "already_exists";
        case ErrorCode::kPermissionDenied: return "permission_denied";
        case ErrorCode::kResourceExhausted: return "resource_exhausted";
        case ErrorCode::kCancelled: return "cancelled";
        case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
        case ErrorCode::kUnavailable: return "unavailable";
        case ErrorCode::kInternal: return "internal";
        case ErrorCode::kReadOnly: return "read_only";
    }
    return "unknown";
}

std::string Error::to_string() const {
    return std::string(core::to_string(code_)) + ": " + message_;
}

}  // namespace strongbox::core
