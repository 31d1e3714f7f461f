// Corpus replay for the doctest suites: runs every file of tests/fuzz/corpus/<name> through a fuzz
// target's entry point, so an input that once crashed stays fixed (see fuzz_targets.h).
#pragma once

#include "fuzz_targets.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

namespace strongbox::fuzz {

inline size_t replay_corpus(const std::string & name, int (*entry)(const uint8_t *, size_t)) {
    size_t n = 0;
    for (const auto & e : std::filesystem::directory_iterator(corpus_dir(name))) {
        if (!e.is_regular_file()) {
            continue;
        }
        auto bytes = core::read_file(e.path());
        REQUIRE(bytes.ok());
        INFO(e.path().filename().string());
        CHECK(entry(reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size()) == 0);
        ++n;
    }
    return n;
}

}  // namespace strongbox::fuzz
