// Korean "scans" made by the test: lines of Hangul rendered with a real Korean font (Debian's
// fonts-nanum, through FreeType) at a scanner's resolution, then degraded as real scans are:
// turned a quarter, speckled with noise and saved as a low-quality JPEG.
#pragma once

#include "ocr.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <leptonica/allheaders.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace strongbox::ingest::testing {

inline const char * kNanumGothic = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf";

inline std::vector<uint32_t> code_points(const std::string & s) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<uint8_t>(s[i]);
        const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
        for (int k = 1; k < n && i + static_cast<size_t>(k) < s.size(); ++k) {
            cp = (cp << 6) | (static_cast<uint8_t>(s[i + static_cast<size_t>(k)]) & 0x3F);
        }
        out.push_back(cp);
        i += static_cast<size_t>(n);
    }
    return out;
}

// The lines in 12 pt type at `dpi`, black on white, with one-inch margins.
inline GrayImage render_lines(const std::vector<std::string> & lines, double dpi) {
    FT_Library library = nullptr;
    FT_Face face = nullptr;
    if (FT_Init_FreeType(&library) != 0 || FT_New_Face(library, kNanumGothic, 0, &face) != 0) {
        throw std::runtime_error(std::string("cannot load ") + kNanumGothic + " (fonts-nanum)");
    }
    const auto res = static_cast<FT_UInt>(dpi);
    FT_Set_Char_Size(face, 0, 12 * 64, res, res);
    const int margin = static_cast<int>(dpi);
    const int line_height = static_cast<int>(12.0 * 1.8 * dpi / 72.0);
    GrayImage img;
    img.dpi = dpi;
    img.width = static_cast<int>(8.27 * dpi);
    img.height = 2 * margin + line_height * static_cast<int>(lines.size());
    img.pixels.assign(static_cast<size_t>(img.width) * static_cast<size_t>(img.height), 255);
    for (size_t l = 0; l < lines.size(); ++l) {
        int pen = margin;
        const int baseline = margin + line_height * static_cast<int>(l + 1);
        for (uint32_t cp : code_points(lines[l])) {
            if (FT_Load_Char(face, cp, FT_LOAD_RENDER) != 0) {
                continue;
            }
            const FT_GlyphSlot g = face->glyph;
            for (unsigned y = 0; y < g->bitmap.rows; ++y) {
                for (unsigned x = 0; x < g->bitmap.width; ++x) {
                    const int px = pen + g->bitmap_left + static_cast<int>(x);
                    const int py = baseline - g->bitmap_top + static_cast<int>(y);
                    if (px >= 0 && py >= 0 && px < img.width && py < img.height) {
                        uint8_t & p = img.pixels[static_cast<size_t>(py) * static_cast<size_t>(img.width) +
                                                 static_cast<size_t>(px)];
                        p = std::min<uint8_t>(
                            p, static_cast<uint8_t>(255 -
                                                    g->bitmap.buffer[y * static_cast<unsigned>(g->bitmap.pitch) + x]));
                    }
                }
            }
            pen += static_cast<int>(g->advance.x >> 6);
        }
    }
    FT_Done_Face(face);
    FT_Done_FreeType(library);
    return img;
}

// The page turned a quarter to the left, as a sheet fed sideways.
inline GrayImage turned_left(const GrayImage & in) {
    GrayImage out;
    out.dpi = in.dpi;
    out.width = in.height;
    out.height = in.width;
    out.pixels.resize(in.pixels.size());
    for (int y = 0; y < in.height; ++y) {
        for (int x = 0; x < in.width; ++x) {
            // (x, y) goes to (y, width - 1 - x)
            out.pixels[static_cast<size_t>(in.width - 1 - x) * static_cast<size_t>(out.width) +
                       static_cast<size_t>(y)] =
                in.pixels[static_cast<size_t>(y) * static_cast<size_t>(in.width) + static_cast<size_t>(x)];
        }
    }
    return out;
}

// Gaussian grain of `sigma` grey levels and a `speckle` share of black or white specks.
inline GrayImage noisy(GrayImage img, double sigma, double speckle, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> grain(0, sigma);
    std::uniform_real_distribution<double> u(0, 1);
    for (uint8_t & p : img.pixels) {
        double v = p + grain(rng);
        if (u(rng) < speckle) {
            v = u(rng) < 0.5 ? 0 : 255;
        }
        p = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
    }
    return img;
}

// The image saved as a JPEG of `quality` and read back.
inline GrayImage jpeg_round_trip(const GrayImage & img, int quality) {
    Pix * pix = pixCreate(img.width, img.height, 8);
    for (int y = 0; y < img.height; ++y) {
        for (int x = 0; x < img.width; ++x) {
            pixSetPixel(pix, x, y,
                        img.pixels[static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)]);
        }
    }
    l_uint8 * bytes = nullptr;
    size_t size = 0;
    const bool written = pixWriteMemJpeg(&bytes, &size, pix, quality, 0) == 0;
    pixDestroy(&pix);
    if (!written) {
        throw std::runtime_error("cannot encode the JPEG");
    }
    Pix * back = pixReadMemJpeg(bytes, size, 0, 1, nullptr, 0);
    lept_free(bytes);
    if (back == nullptr) {
        throw std::runtime_error("cannot decode the JPEG");
    }
    GrayImage out = img;
    for (int y = 0; y < img.height; ++y) {
        for (int x = 0; x < img.width; ++x) {
            l_uint32 v = 0;
            pixGetPixel(back, x, y, &v);
            out.pixels[static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)] =
                static_cast<uint8_t>(v);
        }
    }
    pixDestroy(&back);
    return out;
}

}  // namespace strongbox::ingest::testing
