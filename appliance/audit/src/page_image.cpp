#include "page_image.h"

#include "strongbox/core/hash.h"

#include <algorithm>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

constexpr double kMarginPoints = 12;  // context around the cited lines

uint32_t read_u32_be(std::string_view s, size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

}  // namespace

bool is_scanned(const core::Json & provenance) {
    return !provenance.get_string("ocr_engine").empty() ||
           provenance.get_string("extractor").find("ocr") != std::string::npos;
}

core::Result<std::string> render_region_png(const PageRegionRenderer & render, const fs::path & path, int page_number,
                                            const core::Box & region, int dpi, int * width, int * height) {
    if (!render) {
        return core::Error(core::ErrorCode::kUnsupported, "page image: no page renderer was configured");
    }
    core::Box padded = region;
    padded.x0 = std::min(region.x0, region.x1) - kMarginPoints;
    padded.y0 = std::min(region.y0, region.y1) - kMarginPoints;
    padded.x1 = std::max(region.x0, region.x1) + kMarginPoints;
    padded.y1 = std::max(region.y0, region.y1) + kMarginPoints;
    auto rendered = render(path, page_number, padded, dpi);
    if (!rendered.ok()) {
        return std::move(rendered).error().with_context("page image");
    }
    if (width != nullptr) {
        *width = rendered->width;
    }
    if (height != nullptr) {
        *height = rendered->height;
    }
    return std::move(rendered->png);
}

PageImages collect_page_images(const std::vector<AuditRecord> & records, int dpi, const PageRegionRenderer & render) {
    PageImages out;
    if (dpi <= 0) {
        return out;
    }
    for (const AuditRecord & r : records) {
        const core::Json * citations = r.body.find("citations");
        if (r.kind != audit_kind::kAsk || citations == nullptr || !citations->is_array()) {
            continue;
        }
        for (const core::Json & c : citations->as_array()) {
            const core::Json * pj = c.find("provenance");
            if (pj == nullptr || !is_scanned(*pj)) {
                continue;
            }
            const int64_t number = c.get_int("number");
            PageImageNote note{r.id, number, pj->get_string("source_path"), ""};
            auto p = core::provenance_from_json(*pj);
            if (!p.ok() || p->page < 1 || p->boxes.empty()) {
                note.reason = "the citation records no page region";
                out.notes.push_back(std::move(note));
                continue;
            }
            auto sha = core::sha256_file_hex(p->source_path);
            if (!sha.ok()) {
                note.reason = "source file not found";
                out.notes.push_back(std::move(note));
                continue;
            }
            if (*sha != p->source_sha256) {
                note.reason = "source file changed since it was ingested (sha256 " + sha->substr(0, 16) + ")";
                out.notes.push_back(std::move(note));
                continue;
            }
            core::Box region = p->boxes.front();
            for (const core::Box & b : p->boxes) {
                region.x0 = std::min(region.x0, b.x0);
                region.y0 = std::min(region.y0, b.y0);
                region.x1 = std::max(region.x1, b.x1);
                region.y1 = std::max(region.y1, b.y1);
            }
            region.text_begin = -1;
            region.text_end = -1;
            PageImage image;
            auto png = render_region_png(render, p->source_path, p->page, region, dpi, &image.width, &image.height);
            if (!png.ok()) {
                note.reason = png.error().message();
                out.notes.push_back(std::move(note));
                continue;
            }
            image.member = "page-" + std::to_string(r.id) + "-" + std::to_string(number) + ".png";
            image.record_id = r.id;
            image.number = number;
            image.source_sha256 = p->source_sha256;
            image.page = p->page;
            image.region = region;
            image.dpi = dpi;
            image.png = std::move(png).value();
            out.images.push_back(std::move(image));
        }
    }
    return out;
}

bool png_dimensions(std::string_view png, int & width, int & height) {
    static constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
    if (png.size() < 33 || png.substr(0, 8) != kSignature || read_u32_be(png, 8) != 13 || png.substr(12, 4) != "IHDR") {
        return false;
    }
    const uint32_t w = read_u32_be(png, 16);
    const uint32_t h = read_u32_be(png, 20);
    if (w == 0 || h == 0 || w > (1u << 24) || h > (1u << 24)) {
        return false;
    }
    width = static_cast<int>(w);
    height = static_cast<int>(h);
    return true;
}

core::Json to_json(const PageImage & p) {
    core::Json j = core::Json::object();
    j["member"] = p.member;
    j["record_id"] = p.record_id;
    j["number"] = p.number;
    j["source_sha256"] = p.source_sha256;
    j["page"] = p.page;
    j["region"] = core::to_json(p.region);
    j["dpi"] = p.dpi;
    j["width"] = p.width;
    j["height"] = p.height;
    return j;
}

core::Json to_json(const PageImageNote & n) {
    core::Json j = core::Json::object();
    j["record_id"] = n.record_id;
    j["number"] = n.number;
    j["source_path"] = n.source_path;
    j["reason"] = n.reason;
    return j;
}

}  // namespace strongbox::appliance
