// The route table: the one place that says who may call what, and how a path finds its route.
#include "handler_impl.h"

namespace strongbox::webui {

unsigned role_bit(std::string_view role) {
    if (role == access::kRoleAdmin) {
        return kAdmin;
    }
    if (role == access::kRoleStaff) {
        return kStaff;
    }
    if (role == access::kRoleAuditor) {
        return kAuditor;
    }
    return 0;
}

bool match_pattern(std::string_view pattern, std::string_view path, std::vector<std::string> & params) {
    params.clear();
    size_t p = 0;  // where the current segment starts in pattern and in path
    size_t q = 0;
    while (true) {
        const size_t p_end = std::min(pattern.find('/', p), pattern.size());
        const size_t q_end = std::min(path.find('/', q), path.size());
        const std::string_view want = pattern.substr(p, p_end - p);
        const std::string_view have = path.substr(q, q_end - q);
        if (want.starts_with('{')) {
            if (have.empty()) {
                return false;
            }
            params.emplace_back(have);
        } else if (want != have) {
            return false;
        }
        const bool pattern_ends = p_end == pattern.size();
        const bool path_ends = q_end == path.size();
        if (pattern_ends || path_ends) {
            return pattern_ends && path_ends;
        }
        p = p_end + 1;
        q = q_end + 1;
    }
}

// The one place that says who may call what. Order matters where a literal segment and a {param}
// could both match ("/audit/export" before "/audit/{id}").
std::span<const Handler::Impl::Route> Handler::Impl::routes() {
    using I = Impl;
    static const Route kRoutes[] = {
        {"GET", "/api/v1/me", kPublic, &I::me, Body::kNone},
        {"POST", "/api/v1/setup", kPublic, &I::setup},
        {"POST", "/api/v1/login", kPublic, &I::login},
        {"POST", "/api/v1/logout", kAnyRole, &I::logout, Body::kNone},
        {"PUT", "/api/v1/me/language", kAnyRole, &I::set_language},
        {"POST", "/api/v1/ask", kStaff | kAdmin, &I::ask},
        {"POST", "/api/ask", kStaff | kAdmin, &I::ask},
        {"POST", "/api/v1/ask/stream", kStaff | kAdmin, &I::ask_stream},
        {"POST", "/api/v1/search", kStaff | kAdmin, &I::search},
        {"GET", "/api/v1/history", kStaff | kAdmin, &I::history, Body::kNone},
        {"GET", "/api/v1/source/{id}", kAnyRole, &I::source, Body::kNone},
        {"GET", "/api/source/{id}", kAnyRole, &I::source, Body::kNone},
        {"GET", "/api/v1/source/{id}/page.png", kAnyRole, &I::page_image, Body::kNone},
        {"GET", "/api/v1/collections", kAnyRole, &I::collections, Body::kNone},
        {"POST", "/api/v1/collections", kAdmin, &I::create_collection},
        {"PUT", "/api/v1/collections/{name}/grants", kAdmin, &I::set_grants},
        {"GET", "/api/v1/documents", kStaff | kAdmin | kAuditor, &I::documents, Body::kNone},
        {"POST", "/api/v1/documents", kStaff | kAdmin, &I::upload, Body::kUpload},
        {"GET", "/api/v1/documents/{id}/versions", kStaff | kAdmin | kAuditor, &I::versions, Body::kNone},
        {"DELETE", "/api/v1/documents/{id}", kStaff | kAdmin, &I::remove_document, Body::kNone},
        {"GET", "/api/v1/jobs/{id}", kStaff | kAdmin, &I::job, Body::kNone},
        {"GET", "/api/v1/quarantine", kAdmin, &I::quarantine, Body::kNone},
        {"GET", "/api/v1/audit", kAuditor | kAdmin, &I::audit_search, Body::kNone},
        {"GET", "/api/v1/audit/export", kAuditor | kAdmin, &I::audit_export, Body::kNone},
        {"GET", "/api/v1/audit/{id}", kAuditor | kAdmin, &I::audit_record, Body::kNone},
        {"GET", "/api/v1/users", kAdmin, &I::list_users, Body::kNone},
        {"POST", "/api/v1/users", kAdmin, &I::add_user},
        {"PATCH", "/api/v1/users/{name}", kAdmin, &I::change_user},
        {"DELETE", "/api/v1/users/{name}", kAdmin, &I::delete_user, Body::kNone},
        {"GET", "/api/v1/groups", kAdmin, &I::list_groups, Body::kNone},
        {"POST", "/api/v1/groups", kAdmin, &I::add_group},
        {"POST", "/api/v1/tokens", kAnyRole, &I::create_token},
        {"GET", "/api/v1/tokens", kAnyRole, &I::list_tokens, Body::kNone},
        {"DELETE", "/api/v1/tokens/{id}", kAnyRole, &I::revoke_token, Body::kNone},
        {"GET", "/api/v1/admin/status", kAdmin, &I::admin_status, Body::kNone},
        {"POST", "/api/v1/admin/selftest", kAdmin, &I::selftest, Body::kNone},
        {"GET", "/api/v1/settings", kAdmin, &I::get_settings, Body::kNone},
        {"PUT", "/api/v1/settings", kAdmin, &I::put_settings},
        {"POST", "/api/v1/admin/update", kAdmin, &I::install_update, Body::kUpdate},
    };
    return kRoutes;
}

size_t Handler::Impl::limit_for(Body body) const {
    switch (body) {
    case Body::kUpload:
        return options.max_upload_bytes;
    case Body::kUpdate:
        return options.max_update_bytes;
    default:
        return options.max_body_bytes;
    }
}

const Handler::Impl::Route * Handler::Impl::find_route(const HttpRequest & req, std::vector<std::string> & params,
                                                       std::string & allow) const {
    allow.clear();
    std::vector<std::string> scratch;
    for (const Route & r : routes()) {
        if (!match_pattern(r.pattern, req.path, scratch)) {
            continue;
        }
        if (r.method == req.method) {
            params = std::move(scratch);
            return &r;
        }
        // A literal route answering another method must not hide a {param} route of this one.
        if (allow.find(r.method) == std::string::npos) {
            allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        }
    }
    return nullptr;
}

}  // namespace strongbox::webui
