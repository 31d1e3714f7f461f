// PDF pages for the source viewer and bundles: sized and rendered by a strongbox-extract worker,
// never by Poppler in the caller; capped in pixels; cached by document hash; a renderer that
// crashes fails that one request with a reason.

#include "strongbox/extract/page_render.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include "support/pdf_writer.h"
#include "support/temp_dir.h"
#include <sys/stat.h>

using namespace strongbox;
namespace fs = std::filesystem;

namespace {

using strongbox::testing::TempDir;

const fs::path kScan = fs::path(SB_TEST_DATA_DIR) / "ingest" / "phototest-scan.pdf";  // 230.4 x 172.8 pt, image only

appliance::ExtractLimits worker_limits() {
    appliance::ExtractLimits limits;
    limits.worker = SB_EXTRACT_WORKER;
    return limits;
}

// Width and height from the PNG's IHDR chunk; false when `png` is not a PNG.
bool png_size(const std::string & png, int & width, int & height) {
    if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || png.compare(12, 4, "IHDR") != 0) {
        return false;
    }
    auto be32 = [&](size_t at) {
        return static_cast<int>((static_cast<uint32_t>(static_cast<uint8_t>(png[at])) << 24) |
                                (static_cast<uint32_t>(static_cast<uint8_t>(png[at + 1])) << 16) |
                                (static_cast<uint32_t>(static_cast<uint8_t>(png[at + 2])) << 8) |
                                static_cast<uint32_t>(static_cast<uint8_t>(png[at + 3])));
    };
    width = be32(16);
    height = be32(20);
    return true;
}

// A one-page PDF whose page is `box` (a MediaBox, and a CropBox inside it when `crop` is given).
std::string one_page_pdf(const std::string & media, const std::string & crop = "") {
    return strongbox::testing::pdf_from_objects({
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [" + media + "]" + (crop.empty() ? "" : " /CropBox [" + crop + "]") +
            " >>",
    });
}

}  // namespace

TEST_CASE("a page with a crop box is sized by the crop box, the area boxes are measured in and Poppler draws") {
    TempDir dir("sb_crop_box");
    const fs::path pdf = dir.path / "cropped.pdf";
    REQUIRE(core::write_file_atomic(pdf, one_page_pdf("0 0 612 792", "36 72 576 720")).ok());
    appliance::PageRenderer pages(worker_limits());
    const auto size = pages.page_size(pdf, 1);
    REQUIRE(size.ok());
    CHECK(size->width == doctest::Approx(540));
    CHECK(size->height == doctest::Approx(648));
    auto whole = pages.page_png(pdf, 1, 72);
    REQUIRE(whole.ok());
    int w = 0;
    int h = 0;
    REQUIRE(png_size(whole->png, w, h));
    CHECK(w == 540);
    CHECK(h == 648);
    CHECK(whole->width == 540);
    CHECK(whole->dpi == 72);
}

TEST_CASE("the viewer's page and a bundle's region come from one renderer, sized by the page's points and the dpi") {
    appliance::PageRenderer pages(worker_limits());
    const auto size = pages.page_size(kScan, 1);
    REQUIRE(size.ok());
    CHECK(size->width == doctest::Approx(230.4).epsilon(0.001));
    CHECK(size->height == doctest::Approx(172.8).epsilon(0.001));

    auto whole = pages.page_png(kScan, 1, 144);
    REQUIRE(whole.ok());
    int w = 0;
    int h = 0;
    REQUIRE(png_size(whole->png, w, h));
    CHECK(std::abs(w - 230.4 * 2) <= 1);
    CHECK(std::abs(h - 172.8 * 2) <= 1);
    CHECK(static_cast<uint8_t>(whole->png.at(25)) == 2);  // IHDR colour type: RGB

    // A region reaching past the page is clamped to it; corners may come in either order.
    auto past = pages.region_png(kScan, 1, core::Box{300, 500, 100, -20, -1, -1}, 144, appliance::PixelFormat::kGrey);
    REQUIRE(past.ok());
    CHECK(past->dpi == 144);
    CHECK(std::abs(past->width - (230.4 - 100) * 2) <= 1);
    CHECK(std::abs(past->height - 172.8 * 2) <= 1);
    REQUIRE(png_size(past->png, w, h));
    CHECK(w == past->width);
    CHECK(h == past->height);

    // A resolution that would make more than kMaxRenderPixels is lowered, and says so.
    auto huge = pages.region_png(kScan, 1, core::Box{0, 0, 230.4, 172.8, -1, -1}, 2000, appliance::PixelFormat::kGrey);
    REQUIRE(huge.ok());
    CHECK(huge->dpi < 2000);
    CHECK(static_cast<double>(huge->width) * huge->height <= appliance::kMaxRenderPixels * 1.01);
    CHECK(std::abs(huge->width - 230.4 * huge->dpi / 72) <= 1);

    CHECK(pages.region_png(kScan, 1, core::Box{0, 0, 10, 10, -1, -1}, 0, appliance::PixelFormat::kRgb).error().code() ==
          core::ErrorCode::kInvalidArgument);
    const auto missing = pages.page_png(kScan.parent_path() / "no-such.pdf", 1, 72);
    CHECK(missing.error().code() == core::ErrorCode::kNotFound);
    CHECK(missing.error().message().find("no-such.pdf") != std::string::npos);
    CHECK(pages.page_size(kScan, 2).error().code() == core::ErrorCode::kNotFound);
}

TEST_CASE("a poster-sized page is rendered at a resolution that keeps it under the pixel cap") {
    TempDir dir("sb_poster_page");
    const fs::path pdf = dir.path / "poster.pdf";
    REQUIRE(core::write_file_atomic(pdf, one_page_pdf("0 0 5500 5500")).ok());
    appliance::PageRenderer pages(worker_limits());
    // At 300 dpi this page would be 22,917 pixels square, about 1.5 GiB as RGB.
    auto page = pages.page_png(pdf, 1, 300);
    REQUIRE(page.ok());
    CHECK(page->dpi < 300);
    CHECK(static_cast<double>(page->width) * page->height <= appliance::kMaxRenderPixels * 1.01);
    int w = 0;
    int h = 0;
    REQUIRE(png_size(page->png, w, h));
    CHECK(w == page->width);
    CHECK(std::abs(w - 5500 * page->dpi / 72) <= 1);
}

TEST_CASE("page sizes and page images are cached by document hash, so reopening a source starts no worker") {
    appliance::PageRenderer pages(worker_limits());
    const std::string sha = core::sha256_file_hex(kScan).value();
    auto first = pages.page_png(kScan, 1, 100, sha);
    REQUIRE(first.ok());
    REQUIRE(pages.page_size(kScan, 1, sha).ok());
    const size_t runs = pages.worker_runs();
    CHECK(runs == 2);

    auto again = pages.page_png(kScan, 1, 100, sha);
    REQUIRE(again.ok());
    CHECK(again->png == first->png);
    CHECK(pages.page_size(kScan, 1, sha)->width == doctest::Approx(230.4).epsilon(0.001));
    CHECK(pages.worker_runs() == runs);

    // Another resolution is another image; no hash means no cache.
    REQUIRE(pages.page_png(kScan, 1, 150, sha).ok());
    REQUIRE(pages.page_png(kScan, 1, 100).ok());
    CHECK(pages.worker_runs() == runs + 2);

    // A cache too small for the image keeps nothing.
    appliance::PageRenderer tiny(worker_limits(), 16);
    REQUIRE(tiny.page_png(kScan, 1, 100, sha).ok());
    REQUIRE(tiny.page_png(kScan, 1, 100, sha).ok());
    CHECK(tiny.worker_runs() == 2);
}

TEST_CASE("pages are never rendered in the caller: without the worker, or when it crashes, the request fails alone") {
    TempDir dir("sb_render_isolated");
    appliance::ExtractLimits limits = worker_limits();
    limits.worker = dir.path / "no-such-worker";
    appliance::PageRenderer missing(limits);
    const auto none = missing.page_png(kScan, 1, 100);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code() == core::ErrorCode::kUnavailable);
    CHECK(none.error().message().find("phototest-scan.pdf") != std::string::npos);

    // A renderer that dies on a signal, as Poppler would on a hostile page.
    const fs::path crashing = dir.path / "crashing-worker";
    REQUIRE(core::write_file_atomic(crashing, "#!/bin/sh\nkill -SEGV $$\n").ok());
    ::chmod(crashing.c_str(), 0755);
    limits.worker = crashing;
    appliance::PageRenderer crashes(limits);
    const auto died = crashes.page_size(kScan, 1);
    REQUIRE_FALSE(died.ok());
    CHECK(died.error().code() == core::ErrorCode::kInternal);
    CHECK(died.error().message().find("crashed") != std::string::npos);
    CHECK(died.error().message().find("phototest-scan.pdf page 1") != std::string::npos);
}
