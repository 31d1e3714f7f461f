// The generative path end to end with a real (tiny) GGUF model: retrieval, prompt, generation,
// verification, refusal and the audit record. stories260K writes children's stories, not
// grounded answers, so the pipeline must refuse or flag what it writes.

#include "strongbox/answer/grounded.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace strongbox;

namespace {

const std::filesystem::path kModel = std::filesystem::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf";

struct Workspace {
    std::filesystem::path root;

    explicit Workspace(const std::string & name) : root(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(root);
        std::filesystem::create_directories(root / "docs");
        write("backups.md", "# Backups\n\nBackups run nightly at 02:00. Each backup is kept for 30 days on the NAS-7 "
                            "appliance.\nRestores are requested through the service desk.\n");
        write("story.txt", "Once upon a time there was a little girl named Lily. She liked to play in the park "
                           "with her dog. One day the sun was shining and Lily was happy.\n");
    }
    ~Workspace() { std::filesystem::remove_all(root); }

    void write(const std::string & name, const std::string & text) {
        REQUIRE(core::write_file_atomic(root / "docs" / name, text).ok());
    }

    std::unique_ptr<appliance::Appliance> open(appliance::Settings s) {
        s.data_dir = root / "data";
        auto app = appliance::Appliance::open(s);
        REQUIRE_MESSAGE(app.ok(), app.error().to_string());
        (*app)->ingest({root / "docs"}, {});
        return std::move(app).value();
    }
};

appliance::Settings model_settings() {
    appliance::Settings s;
    s.model_path = kModel;
    s.model_threads = 1;
    // The test model's context is 512 tokens of a 512-piece vocabulary: use the short template.
    s.prompt_dir = std::filesystem::path(SB_TEST_DATA_DIR) / "appliance" / "prompts-tiny";
    s.caps.max_prompt_tokens = 400;
    s.caps.max_new_tokens = 48;
    return s;
}

core::Json last_ask_record(appliance::Appliance & app) {
    appliance::AuditFilter f;
    f.kind = appliance::audit_kind::kAsk;
    auto records = app.audit().list(f);
    REQUIRE(records.ok());
    REQUIRE_FALSE(records->empty());
    return records->back().body;
}

}  // namespace

TEST_CASE("with a model configured, ask generates, verifies and records model, template and verification") {
    Workspace w("sb-grounded-e2e");
    auto app = w.open(model_settings());
    std::string streamed;
    auto a = app->ask("How long is each backup kept?", "alice", "cli", 3, [&](std::string_view t) {
        streamed += t;
        return true;
    });
    REQUIRE_MESSAGE(a.ok(), a.error().to_string());
    CHECK(a->answerer.find("generative (stories260K.gguf)") == 0);
    // Whatever the tiny model wrote, nothing unsupported is shown as supported.
    if (a->refused) {
        CHECK(a->refusal_reason.find("Not found in the indexed documents") == 0);
        CHECK(a->refusal_reason.find("Nearest passages") != std::string::npos);
        CHECK(a->sentences.empty());
        CHECK_FALSE(a->citations.empty());
    } else {
        for (const core::AnswerSentence & s : a->sentences) {
            CHECK(s.support != core::Support::kUnsupported);
        }
    }
    const core::Json body = last_ask_record(*app);
    CHECK(body.get_string("model_sha256").size() == 64);
    CHECK(body.get_string("prompt_template_version") == "grounded-answer/v1");
    CHECK(body.get_string("prompt_template_sha256").size() == 64);
    CHECK(body.get_string("settings_version").size() == 16);
    // The record names where the model ran: the CPU here, a GPU where one is present and it fits.
    REQUIRE(body.find("model") != nullptr);
    const std::string device = body.find("model")->get_string("device");
    CHECK((device == "cpu" || device.rfind("cuda:", 0) == 0));
    REQUIRE(body.find("verification") != nullptr);
    REQUIRE(body.find("tokens") != nullptr);
    CHECK(body.find("tokens")->get_int("prompt") > 0);
    CHECK(body.find("tokens")->get_int("prompt") <= 400);
    CHECK(body.find("tokens")->get_int("generated") > 0);
    CHECK_FALSE(body.get_string("generated_text").empty());
    // Every generated sentence was checked, and the ones shown match what was streamed.
    CHECK(body.find("verification")->size() > 0);
    if (a->refused) {
        CHECK(streamed.empty());
    }
}

TEST_CASE("the generated sentences the tiny model writes without citations are flagged when removal is off") {
    Workspace w("sb-grounded-flag");
    appliance::Settings s = model_settings();
    s.verifier.remove_unsupported = false;
    auto app = w.open(s);
    auto a = app->ask("Who is Lily and what did she like?", "alice", "cli", 3);
    REQUIRE_MESSAGE(a.ok(), a.error().to_string());
    const core::Json body = last_ask_record(*app);
    const core::Json & checks = *body.find("verification");
    size_t unsupported = 0;
    for (const core::Json & c : checks.as_array()) {
        unsupported += c.get_string("support") == "unsupported" ? 1 : 0;
        CHECK_FALSE(c.get_bool("removed"));
    }
    // stories260K never writes [n] markers, so at least one sentence is unsupported; without a
    // supported sentence the answer is a refusal, not a fluent story.
    CHECK(unsupported > 0);
    CHECK(a->refused == (body.find("verification")->size() == unsupported));
}

TEST_CASE("the new-token cap stops generation and the audit record names it") {
    Workspace w("sb-grounded-cap-tokens");
    appliance::Settings s = model_settings();
    s.caps.max_new_tokens = 4;
    auto app = w.open(s);
    auto a = app->ask("How long is each backup kept?", "alice", "cli", 3);
    REQUIRE(a.ok());
    const core::Json body = last_ask_record(*app);
    CHECK(body.find("tokens")->get_int("generated") <= 4);
    if (body.find("tokens")->get_int("generated") == 4) {
        CHECK(body.get_string("stopped_by") == "max_new_tokens");
        // Refused or not, the answer says the cap cut it short.
        CHECK(a->answerer.find("cut short by the limit of 4 generated tokens") != std::string::npos);
    }
    CHECK(body.find("caps")->get_int("max_new_tokens") == 4);
}

TEST_CASE("a deadline already passed stops the answer and says which cap stopped it") {
    Workspace w("sb-grounded-cap-deadline");
    appliance::Settings s = model_settings();
    s.caps.deadline_ms = 0;
    auto app = w.open(s);
    auto a = app->ask("How long is each backup kept?", "alice", "cli", 3);
    REQUIRE(a.ok());
    CHECK(a->refused);
    CHECK(a->refusal_reason.find("ms time limit") != std::string::npos);
    CHECK(last_ask_record(*app).get_string("stopped_by") == "deadline_ms");
}

TEST_CASE("a user who spent the daily token quota is refused while other users are still answered") {
    Workspace w("sb-grounded-cap-quota");
    appliance::Settings s = model_settings();
    s.caps.daily_user_tokens = 10;  // one question spends more than this
    auto app = w.open(s);
    REQUIRE(app->ask("How long is each backup kept?", "alice", "cli", 3).ok());
    CHECK(last_ask_record(*app).get_string("stopped_by") != "daily_user_tokens");
    auto second = app->ask("How long is each backup kept?", "alice", "cli", 3);
    REQUIRE(second.ok());
    CHECK(second->refused);
    CHECK(second->refusal_reason.find("daily quota") != std::string::npos);
    CHECK(last_ask_record(*app).get_string("stopped_by") == "daily_user_tokens");
    REQUIRE(app->ask("How long is each backup kept?", "bob", "cli", 3).ok());
    CHECK(last_ask_record(*app).get_string("stopped_by") != "daily_user_tokens");
}

TEST_CASE("the daily token quota survives a restart of the appliance") {
    Workspace w("sb-grounded-cap-quota-restart");
    appliance::Settings s = model_settings();
    s.caps.daily_user_tokens = 10;  // one question spends more than this
    {
        auto app = w.open(s);
        REQUIRE(app->ask("How long is each backup kept?", "alice", "cli", 3).ok());
        CHECK(last_ask_record(*app).find("tokens")->get_int("user_today") > 10);
    }
    // A new process (the daemon after the CLI, or after a restart) sees what alice spent today.
    auto app = w.open(s);
    auto again = app->ask("How long is each backup kept?", "alice", "cli", 3);
    REQUIRE(again.ok());
    CHECK(again->refused);
    CHECK(again->refusal_reason.find("daily quota of 10 tokens is used up") != std::string::npos);
    CHECK(last_ask_record(*app).get_string("stopped_by") == "daily_user_tokens");
}

TEST_CASE("streamed text is the verified sentences, flagged as the answer flags them, as they complete") {
    Workspace w("sb-grounded-stream");
    appliance::Settings s = model_settings();
    s.verifier.remove_unsupported = false;
    auto app = w.open(s);
    std::vector<std::string> pieces;
    auto a = app->ask("Who is Lily and what did she like?", "alice", "cli", 3, [&](std::string_view t) {
        pieces.emplace_back(t);
        return true;
    });
    REQUIRE_MESSAGE(a.ok(), a.error().to_string());
    const core::Json body = last_ask_record(*app);
    const core::Json & checks = *body.find("verification");
    // One piece per generated sentence, each carrying its verdict: nothing reads as supported
    // that the verifier did not pass.
    REQUIRE(checks.size() > 1);
    REQUIRE(pieces.size() == checks.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
        const core::Json & c = checks.as_array()[i];
        CHECK(pieces[i].find(c.get_string("text")) != std::string::npos);
        CHECK((pieces[i].find("(unsupported)") != std::string::npos) == (c.get_string("support") == "unsupported"));
    }
}

TEST_CASE("a missing model file fails open with the path") {
    appliance::Settings s = model_settings();
    s.model_path = "/nonexistent/model.gguf";
    s.data_dir = std::filesystem::temp_directory_path() / "sb-grounded-missing";
    std::filesystem::remove_all(s.data_dir);
    auto app = appliance::Appliance::open(s);
    REQUIRE_FALSE(app.ok());
    CHECK(app.error().message().find("/nonexistent/model.gguf") != std::string::npos);
    std::filesystem::remove_all(s.data_dir);
}

TEST_CASE("without a model the answer says it is extractive and is verified as supported") {
    Workspace w("sb-grounded-extractive");
    auto app = w.open(appliance::Settings{});
    auto a = app->ask("How long is each backup kept?", "alice", "cli", 3);
    REQUIRE(a.ok());
    CHECK(a->answerer == "extractive");
    REQUIRE_FALSE(a->refused);
    CHECK(a->text().find("30 days") != std::string::npos);
    const core::Json body = last_ask_record(*app);
    REQUIRE(body.find("verification")->size() == a->sentences.size());
    for (const core::Json & c : body.find("verification")->as_array()) {
        CHECK(c.get_string("support") == "supported");
    }
    CHECK(body.get_string("model_sha256").empty());
}

TEST_CASE("a question the documents do not cover is refused with the nearest passages") {
    Workspace w("sb-grounded-refuse");
    auto app = w.open(appliance::Settings{});
    auto a = app->ask("What is the boiling point of liquid nitrogen at sea level?", "alice", "cli", 3);
    REQUIRE(a.ok());
    CHECK(a->refused);
    CHECK(a->refusal_reason.find("Not found in the indexed documents") == 0);
}
