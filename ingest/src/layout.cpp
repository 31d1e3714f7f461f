#include "layout.h"

#include <algorithm>
#include <cmath>

namespace strongbox::ingest {
namespace {

// A word's extent along the text direction (flow) and across it (perp), so one grouping rule
// serves text in any of the four directions.
struct Span {
    double f0, f1, p0, p1;
};

Span span_of(double x0, double y0, double x1, double y1, int rotation) {
    switch (rotation & 3) {
    case 1:
        return {y0, y1, -x1, -x0};
    case 2:
        return {-x1, -x0, -y1, -y0};
    case 3:
        return {-y1, -y0, x0, x1};
    default:
        return {x0, x1, y0, y1};
    }
}

Span span_of(const Word & w) {
    return span_of(w.x0, w.y0, w.x1, w.y1, w.rotation);
}

Span span_of(const Line & l) {
    return span_of(l.box.x0, l.box.y0, l.box.x1, l.box.y1, l.words.empty() ? 0 : l.words.front().rotation);
}

double round_tenth(double v) {
    return std::round(v * 10) / 10;
}

void extend(core::Box & b, const Word & w, bool first) {
    if (first) {
        b = core::Box{w.x0, w.y0, w.x1, w.y1, -1, -1};
        return;
    }
    b.x0 = std::min(b.x0, w.x0);
    b.y0 = std::min(b.y0, w.y0);
    b.x1 = std::max(b.x1, w.x1);
    b.y1 = std::max(b.y1, w.y1);
}

// Poppler clears space_after at the end of each of its own lines, which may sit side by side
// on one of ours (table cells): a visible gap separates words too.
bool needs_space(const Word & a, const Word & b) {
    if (a.space_after) {
        return true;
    }
    const Span sa = span_of(a);
    const Span sb = span_of(b);
    return sb.f0 - sa.f1 > 0.15 * std::min(sa.p1 - sa.p0, sb.p1 - sb.p0);
}

void finish_line(Line & line) {
    line.text.clear();
    line.word_begin.clear();
    for (size_t i = 0; i < line.words.size(); ++i) {
        line.word_begin.push_back(line.text.size());
        line.text += line.words[i].text;
        if (i + 1 < line.words.size() && needs_space(line.words[i], line.words[i + 1])) {
            line.text += ' ';
        }
        extend(line.box, line.words[i], i == 0);
    }
}

bool continues_line(const Line & line, const Word & w) {
    const Word & last = line.words.back();
    if (last.rotation != w.rotation) {
        return false;
    }
    if (last.line_id >= 0 || w.line_id >= 0) {
        return last.line_id == w.line_id;
    }
    const Span a = span_of(last);
    const Span b = span_of(w);
    const double ha = a.p1 - a.p0;
    const double hb = b.p1 - b.p0;
    const double overlap = std::min(a.p1, b.p1) - std::max(a.p0, b.p0);
    if (overlap < 0.5 * std::min(ha, hb)) {
        return false;
    }
    // Going back along the line means a new line at the same height (the next column).
    return b.f0 >= a.f1 - 0.5 * std::max(ha, hb);
}

bool starts_paragraph(const Line & prev, const Line & next) {
    const Word & a_word = prev.words.front();
    const Word & b_word = next.words.front();
    if (a_word.rotation != b_word.rotation) {
        return true;
    }
    if (a_word.paragraph_id >= 0 || b_word.paragraph_id >= 0) {
        return a_word.paragraph_id != b_word.paragraph_id;
    }
    const Span a = span_of(prev);
    const Span b = span_of(next);
    const double ha = a.p1 - a.p0;
    const double hb = b.p1 - b.p0;
    if (b.p0 < a.p0) {
        return true;  // moved up: a new column or block
    }
    if (std::max(ha, hb) > 1.3 * std::min(ha, hb)) {
        return true;  // font size changed: heading or caption
    }
    if (b.p0 - a.p1 > 0.7 * std::min(ha, hb)) {
        return true;  // more than ordinary leading
    }
    // Side by side without overlapping along the flow: separate blocks.
    return std::min(a.f1, b.f1) <= std::max(a.f0, b.f0);
}

// Splits a line longer than max_chars at word boundaries so every chunk can honour the limit.
std::vector<Line> split_long_line(const Line & line, size_t max_chars) {
    if (line.text.size() <= max_chars || line.words.size() < 2) {
        return {line};
    }
    std::vector<Line> out;
    Line cur;
    size_t len = 0;
    for (const Word & w : line.words) {
        if (!cur.words.empty() && len + 1 + w.text.size() > max_chars) {
            finish_line(cur);
            out.push_back(std::move(cur));
            cur = Line{};
            len = 0;
        }
        len += (cur.words.empty() ? 0 : 1) + w.text.size();
        cur.words.push_back(w);
    }
    if (!cur.words.empty()) {
        finish_line(cur);
        out.push_back(std::move(cur));
    }
    return out;
}

}  // namespace

std::vector<size_t> order_blocks(const std::vector<TextBlock> & blocks) {
    // A body column spans at least this share of the height of the page's text.
    constexpr double kBodyShare = 0.25;
    std::vector<size_t> order;
    if (blocks.empty()) {
        return order;
    }
    double top = blocks[0].y0;
    double bottom = blocks[0].y1;
    for (const TextBlock & b : blocks) {
        top = std::min(top, b.y0);
        bottom = std::max(bottom, b.y1);
    }
    const double text_height = bottom - top;
    auto is_body = [&](size_t i) {
        return blocks[i].y1 - blocks[i].y0 >= kBodyShare * text_height;
    };
    auto side_by_side = [&](size_t a, size_t b) {
        return std::min(blocks[a].x1, blocks[b].x1) <= std::max(blocks[a].x0, blocks[b].x0);
    };
    std::vector<size_t> deferred;
    size_t last_body = blocks.size();
    for (size_t i = 0; i < blocks.size(); ++i) {
        if (is_body(i)) {
            order.push_back(i);
            last_body = i;
            continue;
        }
        size_t next_body = i + 1;
        while (next_body < blocks.size() && !is_body(next_body)) {
            ++next_body;
        }
        // The first line beside a drop cap is often a block of its own, reported after its column.
        const bool heads_previous =
            last_body < blocks.size() && !side_by_side(i, last_body) && blocks[i].y0 < blocks[last_body].y0;
        if (heads_previous) {
            order.insert(std::find(order.begin(), order.end(), last_body), i);
            continue;
        }
        const bool between_columns =
            last_body < blocks.size() && next_body < blocks.size() && side_by_side(last_body, next_body);
        const bool heads_next = next_body < blocks.size() && !side_by_side(i, next_body) &&
                                blocks[i].y1 <= blocks[next_body].y0 + 0.02 * text_height;
        (between_columns && !heads_next ? deferred : order).push_back(i);
    }
    // Deferred blocks join whatever follows the last column (a title or credits under the
    // columns) top to bottom.
    std::stable_sort(deferred.begin(), deferred.end(), [&](size_t a, size_t b) { return blocks[a].y0 < blocks[b].y0; });
    const auto last_column = std::find(order.begin(), order.end(), last_body);
    auto tail = last_column == order.end() ? order.end() : last_column + 1;
    for (size_t d : deferred) {
        tail = std::find_if(tail, order.end(), [&](size_t k) { return blocks[k].y0 > blocks[d].y0; });
        tail = order.insert(tail, d) + 1;
    }
    return order;
}

std::vector<Line> group_lines(const std::vector<Word> & words) {
    std::vector<Line> lines;
    for (const Word & w : words) {
        if (w.text.empty()) {
            continue;
        }
        if (lines.empty() || !continues_line(lines.back(), w)) {
            if (!lines.empty()) {
                finish_line(lines.back());
            }
            lines.emplace_back();
        }
        lines.back().words.push_back(w);
    }
    if (!lines.empty()) {
        finish_line(lines.back());
    }
    return lines;
}

std::vector<Paragraph> group_paragraphs(std::vector<Line> lines) {
    std::vector<Paragraph> paragraphs;
    for (Line & line : lines) {
        if (line.words.empty()) {
            continue;
        }
        if (paragraphs.empty() || starts_paragraph(paragraphs.back().lines.back(), line)) {
            paragraphs.emplace_back();
        }
        paragraphs.back().lines.push_back(std::move(line));
    }
    return paragraphs;
}

std::vector<core::Chunk> build_chunks(const std::vector<Paragraph> & paragraphs, const core::Provenance & base,
                                      size_t max_chars) {
    max_chars = std::max<size_t>(max_chars, 16);
    std::vector<core::Chunk> chunks;
    core::Chunk cur;
    double conf_sum = 0;
    size_t conf_n = 0;

    auto flush = [&]() {
        if (cur.text.empty()) {
            return;
        }
        cur.provenance.ocr_confidence = conf_n > 0 ? conf_sum / static_cast<double>(conf_n) : base.ocr_confidence;
        chunks.push_back(std::move(cur));
        cur = core::Chunk{};
        conf_sum = 0;
        conf_n = 0;
    };

    for (const Paragraph & para : paragraphs) {
        std::vector<Line> pieces;
        size_t para_len = 0;
        for (const Line & line : para.lines) {
            for (Line & piece : split_long_line(line, max_chars)) {
                para_len += (pieces.empty() ? 0 : 1) + piece.text.size();
                pieces.push_back(std::move(piece));
            }
        }
        if (!cur.text.empty() && cur.text.size() + 2 + para_len > max_chars) {
            flush();
        }
        for (size_t i = 0; i < pieces.size(); ++i) {
            const Line & line = pieces[i];
            std::string sep = cur.text.empty() ? "" : (i == 0 ? "\n\n" : "\n");
            if (!cur.text.empty() && cur.text.size() + sep.size() + line.text.size() > max_chars) {
                flush();
                sep.clear();
            }
            if (cur.text.empty()) {
                cur.provenance = base;
                cur.provenance.boxes.clear();
                cur.provenance.word_boxes.clear();
            }
            cur.text += sep;
            core::Box box = line.box;
            // Rounded like the word boxes (rounding keeps order, so words stay inside their line).
            box.x0 = round_tenth(box.x0);
            box.y0 = round_tenth(box.y0);
            box.x1 = round_tenth(box.x1);
            box.y1 = round_tenth(box.y1);
            box.text_begin = static_cast<int64_t>(cur.text.size());
            cur.text += line.text;
            box.text_end = static_cast<int64_t>(cur.text.size());
            double line_sum = 0;
            size_t line_n = 0;
            for (size_t k = 0; k < line.words.size(); ++k) {
                const Word & w = line.words[k];
                if (w.confidence >= 0) {
                    line_sum += w.confidence;
                    ++line_n;
                }
                if (line.words.size() > 1) {
                    const auto begin = box.text_begin + static_cast<int64_t>(line.word_begin[k]);
                    cur.provenance.word_boxes.push_back(core::Box{round_tenth(w.x0), round_tenth(w.y0),
                                                                  round_tenth(w.x1), round_tenth(w.y1), begin,
                                                                  begin + static_cast<int64_t>(w.text.size()),
                                                                  w.confidence >= 0 ? round_tenth(w.confidence) : -1});
                }
            }
            if (line_n > 0) {
                box.confidence = round_tenth(line_sum / static_cast<double>(line_n));
                conf_sum += line_sum;
                conf_n += line_n;
            }
            cur.provenance.boxes.push_back(box);
        }
    }
    flush();
    return chunks;
}

}  // namespace strongbox::ingest
