// PDF pages for the source viewer and the citation-trail bundles: the size of a page in points,
// the page rendered as PNG, and a region of it rendered as PNG, so the reader sees the cited
// region where it stands on the page.
//
// Poppler parses untrusted bytes, so it never runs in the daemon: every call here starts a
// strongbox-extract worker under the same limits as extraction (extract_worker.h) and reads its
// answer. Pixels are capped per render (kMaxRenderPixels: a poster-sized page must not become
// gigabytes), and page sizes and page images are cached by document hash, so reopening a source
// costs no worker.
//
// Thread-safety: a PageRenderer may be called concurrently; the cache is guarded.
// Errors: kNotFound when the file or the page is missing, kCorruptInput when Poppler cannot read
// the file, kInvalidArgument for a resolution that is not positive, kInternal when rendering or
// PNG encoding fails, and the worker's isolation failures (kUnavailable, kResourceExhausted,
// kDeadlineExceeded, kInternal); messages name the file and page.
//
//   PageRenderer pages(limits);
//   SB_ASSIGN_OR_RETURN(RenderedImage png, pages.page_png(path, 3, 150, document.sha256));
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/extract/extract_worker.h"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace strongbox::appliance {

struct PageSize {
    double width = 0;  // points, as displayed (a page turned by 90 or 270 degrees swaps its sides)
    double height = 0;
};

// What Poppler renders into; kGrey takes a third of the memory. The PNG written is RGB for kRgb
// and greyscale for kGrey.
enum class PixelFormat { kRgb, kGrey };

struct RenderedImage {
    std::string png;
    int width = 0;  // pixels
    int height = 0;
    double dpi = 0;  // the resolution used: lower than asked when the image would exceed kMaxRenderPixels
};

inline constexpr double kMaxRenderPixels = 16e6;
inline constexpr int kMinPageDpi = 36;  // page images are asked for at 36..300 dpi; others are clamped
inline constexpr int kMaxPageDpi = 300;

class PageRenderer {
  public:
    // cache_bytes bounds the cached page images (least recently used go first); 0 caches none.
    explicit PageRenderer(ExtractLimits limits, size_t cache_bytes = 32u << 20);

    // `document_sha256` keys the cache; "" bypasses it.
    core::Result<PageSize> page_size(const std::filesystem::path & path, int page,
                                     const std::string & document_sha256 = "");

    // The whole 1-based `page` at `dpi` (clamped to kMinPageDpi..kMaxPageDpi, then lowered to fit
    // kMaxRenderPixels), RGB.
    core::Result<RenderedImage> page_png(const std::filesystem::path & path, int page, int dpi,
                                         const std::string & document_sha256 = "");

    // The part of 1-based `page` inside `region` (PDF points, origin top-left, on the page as
    // displayed), clamped to the page's crop box, at `dpi` (lowered to fit kMaxRenderPixels). Only
    // x0, y0, x1, y1 of `region` are used; the corners may come in either order. Not cached.
    core::Result<RenderedImage> region_png(const std::filesystem::path & path, int page, const core::Box & region,
                                           double dpi, PixelFormat format);

    size_t worker_runs() const;  // workers started so far: the cache's effect, for tests and stats

    ~PageRenderer();
    PageRenderer(const PageRenderer &) = delete;
    PageRenderer & operator=(const PageRenderer &) = delete;

  private:
    core::Result<core::Json> run(const std::filesystem::path & path, int page, core::Json request,
                                 const std::string & result_key);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::appliance
