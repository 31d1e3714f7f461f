// CSV (RFC 4180: quoted fields may hold commas, quotes and newlines): chunks of whole rows.
//
// Chunk text is the exact slice of the file holding its rows (invalid UTF-8 repaired), so byte
// and line ranges reproduce it; the header's column names go into every chunk's metadata
// ({"columns": [...], "rows": [first, last]}, rows 1-based counting the header) so a passage
// from the middle of the table still says what its fields are.
#include "extractors.h"

#include "strongbox/core/text.h"

namespace strongbox::ingest {
namespace {

struct Record {
    size_t begin = 0;
    size_t end = 0;  // before the line break that ends it
    std::vector<std::string> fields;
};

// Splits into records, honouring quotes; reports an unterminated quote.
core::Result<std::vector<Record>> parse_records(std::string_view bytes) {
    std::vector<Record> records;
    size_t i = 0;
    while (i < bytes.size()) {
        Record rec;
        rec.begin = i;
        std::string field;
        bool quoted = false;
        bool done = false;
        while (i < bytes.size() && !done) {
            const char c = bytes[i];
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < bytes.size() && bytes[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    quoted = false;
                } else {
                    field += c;
                }
                ++i;
                continue;
            }
            if (c == '"') {
                quoted = true;
                ++i;
            } else if (c == ',') {
                rec.fields.push_back(std::move(field));
                field.clear();
                ++i;
            } else if (c == '\n' || c == '\r') {
                rec.end = i;
                i += (c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ? 2 : 1;
                done = true;
            } else {
                field += c;
                ++i;
            }
        }
        if (quoted) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               "unterminated quoted field starting in the record at byte " + std::to_string(rec.begin));
        }
        if (!done) {
            rec.end = bytes.size();
        }
        rec.fields.push_back(std::move(field));
        const bool blank = rec.end == rec.begin;
        if (!blank) {
            records.push_back(std::move(rec));
        }
    }
    return records;
}

}  // namespace

core::Result<core::ExtractedDocument> extract_csv(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options) {
    if (looks_binary(bytes)) {
        return core::Error(core::ErrorCode::kCorruptInput, "binary data, not CSV text");
    }
    SB_ASSIGN_OR_RETURN(const std::vector<Record> records, parse_records(bytes));
    core::ExtractedDocument doc = new_document(path, bytes, sha256, "text/csv");
    const std::vector<size_t> starts = line_starts(bytes);
    doc.page_count = bytes.empty() ? 0 : static_cast<int>(starts.size());
    const core::Provenance base = base_provenance(path, sha256, options, "csv-rows", "1");
    if (records.empty()) {
        doc.warnings.push_back("no rows");
        return doc;
    }
    core::Json columns = core::Json::array();
    for (const std::string & f : records.front().fields) {
        columns.push_back(core::sanitize_utf8(core::trim(f)));
    }
    const size_t max_chars = std::max<size_t>(options.max_chunk_chars, 16);
    std::vector<int> bad_rows;
    size_t first = 0;
    while (first < records.size()) {
        size_t last = first;
        while (last + 1 < records.size() && records[last + 1].end - records[first].begin <= max_chars) {
            ++last;
        }
        core::Chunk chunk;
        const size_t b = records[first].begin;
        const size_t e = records[last].end;
        const std::string_view slice = bytes.substr(b, e - b);
        if (!core::is_valid_utf8(slice)) {
            for (size_t r = first; r <= last; ++r) {
                if (!core::is_valid_utf8(bytes.substr(records[r].begin, records[r].end - records[r].begin))) {
                    bad_rows.push_back(static_cast<int>(r) + 1);
                }
            }
        }
        chunk.text = core::sanitize_utf8(slice);
        chunk.provenance = base;
        chunk.provenance.byte_start = static_cast<int64_t>(b);
        chunk.provenance.byte_end = static_cast<int64_t>(e);
        chunk.provenance.line_start = line_of(starts, b);
        chunk.provenance.line_end = line_of(starts, e > b ? e - 1 : b);
        chunk.metadata = core::Json::object();
        chunk.metadata["columns"] = columns;
        core::Json rows = core::Json::array();
        rows.push_back(static_cast<int64_t>(first) + 1);
        rows.push_back(static_cast<int64_t>(last) + 1);
        chunk.metadata["rows"] = rows;
        doc.chunks.push_back(std::move(chunk));
        first = last + 1;
    }
    if (!bad_rows.empty()) {
        doc.warnings.push_back("invalid UTF-8 repaired with U+FFFD in rows " + describe_numbers(bad_rows));
    }
    return doc;
}

}  // namespace strongbox::ingest
