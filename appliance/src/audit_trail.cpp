#include "strongbox/appliance/audit_trail.h"

#include "strongbox/extract/page_render.h"

namespace strongbox::appliance {

PageRegionRenderer page_region_renderer() {
    return [](const std::filesystem::path & pdf, int page, const core::Box & region,
              int dpi) -> core::Result<RegionImage> {
        SB_ASSIGN_OR_RETURN(RenderedRegion rendered, render_pdf_region_png(pdf, page, region, dpi, PixelFormat::kGrey));
        return RegionImage{std::move(rendered.png), rendered.width, rendered.height};
    };
}

core::Result<std::unique_ptr<AuditLog>> open_audit_trail(const std::filesystem::path & path) {
    AuditOptions options;
    options.render_region = page_region_renderer();
    return AuditLog::open(path, options);
}

}  // namespace strongbox::appliance
