// Plain HTTP exchange types: what the socket layer hands to the request handler and what the
// handler hands back. They carry no socket, so the whole API can be exercised in tests by building
// an HttpRequest and inspecting the HttpResponse.
//
// Thread-safety: plain data; a response's `stream` callback is run once, by one thread.
// Error contract: none; these are values. Header names compare case-insensitively.
//
//   HttpRequest req;
//   req.method = "GET";
//   req.path = "/healthz";
//   HttpResponse res = handler.handle(req);
//   assert(res.status == 200 && res.header("Content-Type") == "application/json");
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strongbox::webui {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup; empty when absent.
std::string_view find_header(const HttpHeaders & headers, std::string_view name);

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;    // decoded path without the query, e.g. "/api/v1/source/42"
    std::string query;   // raw query string without '?', may be empty
    HttpHeaders headers;
    std::string body;             // at most max_body_bytes + 1 bytes are read from the wire
    int64_t content_length = -1;  // as declared by the client, -1 when not declared
    std::string remote_address;   // "127.0.0.1:53122", for the access log

    std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

// Writes one piece of a streamed body; returns false once the client has gone away.
using StreamWriter = std::function<bool(std::string_view bytes)>;

struct HttpResponse {
    int status = 200;
    HttpHeaders headers;
    std::string body;
    // When set, the body is produced incrementally by calling this with a writer (server-sent
    // events) and sent with chunked transfer encoding; `body` is then ignored.
    std::function<void(const StreamWriter & write)> stream;
    bool close_connection = false;  // the request body was left unread, so the connection must close

    std::string_view header(std::string_view name) const { return find_header(headers, name); }
    // Replaces an existing header of that name or appends it.
    void set_header(std::string_view name, std::string value);
};

}  // namespace strongbox::webui
