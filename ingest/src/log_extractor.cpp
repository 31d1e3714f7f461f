#include "log_extractor.h"

#include "log_template.h"
#include "log_time.h"

#include "strongbox/core/clock.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <system_error>

namespace strongbox::ingest {

namespace {

constexpr std::string_view kExtractor = "log-lines";
constexpr std::string_view kExtractorVersion = "strongbox-log 1";
constexpr size_t kBinarySampleBytes = 64 * 1024;
constexpr size_t kFormatSampleLines = 200;
// Templates are mined from at most this much of a message: enough for any real statement, and
// a 10 MB single-line record costs no more than a normal one.
constexpr size_t kMaxMinedMessageBytes = 4096;
// A record is never cut shorter than this in chunk text, however small max_chunk_chars is.
constexpr size_t kMinRecordTextBytes = 256;
constexpr size_t kMaxLinesNamedInWarning = 20;

// Whether two record times lie more than `window` apart. Times come from the file and may sit at
// either end of int64 (a JSON "ts" of -9.2e12 s), so the difference must not overflow.
bool farther_apart(int64_t a, int64_t b, int64_t window) {
    int64_t diff = 0;
    if (__builtin_sub_overflow(a, b, &diff)) {
        return true;  // further apart than any int64 window
    }
    return diff > window || diff < -window;
}

struct Line {
    size_t begin = 0;       // offset of the first byte
    size_t end = 0;         // offset just past the content, before "\n" or "\r\n"
    std::string_view text;  // the content, repaired when it was not valid UTF-8
};

struct Record {
    size_t first_line = 0;  // 0-based indices into the line table
    size_t last_line = 0;
    LogHeader header;
    size_t group = 0;
};

// Invalid UTF-8 bytes in s (each byte of a broken sequence counts once).
size_t count_invalid_utf8(std::string_view s) {
    size_t bad = 0;
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        }
        if (ok) {
            i += len;
        } else {
            ++bad;
            ++i;
        }
    }
    return bad;
}

// Logs are text: NUL bytes, or a sample that is mostly control bytes and broken UTF-8, mean the
// file is something else (a core dump, a compressed rotation, a database).
bool looks_binary(std::string_view bytes) {
    std::string_view sample = bytes.substr(0, kBinarySampleBytes);
    size_t nul = 0;
    size_t control = 0;
    for (char ch : sample) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == 0) {
            ++nul;
        } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B) ||
                   c == 0x7F) {
            ++control;
        }
    }
    if (nul * 1000 > sample.size()) {
        return true;
    }
    return (nul + control + count_invalid_utf8(sample)) * 10 > sample.size() * 3;
}

std::string utf8_prefix(std::string_view s, size_t max_bytes) {
    if (s.size() <= max_bytes) {
        return std::string(s);
    }
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
        --cut;  // never split a multi-byte character
    }
    return std::string(s.substr(0, cut));
}

std::string join_line_numbers(const std::vector<size_t> & lines) {
    std::string out;
    for (size_t i = 0; i < lines.size() && i < kMaxLinesNamedInWarning; ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(lines[i]);
    }
    if (lines.size() > kMaxLinesNamedInWarning) {
        out += " and " + std::to_string(lines.size() - kMaxLinesNamedInWarning) + " more";
    }
    return out;
}

int current_utc_year() {
    const int64_t days = core::unix_micros_now() / 1000000 / 86400;
    int year = 1970 + static_cast<int>(days / 366);
    while (days_from_civil(year + 1, 1, 1) <= days) {
        ++year;
    }
    return year;
}

class LogExtraction {
  public:
    LogExtraction(const std::filesystem::path & path, std::string_view bytes, const IngestOptions & options,
                  const LogOptions & log_options)
        : path_(path), bytes_(bytes), options_(options), log_options_(log_options) {}

    core::Result<core::ExtractedDocument> run(const std::string & sha256) {
        doc_.source_path = absolute_path();
        doc_.sha256 = sha256;
        doc_.size_bytes = static_cast<int64_t>(bytes_.size());
        doc_.media_type = "text/x-log";
        if (core::trim(bytes_).empty()) {
            doc_.warnings.push_back(path_.string() + ": empty log, no records");
            split_lines();
            doc_.page_count = static_cast<int>(lines_.size());
            return std::move(doc_);
        }
        if (looks_binary(bytes_)) {
            return core::Error(core::ErrorCode::kCorruptInput, path_.string() + ": binary data, not a log");
        }
        split_lines();
        doc_.page_count = static_cast<int>(lines_.size());
        choose_format();
        build_records();
        mine_templates();
        build_chunks(sha256);
        if (!repaired_lines_.empty()) {
            doc_.warnings.push_back(path_.string() + ": invalid UTF-8 replaced with U+FFFD on line" +
                                    (repaired_lines_.size() > 1 ? "s " : " ") + join_line_numbers(repaired_lines_));
        }
        return std::move(doc_);
    }

  private:
    std::string absolute_path() const {
        std::error_code ec;
        std::filesystem::path abs = std::filesystem::absolute(path_, ec);
        return (ec ? path_ : abs).lexically_normal().string();
    }

    void split_lines() {
        size_t pos = 0;
        while (pos < bytes_.size()) {
            size_t nl = bytes_.find('\n', pos);
            const size_t stop = nl == std::string_view::npos ? bytes_.size() : nl;
            size_t end = stop;
            if (end > pos && bytes_[end - 1] == '\r') {
                --end;
            }
            Line line{pos, end, bytes_.substr(pos, end - pos)};
            if (!core::is_valid_utf8(line.text)) {
                repaired_.push_back(core::sanitize_utf8(line.text));
                line.text = repaired_.back();
                repaired_lines_.push_back(lines_.size() + 1);
            }
            lines_.push_back(line);
            pos = stop + 1;
        }
    }

    void choose_format() {
        time_.year = log_options_.assumed_year != 0 ? log_options_.assumed_year : current_utc_year();
        time_.utc_offset_minutes = log_options_.assumed_utc_offset_minutes;
        format_ = log_options_.format;
        if (format_ == LogFormat::kAuto) {
            std::vector<std::string_view> sample;
            for (const Line & l : lines_) {
                if (sample.size() >= kFormatSampleLines) {
                    break;
                }
                if (!core::trim(l.text).empty()) {
                    sample.push_back(l.text);
                }
            }
            format_ = detect_log_format(sample, time_);
        }
        if (log_options_.assumed_year == 0) {
            // A yearless stamp more than a month ahead of now was written last year.
            for (const Line & l : lines_) {
                auto h = parse_log_line(format_, l.text, time_);
                if (!h) {
                    continue;
                }
                if (h->yearless_month != 0 && h->time_us &&
                    *h->time_us > core::unix_micros_now() + int64_t{31} * 86400 * 1000000) {
                    --time_.year;
                }
                break;
            }
        }
    }

    void build_records() {
        int last_month = 0;
        for (size_t i = 0; i < lines_.size(); ++i) {
            std::string_view text = lines_[i].text;
            if (core::trim(text).empty()) {
                continue;  // blank lines neither start nor end records
            }
            auto h = parse_log_line(format_, text, time_);
            if (h && h->yearless_month != 0) {
                if (last_month == 12 && h->yearless_month == 1) {
                    ++time_.year;  // the log ran over New Year
                    h = parse_log_line(format_, text, time_);
                }
                last_month = h->yearless_month;
            }
            if (!h && !records_.empty()) {
                // In formats where every record has a header, a line without one continues the
                // record; JSON lines and free text only take obvious continuations.
                const bool headered = format_ != LogFormat::kJsonLines && format_ != LogFormat::kFreeText;
                if (headered || looks_like_continuation(text)) {
                    records_.back().last_line = i;
                    continue;
                }
            }
            if (!h) {
                h = LogHeader{};
                h->message = std::string(core::trim(text));
            }
            records_.push_back(Record{i, i, std::move(*h), 0});
        }
    }

    void mine_templates() {
        std::vector<size_t> index;
        index.reserve(records_.size());
        for (const Record & r : records_) {
            index.push_back(miner_.add(utf8_prefix(r.header.message, kMaxMinedMessageBytes)));
        }
        miner_.finish();
        for (size_t i = 0; i < records_.size(); ++i) {
            records_[i].group = miner_.group_of(index[i]);
        }
        templates_.reserve(miner_.group_count());
        for (size_t g = 0; g < miner_.group_count(); ++g) {
            templates_.push_back(miner_.template_text(g));
        }
    }

    // The record's lines joined by '\n', cut after `cap` bytes. Returns whether it was cut.
    bool append_record_text(const Record & r, std::string & out, size_t cap, size_t & full_size) const {
        full_size = 0;
        for (size_t i = r.first_line; i <= r.last_line; ++i) {
            full_size += lines_[i].text.size() + (i > r.first_line ? 1 : 0);
        }
        size_t written = 0;
        for (size_t i = r.first_line; i <= r.last_line && written < cap; ++i) {
            if (i > r.first_line) {
                out += '\n';
                ++written;
            }
            std::string piece = utf8_prefix(lines_[i].text, cap - std::min(cap, written));
            written += piece.size();
            out += piece;
        }
        return written < full_size;
    }

    core::Json record_metadata(const Record & r, bool truncated, size_t full_size) const {
        core::Json j = core::Json::object();
        const LogHeader & h = r.header;
        j["line"] = static_cast<int64_t>(r.first_line + 1);
        if (r.last_line != r.first_line) {
            j["line_end"] = static_cast<int64_t>(r.last_line + 1);
        }
        if (h.time_us) {
            j["time"] = core::format_iso8601_utc(*h.time_us);
        }
        auto put = [&j](std::string_view key, const std::string & v) {
            if (!v.empty()) {
                j[key] = v;
            }
        };
        put("time_text", h.time_text);
        put("severity", h.severity);
        put("host", h.host);
        put("app", h.app);
        put("pid", h.pid);
        j["template_id"] = "T" + std::to_string(r.group + 1);
        j["template"] = templates_[r.group];
        core::Json params = core::Json::array();
        for (std::string & p : miner_.parameters(r.group, utf8_prefix(h.message, kMaxMinedMessageBytes))) {
            params.push_back(std::move(p));
        }
        j["params"] = std::move(params);
        if (!h.fields.is_null()) {
            j["fields"] = h.fields;
        }
        if (truncated) {
            j["truncated"] = true;
            j["size_bytes"] = static_cast<int64_t>(full_size);
        }
        return j;
    }

    void build_chunks(const std::string & sha256) {
        const size_t per_chunk = std::max<size_t>(1, options_.log_lines_per_chunk);
        const size_t record_cap = std::max(options_.max_chunk_chars, kMinRecordTextBytes);
        const int64_t window_us = log_options_.chunk_time_window_seconds * 1000000;
        const std::string ingested_at = core::utc_now_iso8601();

        core::Chunk chunk;
        core::Json records = core::Json::array();
        size_t n_in_chunk = 0;
        std::optional<int64_t> chunk_start_time;
        size_t chunk_first_line = 0;
        size_t chunk_last_line = 0;

        auto flush = [&]() {
            if (n_in_chunk == 0) {
                return;
            }
            core::Provenance & p = chunk.provenance;
            p.source_path = doc_.source_path;
            p.source_sha256 = sha256;
            p.line_start = static_cast<int>(chunk_first_line + 1);
            p.line_end = static_cast<int>(chunk_last_line + 1);
            p.byte_start = static_cast<int64_t>(lines_[chunk_first_line].begin);
            p.byte_end = static_cast<int64_t>(lines_[chunk_last_line].end);
            p.extractor = std::string(kExtractor);
            p.extractor_version = std::string(kExtractorVersion);
            p.ingest_job = options_.ingest_job;
            p.ingested_at = ingested_at;
            chunk.metadata = core::Json::object();
            chunk.metadata["format"] = std::string(to_string(format_));
            chunk.metadata["records"] = std::move(records);
            doc_.chunks.push_back(std::move(chunk));
            chunk = core::Chunk{};
            records = core::Json::array();
            n_in_chunk = 0;
            chunk_start_time.reset();
        };

        for (const Record & r : records_) {
            std::string text;
            size_t full_size = 0;
            const bool truncated = append_record_text(r, text, record_cap, full_size);
            if (truncated) {
                text += "\n[record truncated: " + std::to_string(full_size - text.size()) + " more bytes]";
                doc_.warnings.push_back(path_.string() + ": line " + std::to_string(r.first_line + 1) + ": record of " +
                                        std::to_string(full_size) + " bytes truncated in chunk text");
            }
            if (n_in_chunk > 0) {
                const bool full = n_in_chunk >= per_chunk;
                const bool too_long = chunk.text.size() + 1 + text.size() > options_.max_chunk_chars;
                const bool too_late = window_us > 0 && chunk_start_time && r.header.time_us &&
                                      farther_apart(*r.header.time_us, *chunk_start_time, window_us);
                if (full || too_long || too_late) {
                    flush();
                }
            }
            if (n_in_chunk == 0) {
                chunk_first_line = r.first_line;
            } else {
                chunk.text += '\n';
            }
            chunk.text += text;
            chunk_last_line = r.last_line;
            if (!chunk_start_time && r.header.time_us) {
                chunk_start_time = r.header.time_us;
            }
            records.push_back(record_metadata(r, truncated, full_size));
            ++n_in_chunk;
        }
        flush();
    }

    const std::filesystem::path & path_;
    std::string_view bytes_;
    const IngestOptions & options_;
    const LogOptions & log_options_;
    core::ExtractedDocument doc_;
    std::vector<Line> lines_;
    std::deque<std::string> repaired_;  // storage behind Line::text of repaired lines (stable addresses)
    std::vector<size_t> repaired_lines_;
    TimeAssumptions time_;
    LogFormat format_ = LogFormat::kFreeText;
    std::vector<Record> records_;
    TemplateMiner miner_;
    std::vector<std::string> templates_;  // per group, built once
};

}  // namespace

core::Result<core::ExtractedDocument> extract_log(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options) {
    return extract_log(path, bytes, sha256, options, LogOptions{});
}

core::Result<core::ExtractedDocument> extract_log(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options,
                                                  const LogOptions & log_options) {
    LogExtraction extraction(path, bytes, options, log_options);
    return extraction.run(sha256);
}

}  // namespace strongbox::ingest
