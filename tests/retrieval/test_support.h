// Test support shared by the retrieval tests: documents built in memory (TempDir from tests/support).
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/hash.h"

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include <unistd.h>

namespace strongbox::retrieval::testing {

using strongbox::testing::TempDir;

// One chunk per text, each on its own line range; sha256 over the joined texts, as if the file held them.
inline core::ExtractedDocument make_doc(const std::string & path, const std::vector<std::string> & texts,
                                        const std::string & media_type = "text/plain", int page = 0) {
    core::ExtractedDocument doc;
    doc.source_path = path;
    doc.media_type = media_type;
    std::string all;
    int line = 1;
    for (const auto & t : texts) {
        core::Chunk c;
        c.text = t;
        c.provenance.source_path = path;
        c.provenance.page = page;
        c.provenance.line_start = line;
        c.provenance.line_end = line;
        c.provenance.extractor = "plain-text";
        ++line;
        all += t + "\n";
        doc.chunks.push_back(std::move(c));
    }
    doc.sha256 = core::sha256_hex(all);
    doc.size_bytes = static_cast<int64_t>(all.size());
    doc.page_count = line - 1;
    return doc;
}

}  // namespace strongbox::retrieval::testing
