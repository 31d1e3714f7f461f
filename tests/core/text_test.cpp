#include "strongbox/core/text.h"

#include <doctest/doctest.h>

using namespace strongbox::core;

TEST_CASE("utf8 validation accepts well-formed text and rejects overlongs, surrogates and truncation") {
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("caf\xC3\xA9 \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xF0\x9F\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // UTF-16 surrogate
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST_CASE("sanitize_utf8 replaces each bad byte and keeps the rest") {
    CHECK(sanitize_utf8("ok\xFFok") == "ok\xEF\xBF\xBDok");
    CHECK(sanitize_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("collapse_whitespace joins runs into single spaces") {
    CHECK(collapse_whitespace("  a \t\n b   c ") == "a b c");
    CHECK(trim("  x y \n") == "x y");
    CHECK(split("a,b,,c", ',').size() == 4);
}
