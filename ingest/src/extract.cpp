// extract_file(): reads a source once, fingerprints it, and hands the bytes to the extractor
// for its kind. Every error leaving here names the file.
#include "extractors.h"
#include "log_extractor.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <system_error>

namespace strongbox::ingest {
namespace {

core::Error named(core::Error error, const std::filesystem::path & path) {
    if (error.message().find(path.string()) == std::string::npos) {
        error.with_context("ingest " + path.string());
    }
    return error;
}

std::string ext_lower(const std::filesystem::path & path) {
    std::string ext = path.extension().string();
    for (char & c : ext) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return ext;
}

}  // namespace

core::Result<core::ExtractedDocument> extract_file(const std::filesystem::path & input, const IngestOptions & options) {
    std::error_code ec;
    std::filesystem::path path = std::filesystem::absolute(input, ec);
    if (ec) {
        path = input;
    }
    path = path.lexically_normal();
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        return named(core::Error(core::ErrorCode::kNotFound, "no such file"), path);
    }
    if (std::filesystem::is_directory(status)) {
        return named(core::Error(core::ErrorCode::kInvalidArgument, "is a directory, not a file"), path);
    }
    auto bytes = core::read_file(path);
    if (!bytes.ok()) {
        return named(core::Error(core::ErrorCode::kIoError, "cannot read: " + bytes.error().message()), path);
    }
    const std::string & data = bytes.value();
    const std::string sha256 = core::sha256_hex(data);

    ExtractFn extractor = nullptr;
    switch (detect_kind(path, std::string_view(data).substr(0, 1024))) {
    case SourceKind::kPdf:
        extractor = &extract_pdf;
        break;
    case SourceKind::kText:
        extractor = &extract_text;
        break;
    case SourceKind::kHtml:
        extractor = &extract_html;
        break;
    case SourceKind::kCsv:
        extractor = &extract_csv;
        break;
    case SourceKind::kDocx:
        extractor = &extract_docx;
        break;
    case SourceKind::kLog:
        extractor = static_cast<ExtractFn>(&extract_log);
        break;
    case SourceKind::kUnknown:
        if (looks_binary(data)) {
            const std::string ext = ext_lower(path);
            return named(core::Error(core::ErrorCode::kUnsupported,
                                     "unsupported file type" + (ext.empty() ? std::string() : " (" + ext + ")") +
                                         ": binary data, not text"),
                         path);
        }
        extractor = &extract_text;  // an unknown extension holding text is ingested as plain text
        break;
    }
    auto doc = extractor(path, data, sha256, options);
    if (!doc.ok()) {
        return named(std::move(doc).error(), path);
    }
    return doc;
}

}  // namespace strongbox::ingest
