#include "metrics.h"

#include <cstdio>

namespace strongbox::webui::detail {
namespace {

std::string format_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return buf;
}

}  // namespace

void Metrics::record(std::string_view route, std::string_view method, int status, double seconds) {
    std::lock_guard lock(mu_);
    ++requests_[{std::string(route), std::string(method), status}];
    auto it = latency_.find(route);
    if (it == latency_.end()) {
        it = latency_.emplace(std::string(route), Histogram{}).first;
    }
    Histogram & h = it->second;
    ++h.count;
    h.sum += seconds;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    }
}

void Metrics::record_rejected() {
    std::lock_guard lock(mu_);
    ++rejected_;
}

std::string Metrics::render(int running, int queued) const {
    std::lock_guard lock(mu_);
    std::string out;
    out += "# HELP strongbox_http_requests_total HTTP requests answered, by route, method and status.\n";
    out += "# TYPE strongbox_http_requests_total counter\n";
    for (const auto & [key, n] : requests_) {
        const auto & [route, method, status] = key;
        out += "strongbox_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
               std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP strongbox_http_request_duration_seconds Time from request to the last byte of the response.\n";
    out += "# TYPE strongbox_http_request_duration_seconds histogram\n";
    for (const auto & [route, h] : latency_) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.buckets[i];
            out += "strongbox_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" +
                   format_double(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "strongbox_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
               std::to_string(h.count) + "\n";
        out += "strongbox_http_request_duration_seconds_sum{route=\"" + route + "\"} " + format_double(h.sum) + "\n";
        out +=
            "strongbox_http_request_duration_seconds_count{route=\"" + route + "\"} " + std::to_string(h.count) + "\n";
    }
    out += "# HELP strongbox_http_rejected_total Requests answered 503 because the service queue was full.\n";
    out += "# TYPE strongbox_http_rejected_total counter\n";
    out += "strongbox_http_rejected_total " + std::to_string(rejected_) + "\n";
    out += "# HELP strongbox_http_service_running Service calls (ask, source) running now.\n";
    out += "# TYPE strongbox_http_service_running gauge\n";
    out += "strongbox_http_service_running " + std::to_string(running) + "\n";
    out += "# HELP strongbox_http_service_queued Service calls waiting for a slot now.\n";
    out += "# TYPE strongbox_http_service_queued gauge\n";
    out += "strongbox_http_service_queued " + std::to_string(queued) + "\n";
    return out;
}

}  // namespace strongbox::webui::detail
