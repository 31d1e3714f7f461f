// PDFs: the text layer through poppler-cpp, pages without a usable one through OCR.
//
// Design notes:
//  1. Poppler objects of one document are not safe to use from several threads, so every call
//     into a document (text, rendering) holds that document's mutex; OCR itself runs unlocked.
//  2. Poppler reports problems through a process-wide hook that prints to stderr by default. We
//     install a hook once that keeps the last message per thread instead, so the user sees one
//     clear error line from us (with Poppler's reason in it) and nothing else.
//  3. Coordinates: text_list() and the renderer both work on the displayed page (the /Rotate
//     applied, crop box, 72 dpi, origin top-left), which is exactly the Box convention.
//  4. A page's text layer is used when it has enough readable text; otherwise (none, garbage,
//     or a scan whose ink the text does not account for) the page is OCR'd, or only reported
//     when OCR is off.
#include "extractors.h"
#include "layout.h"
#include "ocr.h"
#include "pdf_pages.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>
#include <poppler-version.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

namespace strongbox::ingest {
namespace {

thread_local std::string t_last_poppler_error;

void keep_poppler_error(const std::string & message, void * /*closure*/) {
    t_last_poppler_error = message;
}

void install_poppler_error_hook() {
    static std::once_flag once;
    std::call_once(once, [] { poppler::set_debug_error_function(&keep_poppler_error, nullptr); });
}

std::string to_utf8(const poppler::ustring & s) {
    const poppler::byte_array bytes = s.to_utf8();
    return std::string(bytes.begin(), bytes.end());
}

// Decodes UTF-8 into code points; invalid bytes come out as U+FFFD.
std::vector<uint32_t> code_points(std::string_view s) {
    std::vector<uint32_t> out;
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > s.size()) {
            out.push_back(0xfffd);
            ++i;
            continue;
        }
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t k = 1; k < len; ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

}  // namespace

std::string poppler_version() {
    return poppler::version_string();
}

TextLayerStats text_layer_stats(const std::vector<Word> & words) {
    TextLayerStats stats;
    for (const Word & w : words) {
        for (uint32_t cp : code_points(w.text)) {
            if (cp == ' ' || cp == '\t') {
                continue;
            }
            ++stats.chars;
            const bool ascii_alnum = (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
            const bool bad = cp == 0xfffd || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xe000 && cp <= 0xf8ff);
            if (bad) {
                ++stats.bad_chars;
            } else if (ascii_alnum || cp >= 0xc0) {
                ++stats.alnum_chars;
            }
        }
    }
    return stats;
}

LayerVerdict judge_text_layer(const TextLayerStats & stats, double ink_outside_text) {
    if (stats.chars == 0) {
        return {false, "has no text layer"};
    }
    // Undecodable glyphs, or almost no letters at all (dot leaders and rules are fine in moderation).
    if (stats.bad_chars * 10 > stats.chars * 3 || stats.alnum_chars * 10 < stats.chars) {
        return {false, "has an unreadable text layer"};
    }
    // A scan with a few words of real text (a stamp, a header) still needs OCR for the rest.
    if (ink_outside_text > kInkOutsideTextLimit && stats.chars < kFewChars) {
        return {false, "has too little text for its ink"};
    }
    return {true, ""};
}

namespace {

using PdfPtr = std::unique_ptr<poppler::document>;

core::Result<PdfPtr> open_pdf(std::string_view bytes, const std::string & password) {
    install_poppler_error_hook();
    if (bytes.empty()) {
        return core::Error(core::ErrorCode::kCorruptInput, "empty file (0 bytes), not a PDF");
    }
    if (bytes.substr(0, 1024).find("%PDF-") == std::string_view::npos) {
        return core::Error(core::ErrorCode::kCorruptInput, "not a PDF (no %PDF- header)");
    }
    if (bytes.size() > static_cast<size_t>(INT_MAX)) {
        return core::Error(core::ErrorCode::kUnsupported, "PDF larger than 2 GiB");
    }
    t_last_poppler_error.clear();
    // Poppler keeps pointing into `bytes`; callers keep them alive as long as the document.
    PdfPtr pdf(poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size()), password, password));
    if (!pdf) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "corrupt PDF" +
                               (t_last_poppler_error.empty() ? std::string() : ": " + t_last_poppler_error));
    }
    if (pdf->is_locked()) {
        return core::Error(core::ErrorCode::kUnsupported,
                           password.empty() ? "password-protected PDF and no password was given"
                                            : "password-protected PDF: the password given does not open it");
    }
    if (pdf->pages() <= 0) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "corrupt PDF: no pages" +
                               (t_last_poppler_error.empty() ? std::string() : " (" + t_last_poppler_error + ")"));
    }
    return pdf;
}

}  // namespace

core::Result<core::ExtractedDocument> extract_pdf(const std::filesystem::path & path, std::string_view bytes,
                                                  const std::string & sha256, const IngestOptions & options) {
    SB_ASSIGN_OR_RETURN(PdfPtr pdf, open_pdf(bytes, options.pdf_password));
    core::ExtractedDocument doc = new_document(path, bytes, sha256, "application/pdf");
    if (!t_last_poppler_error.empty()) {
        // Poppler complained while opening but recovered (rebuilt the xref, skipped an object):
        // the text may be incomplete, and the user should know the file is damaged.
        doc.warnings.push_back("damaged PDF, read after repair: " + t_last_poppler_error);
    }
    doc.page_count = pdf->pages();
    if (options.max_pages > 0 && doc.page_count > options.max_pages) {
        // Refused before any page is read: a 50,000-page file would otherwise hold a worker for an hour.
        return core::Error(core::ErrorCode::kResourceExhausted,
                           "has " + std::to_string(doc.page_count) + " pages, more than the limit of " +
                               std::to_string(options.max_pages) + " (setting max_document_pages)");
    }
    PdfPages pages(*pdf, doc.page_count);
    return extract_pdf_pages(pages, path, sha256, options, std::move(doc));
}

core::Result<std::vector<GrayImage>> render_pdf(std::string_view bytes, double dpi, const std::string & password) {
    SB_ASSIGN_OR_RETURN(PdfPtr pdf, open_pdf(bytes, password));
    PdfPages pages(*pdf, pdf->pages());
    std::vector<GrayImage> out;
    for (int i = 0; i < pages.count(); ++i) {
        out.push_back(pages.render(i, dpi));
    }
    return out;
}

core::Result<std::vector<std::string>> plain_page_texts(std::string_view bytes, const std::string & password) {
    SB_ASSIGN_OR_RETURN(PdfPtr pdf, open_pdf(bytes, password));
    std::vector<std::string> out;
    for (int i = 0; i < pdf->pages(); ++i) {
        std::unique_ptr<poppler::page> page(pdf->create_page(i));
        out.push_back(page ? to_utf8(page->text()) : std::string());
    }
    return out;
}

// PdfPages ------------------------------------------------------------------------------------

struct PdfPages::Impl {
    Impl(poppler::document & d, int n) : pdf(d), n_pages(n) {}

    poppler::document & pdf;
    int n_pages;
    std::mutex mutex;
};

PdfPages::PdfPages(poppler::document & pdf, int n_pages) : impl_(std::make_unique<Impl>(pdf, n_pages)) {}

PdfPages::~PdfPages() = default;

int PdfPages::count() const {
    return impl_->n_pages;
}

PageText PdfPages::text(int index) {
    std::lock_guard lock(impl_->mutex);
    PageText out;
    std::unique_ptr<poppler::page> page(impl_->pdf.create_page(index));
    if (!page) {
        out.readable = false;
        return out;
    }
    const poppler::rectf rect = page->page_rect(poppler::crop_box);
    const auto orientation = page->orientation();
    const bool sideways = orientation == poppler::page::landscape || orientation == poppler::page::seascape;
    out.width = sideways ? rect.height() : rect.width();
    out.height = sideways ? rect.width() : rect.height();
    for (const poppler::text_box & box : page->text_list()) {
        const poppler::rectf b = box.bbox();
        Word w;
        w.text = to_utf8(box.text());
        w.x0 = b.left();
        w.y0 = b.top();
        w.x1 = b.right();
        w.y1 = b.bottom();
        w.space_after = box.has_space_after();
        w.rotation = box.rotation();
        out.words.push_back(std::move(w));
    }
    return out;
}

GrayImage PdfPages::render(int index, double dpi) {
    std::lock_guard lock(impl_->mutex);
    GrayImage out;
    std::unique_ptr<poppler::page> page(impl_->pdf.create_page(index));
    if (!page || !poppler::page_renderer::can_render()) {
        return out;
    }
    // A hostile or poster-sized page must not turn into gigabytes of pixels: lower the
    // resolution until the image fits kMaxRenderPixels (GrayImage::dpi records what was used).
    const poppler::rectf rect = page->page_rect(poppler::crop_box);
    const double area_in2 = std::max(rect.width(), 1.0) * std::max(rect.height(), 1.0) / (72.0 * 72.0);
    if (area_in2 * dpi * dpi > kMaxRenderPixels) {
        dpi = std::sqrt(kMaxRenderPixels / area_in2);
    }
    poppler::page_renderer renderer;
    renderer.set_image_format(poppler::image::format_gray8);
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    const poppler::image img = renderer.render_page(page.get(), dpi, dpi);
    if (!img.is_valid() || img.format() != poppler::image::format_gray8) {
        return out;
    }
    out.width = img.width();
    out.height = img.height();
    out.dpi = dpi;
    out.pixels.resize(static_cast<size_t>(out.width) * static_cast<size_t>(out.height));
    for (int y = 0; y < out.height; ++y) {
        const char * row = img.const_data() + static_cast<ptrdiff_t>(y) * img.bytes_per_row();
        std::copy(row, row + out.width, out.pixels.begin() + static_cast<ptrdiff_t>(y) * out.width);
    }
    return out;
}

}  // namespace strongbox::ingest
