// Static files of the page (webui/assets/), embedded in the binary at build time by
// cmake/embed_assets.cmake so the appliance serves them without anything on disk.
#pragma once

#include <cstddef>
#include <string_view>

namespace strongbox::webui::detail {

struct EmbeddedAsset {
    std::string_view path;          // relative to webui/assets, e.g. "app.js"
    std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
    std::string_view etag;          // quoted sha256 prefix of the bytes
    std::string_view bytes;
};

// nullptr when no embedded file has that path.
const EmbeddedAsset * find_asset(std::string_view path);

}  // namespace strongbox::webui::detail
