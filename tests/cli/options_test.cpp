// Numeric options are checked before any work starts: a word where a number belongs, or a number
// out of range, is a clear error naming the option, never a crash or a silent zero.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support/run_command.h"

using strongbox::testing::CommandRun;
using strongbox::testing::run_command;

namespace {

const std::filesystem::path kStrongbox = std::filesystem::path(SB_BINARY_DIR) / "appliance" / "strongbox";
const std::string kModel = (std::filesystem::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf").string();

CommandRun run_strongbox(const std::string & args) {
    return run_command(kStrongbox.string() + " " + args);
}

}  // namespace

TEST_CASE("generate --temperature warm names the option and the word, and loads no model") {
    const CommandRun r = run_strongbox("generate --model " + kModel + " --prompt hi --temperature warm");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("option --temperature expects a number, got 'warm'") != std::string::npos);
    CHECK(r.output.find("terminate") == std::string::npos);
}

TEST_CASE("generate refuses a top-p outside 0..1 and a top-k that is not a whole number") {
    const CommandRun p = run_strongbox("generate --model " + kModel + " --prompt hi --top-p 1.5");
    INFO(p.output);
    CHECK(p.exit_code == 1);
    CHECK(p.output.find("option --top-p must be between 0 and 1, got 1.5") != std::string::npos);
    const CommandRun k = run_strongbox("generate --model " + kModel + " --prompt hi --top-k 2.5");
    INFO(k.output);
    CHECK(k.exit_code == 1);
    CHECK(k.output.find("option --top-k expects a number, got '2.5'") != std::string::npos);
}

TEST_CASE("generate with valid sampler options still generates") {
    const CommandRun r = run_strongbox("generate --model " + kModel +
                                       " --prompt 'Once upon a time' --max-tokens 8 --temperature 0.7 --top-p 0.9 "
                                       "--seed 3");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("8 generated") != std::string::npos);
}

TEST_CASE(
    "generate --device chooses where the model runs: cpu always works, auto falls back to it, cuda says why not") {
    const std::string run = "generate --model " + kModel + " --prompt 'Once upon a time' --max-tokens 8 ";
    const CommandRun cpu = run_strongbox(run + "--device cpu");
    INFO(cpu.output);
    REQUIRE(cpu.exit_code == 0);
    CHECK(cpu.output.find(", on cpu]") != std::string::npos);

    const CommandRun cuda = run_strongbox(run + "--device cuda");
    INFO(cuda.output);
    if (cuda.exit_code == 0) {  // a machine with a GPU the model fits on
        CHECK(cuda.output.find(", on cuda:") != std::string::npos);
    } else {
        CHECK(cuda.exit_code == 1);
        CHECK(cuda.output.find("device cuda: ") != std::string::npos);
    }

    const CommandRun automatic = run_strongbox(run + "--device auto");
    INFO(automatic.output);
    REQUIRE(automatic.exit_code == 0);
    CHECK(automatic.output.find(cuda.exit_code == 0 ? ", on cuda:" : ", on cpu]") != std::string::npos);
    // Greedy decoding writes the same text wherever it runs on the CPU.
    if (cuda.exit_code != 0) {
        CHECK(automatic.output.substr(0, automatic.output.find('[')) == cpu.output.substr(0, cpu.output.find('[')));
    }

    const CommandRun bad = run_strongbox(run + "--device warm");
    CHECK(bad.exit_code == 1);
    CHECK(bad.output.find("device must be auto, cpu or cuda, got 'warm'") != std::string::npos);
}
