// strongbox_appliance_soak: the appliance crash and I/O-fault soak (appliance_soak.h) for as many
// cycles as asked, printing what it did and every failure. Exit 0 only when nothing failed.
//
//   nice -n 19 build/dev/tests/appliance/strongbox_appliance_soak
//       [cycles] [seed] [max_kill_ms] [work_dir] [strongbox] [fault_lib]
// max_kill_ms 0 (the default) measures an uninterrupted run first and kills within 1.2x of it.

#include "appliance_soak.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char ** argv) {
    using namespace strongbox::appliance::testing::soak;
    Config c;
    c.strongbox = SB_STRONGBOX_BIN;
    c.fault_lib = SB_IO_FAULT_LIB;
    c.repo = SB_SOURCE_DIR;
    c.cycles = argc > 1 ? std::atoi(argv[1]) : 300;
    c.seed = argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 1;
    c.max_kill_ms = argc > 3 ? std::atoi(argv[3]) : 0;  // 0: 1.2x a measured uninterrupted run
    c.work = argc > 4 ? fs::path(argv[4]) : fs::temp_directory_path() / "strongbox_appliance_soak";
    // A copy of the binaries keeps a long soak steady while the build tree is rebuilt beside it.
    if (argc > 5) {
        c.strongbox = argv[5];
    }
    if (argc > 6) {
        c.fault_lib = argv[6];
    }
    if (c.cycles < 1 || c.max_kill_ms < 0) {
        std::fprintf(stderr, "usage: strongbox_appliance_soak [cycles] [seed] [max_kill_ms] [work_dir] [strongbox] "
                             "[fault_lib]\n");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    const Figures f = Soak(c).run();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::printf("appliance soak: %d cycles in %.0f s (seed %u, kill delay 0-%d ms)\n", f.cycles, secs, c.seed,
                f.max_kill_ms);
    std::printf("  killed %d, finished before the kill %d\n", f.killed, f.exited);
    for (const auto & [phase, n] : f.kills_by_phase) {
        std::printf("    killed %s: %d\n", phase.c_str(), n);
    }
    for (const auto & [code, n] : f.exit_codes) {
        std::printf("    exit %d: %d\n", code, n);
    }
    std::printf("  cycles under the fault injector %d, faults injected %d, runs that entered read-only mode %d\n",
                f.fault_cycles, f.faults_injected, f.read_only_entered);
    for (const auto & [kind, n] : f.faults_by_kind) {
        std::printf("    %s: %d\n", kind.c_str(), n);
    }
    std::printf("  documents reported added %d (in runs that exited 0: %d), in flight at a kill and kept whole %d\n",
                f.reported_added, f.acknowledged, f.in_flight_kept);
    std::printf("  reported failed under a fault yet committed whole %d\n", f.failed_but_committed);
    std::printf("  restarts that reported repairing the vector index %d\n", f.repairs_reported);
    std::printf("  recovery (strongbox status after the kill): median %.0f ms, p90 %.0f ms, max %.0f ms over %zu\n",
                f.recovery_percentile(0.5), f.recovery_percentile(0.9), f.recovery_percentile(1.0),
                f.recovery_ms.size());
    std::printf("  failures %zu\n", f.failures.size());
    for (const std::string & e : f.failures) {
        std::printf("    %s\n", e.c_str());
    }
    return f.failures.empty() ? 0 : 1;
}
