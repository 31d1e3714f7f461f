#include "strongbox/webui/service.h"

namespace strongbox::webui {

core::Status stream_whole_answer(QueryService & service, const AskRequest & request, const AskSink & sink) {
    core::Result<core::Answer> answer = service.ask(request);
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

}  // namespace strongbox::webui
