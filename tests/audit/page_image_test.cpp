// Page images in citation-trail bundles: a citation read off a scanned page carries the cited
// region of that page as a PNG member the manifest lists and verify checks; a source that is gone
// is noted, not fatal; text-layer citations get no image.

#include "page_image.h"

#include "archive.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/extract/page_render.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "support/pdf_writer.h"
#include "support/temp_dir.h"

using namespace strongbox;
namespace fs = std::filesystem;

namespace {

using strongbox::testing::TempDir;

// The renderer the appliance passes the trail (appliance/audit_trail.h): a worker, greyscale.
appliance::ExtractLimits worker_limits() {
    appliance::ExtractLimits limits;
    limits.worker = SB_EXTRACT_WORKER;
    return limits;
}

const appliance::PageRegionRenderer kRenderer = [](const fs::path & pdf, int page, const core::Box & region,
                                                   int dpi) -> core::Result<appliance::RegionImage> {
    static appliance::PageRenderer pages(worker_limits());
    SB_ASSIGN_OR_RETURN(auto r, pages.region_png(pdf, page, region, dpi, appliance::PixelFormat::kGrey));
    return appliance::RegionImage{std::move(r.png), r.width, r.height};
};

const fs::path kScan = fs::path(SB_TEST_DATA_DIR) / "ingest" / "phototest-scan.pdf";  // 230.4 x 172.8 pt, image only

core::Citation citation(int number, const fs::path & source, bool scanned) {
    core::Citation c;
    c.number = number;
    c.chunk_id = 10 + number;
    c.quote = "This is a lot of 12 point text to test the ocr code and see if it works on all types of file format.";
    c.provenance.source_path = source.string();
    c.provenance.source_sha256 = core::sha256_file_hex(source).value();
    c.provenance.page = 1;
    c.provenance.boxes = {core::Box{20, 30, 200, 45, 0, 40}, core::Box{20, 46, 180, 60, 41, 90}};
    if (scanned) {
        c.provenance.extractor = "tesseract-ocr";
        c.provenance.ocr_engine = "tesseract 5.3.0";
        c.provenance.ocr_confidence = 91;
    } else {
        c.provenance.extractor = "poppler-text";
    }
    return c;
}

struct Trail {
    TempDir dir;
    fs::path scan;
    std::unique_ptr<appliance::AuditLog> log;

    explicit Trail(const std::string & name) : dir(name), scan(dir.path / "scans" / "phototest-scan.pdf") {
        fs::create_directories(scan.parent_path());
        fs::copy_file(kScan, scan);
        appliance::AuditOptions options;
        options.render_region = kRenderer;
        auto opened = appliance::AuditLog::open(dir.path / "audit.db", options);
        REQUIRE(opened.ok());
        log = std::move(opened).value();
        core::Answer a;
        a.question = "What does the scanned page test?";
        a.answerer = "extractive";
        core::AnswerSentence s;
        s.text = "It tests the OCR code.";
        s.citations = {1, 2};
        a.sentences.push_back(s);
        a.citations = {citation(1, scan, true), citation(2, scan, false)};
        REQUIRE(log->append(appliance::audit_kind::kAsk, "alice", appliance::answer_record(a, {})).ok());
    }

    std::string bundle() {
        const fs::path out = dir.path / "trail.sbaudit";
        auto s = log->export_bundle(out, {}, "auditor");
        REQUIRE_MESSAGE(s.ok(), s.error().to_string());
        return core::read_file(out).value();
    }
};

std::map<std::string, std::string> members_of(const std::string & bundle) {
    // Held by value: iterating read_archive(bundle).value() directly would walk a destroyed temporary.
    std::vector<appliance::ArchiveMember> members = appliance::read_archive(bundle).value();
    std::map<std::string, std::string> out;
    for (appliance::ArchiveMember & m : members) {
        out[m.name] = std::move(m.bytes);
    }
    return out;
}

std::string with_member(const std::string & bundle, const std::string & name, const std::string & bytes) {
    std::vector<appliance::ArchiveMember> members = appliance::read_archive(bundle).value();
    for (appliance::ArchiveMember & m : members) {
        if (m.name == name) {
            m.bytes = bytes;
        }
    }
    return appliance::write_archive(members, 0);
}

std::string problems(const appliance::BundleVerification & v) {
    std::string out;
    for (const std::string & p : v.problems) {
        out += p + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE("a citation from a scanned page brings the cited region of the page as a listed PNG that verifies") {
    Trail t("sb_page_image_ok");
    const std::string bundle = t.bundle();
    const auto v = appliance::verify_bundle(bundle, t.log->public_key_hex());
    INFO(problems(v));
    CHECK(v.ok);

    const auto members = members_of(bundle);
    REQUIRE(members.count("page-1-1.png") == 1);
    CHECK(members.count("page-1-2.png") == 0);  // the text-layer citation needs no image
    int w = 0;
    int h = 0;
    REQUIRE(appliance::png_dimensions(members.at("page-1-1.png"), w, h));
    // Union of the boxes (20..200 x 30..60 pt) plus a 12 pt margin, at 100 dpi.
    CHECK(std::abs(w - (200 + 12 - 8) * 100.0 / 72) <= 1.5);
    CHECK(std::abs(h - (60 + 12 - 18) * 100.0 / 72) <= 1.5);

    const core::Json manifest = core::Json::parse(members.at("manifest.json")).value();
    const core::Json & listed = *manifest.find("page_images");
    REQUIRE(listed.size() == 1);
    CHECK(listed.as_array()[0].get_string("member") == "page-1-1.png");
    CHECK(listed.as_array()[0].get_int("page") == 1);
    CHECK(listed.as_array()[0].get_string("source_sha256") == core::sha256_file_hex(kScan).value());
    CHECK(manifest.find("page_images_missing")->size() == 0);
    bool in_members = false;
    for (const core::Json & m : manifest.find("members")->as_array()) {
        if (m.get_string("name") == "page-1-1.png") {
            in_members = m.get_string("sha256") == core::sha256_hex(members.at("page-1-1.png"));
        }
    }
    CHECK(in_members);
}

TEST_CASE("a region renders to the same PNG every time, another region to another, a missing page to an error") {
    int w = 0;
    int h = 0;
    auto text_png = appliance::render_region_png(kRenderer, kScan, 1, core::Box{20, 30, 200, 60, -1, -1}, 100, &w, &h);
    REQUIRE(text_png.ok());
    CHECK(w > 0);
    CHECK(h > 0);
    // PNG bytes differ between two different regions of the same page, and the same region renders the same.
    auto again =
        appliance::render_region_png(kRenderer, kScan, 1, core::Box{20, 30, 200, 60, -1, -1}, 100, nullptr, nullptr);
    auto other =
        appliance::render_region_png(kRenderer, kScan, 1, core::Box{20, 120, 200, 150, -1, -1}, 100, nullptr, nullptr);
    REQUIRE(again.ok());
    REQUIRE(other.ok());
    CHECK(*again == *text_png);
    CHECK(*other != *text_png);
    CHECK_FALSE(
        appliance::render_region_png(kRenderer, kScan, 2, core::Box{0, 0, 10, 10, -1, -1}, 100, nullptr, nullptr).ok());
}

TEST_CASE("a changed or broken page image is reported by member") {
    Trail t("sb_page_image_tamper");
    const std::string bundle = t.bundle();
    std::string png = members_of(bundle).at("page-1-1.png");
    png[png.size() / 2] = static_cast<char>(png[png.size() / 2] ^ 0x10);
    const auto v = appliance::verify_bundle(with_member(bundle, "page-1-1.png", png), t.log->public_key_hex());
    CHECK_FALSE(v.ok);
    bool named = false;
    for (const std::string & p : v.problems) {
        named = named || p.find("member 'page-1-1.png'") != std::string::npos;
    }
    CHECK_MESSAGE(named, problems(v));

    const auto truncated =
        appliance::verify_bundle(with_member(bundle, "page-1-1.png", "not a png"), t.log->public_key_hex());
    CHECK_FALSE(truncated.ok);
    CHECK(problems(truncated).find("page image 'page-1-1.png' (record 1, citation 1): not a PNG") != std::string::npos);
}

TEST_CASE("a scanned source that is gone or changed is noted in the manifest and the bundle still verifies") {
    Trail t("sb_page_image_missing");
    fs::remove(t.scan);
    std::string bundle = t.bundle();
    auto v = appliance::verify_bundle(bundle, t.log->public_key_hex());
    INFO(problems(v));
    CHECK(v.ok);
    core::Json manifest = core::Json::parse(members_of(bundle).at("manifest.json")).value();
    CHECK(manifest.find("page_images")->size() == 0);
    REQUIRE(manifest.find("page_images_missing")->size() == 1);
    const core::Json & note = manifest.find("page_images_missing")->as_array()[0];
    CHECK(note.get_int("record_id") == 1);
    CHECK(note.get_int("number") == 1);
    CHECK(note.get_string("reason") == "source file not found");
    CHECK(note.get_string("source_path") == t.scan.string());

    REQUIRE(core::write_file_atomic(t.scan, "a different file at the same path").ok());
    bundle = t.bundle();
    manifest = core::Json::parse(members_of(bundle).at("manifest.json")).value();
    REQUIRE(manifest.find("page_images_missing")->size() == 1);
    CHECK(manifest.find("page_images_missing")->as_array()[0].get_string("reason").find("changed") !=
          std::string::npos);
    CHECK(appliance::verify_bundle(bundle, t.log->public_key_hex()).ok);
}
