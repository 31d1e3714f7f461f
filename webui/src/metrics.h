// Per-route request counters and latency histograms, exposed in the Prometheus text format.
// Kept in webui so the appliance gets HTTP metrics without a metrics library. Thread-safe.
#pragma once

#include "strongbox/core/json.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace strongbox::webui::detail {

class Metrics {
  public:
    // Upper bounds of the latency buckets in seconds; +Inf is implied.
    static constexpr std::array<double, 13> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1.0,   2.5,  5.0,   10.0, 30.0};

    // route is the route pattern ("/api/v1/source/{id}"), never the raw path, so label
    // cardinality stays bounded whatever clients send.
    void record(std::string_view route, std::string_view method, int status, double seconds);
    void record_rejected();
    // result: "ok" | "failed" | "throttled"
    void record_login(std::string_view result);

    // gauges are sampled by the caller when rendering
    std::string render(int running, int queued) const;

  private:
    struct Histogram {
        std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
        uint64_t count = 0;
        double sum = 0;
    };

    mutable std::mutex mu_;
    std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram, std::less<>> latency_;
    uint64_t rejected_ = 0;
    std::map<std::string, uint64_t, std::less<>> logins_;
};

// The numbers of the service's health() object as gauges: {"chunks":120,"ingest":{"pages":7}}
// becomes strongbox_chunks 120 and strongbox_ingest_pages 7. Strings, arrays and booleans are
// skipped; names are sanitized to [a-z0-9_].
std::string render_service_metrics(const core::Json & health);

}  // namespace strongbox::webui::detail
