// Runs the HTTP exchanges written as data in tests/webui/exchanges/*.test against the handler.
//
// File format: '#' comment lines (a "# max_body_bytes: N" header sets the body limit), then
// records separated by blank lines:
//
//   request POST /api/v1/ask        method and path
//   Content-Type: application/json  request headers, zero or more
//   body                            optional: the lines up to "----" are the body
//   {"question": "..."}
//   ----
//   status 200                      expectations, one a line, up to a blank line:
//   header Name: value                exact header value
//   header-present Name               header exists
//   json a.b.0.c <json>               JSON body member equals the value
//   json-size a.b N                   array or object member has N elements
//   contains text                     body contains the text
#include "test_support.h"

#include "strongbox/webui/handler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace sb = strongbox;
using sb::core::Json;
using sb::webui::Handler;
using sb::webui::HandlerOptions;
using sb::webui::HttpRequest;
using sb::webui::HttpResponse;
using namespace sb::webui::testing;

namespace {

struct Expectation {
    int line = 0;
    std::string kind;
    std::string arg;
};

struct Exchange {
    int line = 0;
    HttpRequest request;
    std::vector<Expectation> expectations;
};

struct ExchangeFile {
    size_t max_body_bytes = 64 * 1024;
    std::vector<Exchange> exchanges;
    std::vector<std::string> errors;  // syntax errors in the file itself
};

ExchangeFile parse_exchanges(std::string_view text) {
    enum class State { kTop, kHeaders, kBody, kExpect };
    ExchangeFile file;
    State state = State::kTop;
    bool has_body = false;
    int line_no = 0;
    for (std::string_view line : sb::core::split(text, '\n')) {
        ++line_no;
        const std::string where = "line " + std::to_string(line_no);
        switch (state) {
        case State::kExpect:
            if (sb::core::trim(line).empty()) {
                state = State::kTop;
                continue;
            }
            {
                const size_t space = line.find(' ');
                Expectation e;
                e.line = line_no;
                e.kind = std::string(line.substr(0, space));
                e.arg = space == std::string_view::npos ? "" : std::string(line.substr(space + 1));
                file.exchanges.back().expectations.push_back(std::move(e));
            }
            continue;
        case State::kBody:
            if (line == "----") {
                state = State::kExpect;
                continue;
            }
            {
                std::string & body = file.exchanges.back().request.body;
                body += has_body ? "\n" : "";
                body += line;
                has_body = true;
            }
            continue;
        case State::kHeaders:
            if (line == "----") {
                state = State::kExpect;
            } else if (line == "body") {
                state = State::kBody;
                has_body = false;
            } else if (size_t colon = line.find(": "); colon != std::string_view::npos) {
                file.exchanges.back().request.headers.emplace_back(std::string(line.substr(0, colon)),
                                                                   std::string(line.substr(colon + 2)));
            } else {
                file.errors.push_back(where + ": expected a header, \"body\" or \"----\"");
            }
            continue;
        case State::kTop:
            if (line.starts_with("# max_body_bytes: ")) {
                file.max_body_bytes = std::stoul(std::string(line.substr(18)));
                continue;
            }
            if (line.starts_with("#") || sb::core::trim(line).empty()) {
                continue;
            }
            if (!line.starts_with("request ")) {
                file.errors.push_back(where + ": expected \"request METHOD PATH\"");
                continue;
            }
            {
                std::vector<std::string_view> parts = sb::core::split(line, ' ');
                if (parts.size() != 3) {
                    file.errors.push_back(where + ": expected \"request METHOD PATH\"");
                    continue;
                }
                Exchange x;
                x.line = line_no;
                x.request.method = std::string(parts[1]);
                x.request.path = std::string(parts[2]);
                file.exchanges.push_back(std::move(x));
                state = State::kHeaders;
            }
            continue;
        }
    }
    if (state == State::kHeaders || state == State::kBody) {
        file.errors.push_back("end of file inside a request");
    }
    for (Exchange & x : file.exchanges) {
        if (!x.request.body.empty()) {
            x.request.content_length = static_cast<int64_t>(x.request.body.size());
        }
    }
    return file;
}

const Json * member_at(const Json & root, std::string_view path) {
    const Json * at = &root;
    for (std::string_view key : sb::core::split(path, '.')) {
        if (at->is_array()) {
            size_t index = 0;
            auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
            if (ec != std::errc() || end != key.data() + key.size() || index >= at->size()) {
                return nullptr;
            }
            at = &at->as_array()[index];
        } else if (at->is_object()) {
            at = at->find(key);
            if (at == nullptr) {
                return nullptr;
            }
        } else {
            return nullptr;
        }
    }
    return at;
}

// Checks one expectation; returns what went wrong, or "" when it holds.
std::string check(const Expectation & e, const HttpResponse & res) {
    auto split_arg = [&](char sep) -> std::pair<std::string, std::string> {
        const size_t at = e.arg.find(sep);
        if (at == std::string::npos) {
            return {e.arg, ""};
        }
        return {e.arg.substr(0, at), e.arg.substr(at + 1)};
    };
    if (e.kind == "status") {
        return std::to_string(res.status) == e.arg ? "" : "status is " + std::to_string(res.status);
    }
    if (e.kind == "header") {
        auto [name, value] = split_arg(':');
        value = std::string(sb::core::trim(value));
        return res.header(name) == value ? "" : name + " is \"" + std::string(res.header(name)) + "\"";
    }
    if (e.kind == "header-present") {
        return res.header(e.arg).empty() ? e.arg + " is missing" : "";
    }
    if (e.kind == "contains") {
        return res.body.find(e.arg) != std::string::npos ? "" : "body does not contain it";
    }
    if (e.kind == "json" || e.kind == "json-size") {
        sb::core::Result<Json> body = Json::parse(res.body);
        if (!body.ok()) {
            return "body is not JSON";
        }
        auto [path, value_text] = split_arg(' ');
        const Json * member = member_at(body.value(), path);
        if (member == nullptr) {
            return "body has no " + path;
        }
        if (e.kind == "json-size") {
            const bool sized = member->is_array() || member->is_object();
            return sized && std::to_string(member->size()) == value_text ? "" : path + " is " + member->dump();
        }
        sb::core::Result<Json> want = Json::parse(value_text);
        if (!want.ok()) {
            return "expected value is not JSON";
        }
        return *member == want.value() ? "" : path + " is " + member->dump();
    }
    return "unknown expectation \"" + e.kind + "\"";
}

// Every failure as "file:line: expectation: what was found".
std::vector<std::string> run_exchanges(std::string_view text, const std::string & name) {
    ExchangeFile file = parse_exchanges(text);
    std::vector<std::string> failures;
    for (const std::string & error : file.errors) {
        failures.push_back(name + ": " + error);
    }
    if (file.exchanges.empty()) {
        failures.push_back(name + ": no exchanges");
    }
    CorpusService service;
    load_corpus(service);
    HandlerOptions options;
    options.max_body_bytes = file.max_body_bytes;
    options.access_log = [](std::string_view) {
    };
    StaffHandler handler(service, options);
    for (const Exchange & x : file.exchanges) {
        HttpResponse res = handler.handle(x.request);
        if (res.stream) {
            res.stream([&res](std::string_view piece) {
                res.body += piece;
                return true;
            });
        }
        if (x.expectations.empty()) {
            failures.push_back(name + ":" + std::to_string(x.line) + ": request has no expectations");
        }
        for (const Expectation & e : x.expectations) {
            std::string problem = check(e, res);
            if (!problem.empty()) {
                failures.push_back(name + ":" + std::to_string(e.line) + ": " + e.kind + " " + e.arg + ": " + problem);
            }
        }
    }
    return failures;
}

std::string exchange_dir() {
    return SB_WEBUI_EXCHANGES_DIR;
}

void run_file(const std::string & name) {
    sb::core::Result<std::string> text = sb::core::read_file(exchange_dir() + "/" + name);
    REQUIRE_MESSAGE(text.ok(), text.error().to_string());
    std::vector<std::string> failures = run_exchanges(text.value(), name);
    std::string report;
    for (const std::string & f : failures) {
        report += "\n  " + f;
    }
    CHECK_MESSAGE(failures.empty(), report);
}

const std::vector<std::string> kFiles = {"ask.test", "ask_errors.test", "routes.test", "source.test"};

}  // namespace

TEST_CASE("exchanges/ask.test") {
    run_file("ask.test");
}

TEST_CASE("exchanges/ask_errors.test") {
    run_file("ask_errors.test");
}

TEST_CASE("exchanges/routes.test") {
    run_file("routes.test");
}

TEST_CASE("exchanges/source.test") {
    run_file("source.test");
}

TEST_CASE("every exchange file has a test case") {
    std::set<std::string> on_disk;
    for (const auto & entry : std::filesystem::directory_iterator(exchange_dir())) {
        if (entry.path().extension() == ".test") {
            on_disk.insert(entry.path().filename().string());
        }
    }
    CHECK(on_disk == std::set<std::string>(kFiles.begin(), kFiles.end()));
}

TEST_CASE("the exchange runner reports every expectation that does not hold") {
    const std::string text = "request GET /healthz\n"
                             "----\n"
                             "status 404\n"
                             "header X-Frame-Options: SAMEORIGIN\n"
                             "json documents 4\n"
                             "json-size documents 1\n"
                             "contains \"status\":\"down\"\n"
                             "header-present X-Powered-By\n"
                             "json missing.member 1\n"
                             "\n"
                             "request GET /healthz\n"
                             "----\n"
                             "status 200\n"
                             "json documents 3\n";
    std::vector<std::string> failures = run_exchanges(text, "inline");
    REQUIRE(failures.size() == 7);
    CHECK(failures[0] == "inline:3: status 404: status is 200");
    CHECK(failures[2] == "inline:5: json documents 4: documents is 3");
    CHECK(failures[6] == "inline:9: json missing.member 1: body has no missing.member");
    CHECK(run_exchanges("request GET /healthz\nstatus 200\n", "bad").size() >= 1);
}
