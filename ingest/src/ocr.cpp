// Tesseract OCR with orientation detection and deskew.
//
// Design notes:
//  1. Each engine owns two TessBaseAPI instances: one for the language(s) and one for "osd"
//     (orientation and script detection needs the legacy model in osd.traineddata). When OSD is
//     unavailable pages are read as they are.
//  2. The image is turned upright (quarter turns from OSD, only when OSD is confident), then
//     deskewed (Leptonica's skew search on a binarised copy, rotation about the centre). Word
//     boxes are mapped back through the inverse of both, so they land on the displayed page.
//  3. Tesseract and Leptonica print diagnostics to stderr; both are silenced (debug_file,
//     message severity) so the user sees only our warnings.
//  4. Words come back block by block in reading order (order_blocks in layout.h): a caption or
//     page footer that Tesseract reads between two columns goes after them, so the sentence
//     that runs on from one column to the next stays whole. On the magazine page 8087_054.3B
//     that takes the character error rate from 0.078 (Tesseract's order) to 0.019.
//  5. The language follows the script OSD sees: a page it reads as Hangul is recognised with
//     kor+eng (a second TessBaseAPI, loaded on the first such page) when kor.traineddata is
//     installed and the configured language has no Korean of its own, so Korean scans need no
//     setting; every other page uses the configured language. Hangul pages are segmented as one
//     column: Tesseract's automatic layout analysis cuts Korean lines at the wide gaps between
//     words into separate blocks (CER 0.66 on our generated Korean pages, 0.05 as one column).
#include "ocr.h"

#include "strongbox/core/text.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace strongbox::ingest {
namespace {

constexpr float kMinOsdConfidence = 2.0F;  // below this, OSD guesses; keep the page as it is
// OSD's script confidence is a margin over the runner-up: 0.14-0.20 on Korean pages at 200 dpi
// (clean, turned, noisy, JPEG). Reading a page with kor+eng by mistake still reads English.
constexpr float kMinScriptConfidence = 0.1F;
constexpr const char * kHangulLanguage = "kor+eng";
constexpr float kMinSkewConfidence = 2.5F;  // Leptonica's score for a trustworthy skew angle
constexpr float kMinSkewDegrees = 0.1F;
constexpr float kSkewSearchDegrees = 12.0F;  // scanned and CTM-skewed pages stay within this

struct PixDeleter {
    void operator()(Pix * p) const { pixDestroy(&p); }
};

using PixPtr = std::unique_ptr<Pix, PixDeleter>;

void silence_leptonica() {
    static std::once_flag once;
    std::call_once(once, [] { setMsgSeverity(L_SEVERITY_NONE); });
}

PixPtr to_pix(const GrayImage & image) {
    PixPtr pix(pixCreate(image.width, image.height, 8));
    if (!pix) {
        return pix;
    }
    l_uint32 * data = pixGetData(pix.get());
    const l_int32 wpl = pixGetWpl(pix.get());
    for (int y = 0; y < image.height; ++y) {
        l_uint32 * line = data + static_cast<ptrdiff_t>(y) * wpl;
        const uint8_t * src = image.pixels.data() + static_cast<ptrdiff_t>(y) * image.width;
        for (int x = 0; x < image.width; ++x) {
            SET_DATA_BYTE(line, x, src[x]);
        }
    }
    const auto dpi = static_cast<l_int32>(std::lround(image.dpi));
    pixSetResolution(pix.get(), dpi, dpi);
    return pix;
}

// Maps a point of the processed image (turned by `quads` clockwise quarter turns, then rotated
// by `skew` radians clockwise about its centre) back to the original image.
struct InverseMap {
    int quads = 0;
    double skew = 0;
    double width = 0;  // original image
    double height = 0;

    void apply(double u, double v, double & x, double & y) const {
        const bool sideways = quads % 2 == 1;
        const double wq = sideways ? height : width;
        const double hq = sideways ? width : height;
        if (skew != 0) {
            const double cx = wq / 2;
            const double cy = hq / 2;
            const double c = std::cos(skew);
            const double s = std::sin(skew);
            const double du = u - cx;
            const double dv = v - cy;
            u = c * du + s * dv + cx;
            v = -s * du + c * dv + cy;
        }
        switch (quads) {
        case 1:
            x = v;
            y = height - u;
            break;
        case 2:
            x = width - u;
            y = height - v;
            break;
        case 3:
            x = width - v;
            y = u;
            break;
        default:
            x = u;
            y = v;
        }
    }
};

}  // namespace

struct OcrEngine::Impl {
    std::string tessdata;
    std::string language;
    tesseract::TessBaseAPI api;
    tesseract::TessBaseAPI osd;
    bool osd_ok = false;
    tesseract::TessBaseAPI hangul;  // design note 5
    enum class State { kUntried, kReady, kUnavailable } hangul_state = State::kUntried;

    // The engine for pages OSD reads as Hangul, or null when Korean cannot be read here.
    tesseract::TessBaseAPI * hangul_engine() {
        if (hangul_state == State::kUntried) {
            std::error_code ec;
            const bool installed =
                std::filesystem::is_regular_file(std::filesystem::path(tessdata) / "kor.traineddata", ec);
            hangul.SetVariable("debug_file", "/dev/null");
            hangul_state = installed && hangul.Init(tessdata.c_str(), kHangulLanguage, tesseract::OEM_DEFAULT) == 0
                               ? State::kReady
                               : State::kUnavailable;
            hangul.SetVariable("debug_file", "/dev/null");
        }
        return hangul_state == State::kReady ? &hangul : nullptr;
    }
};

OcrEngine::OcrEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OcrEngine::~OcrEngine() {
    if (impl_) {
        impl_->api.End();
        impl_->osd.End();
        impl_->hangul.End();
    }
}

core::Result<GrayImage> read_image(const std::string & path) {
    silence_leptonica();
    PixPtr pix(pixRead(path.c_str()));
    if (!pix) {
        return core::Error(core::ErrorCode::kCorruptInput, path + ": not an image Leptonica can read");
    }
    PixPtr gray(pixConvertTo8(pix.get(), 0));
    if (!gray) {
        return core::Error(core::ErrorCode::kCorruptInput, path + ": image cannot be converted to grey");
    }
    GrayImage out;
    out.width = static_cast<int>(pixGetWidth(gray.get()));
    out.height = static_cast<int>(pixGetHeight(gray.get()));
    const l_int32 xres = pixGetXRes(pix.get());
    out.dpi = xres > 0 ? xres : 300;
    out.pixels.resize(static_cast<size_t>(out.width) * static_cast<size_t>(out.height));
    const l_uint32 * data = pixGetData(gray.get());
    const l_int32 wpl = pixGetWpl(gray.get());
    for (int y = 0; y < out.height; ++y) {
        const l_uint32 * line = data + static_cast<ptrdiff_t>(y) * wpl;
        for (int x = 0; x < out.width; ++x) {
            out.pixels[static_cast<size_t>(y) * static_cast<size_t>(out.width) + static_cast<size_t>(x)] =
                static_cast<uint8_t>(GET_DATA_BYTE(line, x));
        }
    }
    return out;
}

std::string tesseract_version() {
    return tesseract::TessBaseAPI::Version();
}

core::Result<std::string> find_tessdata(const std::string & language, const std::string & tessdata_dir) {
    std::vector<std::string> candidates;
    if (!tessdata_dir.empty()) {
        candidates.push_back(tessdata_dir);
    } else {
        if (const char * env = std::getenv("TESSDATA_PREFIX"); env != nullptr && *env != '\0') {
            candidates.emplace_back(env);
            candidates.push_back(std::string(env) + "/tessdata");
        }
        candidates.emplace_back("/usr/share/tesseract-ocr/5/tessdata");
        candidates.emplace_back("/usr/share/tesseract-ocr/4.00/tessdata");
        candidates.emplace_back("/usr/share/tessdata");
        candidates.emplace_back("/usr/local/share/tessdata");
    }
    if (language.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "no OCR language given");
    }
    const auto languages = core::split(language, '+');
    std::error_code ec;
    for (const std::string & dir : candidates) {
        bool all = true;
        for (std::string_view lang : languages) {
            all = all && std::filesystem::is_regular_file(
                             std::filesystem::path(dir) / (std::string(lang) + ".traineddata"), ec);
        }
        if (all) {
            return dir;
        }
    }
    for (std::string_view lang : languages) {
        bool found = false;
        for (const std::string & dir : candidates) {
            found = found || std::filesystem::is_regular_file(
                                 std::filesystem::path(dir) / (std::string(lang) + ".traineddata"), ec);
        }
        if (!found) {
            return core::Error(core::ErrorCode::kNotFound, "OCR language \"" + std::string(lang) +
                                                               "\" is not installed (no " + std::string(lang) +
                                                               ".traineddata in " + candidates.front() + ")");
        }
    }
    return core::Error(core::ErrorCode::kNotFound,
                       "OCR languages \"" + language + "\" are not installed together in one tessdata folder");
}

core::Result<std::unique_ptr<OcrEngine>> OcrEngine::create(const std::string & language,
                                                           const std::string & tessdata_dir) {
    silence_leptonica();
    SB_ASSIGN_OR_RETURN(const std::string dir, find_tessdata(language, tessdata_dir));
    auto impl = std::make_unique<Impl>();
    impl->tessdata = dir;
    impl->language = language;
    impl->api.SetVariable("debug_file", "/dev/null");
    if (impl->api.Init(dir.c_str(), language.c_str(), tesseract::OEM_DEFAULT) != 0) {
        return core::Error(core::ErrorCode::kInternal,
                           "Tesseract could not load language \"" + language + "\" from " + dir);
    }
    impl->api.SetVariable("debug_file", "/dev/null");
    std::error_code ec;
    if (std::filesystem::is_regular_file(std::filesystem::path(dir) / "osd.traineddata", ec)) {
        impl->osd.SetVariable("debug_file", "/dev/null");
        impl->osd_ok = impl->osd.Init(dir.c_str(), "osd", tesseract::OEM_TESSERACT_ONLY) == 0;
        if (impl->osd_ok) {
            impl->osd.SetVariable("debug_file", "/dev/null");
            impl->osd.SetPageSegMode(tesseract::PSM_OSD_ONLY);
        }
    }
    return std::unique_ptr<OcrEngine>(new OcrEngine(std::move(impl)));
}

core::Result<OcrResult> OcrEngine::recognize(const GrayImage & image) {
    OcrResult result;
    if (image.empty()) {
        return result;
    }
    PixPtr pix = to_pix(image);
    if (!pix) {
        return core::Error(core::ErrorCode::kResourceExhausted, "cannot allocate the page image for OCR");
    }
    const auto dpi = static_cast<int>(std::lround(image.dpi));
    InverseMap map;
    map.width = image.width;
    map.height = image.height;

    tesseract::TessBaseAPI * engine = &impl_->api;
    tesseract::PageSegMode segmentation = tesseract::PSM_AUTO;
    result.language = impl_->language;
    if (impl_->osd_ok) {
        impl_->osd.SetImage(pix.get());
        impl_->osd.SetSourceResolution(dpi);
        int orient_deg = 0;
        float orient_conf = 0;
        const char * script = nullptr;
        float script_conf = 0;
        if (impl_->osd.DetectOrientationScript(&orient_deg, &orient_conf, &script, &script_conf) &&
            orient_conf >= kMinOsdConfidence) {
            // orient_deg is how far the content is turned counter-clockwise; turning it upright
            // takes the clockwise complement (Tesseract's own "Rotate:" figure).
            map.quads = ((360 - orient_deg) % 360) / 90;
        }
        const bool hangul_page = script != nullptr && script_conf >= kMinScriptConfidence &&
                                 (std::string_view(script) == "Korean" || std::string_view(script) == "Hangul") &&
                                 impl_->language.find("kor") == std::string::npos;
        if (hangul_page) {
            if (tesseract::TessBaseAPI * korean = impl_->hangul_engine(); korean != nullptr) {
                engine = korean;
                segmentation = tesseract::PSM_SINGLE_COLUMN;
                result.language = kHangulLanguage;
            }
        }
        impl_->osd.Clear();
    }
    if (map.quads != 0) {
        PixPtr turned(pixRotateOrth(pix.get(), map.quads));
        if (turned) {
            pix = std::move(turned);
        } else {
            map.quads = 0;
        }
    }

    PixPtr binary(pixConvertTo1(pix.get(), 128));
    float angle = 0;
    float conf = 0;
    if (binary && pixFindSkewSweepAndSearch(binary.get(), &angle, &conf, 4, 2, kSkewSearchDegrees, 1.0F, 0.01F) == 0 &&
        conf >= kMinSkewConfidence && std::fabs(angle) >= kMinSkewDegrees) {
        const double radians = angle * M_PI / 180.0;
        PixPtr straight(
            pixRotate(pix.get(), static_cast<l_float32>(radians), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0));
        if (straight && pixGetWidth(straight.get()) == pixGetWidth(pix.get()) &&
            pixGetHeight(straight.get()) == pixGetHeight(pix.get())) {
            pix = std::move(straight);
            map.skew = radians;
            result.skew_degrees = angle;
        }
    }
    result.rotation_degrees = map.quads * 90;

    tesseract::TessBaseAPI & api = *engine;
    api.SetPageSegMode(segmentation);
    api.SetImage(pix.get());
    api.SetSourceResolution(dpi);
    if (api.Recognize(nullptr) != 0) {
        api.Clear();
        return core::Error(core::ErrorCode::kInternal, "Tesseract failed to recognise the page");
    }
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    const double to_points = 72.0 / image.dpi;
    // Text that reads upright after a clockwise turn of q quarters runs (4 - q) quarters
    // clockwise on the displayed page.
    const int text_rotation = (4 - map.quads) % 4;
    int line_id = -1;
    int paragraph_id = -1;
    double conf_sum = 0;
    std::vector<TextBlock> blocks;   // upright image coordinates, in Tesseract's order
    std::vector<size_t> word_block;  // block of each word
    int block_id = -1;               // Tesseract's block of the current word
    int blocks_seen = -1;            // the last block a word with text came from
    if (it) {
        do {
            if (it->Empty(tesseract::RIL_WORD)) {
                continue;
            }
            const bool new_block = it->IsAtBeginningOf(tesseract::RIL_BLOCK) || block_id < 0;
            block_id += new_block ? 1 : 0;
            if (new_block || it->IsAtBeginningOf(tesseract::RIL_PARA) || paragraph_id < 0) {
                ++paragraph_id;
            }
            const bool new_line = it->IsAtBeginningOf(tesseract::RIL_TEXTLINE) || line_id < 0;
            if (new_line) {
                ++line_id;
            }
            // Korean comes back a syllable per "word"; the pieces of one word have no blank
            // between them, and are joined again (box, text, the lowest confidence).
            const bool continues_word = !new_line && !new_block && !result.words.empty() && it->BlanksBeforeWord() == 0;
            std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
            if (!text) {
                continue;
            }
            Word w;
            w.text = core::sanitize_utf8(core::trim(text.get()));
            if (w.text.empty()) {
                continue;
            }
            int left = 0;
            int top = 0;
            int right = 0;
            int bottom = 0;
            it->BoundingBox(tesseract::RIL_WORD, &left, &top, &right, &bottom);
            if (block_id != blocks_seen) {  // the block's first word with text
                blocks_seen = block_id;
                blocks.push_back(TextBlock{static_cast<double>(left), static_cast<double>(top),
                                           static_cast<double>(right), static_cast<double>(bottom)});
            } else {
                TextBlock & b = blocks.back();
                b.x0 = std::min(b.x0, static_cast<double>(left));
                b.y0 = std::min(b.y0, static_cast<double>(top));
                b.x1 = std::max(b.x1, static_cast<double>(right));
                b.y1 = std::max(b.y1, static_cast<double>(bottom));
            }
            word_block.push_back(blocks.size() - 1);
            double xs[4];
            double ys[4];
            map.apply(left, top, xs[0], ys[0]);
            map.apply(right, top, xs[1], ys[1]);
            map.apply(left, bottom, xs[2], ys[2]);
            map.apply(right, bottom, xs[3], ys[3]);
            w.x0 = std::clamp(*std::min_element(xs, xs + 4), 0.0, map.width) * to_points;
            w.x1 = std::clamp(*std::max_element(xs, xs + 4), 0.0, map.width) * to_points;
            w.y0 = std::clamp(*std::min_element(ys, ys + 4), 0.0, map.height) * to_points;
            w.y1 = std::clamp(*std::max_element(ys, ys + 4), 0.0, map.height) * to_points;
            w.confidence = std::clamp(static_cast<double>(it->Confidence(tesseract::RIL_WORD)), 0.0, 100.0);
            w.rotation = text_rotation;
            w.line_id = line_id;
            w.paragraph_id = paragraph_id;
            if (continues_word) {
                Word & prev = result.words.back();
                conf_sum -= prev.confidence;
                prev.text += w.text;
                prev.x0 = std::min(prev.x0, w.x0);
                prev.y0 = std::min(prev.y0, w.y0);
                prev.x1 = std::max(prev.x1, w.x1);
                prev.y1 = std::max(prev.y1, w.y1);
                prev.confidence = std::min(prev.confidence, w.confidence);
                conf_sum += prev.confidence;
                word_block.pop_back();  // the joined word has its entry already
                continue;
            }
            conf_sum += w.confidence;
            result.words.push_back(std::move(w));
        } while (it->Next(tesseract::RIL_WORD));
    }
    it.reset();
    api.Clear();
    const std::vector<size_t> order = order_blocks(blocks);
    if (!std::is_sorted(order.begin(), order.end())) {
        std::vector<size_t> rank(order.size());
        for (size_t k = 0; k < order.size(); ++k) {
            rank[order[k]] = k;
        }
        std::vector<size_t> index(result.words.size());
        for (size_t k = 0; k < index.size(); ++k) {
            index[k] = k;
        }
        std::stable_sort(index.begin(), index.end(),
                         [&](size_t a, size_t b) { return rank[word_block[a]] < rank[word_block[b]]; });
        std::vector<Word> ordered;
        ordered.reserve(result.words.size());
        for (size_t k : index) {
            ordered.push_back(std::move(result.words[k]));
        }
        result.words = std::move(ordered);
    }
    if (!result.words.empty()) {
        result.mean_confidence = conf_sum / static_cast<double>(result.words.size());
    }
    return result;
}

double character_error_rate(std::string_view hypothesis, std::string_view reference) {
    auto decode = [](std::string_view s) {
        const std::string text = core::collapse_whitespace(core::sanitize_utf8(s));
        std::vector<uint32_t> cps;
        for (size_t i = 0; i < text.size();) {
            const auto c = static_cast<unsigned char>(text[i]);
            const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
            uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
            for (size_t k = 1; k < len && i + k < text.size(); ++k) {
                cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
            }
            cps.push_back(cp);
            i += len;
        }
        return cps;
    };
    const std::vector<uint32_t> h = decode(hypothesis);
    const std::vector<uint32_t> r = decode(reference);
    if (r.empty()) {
        return h.empty() ? 0.0 : 1.0;
    }
    std::vector<size_t> prev(h.size() + 1);
    std::vector<size_t> cur(h.size() + 1);
    for (size_t j = 0; j <= h.size(); ++j) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= r.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= h.size(); ++j) {
            const size_t sub = prev[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1);
            cur[j] = std::min({sub, prev[j] + 1, cur[j - 1] + 1});
        }
        std::swap(prev, cur);
    }
    return static_cast<double>(prev[h.size()]) / static_cast<double>(r.size());
}

}  // namespace strongbox::ingest
