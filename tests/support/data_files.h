// The behaviour-as-data files of a folder (tests/data/**/*.test), in name order.
#pragma once

#include <algorithm>
#include <filesystem>
#include <vector>

namespace strongbox::testing {

inline std::vector<std::filesystem::path> data_files(const std::filesystem::path & dir) {
    std::vector<std::filesystem::path> files;
    for (const auto & e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() == ".test") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace strongbox::testing
