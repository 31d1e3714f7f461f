// Plain text and Markdown: chunks of whole paragraphs whose byte ranges reproduce the exact
// source bytes, and whose line ranges are 1-based and inclusive.
//
// Design notes:
//  1. A paragraph is a run of non-blank lines. In Markdown an ATX heading ("## Setup") outside a
//     fenced code block ends the chunk before it and becomes the "heading" metadata of the
//     chunks that follow, until the next heading.
//  2. Paragraphs are packed into a chunk while the chunk's byte range stays within
//     max_chunk_chars; the blank lines between them belong to the range, so chunk text is
//     always one contiguous slice of the file. Longer paragraphs are cut at line boundaries,
//     longer lines at whitespace (or a UTF-8 boundary).
//  3. Chunk text is the slice itself, except that invalid UTF-8 is replaced by U+FFFD (and a
//     warning names the lines), so the byte range, not the text, is the authority.
#include "extractors.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <optional>

namespace strongbox::ingest {
namespace {

struct SrcLine {
    size_t begin = 0;  // first byte of the line
    size_t end = 0;    // end of its content, before "\r\n" or "\n"
    bool blank = false;
};

std::vector<SrcLine> split_lines(std::string_view bytes) {
    std::vector<SrcLine> lines;
    size_t pos = 0;
    while (pos < bytes.size()) {
        size_t nl = bytes.find('\n', pos);
        size_t next = nl == std::string_view::npos ? bytes.size() : nl + 1;
        size_t end = nl == std::string_view::npos ? bytes.size() : nl;
        if (end > pos && bytes[end - 1] == '\r') {
            --end;
        }
        const std::string_view content = bytes.substr(pos, end - pos);
        lines.push_back({pos, end, core::trim(content).empty()});
        pos = next;
    }
    return lines;
}

// "## Install  ##" -> "Install"; nullopt when the line is not an ATX heading.
std::optional<std::string> atx_heading(std::string_view line) {
    size_t indent = 0;
    while (indent < line.size() && indent < 4 && line[indent] == ' ') {
        ++indent;
    }
    if (indent > 3) {
        return std::nullopt;
    }
    line.remove_prefix(indent);
    size_t level = 0;
    while (level < line.size() && line[level] == '#') {
        ++level;
    }
    if (level == 0 || level > 6 || (level < line.size() && line[level] != ' ' && line[level] != '\t')) {
        return std::nullopt;
    }
    std::string_view title = core::trim(line.substr(level));
    while (!title.empty() && title.back() == '#') {
        title.remove_suffix(1);
    }
    return std::string(core::trim(title));
}

bool is_fence(std::string_view line) {
    const std::string_view t = core::trim(line);
    return t.substr(0, 3) == "```" || t.substr(0, 3) == "~~~";
}

// Cut point in [begin, limit] at whitespace when there is some, else at a UTF-8 boundary.
size_t cut_point(std::string_view bytes, size_t begin, size_t limit) {
    for (size_t i = limit; i > begin + (limit - begin) / 2; --i) {
        if (bytes[i - 1] == ' ' || bytes[i - 1] == '\t') {
            return i;
        }
    }
    size_t i = limit;
    while (i > begin + 1 && (static_cast<unsigned char>(bytes[i]) & 0xc0) == 0x80) {
        --i;
    }
    return i;
}

class ChunkBuilder {
  public:
    ChunkBuilder(std::string_view bytes, const core::Provenance & base, size_t max_chars)
        : bytes_(bytes), base_(base), max_(std::max<size_t>(max_chars, 16)) {}

    // Adds [begin, end) covering lines first..last; starts a new chunk when it would not fit.
    void add(size_t begin, size_t end, int first, int last) {
        if (open_ && end - begin_ > max_) {
            flush();
        }
        if (!open_) {
            open_ = true;
            begin_ = begin;
            first_line_ = first;
        }
        end_ = end;
        last_line_ = last;
    }

    void flush() {
        if (!open_) {
            return;
        }
        core::Chunk chunk;
        chunk.text = core::sanitize_utf8(bytes_.substr(begin_, end_ - begin_));
        chunk.provenance = base_;
        chunk.provenance.line_start = first_line_;
        chunk.provenance.line_end = last_line_;
        chunk.provenance.byte_start = static_cast<int64_t>(begin_);
        chunk.provenance.byte_end = static_cast<int64_t>(end_);
        if (!heading_.empty()) {
            chunk.metadata = core::Json::object();
            chunk.metadata["heading"] = heading_;
        }
        chunks_.push_back(std::move(chunk));
        open_ = false;
    }

    size_t max() const { return max_; }

    bool open() const { return open_; }

    size_t open_begin() const { return begin_; }

    void set_heading(std::string heading) { heading_ = std::move(heading); }

    std::vector<core::Chunk> take() { return std::move(chunks_); }

  private:
    std::string_view bytes_;
    const core::Provenance & base_;
    size_t max_;
    bool open_ = false;
    size_t begin_ = 0;
    size_t end_ = 0;
    int first_line_ = 0;
    int last_line_ = 0;
    std::string heading_;
    std::vector<core::Chunk> chunks_;
};

}  // namespace

core::Result<core::ExtractedDocument> extract_text(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options) {
    if (looks_binary(bytes)) {
        return core::Error(core::ErrorCode::kCorruptInput, "binary data, not text");
    }
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool markdown = ext == ".md" || ext == ".markdown";
    core::ExtractedDocument doc = new_document(path, bytes, sha256, markdown ? "text/markdown" : "text/plain");
    const core::Provenance base = base_provenance(path, sha256, options, markdown ? "markdown" : "plain-text", "1");

    const std::vector<SrcLine> lines = split_lines(bytes);
    doc.page_count = static_cast<int>(lines.size());
    std::vector<int> bad_lines;
    ChunkBuilder builder(bytes, base, options.max_chunk_chars);
    bool in_fence = false;

    size_t i = 0;
    while (i < lines.size()) {
        const SrcLine & line = lines[i];
        if (!core::is_valid_utf8(bytes.substr(line.begin, line.end - line.begin))) {
            bad_lines.push_back(static_cast<int>(i) + 1);
        }
        if (line.blank) {
            ++i;
            continue;
        }
        // A paragraph: this line and the non-blank lines after it (a heading stands alone).
        size_t j = i;
        bool heading_here = false;
        while (j < lines.size() && !lines[j].blank) {
            const std::string_view text = bytes.substr(lines[j].begin, lines[j].end - lines[j].begin);
            if (markdown && is_fence(text)) {
                in_fence = !in_fence;
            } else if (markdown && !in_fence) {
                if (auto heading = atx_heading(text)) {
                    if (j == i) {
                        builder.flush();
                        builder.set_heading(*heading);
                        heading_here = true;
                    } else {
                        break;  // the heading starts the next paragraph
                    }
                }
            }
            if (j > i && !core::is_valid_utf8(text)) {
                bad_lines.push_back(static_cast<int>(j) + 1);
            }
            ++j;
            if (heading_here) {
                break;
            }
        }
        // Lines i..j-1 form the paragraph; add it whole when it fits, else line by line.
        const size_t para_begin = lines[i].begin;
        const size_t para_end = lines[j - 1].end;
        if (para_end - para_begin <= builder.max()) {
            builder.add(para_begin, para_end, static_cast<int>(i) + 1, static_cast<int>(j));
        } else {
            for (size_t k = i; k < j; ++k) {
                size_t b = lines[k].begin;
                const size_t e = lines[k].end;
                while (e - b > builder.max()) {
                    builder.flush();
                    const size_t cut = cut_point(bytes, b, b + builder.max());
                    builder.add(b, cut, static_cast<int>(k) + 1, static_cast<int>(k) + 1);
                    builder.flush();
                    b = cut;
                }
                if (e > b) {
                    builder.add(b, e, static_cast<int>(k) + 1, static_cast<int>(k) + 1);
                }
            }
        }
        i = j;
    }
    builder.flush();
    doc.chunks = builder.take();
    if (!bad_lines.empty()) {
        std::sort(bad_lines.begin(), bad_lines.end());
        doc.warnings.push_back("invalid UTF-8 repaired with U+FFFD on line" +
                               std::string(bad_lines.size() > 1 ? "s " : " ") + describe_numbers(bad_lines));
    }
    if (doc.chunks.empty()) {
        doc.warnings.push_back("no text");
    }
    return doc;
}

}  // namespace strongbox::ingest
