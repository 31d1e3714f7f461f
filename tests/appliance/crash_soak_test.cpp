// The short appliance crash and I/O-fault soak (appliance_soak.h) in the ordinary test run:
// `strongbox ingest` SIGKILLed at random moments, some runs under the fault injector, each
// followed by a restart and the store, index, search and audit checks. The long run is
// strongbox_appliance_soak (bench/README.md).

#include "appliance_soak.h"

#include <doctest/doctest.h>

using namespace strongbox::appliance::testing::soak;

TEST_CASE("acknowledged documents survive SIGKILL and injected ENOSPC/EIO during ingest, and the store stays sound") {
    Config c;
    c.strongbox = SB_STRONGBOX_BIN;
    c.fault_lib = SB_IO_FAULT_LIB;
    c.repo = SB_SOURCE_DIR;
    c.work = fs::temp_directory_path() / "sb_appliance_crash_soak";
    c.cycles = 18;
    c.seed = 20261122;
    c.scanned = false;  // OCR would make each cycle a second; the long soak includes it
    const Figures f = Soak(c).run();
    std::string failures;
    for (const std::string & e : f.failures) {
        failures += e + "\n";
    }
    CHECK_MESSAGE(f.failures.empty(), failures);
    CHECK(f.cycles == 18);
    CHECK(f.recovery_ms.size() == 18);
    // The run must actually have exercised what it claims: kills, faults and acknowledged documents.
    CHECK(f.killed > 0);
    CHECK(f.faults_injected > 0);
    CHECK(f.reported_added > 0);
    std::error_code ec;
    fs::remove_all(c.work, ec);
}
