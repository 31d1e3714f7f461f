// The check every fuzz target states its invariants with (tests/fuzz/*_fuzz.cpp).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace strongbox::fuzz {

// Aborts when an invariant breaks, naming the check: what libFuzzer reports as a crash, and the
// replay as a failure. (__builtin_FILE/LINE rather than std::source_location, which the clang of
// the fuzz builds lacks with this libstdc++.)
inline void require(bool ok, const char * file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken at %s:%u\n", file, line);
        std::abort();
    }
}

}  // namespace strongbox::fuzz
