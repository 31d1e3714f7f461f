// Page images for citation-trail bundles: for a citation whose passage was read off a scanned
// page (OCR provenance), the cited region of that page rendered as PNG (page_render.h), so an auditor
// sees what the scanner saw, not only the text OCR made of it. The renderer is passed in
// (AuditOptions::render_region): the trail itself never parses a PDF.
//
// The region is the union of the citation's boxes on its page (PDF points, origin top-left) with
// a small margin, clamped to the page. The source is read from the path the provenance records
// and used only when its sha256 is still the recorded one; otherwise (moved, deleted, replaced)
// the citation gets a note saying why there is no image: an export never fails for it.
//
// Thread-safety: functions are independent; Poppler documents are opened per call.
// Errors: render_region_png() returns the renderer's errors naming the file and page;
// collect_page_images() turns every failure into a note.
//
//   PageImages images = collect_page_images(records, 100, options.render_region);
//   for (const PageImage & p : images.images) { add_member(p.member, p.png); }
#pragma once

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/document.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

struct PageImage {
    std::string member;  // "page-<record id>-<citation number>.png"
    int64_t record_id = 0;
    int64_t number = 0;  // citation number within the answer
    std::string source_sha256;
    int page = 0;
    core::Box region;  // PDF points, origin top-left
    int dpi = 0;
    int width = 0;  // pixels
    int height = 0;
    std::string png;
};

struct PageImageNote {
    int64_t record_id = 0;
    int64_t number = 0;
    std::string source_path;
    std::string reason;  // "source file not found", "source changed since ingest (sha256 ...)"
};

struct PageImages {
    std::vector<PageImage> images;
    std::vector<PageImageNote> notes;
};

// True when the provenance (as recorded in an answer's citation) says its text came from OCR.
bool is_scanned(const core::Json & provenance);

// The region of 1-based `page` of the PDF at `path` with a margin around it, rendered at `dpi` as
// greyscale PNG.
core::Result<std::string> render_region_png(const PageRegionRenderer & render, const std::filesystem::path & path,
                                            int page, const core::Box & region, int dpi, int * width, int * height);

// Page images for every scanned citation of every "ask" record, in record and citation order.
PageImages collect_page_images(const std::vector<AuditRecord> & records, int dpi, const PageRegionRenderer & render);

// Width and height from a PNG's signature and IHDR chunk; false when the bytes are not a PNG.
bool png_dimensions(std::string_view png, int & width, int & height);

core::Json to_json(const PageImage & image);  // without the pixels
core::Json to_json(const PageImageNote & note);

}  // namespace strongbox::appliance
