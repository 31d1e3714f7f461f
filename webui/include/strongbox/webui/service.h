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
#include <functional>
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

// One step of a streamed answer. Events arrive in order: any number of kStage and kText events,
// then exactly one kAnswer event carrying the complete answer (sentences, citations, refusal).
struct AskProgress {
    enum class Kind { kStage, kText, kAnswer };
    Kind kind = Kind::kAnswer;
    std::string text;     // kStage: what is happening ("retrieving", "generating"); kText: next answer text
    core::Answer answer;  // kAnswer only
};

// Receives streamed events; returns false when the client has gone away and work should stop.
using AskSink = std::function<bool(const AskProgress & event)>;

class AppService {
  public:
    virtual ~AppService() = default;

    virtual core::Result<core::Answer> ask(const AskRequest & request) = 0;
    virtual core::Result<SourceView> source(int64_t chunk_id) = 0;

    // Liveness details for /healthz: e.g. {"status":"ok","documents":3,"chunks":120}.
    virtual core::Json health() = 0;

    // Streams an answer to `sink` (server-sent events in the web UI). Implementations that generate
    // text incrementally override this; the default computes the whole answer with ask() and
    // emits it as a single kAnswer event. Returns kCancelled when the sink refused an event.
    virtual core::Status ask_stream(const AskRequest & request, const AskSink & sink) {
        core::Result<core::Answer> answer = ask(request);
        if (!answer.ok()) {
            return std::move(answer).error();
        }
        AskProgress event;
        event.kind = AskProgress::Kind::kAnswer;
        event.answer = std::move(answer).value();
        if (!sink(event)) {
            return core::Error(core::ErrorCode::kCancelled, "ask_stream: client went away");
        }
        return core::ok_status();
    }

    // Readiness details for /readyz: {"ready":true|false, ...checks}. "ready":false (or a
    // kUnavailable error) makes /readyz answer 503 so a load balancer holds traffic back, e.g.
    // while the index or the model is still loading. The default reports kUnsupported, which the
    // server treats as ready whenever it can serve at all.
    virtual core::Result<core::Json> readiness() {
        return core::Error(core::ErrorCode::kUnsupported, "readiness: not implemented by this service");
    }
};

}  // namespace strongbox::webui
