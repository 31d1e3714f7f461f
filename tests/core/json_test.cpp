#include "strongbox/core/json.h"

#include <doctest/doctest.h>

using strongbox::core::Json;

TEST_CASE("json round-trips nested values with canonical key order") {
    auto parsed = Json::parse(R"({"b": [1, 2.5, "x", null, true], "a": {"z": -7, "y": "\u00e9\ud83d\ude00"}})");
    REQUIRE(parsed.ok());
    CHECK(parsed->dump() == R"({"a":{"y":"é😀","z":-7},"b":[1,2.5,"x",null,true]})");
    auto again = Json::parse(parsed->dump());
    REQUIRE(again.ok());
    CHECK(*again == *parsed);
}

TEST_CASE("json keeps 64-bit integers exact") {
    auto parsed = Json::parse("9007199254740993");
    REQUIRE(parsed.ok());
    CHECK(parsed->is_int());
    CHECK(parsed->as_int() == 9007199254740993LL);
}

TEST_CASE("json rejects malformed text with the byte offset of the fault") {
    for (const char * bad :
         {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "01x", "tru", "{\"a\":1} x", "\"\\ud800\"", "\"\x01\""}) {
        auto parsed = Json::parse(bad);
        CHECK_FALSE(parsed.ok());
        if (!parsed.ok()) {
            CHECK(parsed.error().message().find("invalid JSON at byte") != std::string::npos);
        }
    }
}

TEST_CASE("json rejects nesting deeper than the limit instead of overflowing the stack") {
    std::string deep(100000, '[');
    auto parsed = Json::parse(deep);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message().find("nesting too deep") != std::string::npos);
}

TEST_CASE("json escapes control characters and replaces invalid UTF-8 on output") {
    Json j = std::string("a\nb\x01\xff");
    CHECK(j.dump() == "\"a\\nb\\u0001\xEF\xBF\xBD\"");
}

TEST_CASE("json typed lookups fall back when members are absent or mistyped") {
    auto j = Json::parse(R"({"q": "hello", "k": 5, "flag": "yes"})");
    REQUIRE(j.ok());
    CHECK(j->get_string("q") == "hello");
    CHECK(j->get_int("k", 1) == 5);
    CHECK(j->get_int("missing", 3) == 3);
    CHECK(j->get_bool("flag", true) == true);
}
