// Administration routes: users, groups, API tokens, status, self-test, settings, image updates.
#include "handler_impl.h"

namespace strongbox::webui {

HttpResponse Handler::Impl::list_users(Call & call) {
    core::Result<std::vector<access::User>> users = accounts.users();
    if (!users.ok()) {
        return error_response(users.error(), call.request_id);
    }
    core::Json list = core::Json::array();
    for (const access::User & u : users.value()) {
        list.push_back(user_json(u));
    }
    core::Json out = core::Json::object();
    out["users"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::add_user(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    access::User u;
    u.name = body.get_string("name");
    u.role = body.get_string("role");
    u.language = body.get_string("language", "en");
    core::Result<std::vector<std::string>> groups = string_list(body, "groups");
    if (!groups.ok()) {
        return bad_request(call, groups.error().message());
    }
    u.groups = groups.value();
    if (core::Status st = accounts.add_user(u, body.get_string("password")); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create";
    event["user"] = u.name;
    event["role"] = u.role;
    core::Json groups_json = core::Json::array();
    for (const std::string & g : u.groups) {
        groups_json.push_back(g);
    }
    event["groups"] = std::move(groups_json);
    record("user_change", call.principal->user.name, event);
    core::Result<access::User> made = accounts.user(u.name);
    if (!made.ok()) {
        return error_response(made.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["user"] = user_json(made.value());
    return json_response(201, out);
}

HttpResponse Handler::Impl::change_user(Call & call) {
    SB_JSON_BODY(body);
    const std::string & name = call.params[0];
    access::UserChange change;
    core::Json event = core::Json::object();
    event["action"] = "update";
    event["user"] = name;
    if (const core::Json * role = body.find("role"); role != nullptr && !role->is_null()) {
        change.role = role->is_string() ? role->as_string() : std::string();
        event["role"] = *role;
    }
    if (const core::Json * groups = body.find("groups"); groups != nullptr && !groups->is_null()) {
        core::Result<std::vector<std::string>> list = string_list(body, "groups");
        if (!list.ok()) {
            return bad_request(call, list.error().message());
        }
        change.groups = list.value();
        event["groups"] = *groups;
    }
    if (const core::Json * password = body.find("password"); password != nullptr && !password->is_null()) {
        change.password = password->is_string() ? password->as_string() : std::string();
        event["password_changed"] = true;  // never the password itself
    }
    if (const core::Json * disabled = body.find("disabled"); disabled != nullptr && !disabled->is_null()) {
        if (!disabled->is_bool()) {
            return bad_request(call, "\"disabled\" must be true or false");
        }
        change.disabled = disabled->as_bool();
        event["disabled"] = disabled->as_bool();
    }
    if (const core::Json * language = body.find("language"); language != nullptr && !language->is_null()) {
        change.language = language->is_string() ? language->as_string() : std::string();
    }
    // Disabling alone is a revocation (the user's sessions and tokens stop at once), and like
    // logout and token revocation it must not wait for disk space: a one-row update. Anything else
    // is a change and is refused in read-only mode.
    const bool only_disabling =
        change.disabled.value_or(false) && !change.role && !change.groups && !change.password && !change.language;
    if (!only_disabling) {
        if (auto refused = read_only_refusal(call)) {
            return *refused;
        }
    }
    if (core::Status st = accounts.update_user(name, change); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    record("user_change", call.principal->user.name, event);
    core::Result<access::User> u = accounts.user(name);
    if (!u.ok()) {
        return error_response(u.error(), call.request_id);
    }
    core::Json out = core::Json::object();
    out["user"] = user_json(u.value());
    return json_response(200, out);
}

HttpResponse Handler::Impl::delete_user(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;  // disabling revokes as much and is still allowed
    }
    const std::string & name = call.params[0];
    if (core::Status st = accounts.delete_user(name); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "delete";
    event["user"] = name;
    record("user_change", call.principal->user.name, event);
    HttpResponse res;
    res.status = 204;
    return res;
}

HttpResponse Handler::Impl::list_groups(Call & call) {
    core::Result<std::vector<std::string>> groups = accounts.groups();
    core::Result<std::vector<access::User>> users = accounts.users();
    core::Result<std::vector<access::Grant>> grants = accounts.grants();
    for (const core::Error * e : {groups.ok() ? nullptr : &groups.error(), users.ok() ? nullptr : &users.error(),
                                  grants.ok() ? nullptr : &grants.error()}) {
        if (e != nullptr) {
            return error_response(*e, call.request_id);
        }
    }
    core::Json list = core::Json::array();
    for (const std::string & g : groups.value()) {
        core::Json members = core::Json::array();
        for (const access::User & u : users.value()) {
            if (std::find(u.groups.begin(), u.groups.end(), g) != u.groups.end()) {
                members.push_back(u.name);
            }
        }
        core::Json gs = core::Json::array();
        for (const access::Grant & gr : grants.value()) {
            if (gr.group == g) {
                core::Json gj = core::Json::object();
                gj["collection"] = gr.collection;
                gj["access"] = gr.access;
                gs.push_back(std::move(gj));
            }
        }
        core::Json item = core::Json::object();
        item["name"] = g;
        item["members"] = std::move(members);
        item["grants"] = std::move(gs);
        list.push_back(std::move(item));
    }
    core::Json out = core::Json::object();
    out["groups"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::add_group(Call & call) {
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    const std::string name = body.get_string("name");
    if (core::Status st = accounts.add_group(name); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create_group";
    event["group"] = name;
    record("user_change", call.principal->user.name, event);
    core::Json out = core::Json::object();
    out["group"] = core::Json::object();
    out["group"]["name"] = name;
    return json_response(201, out);
}

HttpResponse Handler::Impl::create_token(Call & call) {
    // A leaked token must not be able to mint more of itself: new tokens need a password login.
    if (call.principal->is_token) {
        return error_response(403, "forbidden", "API tokens are created from a logged-in session, not with a token",
                              call.request_id);
    }
    if (auto refused = read_only_refusal(call)) {
        return *refused;
    }
    SB_JSON_BODY(body);
    core::Result<access::ApiToken> t = accounts.create_token(call.principal->user.name, body.get_string("name"));
    if (!t.ok()) {
        return error_response(t.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "create_token";
    event["token_id"] = t.value().id;
    event["name"] = t.value().name;
    record("user_change", call.principal->user.name, event);
    core::Json out = token_json(t.value());
    out["token"] = t.value().token;
    return json_response(201, out);
}

HttpResponse Handler::Impl::list_tokens(Call & call) {
    const bool admin = call.principal->user.role == access::kRoleAdmin;
    core::Result<std::vector<access::ApiToken>> tokens = accounts.tokens(admin ? "" : call.principal->user.name);
    if (!tokens.ok()) {
        return error_response(tokens.error(), call.request_id);
    }
    core::Json list = core::Json::array();
    for (const access::ApiToken & t : tokens.value()) {
        list.push_back(token_json(t));
    }
    core::Json out = core::Json::object();
    out["tokens"] = std::move(list);
    return json_response(200, out);
}

HttpResponse Handler::Impl::revoke_token(Call & call) {
    std::optional<int64_t> id = positive_id(call.params[0]);
    if (!id) {
        return bad_request(call, "token id must be a positive integer");
    }
    // Revocation is never refused in read-only mode (a one-row delete): a leaked token must be
    // stoppable whatever the disk holds.
    core::Result<access::ApiToken> t = accounts.token_by_id(*id);
    // Someone else's token is answered as if it did not exist; admins may revoke any.
    if (!t.ok() || (t.value().user != call.principal->user.name && call.principal->user.role != access::kRoleAdmin)) {
        return error_response(404, "not_found", "no token with id " + std::to_string(*id), call.request_id);
    }
    if (core::Status st = accounts.revoke_token(*id); !st.ok()) {
        return error_response(st.error(), call.request_id);
    }
    core::Json event = core::Json::object();
    event["action"] = "revoke_token";
    event["token_id"] = *id;
    event["owner"] = t.value().user;
    record("user_change", call.principal->user.name, event);
    HttpResponse res;
    res.status = 204;
    return res;
}

// ---- administration ------------------------------------------------------------------------------

HttpResponse Handler::Impl::admin_status(Call & call) {
    return result_response(services.admin.admin_status(caller(call)), call.request_id);
}

HttpResponse Handler::Impl::selftest(Call & call) {
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    return result_response(services.admin.run_selftest(caller(call)), call.request_id);
}

HttpResponse Handler::Impl::get_settings(Call & call) {
    return result_response(services.admin.settings(caller(call)), call.request_id);
}

HttpResponse Handler::Impl::put_settings(Call & call) {
    SB_JSON_BODY(body);
    core::Result<SettingsUpdate> out = services.admin.update_settings(body, caller(call));
    if (!out.ok() || out->refused.empty()) {
        return result_response(out, call.request_id);
    }
    core::Json fields = core::Json::object();
    for (const auto & [name, why] : out->refused) {
        fields[name] = why;
    }
    core::Json err = error_json("invalid_settings", "some settings are not valid", call.request_id);
    err["error"]["fields"] = std::move(fields);
    return json_response(400, err);
}

HttpResponse Handler::Impl::install_update(Call & call) {
    if (call.req.body.empty()) {
        return bad_request(call, "the request body (the image bundle) is empty");
    }
    std::shared_ptr<Gate::Permit> permit = admit();
    if (!permit) {
        return overloaded(call.request_id);
    }
    return result_response(services.admin.install_update(call.req.body, caller(call)), call.request_id);
}

// ---- plumbing ------------------------------------------------------------------------------------

}  // namespace strongbox::webui
