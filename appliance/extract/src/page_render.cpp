// The daemon's side of page rendering (page_render.h): each request goes to a strongbox-extract
// worker (worker_run.h); page sizes and page images come back from a cache when they can.
#include "strongbox/extract/page_render.h"

#include "protocol.h"
#include "worker_run.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include <sodium.h>

namespace strongbox::appliance {

namespace proto = extract_protocol;

struct PageRenderer::Impl {
    using Entry = std::pair<std::string, RenderedImage>;

    ExtractLimits limits;
    size_t cache_bytes = 0;
    std::mutex mu;
    size_t worker_runs = 0;                                    // guarded by mu
    std::map<std::string, PageSize> sizes;                     // guarded by mu; by "sha256/page"
    std::list<Entry> images;                                   // guarded by mu; most recently used first
    std::map<std::string, std::list<Entry>::iterator> by_key;  // guarded by mu; into images
    size_t image_bytes = 0;                                    // guarded by mu

    // A page of a long manual is looked at again and again; a cache of sizes that grew without
    // bound would not be, so it is simply emptied when full.
    static constexpr size_t kMaxSizes = 100000;

    std::optional<RenderedImage> cached_image(const std::string & key) {
        std::lock_guard lock(mu);
        auto it = by_key.find(key);
        if (it == by_key.end()) {
            return std::nullopt;
        }
        images.splice(images.begin(), images, it->second);
        return it->second->second;
    }

    void keep_image(const std::string & key, const RenderedImage & image) {
        std::lock_guard lock(mu);
        if (image.png.size() > cache_bytes || by_key.count(key) != 0) {
            return;
        }
        images.emplace_front(key, image);
        by_key[key] = images.begin();
        image_bytes += image.png.size();
        while (image_bytes > cache_bytes) {
            image_bytes -= images.back().second.png.size();
            by_key.erase(images.back().first);
            images.pop_back();
        }
    }
};

namespace {

std::string describe(const std::filesystem::path & path, int page) {
    return "render " + path.string() + " page " + std::to_string(page);
}

core::Result<RenderedImage> image_from_json(const core::Json & j, const std::string & what) {
    const std::string b64 = j.get_string("png");
    std::string png(b64.size() / 4 * 3 + 3, '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char *>(png.data()), png.size(), b64.data(), b64.size(), nullptr,
                          &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len == 0) {
        return core::Error(core::ErrorCode::kInternal, what + ": extraction worker protocol error: no PNG");
    }
    png.resize(len);
    RenderedImage image;
    image.png = std::move(png);
    image.width = static_cast<int>(j.get_int("width", 0));
    image.height = static_cast<int>(j.get_int("height", 0));
    image.dpi = j.get_double("dpi", 0);
    return image;
}

}  // namespace

PageRenderer::PageRenderer(ExtractLimits limits, size_t cache_bytes) : impl_(std::make_unique<Impl>()) {
    impl_->limits = std::move(limits);
    impl_->cache_bytes = cache_bytes;
}

PageRenderer::~PageRenderer() = default;

size_t PageRenderer::worker_runs() const {
    std::lock_guard lock(impl_->mu);
    return impl_->worker_runs;
}

core::Result<core::Json> PageRenderer::run(const std::filesystem::path & path, int page, core::Json request,
                                           const std::string & result_key) {
    {
        std::lock_guard lock(impl_->mu);
        ++impl_->worker_runs;
    }
    request["path"] = path.string();
    request["page"] = page;
    return run_worker(describe(path, page), std::move(request), result_key, impl_->limits);
}

core::Result<PageSize> PageRenderer::page_size(const std::filesystem::path & path, int page,
                                               const std::string & document_sha256) {
    const std::string key = document_sha256 + "/" + std::to_string(page);
    if (!document_sha256.empty()) {
        std::lock_guard lock(impl_->mu);
        if (auto it = impl_->sizes.find(key); it != impl_->sizes.end()) {
            return it->second;
        }
    }
    core::Json request = core::Json::object();
    request["op"] = proto::kOpPageSize;
    SB_ASSIGN_OR_RETURN(core::Json got, run(path, page, std::move(request), "page"));
    const PageSize size{got.get_double("width", 0), got.get_double("height", 0)};
    if (!document_sha256.empty()) {
        std::lock_guard lock(impl_->mu);
        if (impl_->sizes.size() >= Impl::kMaxSizes) {
            impl_->sizes.clear();
        }
        impl_->sizes[key] = size;
    }
    return size;
}

core::Result<RenderedImage> PageRenderer::page_png(const std::filesystem::path & path, int page, int dpi,
                                                   const std::string & document_sha256) {
    dpi = std::clamp(dpi, kMinPageDpi, kMaxPageDpi);
    const std::string key = document_sha256 + "/" + std::to_string(page) + "/" + std::to_string(dpi);
    if (!document_sha256.empty()) {
        if (auto hit = impl_->cached_image(key)) {
            return *std::move(hit);
        }
    }
    core::Json request = core::Json::object();
    request["op"] = proto::kOpPagePng;
    request["dpi"] = dpi;
    SB_ASSIGN_OR_RETURN(core::Json got, run(path, page, std::move(request), "image"));
    SB_ASSIGN_OR_RETURN(RenderedImage image, image_from_json(got, describe(path, page)));
    if (!document_sha256.empty()) {
        impl_->keep_image(key, image);
    }
    return image;
}

core::Result<RenderedImage> PageRenderer::region_png(const std::filesystem::path & path, int page,
                                                     const core::Box & region, double dpi, PixelFormat format) {
    core::Json request = core::Json::object();
    request["op"] = proto::kOpRegionPng;
    request["dpi"] = dpi;
    core::Json corners = core::Json::array();
    for (double v : {region.x0, region.y0, region.x1, region.y1}) {
        corners.push_back(v);
    }
    request["region"] = std::move(corners);
    request["grey"] = format == PixelFormat::kGrey;
    SB_ASSIGN_OR_RETURN(core::Json got, run(path, page, std::move(request), "image"));
    return image_from_json(got, describe(path, page));
}

}  // namespace strongbox::appliance
