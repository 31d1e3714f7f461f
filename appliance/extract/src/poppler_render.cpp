#include "poppler_render.h"

#include "strongbox/core/file.h"

#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include <unistd.h>

namespace strongbox::appliance {
namespace {

core::Result<std::unique_ptr<poppler::document>> open_pdf(const std::filesystem::path & path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return core::Error(core::ErrorCode::kNotFound, path.string() + ": the source file is no longer on disk");
    }
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path.string()));
    if (!doc || doc->is_locked()) {
        return core::Error(core::ErrorCode::kCorruptInput, path.string() + ": Poppler cannot open it as a PDF");
    }
    return doc;
}

core::Result<std::unique_ptr<poppler::page>> open_page(poppler::document & doc, const std::filesystem::path & path,
                                                       int page) {
    if (page < 1 || page > doc.pages()) {
        return core::Error(core::ErrorCode::kNotFound, path.string() + ": no page " + std::to_string(page) +
                                                           " (it has " + std::to_string(doc.pages()) + ")");
    }
    std::unique_ptr<poppler::page> p(doc.create_page(page - 1));
    if (!p) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           path.string() + ": page " + std::to_string(page) + " is unreadable");
    }
    return p;
}

// The whole page when w and h are -1, else the w x h pixel rectangle at (x, y).
poppler::image render(const poppler::page & page, poppler::image::format_enum format, double dpi, int x = -1,
                      int y = -1, int w = -1, int h = -1) {
    poppler::page_renderer renderer;
    renderer.set_image_format(format);
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    return renderer.render_page(&page, dpi, dpi, x, y, w, h);
}

// Poppler's cpp API writes images only to files: a private temporary (created exclusively, so no
// other process can have placed it) is read back and removed.
core::Result<std::string> encode_png(const poppler::image & image, double dpi, const std::string & what) {
    std::string tmp = (std::filesystem::temp_directory_path() / "strongbox-page-XXXXXX.png").string();
    const int fd = ::mkstemps(tmp.data(), 4);
    if (fd < 0) {
        return core::Error(core::ErrorCode::kIoError, what + ": cannot create a temporary file for the PNG");
    }
    ::close(fd);
    const bool saved = image.save(tmp, "png", static_cast<int>(std::lround(dpi)));
    auto bytes =
        saved ? core::read_file(tmp)
              : core::Result<std::string>(core::Error(core::ErrorCode::kInternal, what + ": encoding as PNG failed"));
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return bytes;
}

}  // namespace

core::Result<PageSize> pdf_page_size(const std::filesystem::path & path, int page) {
    SB_ASSIGN_OR_RETURN(auto doc, open_pdf(path));
    SB_ASSIGN_OR_RETURN(auto p, open_page(*doc, path, page));
    // Boxes are in crop-box coordinates and Poppler renders the crop box, so both sides agree.
    const poppler::rectf box = p->page_rect(poppler::crop_box);
    // Rotated pages are shown as Poppler renders them, so swap the sides for 90 and 270 degrees.
    const bool turned = p->orientation() == poppler::page::landscape || p->orientation() == poppler::page::seascape;
    return turned ? PageSize{box.height(), box.width()} : PageSize{box.width(), box.height()};
}

core::Result<RenderedImage> render_pdf_page_png(const std::filesystem::path & path, int page, int dpi) {
    SB_ASSIGN_OR_RETURN(auto doc, open_pdf(path));
    SB_ASSIGN_OR_RETURN(auto p, open_page(*doc, path, page));
    if (!poppler::page_renderer::can_render()) {
        return core::Error(core::ErrorCode::kInternal, "this Poppler build cannot render pages");
    }
    RenderedImage out;
    out.dpi = std::clamp(dpi, kMinPageDpi, kMaxPageDpi);
    const poppler::rectf box = p->page_rect(poppler::crop_box);
    const double points = box.width() * box.height();
    if (points > 0 && points * (out.dpi / 72.0) * (out.dpi / 72.0) > kMaxRenderPixels) {
        out.dpi = 72.0 * std::sqrt(kMaxRenderPixels / points);
    }
    const poppler::image image = render(*p, poppler::image::format_rgb24, out.dpi);
    const std::string what = path.string() + ": page " + std::to_string(page);
    if (!image.is_valid()) {
        return core::Error(core::ErrorCode::kInternal, what + ": rendering failed");
    }
    out.width = image.width();
    out.height = image.height();
    SB_ASSIGN_OR_RETURN(out.png, encode_png(image, out.dpi, what));
    return out;
}

core::Result<RenderedImage> render_pdf_region_png(const std::filesystem::path & path, int page,
                                                  const core::Box & region, double dpi, PixelFormat format) {
    SB_ASSIGN_OR_RETURN(auto doc, open_pdf(path));
    SB_ASSIGN_OR_RETURN(auto p, open_page(*doc, path, page));
    const std::string what = path.string() + ": page " + std::to_string(page);
    if (!poppler::page_renderer::can_render()) {
        return core::Error(core::ErrorCode::kInternal, "this Poppler build cannot render pages");
    }
    if (!(dpi > 0)) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           what + ": cannot render at " + std::to_string(dpi) + " dpi");
    }
    // Poppler renders the crop box as displayed, so the region is clamped to that.
    const poppler::rectf rect = p->page_rect(poppler::crop_box);
    const bool turned = p->orientation() == poppler::page::landscape || p->orientation() == poppler::page::seascape;
    const double page_w = turned ? rect.height() : rect.width();
    const double page_h = turned ? rect.width() : rect.height();
    const double x0 = std::clamp(std::min(region.x0, region.x1), 0.0, page_w);
    const double y0 = std::clamp(std::min(region.y0, region.y1), 0.0, page_h);
    const double x1 = std::clamp(std::max(region.x0, region.x1), 0.0, page_w);
    const double y1 = std::clamp(std::max(region.y0, region.y1), 0.0, page_h);
    double scale = dpi / 72.0;
    if ((x1 - x0) * (y1 - y0) * scale * scale > kMaxRenderPixels) {
        scale = std::sqrt(kMaxRenderPixels / ((x1 - x0) * (y1 - y0)));
    }
    const int px = static_cast<int>(std::floor(x0 * scale));
    const int py = static_cast<int>(std::floor(y0 * scale));
    const int pw = std::max(1, static_cast<int>(std::ceil(x1 * scale)) - px);
    const int ph = std::max(1, static_cast<int>(std::ceil(y1 * scale)) - py);
    RenderedImage out;
    out.dpi = scale * 72.0;
    const auto pixels = format == PixelFormat::kGrey ? poppler::image::format_gray8 : poppler::image::format_rgb24;
    const poppler::image image = render(*p, pixels, out.dpi, px, py, pw, ph);
    if (!image.is_valid()) {
        return core::Error(core::ErrorCode::kInternal, what + ": rendering a region failed");
    }
    out.width = image.width();
    out.height = image.height();
    SB_ASSIGN_OR_RETURN(out.png, encode_png(image, out.dpi, what));
    return out;
}

}  // namespace strongbox::appliance
