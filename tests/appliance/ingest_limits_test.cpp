// Per-document caps at ingest: a PDF with more pages than max_document_pages, or any file larger
// than max_document_bytes, is refused with a reason naming the file, the size and the setting,
// before the worker spends time on it; the files beside it go in as usual.

#include "settings_store.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/pdf_writer.h"
#include "support/temp_dir.h"

using namespace strongbox;
namespace fs = std::filesystem;
using strongbox::testing::TempDir;

namespace {

std::string pdf_of_pages(int n) {
    std::vector<std::string> objects = {"<< /Type /Catalog /Pages 2 0 R >>"};
    std::string kids;
    for (int i = 0; i < n; ++i) {
        kids += std::to_string(3 + i) + " 0 R ";
    }
    objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
    for (int i = 0; i < n; ++i) {
        objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>");
    }
    return strongbox::testing::pdf_from_objects(objects);
}

}  // namespace

TEST_CASE("a document over the page or size cap is refused at ingest, naming the setting; the others go in") {
    TempDir dir("sb_ingest_limits");
    appliance::Settings s;
    s.data_dir = dir.path / "data";
    auto opened = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(opened.ok(), opened.error().to_string());
    auto app = std::move(opened).value();
    auto changed = app->settings_store().update(
        core::Json::parse(R"({"settings":{"max_document_pages":2,"max_document_bytes":4096}})").value());
    REQUIRE(changed.ok());
    REQUIRE(changed->refused.empty());

    const fs::path docs = dir.path / "docs";
    fs::create_directories(docs);
    REQUIRE(core::write_file_atomic(docs / "long.pdf", pdf_of_pages(3)).ok());
    REQUIRE(core::write_file_atomic(docs / "big.log", std::string(5000, 'x') + "\n").ok());
    REQUIRE(core::write_file_atomic(docs / "small.md", "# Pumps\n\nThe pump is checked weekly.\n").ok());

    const appliance::IngestReport report = app->ingest({docs}, nullptr);
    REQUIRE(report.files.size() == 3);
    using Outcome = appliance::IngestFileResult::Outcome;
    for (const appliance::IngestFileResult & r : report.files) {
        CAPTURE(r.error);
        const std::string name = r.path.filename().string();
        if (name == "long.pdf") {
            CHECK(r.outcome == Outcome::kFailed);
            CHECK(r.error.find("long.pdf") != std::string::npos);
            CHECK(r.error.find("has 3 pages, more than the limit of 2 (setting max_document_pages)") !=
                  std::string::npos);
        } else if (name == "big.log") {
            CHECK(r.outcome == Outcome::kFailed);
            CHECK(r.error.find("big.log: is 5001 bytes, more than the limit of 4096 (setting max_document_bytes)") !=
                  std::string::npos);
        } else {
            CHECK(r.outcome == Outcome::kAdded);
        }
    }

    // Raised, the same files go in.
    REQUIRE(app->settings_store()
                .update(core::Json::parse(R"({"settings":{"max_document_pages":3,"max_document_bytes":8192}})").value())
                .ok());
    const appliance::IngestReport again = app->ingest({docs}, nullptr);
    CHECK(again.count(Outcome::kFailed) == 0);
}
