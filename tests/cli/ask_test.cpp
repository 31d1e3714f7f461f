// `strongbox ask` through the real binary: streamed, verified sentences with a model, the
// verified answer after them, no streaming in JSON, and a daily quota that outlives the process.

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "appliance/test_support.h"

using namespace strongbox;
using appliance::testing::CommandRun;
using appliance::testing::run_command;
using appliance::testing::TempDir;

namespace {

const std::filesystem::path kStrongbox = std::filesystem::path(SB_BINARY_DIR) / "appliance" / "strongbox";
const std::filesystem::path kTestData = SB_TEST_DATA_DIR;

CommandRun run_strongbox(const std::string & args) {
    return run_command(kStrongbox.string() + " " + args);
}

// A data directory with one ingested document, and the options that answer with the tiny model.
struct Setup {
    TempDir dir;
    std::string data;
    std::string model;

    explicit Setup(const std::string & name) : dir(name) {
        std::filesystem::create_directories(dir.path / "docs");
        REQUIRE(core::write_file_atomic(dir.path / "docs" / "story.txt",
                                        "Once upon a time there was a little girl named Lily. She liked to play in "
                                        "the park with her dog. One day the sun was shining and Lily was happy.\n")
                    .ok());
        REQUIRE(core::write_file_atomic(dir.path / "docs" / "backups.md",
                                        "# Backups\n\nEach backup is kept for 30 days on the NAS-7 appliance.\n")
                    .ok());
        data = "--data-dir " + (dir.path / "data").string() + " ";
        // stories260K has a 512-token context: the short template and small caps fit it.
        model = "--model " + (kTestData / "inference" / "stories260K.gguf").string() + " --prompts " +
                (kTestData / "appliance" / "prompts-tiny").string() +
                " --threads 1 --max-prompt-tokens 400 --max-new-tokens 48 ";
        REQUIRE(run_strongbox(data + "ingest " + (dir.path / "docs").string()).exit_code == 0);
    }
};

}  // namespace

TEST_CASE("with a model, ask streams each verified sentence, then prints the verified answer") {
    Setup s("sb-ask-cli-stream");
    // stories260K writes stories without citations: every sentence streams flagged, and the
    // verified answer is a refusal that shows the nearest passages.
    CommandRun r =
        run_strongbox(s.data + "ask " + s.model + "--flag-unsupported \"Who is Lily and what did she like?\"");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const size_t streaming = r.output.find("Generating (each sentence is verified before it is shown):\n");
    const size_t verified = r.output.find("\n\nVerified answer:\n");
    REQUIRE_MESSAGE(streaming != std::string::npos, r.output);
    REQUIRE_MESSAGE(verified != std::string::npos, r.output);
    CHECK(streaming < verified);
    const std::string streamed = r.output.substr(streaming, verified - streaming);
    CHECK(streamed.find("(unsupported)") != std::string::npos);
    const std::string after = r.output.substr(verified);
    CHECK(after.find("Not found in the indexed documents") != std::string::npos);
    CHECK(after.find("generative (stories260K.gguf) answer") != std::string::npos);
}

TEST_CASE("ask --json with a model prints only the JSON answer, nothing streamed") {
    Setup s("sb-ask-cli-json");
    CommandRun r = run_strongbox(s.data + "ask --json " + s.model + "--flag-unsupported \"Who is Lily?\"");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("Generating") == std::string::npos);
    auto j = core::Json::parse(r.output);
    REQUIRE_MESSAGE(j.ok(), r.output);
    CHECK(j->get_string("answerer").find("generative (stories260K.gguf)") == 0);
}

TEST_CASE("without a model, ask says the answer is extractive and streams nothing") {
    Setup s("sb-ask-cli-extractive");
    CommandRun r = run_strongbox(s.data + "ask \"How long is each backup kept?\"");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("Generating") == std::string::npos);
    CHECK(r.output.find("Each backup is kept for 30 days on the NAS-7 appliance. [1]") != std::string::npos);
    CHECK(r.output.find("backups.md line 3") != std::string::npos);
    CHECK(r.output.find("extractive answer: sentences quoted verbatim from the documents, no language model") !=
          std::string::npos);
}

TEST_CASE("a daily token quota spent by one ask process still holds in the next") {
    Setup s("sb-ask-cli-quota");
    const std::string ask = s.data + "ask " + s.model + "--daily-user-tokens 10 --user alice ";
    CommandRun first = run_strongbox(ask + "\"How long is each backup kept?\"");
    REQUIRE_MESSAGE(first.exit_code == 0, first.output);
    CHECK(first.output.find("daily quota") == std::string::npos);
    CommandRun second = run_strongbox(ask + "\"How long is each backup kept?\"");
    REQUIRE_MESSAGE(second.exit_code == 0, second.output);
    CHECK(second.output.find("Your daily quota of 10 tokens is used up") != std::string::npos);
    CommandRun other = run_strongbox(s.data + "ask " + s.model + "--daily-user-tokens 10 --user bob \"Who is Lily?\"");
    CHECK(other.output.find("daily quota") == std::string::npos);
}

TEST_CASE("a Korean question about a Korean document is answered through strongbox ask, citing the line") {
    TempDir dir("sb-ask-cli-korean");
    std::filesystem::create_directories(dir.path / "docs");
    // The sample note the demo ingests: written in Korean, with particles and verb endings the
    // question does not share ("보관된다" / "보관되나요", "백업본은" / "백업은").
    const std::filesystem::path note = std::filesystem::path(SB_SOURCE_DIR) / "samples" / "notes" / "백업-운영-지침.md";
    std::filesystem::copy_file(note, dir.path / "docs" / note.filename());
    const std::string data = "--data-dir " + (dir.path / "data").string() + " ";
    REQUIRE(run_strongbox(data + "ingest " + (dir.path / "docs").string()).exit_code == 0);

    CommandRun r = run_strongbox(data + "ask \"야간 백업은 며칠 동안 보관되나요?\"");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK_MESSAGE(r.output.find("야간 백업본은 35일 동안 보관된다. [1]") != std::string::npos, r.output);
    CHECK(r.output.find("백업-운영-지침.md line 8") != std::string::npos);
    CHECK(r.output.find("confidence") != std::string::npos);

    // About something the note never mentions: refused, naming what is missing.
    CommandRun refused = run_strongbox(data + "ask \"NAS-9 장비의 펌웨어 버전은 무엇인가요?\"");
    REQUIRE_MESSAGE(refused.exit_code == 0, refused.output);
    CHECK_MESSAGE(refused.output.find("no passage mentions \"NAS-9\"") != std::string::npos, refused.output);
}
