#include "audit_page_image.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

constexpr double kMarginPoints = 12;              // context around the cited lines
constexpr double kMaxRegionPixels = 16e6;         // a poster-sized page must not become gigabytes

uint32_t read_u32_be(std::string_view s, size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

// Poppler writes PNG only to a file: a private temporary one, removed at once.
core::Result<std::string> encode_png(const poppler::image & image, int dpi) {
    std::string templ = (fs::temp_directory_path() / "strongbox-page-XXXXXX.png").string();
    const int fd = ::mkstemps(templ.data(), 4);
    if (fd < 0) {
        return core::Error(core::ErrorCode::kIoError, "page image: cannot create a temporary file");
    }
    ::close(fd);
    const bool saved = image.save(templ, "png", dpi);
    auto bytes = saved ? core::read_file(templ) : core::Result<std::string>(core::Error(core::ErrorCode::kInternal, "page image: Poppler could not write PNG"));
    std::error_code ec;
    fs::remove(templ, ec);
    return bytes;
}

}  // namespace

bool is_scanned(const core::Json & provenance) {
    return !provenance.get_string("ocr_engine").empty() || provenance.get_string("extractor").find("ocr") != std::string::npos;
}

core::Result<std::string> render_region_png(const fs::path & path, int page_number, const core::Box & region, int dpi,
                                            int * width, int * height) {
    const std::string where = path.string() + " p. " + std::to_string(page_number);
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path.string()));
    if (!doc || doc->is_locked()) {
        return core::Error(core::ErrorCode::kCorruptInput, "page image: cannot open " + path.string() + " as a PDF");
    }
    if (page_number < 1 || page_number > doc->pages()) {
        return core::Error(core::ErrorCode::kNotFound, "page image: " + where + " does not exist");
    }
    std::unique_ptr<poppler::page> page(doc->create_page(page_number - 1));
    if (!page || !poppler::page_renderer::can_render()) {
        return core::Error(core::ErrorCode::kInternal, "page image: cannot render " + where);
    }
    // The boxes are on the displayed page: a page turned by 90 or 270 degrees swaps its sides.
    const poppler::rectf rect = page->page_rect(poppler::crop_box);
    const bool turned = page->orientation() == poppler::page::landscape || page->orientation() == poppler::page::seascape;
    const double page_w = turned ? rect.height() : rect.width();
    const double page_h = turned ? rect.width() : rect.height();
    const double x0 = std::clamp(std::min(region.x0, region.x1) - kMarginPoints, 0.0, page_w);
    const double y0 = std::clamp(std::min(region.y0, region.y1) - kMarginPoints, 0.0, page_h);
    const double x1 = std::clamp(std::max(region.x0, region.x1) + kMarginPoints, 0.0, page_w);
    const double y1 = std::clamp(std::max(region.y0, region.y1) + kMarginPoints, 0.0, page_h);
    double scale = dpi / 72.0;
    if ((x1 - x0) * (y1 - y0) * scale * scale > kMaxRegionPixels) {
        scale = std::sqrt(kMaxRegionPixels / ((x1 - x0) * (y1 - y0)));
    }
    const int px = static_cast<int>(std::floor(x0 * scale));
    const int py = static_cast<int>(std::floor(y0 * scale));
    const int pw = std::max(1, static_cast<int>(std::ceil(x1 * scale)) - px);
    const int ph = std::max(1, static_cast<int>(std::ceil(y1 * scale)) - py);
    poppler::page_renderer renderer;
    renderer.set_image_format(poppler::image::format_gray8);
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    const poppler::image image = renderer.render_page(page.get(), scale * 72.0, scale * 72.0, px, py, pw, ph);
    if (!image.is_valid()) {
        return core::Error(core::ErrorCode::kInternal, "page image: Poppler could not render " + where);
    }
    if (width != nullptr) {
        *width = image.width();
    }
    if (height != nullptr) {
        *height = image.height();
    }
    return encode_png(image, static_cast<int>(std::lround(scale * 72.0)));
}

PageImages collect_page_images(const std::vector<AuditRecord> & records, int dpi) {
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
            auto png = render_region_png(p->source_path, p->page, region, dpi, &image.width, &image.height);
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
