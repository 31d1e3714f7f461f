#include "strongbox/ingest/ingest.h"

#include <algorithm>
#include <cctype>

namespace strongbox::ingest {

SourceKind detect_kind(const std::filesystem::path & path, std::string_view head) {
    if (head.substr(0, 5) == "%PDF-") {
        return SourceKind::kPdf;
    }
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".pdf") {
        return SourceKind::kPdf;  // named like a PDF but not one: the PDF extractor says why
    }
    // Explicit document extensions win over the "log" name heuristic below ("catalog.md", "blog.html").
    if (ext == ".txt" || ext == ".md" || ext == ".markdown" || ext == ".text") {
        return SourceKind::kText;
    }
    if (ext == ".html" || ext == ".htm" || ext == ".xhtml") {
        return SourceKind::kHtml;
    }
    if (ext == ".csv") {
        return SourceKind::kCsv;
    }
    if (ext == ".docx") {
        return SourceKind::kDocx;  // a zip; the DOCX extractor says so when it is not one
    }
    if (ext == ".log" || ext == ".jsonl" || ext == ".ndjson" ||
        path.filename().string().find("log") != std::string::npos) {
        return SourceKind::kLog;
    }
    return SourceKind::kUnknown;
}

std::vector<std::filesystem::path> collect_sources(const std::vector<std::filesystem::path> & inputs) {
    std::vector<std::filesystem::path> out;
    for (const auto & input : inputs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(input, ec)) {
            out.push_back(input);
            continue;
        }
        std::vector<std::filesystem::path> found;
        auto it = std::filesystem::recursive_directory_iterator(
            input, std::filesystem::directory_options::skip_permission_denied, ec);
        for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (!name.empty() && name[0] == '.') {
                if (it->is_directory(ec)) {
                    it.disable_recursion_pending();
                }
                continue;
            }
            if (it->is_regular_file(ec)) {
                found.push_back(it->path());
            }
        }
        std::sort(found.begin(), found.end());
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

}  // namespace strongbox::ingest
