// Replays the corpus of the tokenizer fuzz target (tests/fuzz/tokenizer_fuzz.cpp).
#include "replay.h"

#include <doctest/doctest.h>

#include <string>

namespace {

// The target takes its vocabulary from bits 2-3 of byte 0; the replay runs every file against
// all four, so a text found with one vocabulary guards the others too.
int tokenizer_text_every_vocabulary(const uint8_t * data, size_t size) {
    if (size == 0) {
        return strongbox::fuzz::tokenizer_text(data, size);
    }
    std::string input(reinterpret_cast<const char *>(data), size);
    for (int vocab = 0; vocab < 4; ++vocab) {
        input[0] = static_cast<char>((data[0] & ~0x0C) | (vocab << 2));
        if (const int rc = strongbox::fuzz::tokenizer_text(reinterpret_cast<const uint8_t *>(input.data()), size);
            rc != 0) {
            return rc;
        }
    }
    return 0;
}

}  // namespace

TEST_CASE("every text of the tokenizer fuzz corpus encodes inside each of the four vocabularies and round-trips") {
    const size_t n = strongbox::fuzz::replay_corpus("tokenizer", &tokenizer_text_every_vocabulary);
    MESSAGE(n << " tokenizer corpus files replayed");
    CHECK(n >= 10);
}
