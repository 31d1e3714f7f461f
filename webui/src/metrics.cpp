#include "metrics.h"

#include <cctype>
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

void Metrics::record_login(std::string_view result) {
    std::lock_guard lock(mu_);
    auto it = logins_.find(result);
    if (it == logins_.end()) {
        it = logins_.emplace(std::string(result), 0).first;
    }
    ++it->second;
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
    out += "# HELP strongbox_http_rejected_total Overload 503s: service queue full or connection limit reached.\n";
    out += "# TYPE strongbox_http_rejected_total counter\n";
    out += "strongbox_http_rejected_total " + std::to_string(rejected_) + "\n";
    out += "# HELP strongbox_http_service_running Service calls (ask, source) running now.\n";
    out += "# TYPE strongbox_http_service_running gauge\n";
    out += "strongbox_http_service_running " + std::to_string(running) + "\n";
    out += "# HELP strongbox_http_service_queued Service calls waiting for a slot now.\n";
    out += "# TYPE strongbox_http_service_queued gauge\n";
    out += "strongbox_http_service_queued " + std::to_string(queued) + "\n";
    out += "# HELP strongbox_auth_logins_total Login attempts by result (ok, failed, throttled, busy).\n";
    out += "# TYPE strongbox_auth_logins_total counter\n";
    for (const auto & [result, n] : logins_) {
        out += "strongbox_auth_logins_total{result=\"" + result + "\"} " + std::to_string(n) + "\n";
    }
    return out;
}

namespace {

void flatten(const core::Json & value, const std::string & name, int depth, std::string & out) {
    if (value.is_number()) {
        out += "# TYPE " + name + " gauge\n" + name + " " + format_double(value.as_double()) + "\n";
    } else if (value.is_object() && depth < 3) {
        for (const auto & [key, member] : value.as_object()) {
            std::string part;
            for (char c : key) {
                part += std::isalnum(static_cast<unsigned char>(c)) != 0
                            ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                            : '_';
            }
            flatten(member, name + "_" + part, depth + 1, out);
        }
    }
}

}  // namespace

std::string render_service_metrics(const core::Json & health) {
    std::string out;
    flatten(health, "strongbox", 0, out);
    return out;
}

}  // namespace strongbox::webui::detail
