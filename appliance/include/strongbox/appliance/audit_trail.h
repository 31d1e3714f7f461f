// The appliance's audit trail: AuditLog (audit/audit_log.h) opened with the page renderer that
// gives citation-trail bundles their scanned-page images (extract/page_render.h: in a worker).
//
// Thread-safety and errors: as AuditLog::open.
//
//   auto pages = std::make_shared<PageRenderer>(settings.extract);
//   SB_ASSIGN_OR_RETURN(auto audit, open_audit_trail(data_dir.paths().audit(), pages));
#pragma once

#include "strongbox/audit/audit_log.h"
#include "strongbox/extract/page_render.h"

#include <filesystem>
#include <memory>

namespace strongbox::appliance {

// Renders greyscale: the regions come from scans, and grey takes a third of the memory of RGB.
PageRegionRenderer page_region_renderer(std::shared_ptr<PageRenderer> pages);

core::Result<std::unique_ptr<AuditLog>> open_audit_trail(const std::filesystem::path & path,
                                                         std::shared_ptr<PageRenderer> pages);

}  // namespace strongbox::appliance
