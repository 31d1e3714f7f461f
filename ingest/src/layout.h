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
    std::vector<size_t> word_begin;  // byte offset of each word in text
    core::Box box;                   // text_begin/text_end unset here
};

struct Paragraph {
    std::vector<Line> lines;
};

// A block of text as OCR found it, in the coordinates of the upright page image.
struct TextBlock {
    double x0 = 0;
    double y0 = 0;
    double x1 = 0;
    double y1 = 0;
};

// Reading order of OCR blocks: indices into `blocks`, which come in the engine's order. The
// engine reads each column top to bottom, but a caption or page footer that sits between two
// columns is read where the engine meets it, cutting the text that runs on across the column
// break in two. Such blocks (not body columns, after one column and before the next, and not a
// heading on top of the next) move after the columns, merged top to bottom with what the engine
// reads under them. A block reported after a column but lying above its top (the first line
// beside a drop cap) goes before that column. A page without two side by side columns keeps the
// engine's order.
std::vector<size_t> order_blocks(const std::vector<TextBlock> & blocks);

std::vector<Line> group_lines(const std::vector<Word> & words);

std::vector<Paragraph> group_paragraphs(std::vector<Line> lines);

// Packs paragraphs into chunks of at most max_chars bytes where possible (paragraphs joined by
// a blank line, lines by a newline); each chunk gets a copy of `base` with one box per line and
// one word box per word of every line that has more than one (a one-word line's box is its
// word's). Boxes are rounded to 0.1 pt, which keeps provenance small and is finer than any
// highlight needs. When the words carry OCR confidences, each word box gets its word's, each
// line box the mean of its words, and the chunk's provenance the mean of all its words.
std::vector<core::Chunk> build_chunks(const std::vector<Paragraph> & paragraphs, const core::Provenance & base,
                                      size_t max_chars);

}  // namespace strongbox::ingest
