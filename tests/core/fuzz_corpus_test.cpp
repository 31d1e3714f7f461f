// Replays the corpus of the JSON fuzz target (tests/fuzz/json_fuzz.cpp) and states its two findings.
#include "replay.h"

#include "strongbox/core/json.h"

#include <doctest/doctest.h>

#include <cstdint>

TEST_CASE("every file of the JSON fuzz corpus parses to a canonical round trip or fails with its offset") {
    const size_t n = strongbox::fuzz::replay_corpus("json", &strongbox::fuzz::json_text);
    MESSAGE(n << " JSON corpus files replayed");
    CHECK(n >= 10);
}

// The two findings of the JSON fuzzer, as behaviour.
TEST_CASE("a negative zero dumps as 0, so dumping what was read back gives the same bytes") {
    auto j = strongbox::core::Json::parse("[-0.0,0.0,-0]");
    REQUIRE(j.ok());
    CHECK(j->dump() == "[0,0,0]");
    CHECK(strongbox::core::Json::parse(j->dump())->dump() == j->dump());
}

TEST_CASE("a number beyond the int64 range read as an integer is clamped to the range") {
    auto j = strongbox::core::Json::parse(R"({"top_k":1e300,"low":-1e19,"n":42.9})");
    REQUIRE(j.ok());
    CHECK(j->get_int("top_k") == INT64_MAX);
    CHECK(j->get_int("low") == INT64_MIN);
    CHECK(j->get_int("n") == 42);
}
