// SIGKILL during ingest and index saves: acknowledged documents survive exactly once (crash_soak.h).
#include "crash_soak.h"
#include "test_support.h"

#include <doctest/doctest.h>

using namespace strongbox::retrieval;
using namespace strongbox::retrieval::testing;

TEST_CASE("documents acknowledged before a SIGKILL are searchable exactly once after restart") {
    TempDir dir("crash_soak");
    soak::Model model;
    soak::Totals totals;
    std::mt19937 rng(7);
    constexpr int kCycles = 24;
    constexpr int kMaxReports = 12;  // "open", then a begin and an ack per operation or save
    constexpr int kMaxDelayMs = 5;
    for (int i = 0; i < kCycles; ++i) {
        CAPTURE(i);
        auto failures = soak::run_cycle(SB_RETRIEVAL_SOAK, dir.path, model, totals, rng, kMaxReports, kMaxDelayMs,
                                        i + 1 == kCycles);
        INFO(soak::join(failures));
        CHECK(failures.empty());
    }
    MESSAGE(soak::summary(totals));
    // The kills landed where they were meant to: after acknowledgements, and inside operations.
    CHECK(totals.acknowledged > 0);
    CHECK(totals.kills["starting up"] < kCycles);
    CHECK(totals.kills["in a store write"] + totals.kills["saving the index"] +
              totals.kills["embedding or between operations"] >
          0);
}
