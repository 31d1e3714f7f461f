// The Unicode tables and UTF-8 decoding the tokenizers are built on.
#include <doctest/doctest.h>

#include "tokenizer/unicode.h"

using namespace strongbox::inference::unicode;

TEST_CASE("general categories classify letters, numbers and whitespace beyond ASCII") {
    CHECK(is_letter(U'A'));
    CHECK(is_letter(U'\u0436'));  // Cyrillic zhe
    CHECK(is_letter(U'\u6211'));  // CJK ideograph
    CHECK_FALSE(is_letter(U'1'));
    CHECK(is_number(U'\u0663'));  // Arabic-Indic digit three
    CHECK(is_number(U'\u00BD'));  // vulgar fraction one half (No)
    CHECK(is_whitespace(U'\u3000'));
    CHECK(is_whitespace(U'\u00A0'));
    CHECK(is_whitespace(U'\n'));
    CHECK_FALSE(is_whitespace(U'\u200D'));  // zero width joiner is a format control, not space
    CHECK((codepoint_flags(U'\u200D') & kControl) != 0);
    CHECK((codepoint_flags(U'!') & kPunctuation) != 0);
    CHECK((codepoint_flags(U'\U0001F680') & kSymbol) != 0);  // rocket
    CHECK((codepoint_flags(U'\u0301') & kNonspacingMark) != 0);
    CHECK(codepoint_flags(0x110000) == 0);
}

TEST_CASE("lower-casing and canonical decomposition cover Latin, Greek and Hangul") {
    CHECK(to_lower(U'A') == U'a');
    CHECK(to_lower(U'\u00C4') == U'\u00E4');
    CHECK(to_lower(U'\u03A3') == U'\u03C3');
    CHECK(to_lower(U'7') == U'7');
    std::u32string out;
    append_nfd(U'\u00E9', out);  // é
    CHECK(out == U"e\u0301");
    out.clear();
    append_nfd(U'\u1EED', out);  // ử: u + horn + hook above
    CHECK(out == U"u\u031B\u0309");
    out.clear();
    append_nfd(U'\uD55C', out);  // 한
    CHECK(out == U"\u1112\u1161\u11AB");
    out.clear();
    append_nfd(U'x', out);
    CHECK(out == U"x");
}

TEST_CASE("invalid UTF-8 decodes byte by byte to U+FFFD while valid sequences keep their offsets") {
    // overlong "/", a surrogate, a truncated 3-byte sequence, then a valid 4-byte emoji
    const std::string text = "\xC0\xAF"
                             "\xED\xA0\x80"
                             "\xE2\x82"
                             "\xF0\x9F\x98\x81";
    const auto cps = decode_utf8(text);
    REQUIRE(cps.size() == 8);
    for (size_t i = 0; i < 7; ++i) {
        CHECK(cps[i].cp == 0xFFFD);
        CHECK(cps[i].n_bytes == 1);
        CHECK(cps[i].offset == i);
    }
    CHECK(cps[7].cp == 0x1F601);
    CHECK(cps[7].offset == 7);
    CHECK(cps[7].n_bytes == 4);
    std::string back;
    append_utf8(back, 0x1F601);
    append_utf8(back, 0x416);
    CHECK(back == "\xF0\x9F\x98\x81\xD0\x96");
}
