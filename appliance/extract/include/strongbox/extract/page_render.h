// PDF pages for the source viewer and the citation-trail bundles: the size of a page in points,
// the page rendered as PNG, and a region of it rendered as PNG, through Poppler, so the reader
// sees the cited region where it stands on the page. This is the appliance's one Poppler renderer.
//
// Thread-safety: each call opens its own document; calls may run concurrently.
// Errors: kNotFound when the file or the page is missing, kCorruptInput when Poppler cannot
// read the file, kInvalidArgument for a resolution that is not positive, kIoError when no
// temporary file can be made for the PNG, kInternal when rendering or PNG encoding fails;
// messages name the file and page.
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"

#include <filesystem>
#include <string>

namespace strongbox::appliance {

struct PageSize {
    double width = 0;  // points
    double height = 0;
};

core::Result<PageSize> pdf_page_size(const std::filesystem::path & path, int page);

// PNG bytes of 1-based `page` at `dpi` (clamped to 36..300).
core::Result<std::string> render_pdf_page_png(const std::filesystem::path & path, int page, int dpi);

// What Poppler renders into; kGrey takes a third of the memory. The PNG written is RGB either way.
enum class PixelFormat { kRgb, kGrey };

struct RenderedRegion {
    std::string png;
    int width = 0;  // pixels
    int height = 0;
    double dpi = 0;  // the resolution used: lower than asked when the region would exceed kMaxRegionPixels
};

inline constexpr double kMaxRegionPixels = 16e6;  // a poster-sized page must not become gigabytes

// PNG of the part of 1-based `page` inside `region` (PDF points, origin top-left, on the page as
// displayed, so a page turned by 90 or 270 degrees swaps its sides), clamped to the page's crop box,
// at `dpi`. Only x0, y0, x1, y1 of `region` are used; the corners may come in either order.
core::Result<RenderedRegion> render_pdf_region_png(const std::filesystem::path & path, int page,
                                                   const core::Box & region, double dpi, PixelFormat format);

}  // namespace strongbox::appliance
