#include "ingest_fuzz.h"

#include "extractors.h"
#include "log_extractor.h"
#include "require.h"

#include "strongbox/core/document.h"

#include <iterator>
#include <string>
#include <string_view>

namespace strongbox::ingest::fuzz {
namespace {

using strongbox::fuzz::require;

// What every extractor promises about a document it returns.
void check_document(const core::Result<core::ExtractedDocument> & doc, std::string_view bytes, const char * name) {
    if (!doc.ok()) {
        // A clear error: it names the file and gives a reason.
        require(doc.error().message().find(name) != std::string::npos);
        return;
    }
    require(doc->size_bytes == static_cast<int64_t>(bytes.size()));
    for (const core::Chunk & c : doc->chunks) {
        const core::Provenance & p = c.provenance;
        require(!c.text.empty());
        require(p.byte_start <= p.byte_end);
        require(p.byte_start < 0 || p.byte_end <= static_cast<int64_t>(bytes.size()));
        require(p.line_start <= p.line_end);
        require(p.page >= 0 && p.page <= doc->page_count);
        const auto n = static_cast<int64_t>(c.text.size());
        int64_t prev_end = 0;
        for (const core::Box & b : p.boxes) {
            require(b.x0 <= b.x1 && b.y0 <= b.y1);
            require(b.text_begin >= prev_end && b.text_begin <= b.text_end && b.text_end <= n);
            prev_end = b.text_end;
        }
        prev_end = 0;
        for (const core::Box & w : p.word_boxes) {
            require(w.x0 <= w.x1 && w.y0 <= w.y1);
            require(w.text_begin >= prev_end && w.text_begin < w.text_end && w.text_end <= n);
            prev_end = w.text_end;
            // Every word box lies in one line box, in its text and on the page.
            bool in_line = false;
            for (const core::Box & l : p.boxes) {
                in_line = in_line || (w.text_begin >= l.text_begin && w.text_end <= l.text_end && w.x0 >= l.x0 &&
                                      w.x1 <= l.x1 && w.y0 >= l.y0 && w.y1 <= l.y1);
            }
            require(in_line);
        }
        // The JSON form reads back to the same provenance.
        auto back = core::provenance_from_json(core::to_json(p));
        require(back.ok());
    }
}

}  // namespace

int log_file(const uint8_t * data, size_t size) {
    if (size == 0) {
        return 0;
    }
    static constexpr LogFormat kFormats[] = {
        LogFormat::kAuto,         LogFormat::kSyslog3164,     LogFormat::kSyslog5424,  LogFormat::kJsonLines,
        LogFormat::kAccessCommon, LogFormat::kAccessCombined, LogFormat::kApacheError, LogFormat::kNginxError,
        LogFormat::kAppLog,       LogFormat::kBglRas,         LogFormat::kFreeText,
    };
    LogOptions log_options;
    // Low nibble: the format (0 = detect); high nibble: how small the chunks are.
    log_options.format = kFormats[(data[0] & 0x0f) % std::size(kFormats)];
    log_options.assumed_year = 2026;
    IngestOptions options;
    options.max_chunk_chars = 64 + (data[0] >> 4) * 64;  // small chunks too, to reach the cutting paths
    options.log_lines_per_chunk = 1 + (data[0] >> 4);
    const std::string_view bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
    auto doc = extract_log("/fuzz/input.log", bytes, "0", options, log_options);
    check_document(doc, bytes, "input.log");
    return 0;
}

int pdf_file(const uint8_t * data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    IngestOptions options;
    options.ocr_enabled = false;
    options.max_chunk_chars = 200;
    // The password of tests/data/ingest/encrypted.pdf, so the corpus reaches decryption.
    options.pdf_password = "strongbox";
    auto doc = extract_pdf("/fuzz/input.pdf", bytes, "0", options);
    if (!doc.ok()) {
        return 0;  // extract_pdf leaves the file name to extract_file; it only has to fail cleanly
    }
    check_document(doc, bytes, "input.pdf");
    return 0;
}

}  // namespace strongbox::ingest::fuzz
