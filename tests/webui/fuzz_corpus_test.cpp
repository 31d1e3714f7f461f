// Replays the corpus of the request-path fuzz target (tests/fuzz/webui_fuzz.cpp).
#include "replay.h"

#include <doctest/doctest.h>

TEST_CASE("every request of the web API fuzz corpus gets a complete response that keeps the role rules") {
    const size_t n = strongbox::fuzz::replay_corpus("webui", &strongbox::fuzz::webui_request);
    MESSAGE(n << " web API corpus requests replayed");
    CHECK(n >= 20);
}
