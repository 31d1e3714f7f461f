#include "extractors.h"

#include "strongbox/core/clock.h"

#include <algorithm>

namespace strongbox::ingest {

core::Provenance base_provenance(const std::filesystem::path & path, const std::string & sha256,
                                 const IngestOptions & options, std::string extractor, std::string version) {
    core::Provenance p;
    p.source_path = path.string();
    p.source_sha256 = sha256;
    p.extractor = std::move(extractor);
    p.extractor_version = std::move(version);
    p.ingest_job = options.ingest_job;
    p.ingested_at = core::utc_now_iso8601();
    return p;
}

core::ExtractedDocument new_document(const std::filesystem::path & path, std::string_view bytes,
                                     const std::string & sha256, std::string media_type) {
    core::ExtractedDocument doc;
    doc.source_path = path.string();
    doc.sha256 = sha256;
    doc.size_bytes = static_cast<int64_t>(bytes.size());
    doc.media_type = std::move(media_type);
    return doc;
}

bool looks_binary(std::string_view bytes) {
    const std::string_view sample = bytes.substr(0, 64 * 1024);
    if (sample.find('\0') != std::string_view::npos) {
        return true;
    }
    // Count control bytes and bytes that cannot be part of UTF-8 text; a few are repairable
    // typos, many mean the file is not text at all.
    size_t bad = 0;
    size_t i = 0;
    while (i < sample.size()) {
        const auto c = static_cast<unsigned char>(sample[i]);
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) {
                ++bad;
            }
            ++i;
            continue;
        }
        size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
        if (c >= 0xf5) {
            len = 0;
        }
        bool ok = len > 0 && i + len <= sample.size();
        for (size_t k = 1; ok && k < len; ++k) {
            ok = (static_cast<unsigned char>(sample[i + k]) & 0xc0) == 0x80;
        }
        if (!ok && len > 0 && i + len > sample.size() && sample.size() == 64 * 1024) {
            ok = true;  // sequence cut by the sample window
        }
        if (ok) {
            i += len;
        } else {
            ++bad;
            ++i;
        }
    }
    return !sample.empty() && bad * 10 > sample.size();
}

std::string describe_numbers(const std::vector<int> & numbers) {
    std::string out;
    size_t i = 0;
    while (i < numbers.size()) {
        size_t j = i;
        while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) {
            ++j;
        }
        if (!out.empty()) {
            out += ", ";
        }
        out += std::to_string(numbers[i]);
        if (j > i) {
            out += "-" + std::to_string(numbers[j]);
        }
        i = j + 1;
    }
    return out;
}

std::vector<size_t> line_starts(std::string_view bytes) {
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && i + 1 < bytes.size()) {
            starts.push_back(i + 1);
        }
    }
    return starts;
}

int line_of(const std::vector<size_t> & starts, size_t pos) {
    auto it = std::upper_bound(starts.begin(), starts.end(), pos);
    return static_cast<int>(it - starts.begin());
}

}  // namespace strongbox::ingest
