// strongbox_retrieval_soak: the writer process of the crash test, and a long-running soak.
//
//   strongbox_retrieval_soak soak [cycles=300] [max-reports=40] [max-delay-ms=20]   SIGKILL soak, prints a summary
//   strongbox_retrieval_soak writer <dir> <first-doc> <seed> <fd>  (started by the driver)
//
// Exit status 0 when every cycle passed.
#include "crash_soak.h"

#include <cstdio>
#include <cstdlib>

using namespace strongbox::retrieval::testing;

int main(int argc, char ** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "writer" && argc == 6) {
        return soak::run_writer(argv[2], std::atoll(argv[3]), static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)),
                                std::atoi(argv[5]));
    }
    if (mode != "soak") {
        std::fprintf(stderr,
                     "usage: %s soak [cycles] [max-reports] [max-delay-ms] | writer <dir> <first-doc> <seed> <fd>\n",
                     argv[0]);
        return 2;
    }
    const int cycles = argc > 2 ? std::atoi(argv[2]) : 300;
    const int max_reports = argc > 3 ? std::atoi(argv[3]) : 40;
    const int max_delay_ms = argc > 4 ? std::atoi(argv[4]) : 20;
    const auto dir = std::filesystem::temp_directory_path() / ("sb_retrieval_soak_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string self = std::filesystem::canonical("/proc/self/exe").string();
    soak::Model model;
    soak::Totals totals;
    std::mt19937 rng(20240605);
    for (int i = 0; i < cycles; ++i) {
        auto failures =
            soak::run_cycle(self, dir, model, totals, rng, max_reports, max_delay_ms, i + 1 == cycles || i % 50 == 49);
        for (const auto & f : failures) {
            std::printf("cycle %d: %s\n", i + 1, f.c_str());
        }
        if ((i + 1) % 50 == 0) {
            std::printf("after %d cycles: %zu documents active\n", i + 1, model.active.size());
            std::fflush(stdout);
        }
    }
    std::printf("%s\n", soak::summary(totals).c_str());
    std::filesystem::remove_all(dir);
    return totals.failed_cycles == 0 ? 0 : 1;
}
