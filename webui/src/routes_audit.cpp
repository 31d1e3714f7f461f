// Routes of the audit trail: search, one record, export.
#include "handler_impl.h"

namespace strongbox::webui {

namespace {

core::Result<core::Json> audit_filters(std::string_view query) {
    core::Json f = core::Json::object();
    for (const char * key : {"since", "until", "user", "document", "text", "kind"}) {
        if (std::optional<std::string> v = query_param(query, key); v && !v->empty()) {
            f[key] = *v;
        }
    }
    if (std::optional<std::string> limit = query_param(query, "limit"); limit && !limit->empty()) {
        std::optional<int64_t> n = positive_id(*limit);
        if (!n || *n > 1000) {
            return core::Error(core::ErrorCode::kInvalidArgument, "limit must be an integer from 1 to 1000");
        }
        f["limit"] = *n;
    }
    return f;
}

}  // namespace

HttpResponse Handler::Impl::audit_search(Call & call) {
    core::Result<core::Json> filters = audit_filters(call.req.query);
    if (!filters.ok()) {
        return bad_request(call, filters.error().message());
    }
    return result_response(services.audit.audit_search(filters.value(), caller(call)), call.request_id);
}

HttpResponse Handler::Impl::audit_record(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "audit record id must be a positive integer");
    }
    return result_response(services.audit.audit_record(*id, caller(call)), call.request_id);
}

HttpResponse Handler::Impl::audit_export(Call & call) {
    const std::string format = query_param(call.req.query, "format").value_or("jsonl");
    if (format != "bundle" && format != "jsonl" && format != "csv") {
        return bad_request(call, "format must be bundle, jsonl or csv");
    }
    core::Result<core::Json> filters = audit_filters(call.req.query);
    if (!filters.ok()) {
        return bad_request(call, filters.error().message());
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<Download> out = services.audit.audit_export(format, filters.value(), caller(call));
    if (!out.ok()) {
        return error_response(out.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 200;
    res.body = std::move(out.value().bytes);
    res.set_header("Content-Type",
                   out.value().content_type.empty() ? "application/octet-stream" : out.value().content_type);
    res.set_header("Content-Disposition", "attachment; filename=\"" + safe_file_name(out.value().file_name) + "\"");
    return res;
}

// ---- users, groups, tokens -----------------------------------------------------------------------

}  // namespace strongbox::webui
