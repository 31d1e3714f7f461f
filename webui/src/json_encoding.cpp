// JSON encoding of the API: error bodies, source views, users and tokens, server-sent events.
#include "handler_impl.h"

namespace strongbox::webui {

int status_for(core::ErrorCode code) {
    switch (code) {
    case core::ErrorCode::kInvalidArgument:
        return 400;
    case core::ErrorCode::kNotFound:
        return 404;
    case core::ErrorCode::kPermissionDenied:
        return 403;
    case core::ErrorCode::kAlreadyExists:
        return 409;
    case core::ErrorCode::kResourceExhausted:
        return 429;
    case core::ErrorCode::kUnsupported:
        return 501;
    case core::ErrorCode::kUnavailable:
        return 503;
    default:
        return 500;
    }
}

core::Json error_json(std::string_view code, std::string_view message, std::string_view request_id) {
    core::Json inner = core::Json::object();
    inner["code"] = code;
    inner["message"] = message;
    inner["request_id"] = request_id;
    core::Json outer = core::Json::object();
    outer["error"] = std::move(inner);
    return outer;
}

HttpResponse json_response(int status, const core::Json & body) {
    HttpResponse res;
    res.status = status;
    res.body = body.dump();
    res.set_header("Content-Type", kJsonType);
    return res;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message, std::string_view request_id) {
    return json_response(status, error_json(code, message, request_id));
}

HttpResponse error_response(const core::Error & error, std::string_view request_id) {
    if (error.code() == core::ErrorCode::kReadOnly || error.code() == core::ErrorCode::kDiskFull) {
        return error_response(507, "insufficient_storage", error.message(), request_id);
    }
    return error_response(status_for(error.code()), core::to_string(error.code()), error.message(), request_id);
}

core::Json to_json(const SourceView & view) {
    core::Json j = core::Json::object();
    j["chunk_id"] = view.chunk_id;
    j["location"] = view.location.empty() ? core::describe_location(view.provenance) : view.location;
    j["provenance"] = core::to_json(view.provenance);
    core::Json before = core::Json::array();
    for (const std::string & s : view.before) {
        before.push_back(s);
    }
    core::Json after = core::Json::array();
    for (const std::string & s : view.after) {
        after.push_back(s);
    }
    j["before"] = std::move(before);
    j["passage"] = view.passage;
    j["after"] = std::move(after);
    j["kind"] = view.kind.empty() ? "text" : view.kind;
    if (view.kind == "pdf") {
        j["page_width"] = view.page_width;
        j["page_height"] = view.page_height;
    }
    core::Json boxes = core::Json::array();
    for (const core::Box & b : view.boxes) {
        core::Json box = core::Json::object();
        box["page"] = static_cast<int64_t>(view.provenance.page);
        box["x0"] = b.x0;
        box["y0"] = b.y0;
        box["x1"] = b.x1;
        box["y1"] = b.y1;
        boxes.push_back(std::move(box));
    }
    j["boxes"] = std::move(boxes);
    if (!view.log_template.empty()) {
        j["template"] = view.log_template;
    }
    if (!view.collection.empty()) {
        j["collection"] = view.collection;
    }
    if (view.document_id != 0) {
        j["document_id"] = view.document_id;
    }
    return j;
}

std::string sse_event(std::string_view name, const core::Json & data) {
    // dump() escapes newlines inside strings, so the payload is always one data: line.
    return "event: " + std::string(name) + "\ndata: " + data.dump() + "\n\n";
}

core::Json user_json(const access::User & u) {
    core::Json j = core::Json::object();
    j["name"] = u.name;
    j["role"] = u.role;
    core::Json groups = core::Json::array();
    for (const std::string & g : u.groups) {
        groups.push_back(g);
    }
    j["groups"] = std::move(groups);
    j["language"] = u.language;
    j["disabled"] = u.disabled;
    j["created_at"] = core::format_iso8601_utc(u.created_at * 1000000);
    return j;
}

core::Json token_json(const access::ApiToken & t) {
    core::Json j = core::Json::object();
    j["id"] = t.id;
    j["name"] = t.name;
    j["user"] = t.user;
    j["created_at"] = core::format_iso8601_utc(t.created_at * 1000000);
    j["last_used_at"] =
        t.last_used_at == 0 ? core::Json() : core::Json(core::format_iso8601_utc(t.last_used_at * 1000000));
    return j;
}

}  // namespace strongbox::webui
