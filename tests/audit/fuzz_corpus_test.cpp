// Replays the corpus of the audit bundle fuzz target (tests/fuzz/audit_bundle_fuzz.cpp).
#include "replay.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>

TEST_CASE("every file of the audit bundle fuzz corpus verifies only when genuine, without a crash") {
    const size_t n = strongbox::fuzz::replay_corpus("audit_bundle", &strongbox::fuzz::audit_bundle);
    MESSAGE(n << " audit bundle corpus files replayed");
    CHECK(n >= 5);
}

TEST_CASE(
    "of the audit bundle corpus only the two genuine bundles verify; a header edit that keeps the checksum does not") {
    size_t n_ok = 0;
    for (const auto & e : std::filesystem::directory_iterator(strongbox::fuzz::corpus_dir("audit_bundle"))) {
        auto bytes = strongbox::core::read_file(e.path());
        REQUIRE(bytes.ok());
        const auto v = strongbox::appliance::verify_bundle(*bytes, strongbox::fuzz::kAuditSeedKey);
        const std::string name = e.path().filename().string();
        INFO(name);
        CHECK(v.ok == (name.rfind("genuine-", 0) == 0 || name == "zero-padded-tail"));
        n_ok += v.ok ? 1 : 0;
        if (name == "crash-edited-header-same-checksum") {
            REQUIRE(v.problems.size() == 1);
            CHECK(v.problems[0].find("edited header") != std::string::npos);
        }
    }
    CHECK(n_ok == 3);
}
