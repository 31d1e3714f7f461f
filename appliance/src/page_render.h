// PDF pages for the source viewer: the size of a page in points and the page rendered as PNG,
// through Poppler, so the reader sees the cited region where it stands on the page.
//
// Thread-safety: each call opens its own document; calls may run concurrently.
// Errors: kNotFound when the file or the page is missing, kCorruptInput when Poppler cannot
// read the file, kInternal when rendering or PNG encoding fails; messages name the file.
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>

namespace strongbox::appliance {

struct PageSize {
    double width = 0;   // points
    double height = 0;
};

core::Result<PageSize> pdf_page_size(const std::filesystem::path & path, int page);

// PNG bytes of 1-based `page` at `dpi` (clamped to 36..300).
core::Result<std::string> render_pdf_page_png(const std::filesystem::path & path, int page, int dpi);

}  // namespace strongbox::appliance
