// Replays the corpus of the settings fuzz target (tests/fuzz/settings_fuzz.cpp).
#include "replay.h"

#include <doctest/doctest.h>

TEST_CASE("every settings file and update of the fuzz corpus applies whole, within range, or not at all") {
    const size_t n = strongbox::fuzz::replay_corpus("settings", &strongbox::fuzz::settings_update);
    MESSAGE(n << " settings corpus files replayed");
    CHECK(n >= 10);
}
