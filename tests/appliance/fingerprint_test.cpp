// The hidden salt: the running appliance fingerprints what it loaded (model, prompt templates,
// settings, index parameters), reports it in /readyz, records it with every answer, and records
// a model_change whenever the configured model differs from the last one recorded.

#include "strongbox/appliance/fingerprint.h"

#include "test_support.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/retrieval/analyzer.h"
#include "strongbox/webui/service.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace strongbox;
namespace fs = std::filesystem;

namespace {

using appliance::testing::TempDir;

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "appliance";
const fs::path kModel = fs::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf";

std::unique_ptr<appliance::Appliance> open_app(const appliance::Settings & s) {
    auto app = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    return std::move(app).value();
}

std::string fingerprint_of(const appliance::Settings & s) {
    return open_app(s)->fingerprint().get_string("fingerprint");
}

std::vector<appliance::AuditRecord> records_of(appliance::Appliance & app, const std::string & kind) {
    appliance::AuditFilter f;
    f.kind = kind;
    auto records = app.audit().list(f);
    REQUIRE(records.ok());
    return std::move(records).value();
}

}  // namespace

TEST_CASE("changing a settings default changes the fingerprint; the same settings give the same one") {
    TempDir dir("sb_salt_settings");
    appliance::Settings s;
    s.data_dir = dir.path / "data";
    const std::string first = fingerprint_of(s);
    CHECK(first.size() == 64);
    CHECK(fingerprint_of(s) == first);
    s.min_question_coverage = 0.4;
    CHECK(fingerprint_of(s) != first);
}

TEST_CASE("changing a prompt template changes the model-backed appliance's fingerprint") {
    TempDir dir("sb_salt_prompts");
    fs::copy(kData / "prompts-tiny", dir.path / "prompts");
    appliance::Settings s;
    s.data_dir = dir.path / "data";
    s.model_path = kModel;
    s.prompt_dir = dir.path / "prompts";
    s.model_threads = 1;
    auto app = open_app(s);
    const core::Json before = app->fingerprint();
    CHECK(before.get_string("model_sha256") == core::sha256_file_hex(kModel).value());
    CHECK(before.get_string("prompts_sha256") == appliance::hash_prompt_tree(dir.path / "prompts").value());
    app.reset();

    std::string text = core::read_file(dir.path / "prompts" / "grounded-answer.txt").value();
    text += "\n";  // one byte more at the end of the user section
    REQUIRE(core::write_file_atomic(dir.path / "prompts" / "grounded-answer.txt", text).ok());
    const core::Json after = open_app(s)->fingerprint();
    CHECK(after.get_string("prompts_sha256") != before.get_string("prompts_sha256"));
    CHECK(after.get_string("model_sha256") == before.get_string("model_sha256"));
    CHECK(after.get_string("fingerprint") != before.get_string("fingerprint"));
}

TEST_CASE("an answer's audit record carries the fingerprint /readyz reports and the analyzer that matched words") {
    TempDir dir("sb_salt_record");
    appliance::Settings s;
    s.data_dir = dir.path / "data";
    auto app = open_app(s);
    REQUIRE(
        app->ingest({kData / "operations-guide.pdf"}, nullptr).count(appliance::IngestFileResult::Outcome::kAdded) ==
        1);
    auto ready = appliance::make_web_service(*app)->readiness();
    REQUIRE(ready.ok());
    CHECK(ready->ready);
    const std::string fingerprint = ready->salt.fingerprint;
    CHECK(fingerprint == app->fingerprint().get_string("fingerprint"));
    CHECK(ready->salt.settings_sha256 == appliance::settings_sha256(s.to_json()));

    for (const char * question : {"How long are monthly archive tapes kept?", "Who won the 1998 chess olympiad?"}) {
        auto answer = app->ask(question, "alice", "http", 5);
        REQUIRE(answer.ok());
    }
    const auto asks = records_of(*app, appliance::audit_kind::kAsk);
    REQUIRE(asks.size() == 2);  // an answer and a refusal
    for (const appliance::AuditRecord & r : asks) {
        CHECK(r.body.get_string("salt_fingerprint") == fingerprint);
        CHECK(r.body.get_string("analyzer") == retrieval::kAnalyzerVersion);
        CHECK(r.body.get_string("scorer") ==
              appliance::AnswerScorer::shipped().version + " sha256:" + appliance::AnswerScorer::shipped().sha256());
    }
    // The index parameters the fingerprint pins name the analyzer: a new analyzer is a new salt.
    CHECK(ready->salt.index_params_sha256 == appliance::index_params_sha256(app->health().get_string("embedder"),
                                                                            std::string(retrieval::kAnalyzerVersion)));
    CHECK(appliance::index_params_sha256("hashed/1/256", "a") != appliance::index_params_sha256("hashed/1/256", "b"));
}

TEST_CASE("a model other than the last one recorded is recorded as a model_change at open") {
    TempDir dir("sb_salt_model_change");
    appliance::Settings s;
    s.data_dir = dir.path / "data";
    CHECK(records_of(*open_app(s), appliance::audit_kind::kModelChange).empty());  // no model, as before

    s.model_path = kModel;
    s.prompt_dir = kData / "prompts-tiny";
    s.model_threads = 1;
    const std::string model_sha = core::sha256_file_hex(kModel).value();
    {
        auto app = open_app(s);
        const auto changes = records_of(*app, appliance::audit_kind::kModelChange);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].body.get_string("model_sha256") == model_sha);
        CHECK(changes[0].body.get_string("previous_model_sha256").empty());
        CHECK(changes[0].body.get_string("model_file") == "stories260K.gguf");
    }
    CHECK(records_of(*open_app(s), appliance::audit_kind::kModelChange).size() == 1);  // same model: nothing new

    s.model_path.clear();
    auto app = open_app(s);
    const auto changes = records_of(*app, appliance::audit_kind::kModelChange);
    REQUIRE(changes.size() == 2);
    CHECK(changes[1].body.get_string("model_sha256").empty());
    CHECK(changes[1].body.get_string("previous_model_sha256") == model_sha);
    CHECK(app->audit().verify().ok());
}

TEST_CASE("the bundle command hashes settings and prompts the way the running appliance does") {
    TempDir dir("sb_salt_same_hash");
    fs::copy(kData / "prompts-tiny", dir.path / "prompts");
    const appliance::Settings s;
    // Pretty-printed: whitespace and key order do not change the pinned hash.
    REQUIRE(core::write_file_atomic(dir.path / "settings.json", s.to_json().dump(2)).ok());
    CHECK(appliance::canonical_json_file_sha256(dir.path / "settings.json").value() ==
          appliance::settings_sha256(s.to_json()));
    CHECK(appliance::hash_prompt_tree(dir.path / "prompts").value() ==
          appliance::hash_prompt_tree(kData / "prompts-tiny").value());

    provisioning::HiddenSalt pinned;
    pinned.settings_sha256 = appliance::settings_sha256(s.to_json());
    pinned.prompts_sha256 = std::string(64, 'e');
    provisioning::HiddenSalt running = pinned;
    CHECK(appliance::salt_mismatches(pinned, running).empty());
    running.prompts_sha256 = appliance::hash_prompt_tree(dir.path / "prompts").value();
    const auto differ = appliance::salt_mismatches(pinned, running);
    REQUIRE(differ.size() == 1);
    CHECK(differ[0].rfind("prompts", 0) == 0);
}
