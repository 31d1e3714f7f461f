#include "strongbox/appliance/audit_trail.h"

#include "strongbox/extract/page_render.h"

namespace strongbox::appliance {

PageRegionRenderer page_region_renderer(std::shared_ptr<PageRenderer> pages) {
    return [pages = std::move(pages)](const std::filesystem::path & pdf, int page, const core::Box & region,
                                      int dpi) -> core::Result<RegionImage> {
        SB_ASSIGN_OR_RETURN(RenderedImage rendered, pages->region_png(pdf, page, region, dpi, PixelFormat::kGrey));
        return RegionImage{std::move(rendered.png), rendered.width, rendered.height};
    };
}

core::Result<std::unique_ptr<AuditLog>> open_audit_trail(const std::filesystem::path & path,
                                                         std::shared_ptr<PageRenderer> pages) {
    AuditOptions options;
    options.render_region = page_region_renderer(std::move(pages));
    return AuditLog::open(path, options);
}

}  // namespace strongbox::appliance
