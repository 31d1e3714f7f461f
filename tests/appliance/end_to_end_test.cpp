// The thin path end to end: real files in, a cited answer out, over the library, HTTP and the CLI.

#include "test_support.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/core/file.h"
#include "strongbox/webui/server.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

using namespace strongbox;
using appliance::IngestFileResult;

namespace {

const std::filesystem::path kData = std::filesystem::path(SB_TEST_DATA_DIR) / "appliance";
const std::filesystem::path kStrongbox = std::filesystem::path(SB_BINARY_DIR) / "appliance" / "strongbox";

using appliance::testing::CommandRun;
using appliance::testing::open_test_accounts;
using appliance::testing::run_command;
using appliance::testing::TempDir;

std::unique_ptr<appliance::Appliance> open_app(const std::filesystem::path & dir) {
    appliance::Settings s;
    s.data_dir = dir;
    auto app = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    return std::move(app).value();
}

struct HttpReply {
    int status = 0;
    std::string body;
};

HttpReply http(int port, const std::string & method, const std::string & path, const std::string & body = "",
               const std::string & token = "") {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) {
        request.set("Authorization", "Bearer " + token);
    }
    if (!body.empty()) {
        request.setContentType("application/json");
    }
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream & in = session.receiveResponse(response);
    HttpReply reply;
    reply.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
}

CommandRun run_strongbox(const std::string & args) {
    return run_command(kStrongbox.string() + " " + args);
}

}  // namespace

TEST_CASE("a question answered on page 2 of a real PDF cites that file and page") {
    TempDir dir("sb_e2e_page");
    auto app = open_app(dir.path / "data");
    auto report = app->ingest({kData / "operations-guide.pdf", kData / "tagged.pdf"}, nullptr);
    REQUIRE(report.count(IngestFileResult::Outcome::kAdded) == 2);

    auto answer = app->ask("How long are monthly archive tapes kept?", "alice", "test", 5);
    REQUIRE(answer.ok());
    REQUIRE_FALSE(answer->refused);
    REQUIRE_FALSE(answer->citations.empty());
    const core::Citation & c = answer->citations.front();
    CHECK(std::filesystem::path(c.provenance.source_path).filename() == "operations-guide.pdf");
    CHECK(c.provenance.page == 2);
    CHECK(c.quote.find("7 years") != std::string::npos);
    CHECK(answer->text().find("7 years") != std::string::npos);
    CHECK(c.provenance.source_sha256.size() == 64);
}

TEST_CASE("ingesting identical bytes again changes nothing") {
    TempDir dir("sb_e2e_again");
    auto app = open_app(dir.path / "data");
    REQUIRE(app->ingest({kData / "operations-guide.pdf"}, nullptr).count(IngestFileResult::Outcome::kAdded) == 1);
    const int64_t chunks = app->health().get_int("chunks");
    auto again = app->ingest({kData / "operations-guide.pdf"}, nullptr);
    CHECK(again.count(IngestFileResult::Outcome::kUnchanged) == 1);
    CHECK(app->health().get_int("chunks") == chunks);
}

TEST_CASE("a corrupt PDF fails alone with its name and reason while the other files are stored") {
    TempDir dir("sb_e2e_corrupt");
    auto app = open_app(dir.path / "data");
    REQUIRE(app->ingest({kData / "operations-guide.pdf"}, nullptr).count(IngestFileResult::Outcome::kAdded) == 1);
    const int64_t before = app->health().get_int("chunks");

    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every April.\n").ok());
    auto report = app->ingest({kData / "invalid.pdf", dir.path / "notes.md", dir.path / "missing.txt"}, nullptr);
    CHECK(report.count(IngestFileResult::Outcome::kFailed) == 2);
    CHECK(report.count(IngestFileResult::Outcome::kAdded) == 1);
    for (const IngestFileResult & f : report.files) {
        if (f.outcome == IngestFileResult::Outcome::kFailed) {
            CHECK(f.error.find(f.path.filename().string()) != std::string::npos);
        }
    }
    CHECK(app->health().get_int("chunks") > before);
    auto answer = app->ask("How long are nightly backups kept?", "alice", "test", 5);
    REQUIRE(answer.ok());
    CHECK(answer->text().find("35 days") != std::string::npos);
}

TEST_CASE("a question the documents cannot answer is refused, and the refusal is audited") {
    TempDir dir("sb_e2e_refuse");
    auto app = open_app(dir.path / "data");
    app->ingest({kData / "operations-guide.pdf"}, nullptr);
    auto answer = app->ask("What is the capital of Mongolia?", "bob", "test", 5);
    REQUIRE(answer.ok());
    CHECK(answer->refused);
    CHECK(answer->citations.empty());
    auto records = app->audit().list({"", "", "ask", "bob"});
    REQUIRE(records.ok());
    REQUIRE(records->size() == 1);
    CHECK(records->front().body.get_bool("refused"));
}

TEST_CASE("every answer is recorded in the audit trail with its citations and their provenance") {
    TempDir dir("sb_e2e_audit");
    auto app = open_app(dir.path / "data");
    app->ingest({kData / "operations-guide.pdf"}, nullptr);
    auto answer = app->ask("Where are spare disks kept?", "carol", "test", 5);
    REQUIRE(answer.ok());
    REQUIRE_FALSE(answer->refused);
    std::ostringstream out;
    REQUIRE(app->audit().export_jsonl(out, {"", "", "ask", ""}).ok());
    auto record = core::Json::parse(out.str().substr(0, out.str().find('\n')));
    REQUIRE(record.ok());
    CHECK(record->get_int("id") == answer->audit_id);
    const core::Json & body = *record->find("record");
    CHECK(body.get_string("question") == "Where are spare disks kept?");
    const core::Json & cite = body.find("citations")->as_array().at(0);
    CHECK(cite.find("provenance")->get_int("page") == 3);
    CHECK(cite.get_string("quote").find("cabinet B") != std::string::npos);
    CHECK(app->audit().verify().ok());
}

TEST_CASE(
    "the HTTP API answers /api/ask with citations for a token holder and /healthz with the store's size to them") {
    TempDir dir("sb_e2e_http");
    auto app = open_app(dir.path / "data");
    app->ingest({kData / "operations-guide.pdf"}, nullptr);
    auto service = appliance::make_web_service(*app);
    // A staff member who reads the default collection through their group, asking with an API token.
    auto accounts = open_test_accounts(dir.path / "data" / "accounts.db");
    REQUIRE_MESSAGE(accounts.ok(), accounts.error().to_string());
    REQUIRE(
        (*accounts)->add_user({.name = "dana", .role = access::kRoleStaff, .groups = {"ops"}}, "dana-password").ok());
    REQUIRE((*accounts)->set_grant("ops", "default", "read").ok());
    auto token = (*accounts)->create_token("dana", "e2e");
    REQUIRE_MESSAGE(token.ok(), token.error().to_string());
    webui::ServerOptions options;
    options.port = 0;
    webui::Server server(*service, **accounts, options);
    REQUIRE(server.start().ok());

    HttpReply health = http(server.port(), "GET", "/healthz");
    CHECK(health.status == 200);
    auto hj = core::Json::parse(health.body);
    REQUIRE(hj.ok());
    CHECK(hj->get_string("status") == "ok");
    CHECK_FALSE(hj->contains("documents"));  // liveness only without credentials
    HttpReply signed_in = http(server.port(), "GET", "/healthz", "", token->token);
    REQUIRE(signed_in.status == 200);
    CHECK(core::Json::parse(signed_in.body)->get_int("documents") == 1);

    CHECK(http(server.port(), "POST", "/api/ask", R"({"question": "How long does a disk rebuild take?"})").status ==
          401);
    HttpReply ask =
        http(server.port(), "POST", "/api/ask", R"({"question": "How long does a disk rebuild take?"})", token->token);
    REQUIRE(ask.status == 200);
    auto aj = core::Json::parse(ask.body);
    REQUIRE(aj.ok());
    CHECK(aj->get_string("answer").find("14 hours") != std::string::npos);
    const core::Json & cite = aj->find("citations")->as_array().at(0);
    CHECK(cite.find("provenance")->get_int("page") == 3);

    HttpReply source =
        http(server.port(), "GET", "/api/source/" + std::to_string(cite.get_int("chunk_id")), "", token->token);
    CHECK(source.status == 200);
    CHECK(source.body.find("14 hours") != std::string::npos);

    HttpReply bad = http(server.port(), "POST", "/api/ask", "{not json", token->token);
    CHECK(bad.status == 400);
    CHECK(bad.body.find("\"error\"") != std::string::npos);
    server.stop();

    // The answer is on record under the token's owner, whatever the request body might claim.
    auto records = app->audit().list({"", "", "ask", "dana"});
    REQUIRE(records.ok());
    CHECK(records->size() == 1);
}

TEST_CASE(
    "the strongbox command ingests, answers as JSON, reports bad files in its exit status and verifies the audit") {
    TempDir dir("sb_e2e_cli");
    const std::string data = "--data-dir " + (dir.path / "data").string() + " ";

    CommandRun help = run_strongbox("--help");
    CHECK(help.exit_code == 0);
    CHECK(help.output.find("ingest") != std::string::npos);

    CommandRun ingest = run_strongbox(data + "ingest " + (kData / "operations-guide.pdf").string() + " " +
                                      (kData / "invalid.pdf").string());
    CHECK(ingest.exit_code == 3);  // partial: one file failed, the other went through
    CHECK(ingest.output.find("invalid.pdf") != std::string::npos);
    CHECK(ingest.output.find("1 added") != std::string::npos);

    CommandRun ask = run_strongbox(data + "ask --json \"What temperature means facilities must be called?\"");
    REQUIRE(ask.exit_code == 0);
    auto j = core::Json::parse(ask.output);
    REQUIRE_MESSAGE(j.ok(), ask.output);
    CHECK(j->get_string("answer").find("30 degrees") != std::string::npos);

    CommandRun verify = run_strongbox(data + "audit verify");
    CHECK(verify.exit_code == 0);
    CHECK(verify.output.find("intact") != std::string::npos);

    CommandRun unknown = run_strongbox("frobnicate");
    CHECK(unknown.exit_code == 2);
}

TEST_CASE("a second process cannot open a data directory another one holds") {
    TempDir dir("sb_e2e_lock");
    auto app = open_app(dir.path / "data");
    CommandRun ingest =
        run_strongbox("--data-dir " + (dir.path / "data").string() + " ingest " + (kData / "tagged.pdf").string());
    CHECK(ingest.exit_code == 1);
    CHECK(ingest.output.find("in use") != std::string::npos);
}

TEST_CASE("a removed document leaves search, stays readable for the audit trail, and its removal is recorded") {
    TempDir dir("sb_e2e_remove");
    auto app = open_app(dir.path / "data");
    REQUIRE(app->ingest({kData / "operations-guide.pdf"}, nullptr).count(IngestFileResult::Outcome::kAdded) == 1);
    auto before = app->ask("Where are spare disks kept?", "alice", "test", 5);
    REQUIRE(before.ok());
    REQUIRE_FALSE(before->refused);
    const int64_t cited_chunk = before->citations.front().chunk_id;

    REQUIRE(app->remove(kData / "operations-guide.pdf", "admin").ok());
    auto after = app->ask("Where are spare disks kept?", "alice", "test", 5);
    REQUIRE(after.ok());
    CHECK(after->refused);
    CHECK(app->health().get_int("documents") == 0);
    CHECK(app->source(cited_chunk).ok());  // the cited passage is still there for auditors

    auto records = app->audit().list({"", "", "deletion", "admin"});
    REQUIRE(records.ok());
    REQUIRE(records->size() == 1);
    CHECK(records->front().body.get_string("source_sha256").size() == 64);
    CHECK(app->remove(kData / "operations-guide.pdf", "admin").error().code() == core::ErrorCode::kNotFound);
}
