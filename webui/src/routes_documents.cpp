// Routes for collections, their grants, documents, uploads and their jobs, and quarantine.
#include "handler_impl.h"

namespace strongbox::webui {

HttpResponse Handler::Impl::collections(Call & call) {
    core::Result<std::vector<CollectionEntry>> out = services.documents.collections(caller(call));
    if (!out.ok()) {
        return error_response(out.error(), call.request_id);
    }
    core::Json body = to_json(out.value());
    if (call.principal->user.role == access::kRoleAdmin) {
        // Admins manage grants on the same page: attach them.
        core::Result<std::vector<access::Grant>> grants = accounts.grants();
        core::Json * list = body.is_object() ? &body["collections"] : nullptr;
        if (grants.ok() && list != nullptr && list->is_array()) {
            for (core::Json & col : list->as_array()) {
                core::Json gs = core::Json::array();
                for (const access::Grant & g : grants.value()) {
                    if (g.collection == col.get_string("name")) {
                        core::Json gj = core::Json::object();
                        gj["group"] = g.group;
                        gj["access"] = g.access;
                        gs.push_back(std::move(gj));
                    }
                }
                col["grants"] = std::move(gs);
            }
        }
    }
    return json_response(200, body);
}

HttpResponse Handler::Impl::create_collection(Call & call) {
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    if (core::Status st = services.documents.create_collection(name, caller(call)); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    // The service records the creation on the audit trail (as the command line does); recording it
    // here as well would put every web-created collection on the trail twice.
    core::Json out = core::Json::object();
    out["collection"] = core::Json::object();
    out["collection"]["name"] = name;
    return json_response(201, out);
}

HttpResponse Handler::Impl::set_grants(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    const std::string & collection = call.params[0];
    const core::Json * list = body.find("grants");
    if (list == nullptr || !list->is_array()) {
        return bad_request(call, "\"grants\" must be an array of {\"group\",\"access\"}");
    }
    std::vector<access::Grant> grants;
    for (const core::Json & g : list->as_array()) {
        if (!g.is_object()) {
            return bad_request(call, "\"grants\" must be an array of {\"group\",\"access\"}");
        }
        grants.push_back({g.get_string("group"), collection, g.get_string("access")});
    }
    const Caller & admin = caller(call);
    if (std::find(admin.readable.begin(), admin.readable.end(), collection) == admin.readable.end()) {
        return error_response(404, "not_found", "no collection named \"" + collection.substr(0, 64) + "\"",
                              call.request_id);
    }
    if (core::Status st = accounts.replace_grants(collection, grants); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "set_grants";
    event["collection"] = collection;
    event["grants"] = *list;
    record("grant_change", call.principal->user.name, event);
    core::Json out = core::Json::object();
    out["collection"] = collection;
    out["grants"] = *list;
    return json_response(200, out);
}

HttpResponse Handler::Impl::documents(Call & call) {
    std::optional<std::string> collection = query_param(call.req.query, "collection");
    if (!collection || collection->empty()) {
        return bad_request(call, "query parameter \"collection\" is required");
    }
    // A listing reads every current document of the collection (thousands of rows with their
    // warnings), so it takes a slot like a search: a burst of listings gets fast 503s rather than
    // piling up connections in the store.
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<std::vector<DocumentEntry>> out = services.documents.documents(*collection, caller(call));
    return out.ok() ? json_response(200, to_json(out.value(), "documents"))
                    : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::upload(Call & call) {
    std::optional<std::string> collection = query_param(call.req.query, "collection");
    std::optional<std::string> name = query_param(call.req.query, "name");
    if (!collection || collection->empty() || !name || name->empty()) {
        return bad_request(call, "query parameters \"collection\" and \"name\" are required");
    }
    if (call.req.body.empty()) {
        return bad_request(call, "the request body (the file's bytes) is empty");
    }
    const Caller & c = caller(call);
    if (std::find(c.writable.begin(), c.writable.end(), *collection) == c.writable.end()) {
        // Readable but not writable: say so; not even readable: as if it did not exist.
        const bool readable = std::find(c.readable.begin(), c.readable.end(), *collection) != c.readable.end();
        return readable ? error_response(403, "forbidden", "you may not add documents to \"" + *collection + "\"",
                                         call.request_id)
                        : error_response(404, "not_found", "no collection named \"" + collection->substr(0, 64) + "\"",
                                         call.request_id);
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    core::Result<std::string> job = services.documents.start_upload(*collection, *name, call.req.body, c);
    if (!job.ok()) {
        return error_response(job.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["job_id"] = job.value();
    return json_response(202, out);
}

HttpResponse Handler::Impl::job(Call & call) {
    return result_response(services.documents.job(call.params[0], caller(call)), call.request_id);
}

HttpResponse Handler::Impl::versions(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "document id must be a positive integer");
    }
    core::Result<std::vector<DocumentEntry>> out = services.documents.document_versions(*id, caller(call));
    return out.ok() ? json_response(200, to_json(out.value(), "versions"))
                    : error_response(out.error(), call.request_id);
}

HttpResponse Handler::Impl::remove_document(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "document id must be a positive integer");
    }
    if (core::Status st = services.documents.remove_document(*id, caller(call)); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    HttpResponse res;
    res.status = 204;
    return res;
}

HttpResponse Handler::Impl::quarantine(Call & call) {
    return result_response(services.documents.quarantine(caller(call)), call.request_id);
}

// ---- audit ---------------------------------------------------------------------------------------

}  // namespace strongbox::webui
