// HTML: visible text per block element (p, li, headings, table rows, ...), packed into chunks
// with the byte and line range of the source markup they came from.
//
// Design notes:
//  1. A tolerant scanner, not a validating parser: real pages are rarely well-formed. Tags are
//     recognised by name only; <script>, <style>, <head> (except <title>), <template> and
//     comments are skipped whole.
//  2. Block tags end the current block; inline tags only separate words where the source had
//     whitespace. Entities (named basics and numeric) are decoded.
//  3. h1-h6 become the "heading" metadata of the chunks that follow, as in Markdown.
#include "extractors.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace strongbox::ingest {
namespace {

struct Block {
    std::string text;
    size_t begin = 0;  // first source byte of its text
    size_t end = 0;    // one past the last source byte of its text
    bool heading = false;
};

bool is_block_tag(std::string_view name) {
    static constexpr std::array<std::string_view, 32> kBlocks = {
        "p",     "div", "br", "li",      "ul",      "ol",     "tr",         "table", "h1",    "h2",         "h3",
        "h4",    "h5",  "h6", "section", "article", "header", "footer",     "nav",   "aside", "blockquote", "pre",
        "title", "dt",  "dd", "dl",      "hr",      "figure", "figcaption", "main",  "body",  "html"};
    return std::find(kBlocks.begin(), kBlocks.end(), name) != kBlocks.end();
}

bool is_heading(std::string_view name) {
    return name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6';
}

void decode_entity(std::string_view bytes, size_t & i, std::string & out) {
    const size_t semi = bytes.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
        out += '&';
        ++i;
        return;
    }
    const std::string_view name = bytes.substr(i + 1, semi - i - 1);
    if (!name.empty() && name[0] == '#') {
        const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
        const std::string digits(name.substr(hex ? 2 : 1));
        char * endp = nullptr;
        const unsigned long cp = std::strtoul(digits.c_str(), &endp, hex ? 16 : 10);
        if (!digits.empty() && endp != nullptr && *endp == '\0' && cp > 0 && cp <= 0x10ffff) {
            core::append_utf8(out, static_cast<uint32_t>(cp));
            i = semi + 1;
            return;
        }
    }
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kNamed = {
        {{"amp", "&"},
         {"lt", "<"},
         {"gt", ">"},
         {"quot", "\""},
         {"apos", "'"},
         {"nbsp", " "},
         {"mdash", "\xE2\x80\x94"},
         {"ndash", "\xE2\x80\x93"}}};
    for (const auto & [n, v] : kNamed) {
        if (name == n) {
            out += v;
            i = semi + 1;
            return;
        }
    }
    out += '&';
    ++i;
}

std::vector<Block> scan_blocks(std::string_view bytes) {
    std::vector<Block> blocks;
    Block cur;
    bool have_text = false;
    bool in_head = false;
    bool in_title = false;
    auto close_block = [&](bool heading) {
        std::string text = core::collapse_whitespace(cur.text);
        if (!text.empty()) {
            cur.text = std::move(text);
            cur.heading = cur.heading || heading;
            blocks.push_back(std::move(cur));
        }
        cur = Block{};
        have_text = false;
    };
    size_t i = 0;
    while (i < bytes.size()) {
        const char c = bytes[i];
        if (c == '<') {
            if (bytes.substr(i, 4) == "<!--") {
                const size_t end = bytes.find("-->", i + 4);
                i = end == std::string_view::npos ? bytes.size() : end + 3;
                continue;
            }
            const size_t gt = bytes.find('>', i);
            if (gt == std::string_view::npos) {
                break;
            }
            std::string_view tag = bytes.substr(i + 1, gt - i - 1);
            const bool closing = !tag.empty() && tag[0] == '/';
            if (closing) {
                tag.remove_prefix(1);
            }
            size_t n = 0;
            while (n < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[n])) != 0)) {
                ++n;
            }
            const std::string name = core::ascii_lower(tag.substr(0, n));
            i = gt + 1;
            if (!closing && (name == "script" || name == "style" || name == "template")) {
                const std::string close = "</" + name;
                size_t end = i;
                while (true) {
                    end = bytes.find("</", end);
                    if (end == std::string_view::npos || core::ascii_lower(bytes.substr(end, close.size())) == close) {
                        break;
                    }
                    end += 2;
                }
                const size_t close_gt = end == std::string_view::npos ? std::string_view::npos : bytes.find('>', end);
                i = close_gt == std::string_view::npos ? bytes.size() : close_gt + 1;
                continue;
            }
            if (name == "head") {
                in_head = !closing;
            }
            if (name == "title") {
                in_title = !closing;
            }
            if (is_block_tag(name) || name == "td" || name == "th") {
                if (name == "td" || name == "th") {
                    if (have_text && !cur.text.empty() && cur.text.back() != ' ') {
                        cur.text += " | ";  // cells of one row stay in one block
                    }
                    continue;
                }
                close_block(closing && is_heading(name));
                if (!closing && is_heading(name)) {
                    cur.heading = true;
                }
            }
            continue;  // inline tags separate nothing: the source's own whitespace does
        }
        if (in_head && !in_title) {
            ++i;
            continue;
        }
        const size_t start = i;
        if (c == '&') {
            decode_entity(bytes, i, cur.text);
        } else {
            cur.text += c;
            ++i;
        }
        if (std::isspace(static_cast<unsigned char>(c)) == 0) {
            if (!have_text) {
                cur.begin = start;
                have_text = true;
            }
            cur.end = i;
        }
    }
    close_block(false);
    return blocks;
}

}  // namespace

core::Result<core::ExtractedDocument> extract_html(const std::filesystem::path & path, std::string_view bytes,
                                                   const std::string & sha256, const IngestOptions & options) {
    if (looks_binary(bytes)) {
        return core::Error(core::ErrorCode::kCorruptInput, "binary data, not HTML text");
    }
    core::ExtractedDocument doc = new_document(path, bytes, sha256, "text/html");
    const std::vector<size_t> starts = line_starts(bytes);
    doc.page_count = bytes.empty() ? 0 : static_cast<int>(starts.size());
    const core::Provenance base = base_provenance(path, sha256, options, "html-blocks", "1");
    const std::vector<Block> blocks = scan_blocks(bytes);
    if (!core::is_valid_utf8(bytes)) {
        doc.warnings.push_back("invalid UTF-8 repaired with U+FFFD");
    }
    const size_t max_chars = std::max<size_t>(options.max_chunk_chars, 16);
    std::string heading;
    core::Chunk cur;
    auto flush = [&]() {
        if (!cur.text.empty()) {
            doc.chunks.push_back(std::move(cur));
        }
        cur = core::Chunk{};
    };
    for (const Block & b : blocks) {
        const std::string text = core::sanitize_utf8(b.text);
        if (b.heading) {
            flush();
            heading = text;
        }
        if (!cur.text.empty() && cur.text.size() + 2 + text.size() > max_chars) {
            flush();
        }
        if (cur.text.empty()) {
            cur.provenance = base;
            cur.provenance.byte_start = static_cast<int64_t>(b.begin);
            cur.provenance.line_start = line_of(starts, b.begin);
            if (!heading.empty()) {
                cur.metadata = core::Json::object();
                cur.metadata["heading"] = heading;
            }
        } else {
            cur.text += "\n\n";
        }
        cur.text += text;
        cur.provenance.byte_end = static_cast<int64_t>(b.end);
        cur.provenance.line_end = line_of(starts, b.end > b.begin ? b.end - 1 : b.begin);
    }
    flush();
    if (doc.chunks.empty()) {
        doc.warnings.push_back("no visible text");
    }
    return doc;
}

}  // namespace strongbox::ingest
