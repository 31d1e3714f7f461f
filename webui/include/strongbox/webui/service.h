// The services the web UI needs. webui declares them; the appliance implements them and hands
// an instance to the server, so webui never depends on ingest, retrieval or inference.
//
// Thread-safety: the server calls these from its worker threads concurrently; implementations
// must be thread-safe. Errors come back as Result and the server maps their codes to HTTP
// statuses (kInvalidArgument -> 400, kNotFound -> 404, kPermissionDenied -> 403,
// kResourceExhausted -> 429, kUnavailable -> 503, everything else -> 500).
#pragma once

#include "strongbox/core/answer.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strongbox::webui {

struct AskRequest {
    std::string question;
    std::string user;  // who asked, for the audit trail ("anonymous" until accounts exist)
    int top_k = 5;     // passages to consider
};

// A cited passage shown in its surrounding source: the chunks before and after it in the same
// document (same page for PDFs), so the reader sees the passage where it stands.
struct SourceView {
    int64_t chunk_id = 0;
    core::Provenance provenance;
    std::string location;           // "report.pdf p. 3"
    std::vector<std::string> before;
    std::string passage;
    std::vector<std::string> after;
};

class AppService {
  public:
    virtual ~AppService() = default;

    virtual core::Result<core::Answer> ask(const AskRequest & request) = 0;
    virtual core::Result<SourceView> source(int64_t chunk_id) = 0;

    // Liveness details for /healthz: e.g. {"status":"ok","documents":3,"chunks":120}.
    virtual core::Json health() = 0;
};

}  // namespace strongbox::webui
