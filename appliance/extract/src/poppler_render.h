// The worker's side of page rendering (page_render.h): Poppler, in process. Only strongbox-extract
// links this; the daemon asks a worker.
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"
#include "strongbox/extract/page_render.h"

#include <filesystem>

namespace strongbox::appliance {

core::Result<PageSize> pdf_page_size(const std::filesystem::path & path, int page);

core::Result<RenderedImage> render_pdf_page_png(const std::filesystem::path & path, int page, int dpi);

core::Result<RenderedImage> render_pdf_region_png(const std::filesystem::path & path, int page,
                                                  const core::Box & region, double dpi, PixelFormat format);

}  // namespace strongbox::appliance
