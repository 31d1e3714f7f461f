// Routes that ask and read: questions (whole and streamed), search, history, cited sources and pages.
#include "handler_impl.h"

namespace strongbox::webui {

core::Result<AskRequest> Handler::Impl::parse_ask(Call & call, int & status, std::string & code) {
    SB_ASSIGN_OR_RETURN(core::Json body, json_body(call, status, code));
    status = 400;
    code = "invalid_argument";
    const core::Json * question = body.find("question");
    if (question == nullptr || !question->is_string()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "\"question\" must be a string");
    }
    AskRequest ask;
    ask.question = core::collapse_whitespace(core::trim(question->as_string()));
    if (ask.question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "\"question\" is empty");
    }
    if (ask.question.size() > kMaxQuestionBytes) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "\"question\" is longer than " + std::to_string(kMaxQuestionBytes) + " bytes");
    }
    if (const core::Json * top_k = body.find("top_k"); top_k != nullptr && !top_k->is_null()) {
        if (!top_k->is_int() || top_k->as_int() < 1 || top_k->as_int() > kMaxTopK) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "\"top_k\" must be an integer from 1 to " + std::to_string(kMaxTopK));
        }
        ask.top_k = static_cast<int>(top_k->as_int());
    }
    SB_ASSIGN_OR_RETURN(ask.collections, string_list(body, "collections"));
    ask.caller = caller(call);
    ask.user = ask.caller.user;
    return ask;
}

HttpResponse Handler::Impl::ask(Call & call) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> ask_request = parse_ask(call, status, code);
    if (!ask_request.ok()) {
        return error_response(status, code, ask_request.error().message(), call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<core::Answer> answer = services.query.ask(ask_request.value());
    if (!answer.ok()) {
        return error_response(answer.error(), call.request_id);
    }
    return json_response(200, core::to_json(answer.value()));
}

HttpResponse Handler::Impl::ask_stream(Call & call) {
    int status = 0;
    std::string code;
    core::Result<AskRequest> parsed = parse_ask(call, status, code);
    if (!parsed.ok()) {
        return error_response(status, code, parsed.error().message(), call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.set_header("Content-Type", "text/event-stream; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
    // The permit is dropped when the stream ends, not when the response object goes away.
    res.stream = [this, ask_request = std::move(parsed).value(), permit,
                  request_id = call.request_id](const StreamWriter & write) mutable {
        std::shared_ptr<Gate::Permit> held = std::move(permit);
        core::Json started = core::Json::object();
        started["stage"] = "started";
        started["request_id"] = request_id;
        if (!write(sse_event("stage", started))) {
            return;
        }
        AskSink sink = [&write](const AskProgress & event) {
            core::Json data = core::Json::object();
            switch (event.kind) {
            case AskProgress::Kind::kStage:
                data["stage"] = event.text;
                return write(sse_event("stage", data));
            case AskProgress::Kind::kText:
                data["text"] = event.text;
                return write(sse_event("text", data));
            case AskProgress::Kind::kAnswer:
                return write(sse_event("answer", core::to_json(event.answer)));
            }
            return false;
        };
        core::Status done = core::ok_status();
        try {
            done = services.query.ask_stream(ask_request, sink);
        } catch (const std::exception & e) {
            done = core::Error(core::ErrorCode::kInternal, std::string("ask_stream threw: ") + e.what());
        }
        if (!done.ok() && done.error().code() != core::ErrorCode::kCancelled) {
            write(sse_event("error",
                            error_json(core::to_string(done.error().code()), done.error().message(), request_id)));
        }
    };
    return res;
}

HttpResponse Handler::Impl::search(Call & call) {
    SB_JSON_BODY(body);
    const std::string query = core::collapse_whitespace(core::trim(body.get_string("query")));
    if (query.empty() || query.size() > kMaxQuestionBytes) {
        return bad_request(call, "\"query\" must be a string of 1 to " + std::to_string(kMaxQuestionBytes) + " bytes");
    }
    int top_k = 10;
    if (const core::Json * k = body.find("top_k"); k != nullptr && !k->is_null()) {
        if (!k->is_int() || k->as_int() < 1 || k->as_int() > kMaxTopK) {
            return bad_request(call, "\"top_k\" must be an integer from 1 to " + std::to_string(kMaxTopK));
        }
        top_k = static_cast<int>(k->as_int());
    }
    core::Result<std::vector<std::string>> collections = string_list(body, "collections");
    if (!collections.ok()) {
        return bad_request(call, collections.error().message());
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    return result_response(services.query.search(query, top_k, collections.value(), caller(call)), call.request_id);
}

HttpResponse Handler::Impl::history(Call & call) {
    return result_response(services.query.history(caller(call)), call.request_id);
}

HttpResponse Handler::Impl::source(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "chunk id must be a positive integer, got \"" + call.params[0].substr(0, 64) + "\"");
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<SourceView> view = services.query.source(*id, caller(call));
    return view.ok() ? json_response(200, to_json(view.value())) : error_response(view.error(), call.request_id);
}

HttpResponse Handler::Impl::page_image(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "chunk id must be a positive integer, got \"" + call.params[0].substr(0, 64) + "\"");
    }
    int dpi = 100;
    if (std::optional<std::string> d = query_param(call.req.query, "dpi")) {
        std::optional<int64_t> v = positive_id(*d);
        if (!v || *v < 36 || *v > 300) {
            return bad_request(call, "dpi must be an integer from 36 to 300");
        }
        dpi = static_cast<int>(*v);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<std::string> png = services.query.page_image(*id, dpi, caller(call));
    if (!png.ok()) {
        return error_response(png.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.body = std::move(png).value();
    res.set_header("Content-Type", "image/png");
    res.set_header("Cache-Control", "private, max-age=300");
    return res;
}

// ---- collections and documents -------------------------------------------------------------------

}  // namespace strongbox::webui
