#include "strongbox/webui/http.h"

#include <algorithm>
#include <cctype>

namespace strongbox::webui {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string_view find_header(const HttpHeaders & headers, std::string_view name) {
    for (const auto & [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

void HttpResponse::set_header(std::string_view name, std::string value) {
    for (auto & [key, existing] : headers) {
        if (iequals(key, name)) {
            existing = std::move(value);
            return;
        }
    }
    headers.emplace_back(std::string(name), std::move(value));
}

}  // namespace strongbox::webui
