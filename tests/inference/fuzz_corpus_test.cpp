// Replays the corpus of the tokenizer fuzz target (tests/fuzz/tokenizer_fuzz.cpp).
#include "replay.h"

#include <doctest/doctest.h>

TEST_CASE("every text of the tokenizer fuzz corpus encodes inside the vocabularies and round-trips") {
    const size_t n = strongbox::fuzz::replay_corpus("tokenizer", &strongbox::fuzz::tokenizer_text);
    MESSAGE(n << " tokenizer corpus files replayed");
    CHECK(n >= 10);
}
