// Log parsing benchmark: grouping accuracy of Strongbox's template mining on the loghub-2k sets,
// next to Drain's published figures, and throughput of the whole log extraction (format
// detection, record assembly, mining, chunking with metadata) and of template mining alone,
// against line splitting alone as the baseline measured in the same run.
//
// Grouping accuracy (Zhu et al., ICSE-SEIP 2019): a line counts as correct when the set of lines
// in its predicted group equals the set of lines in its ground-truth group (EventId).
//
//   strongbox_bench_log_parsing [loghub-2k directory]   (default: ../shared/data/loghub-2k beside the repo)
#include "bench_util.h"
#include "log_extractor.h"
#include "log_format.h"
#include "log_template.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using strongbox::bench::median;

namespace {

using strongbox::core::Json;

struct System {
    const char * name;
    double drain_accuracy;  // Zhu et al. 2019, Table 3
};

constexpr System kSystems[] = {{"HDFS", 0.998},  {"Apache", 1.000},  {"Zookeeper", 0.967}, {"BGL", 0.963},
                               {"Spark", 0.920}, {"OpenSSH", 0.788}, {"Linux", 0.690}};

// One CSV row with RFC 4180 quoting.
std::vector<std::string> parse_csv_row(std::string_view line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else if (c != '\r') {
            out.back() += c;
        }
    }
    return out;
}

// LineId -> EventId from <S>_2k.log_structured.csv.
std::map<int64_t, std::string> load_truth(const std::string & csv) {
    std::map<int64_t, std::string> truth;
    size_t pos = 0;
    size_t event_col = 0;
    bool header = true;
    while (pos < csv.size()) {
        size_t nl = csv.find('\n', pos);
        std::string_view line(csv.data() + pos, (nl == std::string::npos ? csv.size() : nl) - pos);
        pos = nl == std::string::npos ? csv.size() : nl + 1;
        if (line.empty()) {
            continue;
        }
        std::vector<std::string> row = parse_csv_row(line);
        if (header) {
            event_col = static_cast<size_t>(std::find(row.begin(), row.end(), "EventId") - row.begin());
            header = false;
            continue;
        }
        if (event_col < row.size()) {
            truth[std::stoll(row[0])] = row[event_col];
        }
    }
    return truth;
}

double grouping_accuracy(const std::map<int64_t, std::string> & predicted,
                         const std::map<int64_t, std::string> & truth) {
    std::map<std::string, std::vector<int64_t>> pred_groups;
    std::map<std::string, size_t> truth_sizes;
    for (const auto & [line, event] : truth) {
        ++truth_sizes[event];
        auto it = predicted.find(line);
        pred_groups[it == predicted.end() ? "missing:" + std::to_string(line) : it->second].push_back(line);
    }
    size_t correct = 0;
    for (const auto & [id, lines] : pred_groups) {
        const std::string & event = truth.at(lines.front());
        bool same = std::all_of(lines.begin(), lines.end(), [&](int64_t l) { return truth.at(l) == event; });
        if (same && truth_sizes[event] == lines.size()) {
            correct += lines.size();
        }
    }
    return truth.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(truth.size());
}

}  // namespace

int main(int argc, char ** argv) {
    namespace fs = std::filesystem;
    using Clock = std::chrono::steady_clock;
    // Default: ../shared/data/loghub-2k next to the repository this file was built from.
    const fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path();
    const fs::path dir = argc > 1 ? fs::path(argv[1]) : repo / ".." / "shared" / "data" / "loghub-2k";
    constexpr int kRuns = 7;

    std::printf("%-10s %-12s %6s %9s %9s %7s %12s %12s %12s %6s\n", "system", "format", "lines", "accuracy", "drain",
                "groups", "extract l/s", "mining l/s", "split l/s", "ratio");
    int beaten = 0;
    int measured = 0;
    for (const System & sys : kSystems) {
        const fs::path log = dir / sys.name / (std::string(sys.name) + "_2k.log");
        const fs::path csv = dir / sys.name / (std::string(sys.name) + "_2k.log_structured.csv");
        auto bytes = strongbox::core::read_file(log);
        auto truth_text = strongbox::core::read_file(csv);
        if (!bytes || !truth_text) {
            std::printf("%-10s missing (%s)\n", sys.name, log.string().c_str());
            continue;
        }
        const std::map<int64_t, std::string> truth = load_truth(*truth_text);
        strongbox::ingest::IngestOptions options;
        strongbox::ingest::LogOptions log_options;
        log_options.assumed_year = 2005;

        std::vector<double> extract_secs;
        std::vector<double> mining_secs;
        std::vector<double> split_secs;
        strongbox::core::ExtractedDocument doc;
        const std::string sha = strongbox::core::sha256_hex(*bytes);
        for (int run = 0; run < kRuns; ++run) {
            auto t0 = Clock::now();
            auto result = strongbox::ingest::extract_log(log, *bytes, sha, options, log_options);
            auto t1 = Clock::now();
            if (!result) {
                std::printf("%-10s error: %s\n", sys.name, result.error().to_string().c_str());
                break;
            }
            doc = std::move(result).value();
            extract_secs.push_back(std::chrono::duration<double>(t1 - t0).count());
            // Baseline: finding the lines and copying them out, the least any extractor does.
            auto s0 = Clock::now();
            std::vector<std::string> lines;
            size_t pos = 0;
            while (pos < bytes->size()) {
                size_t nl = bytes->find('\n', pos);
                size_t end = nl == std::string::npos ? bytes->size() : nl;
                lines.emplace_back(bytes->substr(pos, end - pos));
                pos = end + 1;
            }
            auto s1 = Clock::now();
            split_secs.push_back(std::chrono::duration<double>(s1 - s0).count());
            // Template mining alone, on the messages the format parser hands it.
            const strongbox::ingest::TimeAssumptions ta{2005, 0};
            const strongbox::ingest::LogFormat format = strongbox::ingest::detect_log_format(
                std::vector<std::string_view>(lines.begin(), lines.begin() + std::min<size_t>(lines.size(), 200)), ta);
            std::vector<std::string> messages;
            for (const std::string & l : lines) {
                std::string_view v = l;
                if (!v.empty() && v.back() == '\r') {
                    v.remove_suffix(1);
                }
                auto h = strongbox::ingest::parse_log_line(format, v, ta);
                messages.push_back(h ? h->message : std::string(v));
            }
            auto m0 = Clock::now();
            strongbox::ingest::TemplateMiner miner;
            for (const std::string & m : messages) {
                miner.add(m);
            }
            miner.finish();
            auto m1 = Clock::now();
            mining_secs.push_back(std::chrono::duration<double>(m1 - m0).count());
        }
        if (extract_secs.empty()) {
            continue;
        }
        std::map<int64_t, std::string> predicted;
        std::string format;
        std::map<std::string, int> ids;
        for (const auto & chunk : doc.chunks) {
            format = chunk.metadata.get_string("format");
            for (const Json & r : chunk.metadata.find("records")->as_array()) {
                predicted[r.get_int("line")] = r.get_string("template_id");
                ids[r.get_string("template_id")] = 1;
            }
        }
        const double acc = grouping_accuracy(predicted, truth);
        const double n = static_cast<double>(doc.page_count);
        const double lps = n / median(extract_secs);
        const double split_lps = n / median(split_secs);
        const double mining_lps = n / median(mining_secs);
        ++measured;
        beaten += std::lround(acc * 1000) >= std::lround(sys.drain_accuracy * 1000) ? 1 : 0;  // as printed
        std::printf("%-10s %-12s %6d %9.3f %9.3f %7zu %12.0f %12.0f %12.0f %6.1f\n", sys.name, format.c_str(),
                    doc.page_count, acc, sys.drain_accuracy, ids.size(), lps, mining_lps, split_lps, split_lps / lps);
    }
    std::printf("accuracy at or above Drain on %d of %d systems; lines/s are medians of %d runs; ratio = split "
                "baseline / extraction\n",
                beaten, measured, kRuns);
    return 0;
}
