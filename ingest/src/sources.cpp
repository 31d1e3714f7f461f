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

CollectedSources collect_sources(const std::vector<std::filesystem::path> & inputs, bool follow_symlinks) {
    namespace fs = std::filesystem;
    CollectedSources out;
    for (const auto & input : inputs) {
        std::error_code ec;
        if (!fs::is_directory(input, ec)) {
            out.files.push_back(input);
            continue;
        }
        std::vector<fs::path> found;
        std::vector<fs::path> links;
        const fs::directory_options walk = follow_symlinks ? fs::directory_options::skip_permission_denied |
                                                                 fs::directory_options::follow_directory_symlink
                                                           : fs::directory_options::skip_permission_denied;
        auto it = fs::recursive_directory_iterator(input, walk, ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (!name.empty() && name[0] == '.') {
                if (it->is_directory(ec)) {
                    it.disable_recursion_pending();
                }
                continue;
            }
            if (!follow_symlinks && it->is_symlink(ec)) {
                links.push_back(it->path());
                continue;
            }
            if (it->is_regular_file(ec)) {
                found.push_back(it->path());
            }
        }
        std::sort(found.begin(), found.end());
        std::sort(links.begin(), links.end());
        out.files.insert(out.files.end(), found.begin(), found.end());
        out.skipped_links.insert(out.skipped_links.end(), links.begin(), links.end());
    }
    return out;
}

}  // namespace strongbox::ingest
