// What isolating the third-party parsers costs: each PDF and DOCX fixture extracted in-process
// (ingest::extract_file, the baseline) and through a strongbox-extract worker (extract_isolated:
// posix_spawn, rlimits, the request, progress lines, the document as JSON and back), median of
// `runs` each, alternating so load drifts hit both alike. Prints per file and for the whole set
// the medians, the isolated/in-process ratio and the added milliseconds per file.
//
//   strongbox_bench_extract_isolation [data dir] [runs] [worker]
//   (defaults: tests/data/ingest of this repository, 5, ../appliance/strongbox-extract beside this program)
#include "bench_util.h"

#include "strongbox/extract/extract_worker.h"
#include "strongbox/ingest/ingest.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using strongbox::bench::median;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char ** argv) {
    using namespace strongbox;
    const fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path();
    const fs::path data = argc > 1 ? fs::path(argv[1]) : repo / "tests" / "data" / "ingest";
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    appliance::ExtractLimits limits;
    limits.worker =
        argc > 3 ? fs::path(argv[3])
                 : fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "appliance" / "strongbox-extract";

    std::vector<fs::path> files;
    for (const auto & entry : fs::directory_iterator(data)) {
        const std::string ext = entry.path().extension().string();
        if (ext == ".pdf" || ext == ".docx") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    ingest::IngestOptions options;
    options.ingest_job = "bench";

    std::printf("Strongbox extraction isolation bench: %zu files from %s, %d runs, worker %s\n", files.size(),
                data.c_str(), runs, limits.worker.c_str());
    std::printf("%-26s %8s %12s %12s %8s %10s\n", "file", "chunks", "in-proc ms", "isolated ms", "ratio", "added ms");
    std::vector<double> total_direct(static_cast<size_t>(runs), 0);
    std::vector<double> total_isolated(static_cast<size_t>(runs), 0);
    for (const fs::path & file : files) {
        std::vector<double> direct;
        std::vector<double> isolated;
        size_t chunks = 0;
        bool failed = false;
        for (int r = 0; r < runs; ++r) {
            auto t0 = Clock::now();
            auto a = ingest::extract_file(file, options);
            auto t1 = Clock::now();
            auto b = appliance::extract_isolated(file, options, limits);
            auto t2 = Clock::now();
            if (a.ok() != b.ok() || (a.ok() && a->chunks.size() != b->chunks.size())) {
                std::printf("%-26s results differ: %s\n", file.filename().c_str(),
                            b.ok() ? "in-process failed" : b.error().message().c_str());
                failed = true;
                break;
            }
            chunks = a.ok() ? a->chunks.size() : 0;
            direct.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            isolated.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
            total_direct[static_cast<size_t>(r)] += direct.back();
            total_isolated[static_cast<size_t>(r)] += isolated.back();
        }
        if (failed) {
            continue;
        }
        const double d = median(direct);
        const double i = median(isolated);
        std::printf("%-26s %8zu %12.1f %12.1f %8.2f %10.1f\n", file.filename().c_str(), chunks, d, i, i / d, i - d);
    }
    const double d = median(total_direct);
    const double i = median(total_isolated);
    std::printf("%-26s %8s %12.1f %12.1f %8.2f %10.1f  (%.1f ms per file)\n", "all files", "", d, i, i / d, i - d,
                files.empty() ? 0.0 : (i - d) / static_cast<double>(files.size()));
    return 0;
}
