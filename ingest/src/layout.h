// Page layout: turns positioned words (from a PDF text layer or from OCR) into lines,
// paragraphs and chunks whose boxes map back to byte ranges of the chunk text.
//
// Coordinates are PDF points of the displayed page, origin top-left, y down. Words come in
// reading order (Poppler and Tesseract both emit them so); grouping only decides where lines
// and paragraphs break. Pure functions, thread-safe.
#pragma once

#include "strongbox/core/document.h"

#include <string>
#include <vector>

namespace strongbox::ingest {

struct Word {
    std::string text;  // UTF-8
    double x0 = 0;
    double y0 = 0;
    double x1 = 0;
    double y1 = 0;
    bool space_after = true;
    int rotation = 0;        // text direction in quarter turns clockwise (0 = left to right)
    double confidence = -1;  // OCR word confidence 0..100, -1 for a text layer
    int line_id = -1;        // set by OCR, which knows its lines; -1: grouped geometrically
    int paragraph_id = -1;   // likewise for paragraphs
};

struct Line {
    std::vector<Word> words;
    std::string text;
    core::Box box;  // text_begin/text_end unset here
};

struct Paragraph {
    std::vector<Line> lines;
};

std::vector<Line> group_lines(const std::vector<Word> & words);

std::vector<Paragraph> group_paragraphs(std::vector<Line> lines);

// Packs paragraphs into chunks of at most max_chars bytes where possible (paragraphs joined by
// a blank line, lines by a newline); each chunk gets a copy of `base` with one box per line.
// When the words carry OCR confidences, each chunk's provenance gets their mean and its metadata
// {"line_confidence": [...]}, the mean per line, in box order.
std::vector<core::Chunk>
build_chunks(const std::vector<Paragraph> & paragraphs, const core::Provenance & base, size_t max_chars);

}  // namespace strongbox::ingest
