// Replays the libFuzzer corpus of provisioning/fuzz/bundle_fuzz.cpp in the ordinary test run.

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/provisioning/bundle.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

namespace sp = strongbox::provisioning;
namespace fs = std::filesystem;
using namespace sp::testing;

TEST_CASE("every file of the bundle fuzz corpus runs through the parsers without a crash") {
    const fs::path dir = fs::path(SB_TEST_DATA_DIR) / "provisioning" / "fuzz_corpus";
    size_t n_files = 0;
    size_t n_verified = 0;
    for (const auto & entry : fs::directory_iterator(dir)) {
        auto bytes = strongbox::core::read_file(entry.path());
        REQUIRE(bytes.ok());
        CHECK(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size()) == 0);
        n_verified += sp::verify_bundle(*bytes, test_key_set(), sp::VerifyPolicy{kProduct, 0}).ok() ? 1 : 0;
        ++n_files;
    }
    MESSAGE(n_files << " corpus files replayed, " << n_verified << " genuine bundles among them");
    CHECK(n_files >= 8);
    // The corpus keeps one genuine bundle so the fuzzer starts from the accepting path.
    CHECK(n_verified == 1);
}
