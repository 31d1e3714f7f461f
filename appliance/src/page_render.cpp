#include "page_render.h"

#include "strongbox/core/file.h"

#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

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
        return core::Error(core::ErrorCode::kNotFound, path.string() + ": no page " + std::to_string(page) + " (it has " +
                                                           std::to_string(doc.pages()) + ")");
    }
    std::unique_ptr<poppler::page> p(doc.create_page(page - 1));
    if (!p) {
        return core::Error(core::ErrorCode::kCorruptInput, path.string() + ": page " + std::to_string(page) + " is unreadable");
    }
    return p;
}

}  // namespace

core::Result<PageSize> pdf_page_size(const std::filesystem::path & path, int page) {
    SB_ASSIGN_OR_RETURN(auto doc, open_pdf(path));
    SB_ASSIGN_OR_RETURN(auto p, open_page(*doc, path, page));
    const poppler::rectf box = p->page_rect(poppler::media_box);
    // Rotated pages are shown as Poppler renders them, so swap the sides for 90 and 270 degrees.
    const bool turned = p->orientation() == poppler::page::landscape || p->orientation() == poppler::page::seascape;
    return turned ? PageSize{box.height(), box.width()} : PageSize{box.width(), box.height()};
}

core::Result<std::string> render_pdf_page_png(const std::filesystem::path & path, int page, int dpi) {
    dpi = std::clamp(dpi, 36, 300);
    SB_ASSIGN_OR_RETURN(auto doc, open_pdf(path));
    SB_ASSIGN_OR_RETURN(auto p, open_page(*doc, path, page));
    if (!poppler::page_renderer::can_render()) {
        return core::Error(core::ErrorCode::kInternal, "this Poppler build cannot render pages");
    }
    poppler::page_renderer renderer;
    renderer.set_image_format(poppler::image::format_rgb24);
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    const poppler::image image = renderer.render_page(p.get(), dpi, dpi);
    if (!image.is_valid()) {
        return core::Error(core::ErrorCode::kInternal,
                           path.string() + ": rendering page " + std::to_string(page) + " failed");
    }
    // Poppler's cpp API writes images only to files; a private temporary is read back and removed.
    static std::atomic<uint64_t> counter{0};
    const std::filesystem::path tmp = std::filesystem::temp_directory_path() /
                                      ("strongbox-page-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(counter.fetch_add(1)) + ".png");
    if (!image.save(tmp.string(), "png")) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        return core::Error(core::ErrorCode::kInternal, path.string() + ": encoding page " + std::to_string(page) + " as PNG failed");
    }
    auto bytes = core::read_file(tmp);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return bytes;
}

}  // namespace strongbox::appliance
