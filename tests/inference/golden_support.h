// Reading the golden files in tests/data/inference: JSON lines of prompts, token ids and logits.
#pragma once

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace strongbox::inference::testing {

inline std::vector<core::Json> read_jsonl(const std::filesystem::path & p) {
    auto text = core::read_file(p);
    REQUIRE_MESSAGE(text.ok(), text.error().message());
    std::vector<core::Json> out;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            auto j = core::Json::parse(line);
            REQUIRE(j.ok());
            out.push_back(*j);
        }
    }
    return out;
}

// The texts of a tokenizer vector file (*.inp): each one followed by "\n__ggml_vocab_test__\n".
inline std::vector<std::string> read_vocab_test_inputs(const std::filesystem::path & p) {
    auto text = core::read_file(p);
    REQUIRE_MESSAGE(text.ok(), text.error().message());
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs;
    size_t pos = 0;
    while (pos < text->size()) {
        const size_t next = text->find(sep, pos);
        REQUIRE_MESSAGE(next != std::string::npos, (p.string() + ": the last text has no separator"));
        inputs.push_back(text->substr(pos, next - pos));
        pos = next + sep.size();
    }
    return inputs;
}

inline std::vector<int32_t> ids_of(const core::Json & arr) {
    std::vector<int32_t> out;
    for (const auto & v : arr.as_array()) {
        out.push_back(static_cast<int32_t>(v.as_int()));
    }
    return out;
}

inline int32_t argmax(std::span<const float> v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace strongbox::inference::testing
