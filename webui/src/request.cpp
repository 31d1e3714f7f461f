// Reading requests: ids, headers, cookies, query strings, client addresses, typed body fields.
#include "handler_impl.h"

namespace strongbox::webui {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

std::string host_of(std::string_view header) {
    std::string_view host = header;
    if (host.starts_with('[')) {
        const size_t close = host.find(']');
        host = host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        host = host.substr(0, host.find(':'));
    }
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    for (std::string_view pair : core::split(query, '&')) {
        const size_t eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        }
    }
    return std::nullopt;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
    for (std::string_view part : core::split(header, ';')) {
        part = core::trim(part);
        if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
            return part.substr(name.size() + 1);
        }
    }
    return {};
}

std::string client_ip(std::string_view remote) {
    if (remote.starts_with('[')) {
        const size_t close = remote.find(']');
        return std::string(remote.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    }
    if (std::count(remote.begin(), remote.end(), ':') == 1) {
        return std::string(remote.substr(0, remote.find(':')));
    }
    return std::string(remote);
}

bool equal_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<int64_t> positive_id(std::string_view text) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
        return std::nullopt;
    }
    return id;
}

std::string safe_file_name(std::string_view name) {
    std::string out;
    for (char c : name.substr(0, 128)) {
        out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ? c : '_';
    }
    return out.empty() ? "download" : out;
}

// ---- the route table -----------------------------------------------------------------------------

core::Result<std::vector<std::string>> string_list(const core::Json & body, std::string_view key) {
    std::vector<std::string> out;
    const core::Json * list = body.find(key);
    if (list == nullptr || list->is_null()) {
        return out;
    }
    if (!list->is_array()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "\"" + std::string(key) + "\" must be an array of strings");
    }
    for (const core::Json & item : list->as_array()) {
        if (!item.is_string()) {
            return core::Error(core::ErrorCode::kInvalidArgument,
                               "\"" + std::string(key) + "\" must be an array of strings");
        }
        out.push_back(item.as_string());
    }
    return out;
}

// ---- session routes ------------------------------------------------------------------------------

bool state_changing(std::string_view method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace strongbox::webui
