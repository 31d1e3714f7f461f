// The behaviour check: a healthy box passes every check, and each way a box can fail to deliver
// what its image promises fails exactly the check that names it.

#include "strongbox/appliance/selftest.h"

#include "test_support.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/fingerprint.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace strongbox;
namespace fs = std::filesystem;

namespace {

using appliance::testing::TempDir;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "appliance";

// A data directory holding the operations guide, and golden questions about it.
struct Box {
    TempDir dir;
    fs::path data;
    fs::path golden;

    explicit Box(const std::string & name, const std::string & expect = R"({"file":"operations-guide.pdf","page":2})")
        : dir(name), data(dir.path / "data"), golden(dir.path / "golden.json") {
        {
            appliance::Settings s;
            s.data_dir = data;
            auto app = appliance::Appliance::open(s);
            REQUIRE_MESSAGE(app.ok(), app.error().to_string());
            auto report = (*app)->ingest({kData / "operations-guide.pdf"}, nullptr);
            REQUIRE(report.count(appliance::IngestFileResult::Outcome::kAdded) == 1);
        }
        REQUIRE(core::write_file_atomic(
                    golden, R"([{"question":"How long are monthly archive tapes kept?","expect":[)" + expect + "]}]")
                    .ok());
    }

    appliance::SelftestOptions options() const {
        appliance::SelftestOptions o;
        o.data_dir = data;
        o.golden_path = golden;
        return o;
    }
};

const appliance::SelftestCheck * find_check(const appliance::SelftestReport & r, const std::string & prefix) {
    auto it = std::find_if(r.checks.begin(), r.checks.end(),
                           [&](const appliance::SelftestCheck & c) { return c.name.rfind(prefix, 0) == 0; });
    return it == r.checks.end() ? nullptr : &*it;
}

// Runs the check and expects exactly `failing` (a check-name prefix) to fail.
void expect_only_failure(const appliance::SelftestOptions & o, const std::string & failing) {
    const appliance::SelftestReport r = appliance::run_selftest(o);
    INFO(appliance::format_selftest(r));
    CHECK_FALSE(r.passed());
    const std::vector<std::string> failed = r.failed();
    REQUIRE(failed.size() == 1);
    CHECK(failed.front().rfind(failing, 0) == 0);
    CHECK(appliance::format_selftest(r).find("selftest FAILED (" + failed.front()) != std::string::npos);
}

void flip_byte(const fs::path & path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x5a));
}

}  // namespace

TEST_CASE("a healthy box passes every check, the web server answering over TLS with the box's certificate") {
    Box box("sb_selftest_ok");
    appliance::SelftestOptions o = box.options();
    o.model_path = box.golden;  // any file: the model check compares hashes
    o.model_sha256 = core::sha256_file_hex(box.golden).value();
    const appliance::SelftestReport r = appliance::run_selftest(o);
    INFO(appliance::format_selftest(r));
    CHECK(r.passed());
    for (const char * name : {"database integrity", "vector index", "audit chain", "model matches manifest",
                              "web server answers over TLS", "golden: How long"}) {
        const appliance::SelftestCheck * c = find_check(r, name);
        REQUIRE_MESSAGE(c != nullptr, name);
        CHECK_MESSAGE(c->passed, name);
    }
    CHECK(fs::exists(box.data / "tls-cert.pem"));
    CHECK(appliance::to_json(r).get_bool("passed"));
}

TEST_CASE("a damaged database fails the database integrity check") {
    Box box("sb_selftest_db");
    // Overwrite every page after the first (header and schema): the tables no longer check out.
    const fs::path db = box.data / "strongbox.db";
    {
        SQLite::Database handle(db.string(), SQLite::OPEN_READWRITE);
        handle.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const uint64_t size = fs::file_size(db);
    REQUIRE(size > 2 * 4096);
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string junk(size - 4096, '\x7f');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    f.close();
    const appliance::SelftestReport r = appliance::run_selftest(box.options());
    INFO(appliance::format_selftest(r));
    const appliance::SelftestCheck * c = find_check(r, "database integrity");
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->passed);
    CHECK_FALSE(r.passed());
}

TEST_CASE("a vector index that no longer matches its recorded hash fails the index check") {
    Box box("sb_selftest_index");
    const fs::path index = box.data / "vectors.faiss";
    REQUIRE(fs::exists(index));
    flip_byte(index, fs::file_size(index) - 7);
    const appliance::SelftestReport r = appliance::run_selftest(box.options());
    INFO(appliance::format_selftest(r));
    const appliance::SelftestCheck * c = find_check(r, "vector index");
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->passed);
    CHECK_FALSE(r.passed());
}

TEST_CASE("a damaged certificate fails the TLS check") {
    Box box("sb_selftest_tls");
    REQUIRE(appliance::run_selftest(box.options()).passed());  // makes the certificate and key
    REQUIRE(core::write_file_atomic(box.data / "tls-cert.pem",
                                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .ok());
    expect_only_failure(box.options(), "web server answers over TLS");
}

TEST_CASE("an edited audit record fails the audit chain check and names the record") {
    Box box("sb_selftest_audit");
    {
        SQLite::Database db((box.data / "audit.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_records_no_update");
        db.exec("UPDATE audit_records SET actor = 'mallory' WHERE id = 1");
    }
    const appliance::SelftestReport r = appliance::run_selftest(box.options());
    const appliance::SelftestCheck * c = find_check(r, "audit chain");
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->passed);
    CHECK(c->detail.find("audit record 1") != std::string::npos);
    CHECK(r.failed().front() == "audit chain");
}

TEST_CASE("a model file that differs from the manifest fails the model check") {
    Box box("sb_selftest_model");
    appliance::SelftestOptions o = box.options();
    o.model_path = box.golden;
    o.model_sha256 = core::sha256_hex("the model the image was built with");
    expect_only_failure(o, "model matches manifest");
}

TEST_CASE("settings that differ from the ones the manifest pins fail the hidden salt check") {
    Box box("sb_selftest_salt");
    appliance::SelftestOptions o = box.options();
    appliance::Settings signed_settings;
    signed_settings.top_k = 8;  // the image was built with another default
    provisioning::HiddenSalt salt;
    salt.settings_sha256 = appliance::settings_sha256(signed_settings.to_json());
    o.expected_salt = salt;
    expect_only_failure(o, "hidden salt matches the manifest");

    salt.settings_sha256 = appliance::settings_sha256(appliance::Settings().to_json());
    o.expected_salt = salt;
    CHECK(appliance::run_selftest(o).passed());
}

TEST_CASE("a golden question answered without its expected citation fails that question") {
    Box box("sb_selftest_golden", R"({"file":"operations-guide.pdf","page":1})");
    expect_only_failure(box.options(), "golden: How long are monthly archive tapes kept?");
}

TEST_CASE("a golden question answered slower than the promised latency fails that question") {
    Box box("sb_selftest_latency");
    appliance::SelftestOptions o = box.options();
    o.latency_budget_ms = 0;
    const appliance::SelftestReport r = appliance::run_selftest(o);
    const appliance::SelftestCheck * c = find_check(r, "golden: How long");
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->passed);
    CHECK(c->detail.find("too slow") != std::string::npos);
    CHECK(c->detail.find("expected citations present") != std::string::npos);
}
