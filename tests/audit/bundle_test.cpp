// Citation-trail bundles: a valid bundle verifies offline with only the public key, and every
// kind of tampering is reported naming the record, field or member that fails.

#include "archive.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

using namespace strongbox;
using appliance::ArchiveMember;

namespace {

using strongbox::testing::TempDir;

core::Answer sample_answer(const std::string & question, int n) {
    core::Answer a;
    a.question = question;
    a.answerer = "extractive";
    a.latency_ms = 12.5;
    core::AnswerSentence s;
    s.text = "The backup runs nightly at 02:00, \"verified\" by checksum.";
    s.citations = {1};
    a.sentences.push_back(s);
    core::Citation c;
    c.number = 1;
    c.chunk_id = 40 + n;
    c.quote = "Backups run nightly at 02:00 and are verified by checksum.";
    c.score = 0.8125;
    c.provenance.source_path = "/srv/docs/ops-manual.pdf";
    c.provenance.source_sha256 = std::string(64, 'a');
    c.provenance.document_version = 2;
    c.provenance.page = 3;
    c.provenance.line_start = 10;
    c.provenance.line_end = 12;
    c.provenance.byte_start = 1000;
    c.provenance.byte_end = 1058;
    c.provenance.boxes = {core::Box{72, 100, 300, 114, 0, 58}};
    c.provenance.extractor = "poppler-text";
    c.provenance.ingested_at = "2026-11-01T10:00:00.000000Z";
    a.citations.push_back(c);
    return a;
}

appliance::AnswerRecordContext sample_context() {
    appliance::AnswerRecordContext ctx;
    ctx.channel = "http";
    ctx.retrieved = {{41, 0.8125, 1, 2}, {17, 0.5, 2, 0}};
    ctx.embedder = "hashed-v1";
    ctx.model_sha256 = std::string(64, 'b');
    ctx.prompt_template_version = "answer-v3";
    ctx.prompt_template_sha256 = std::string(64, 'c');
    ctx.index_version = "7";
    ctx.settings_version = "12";
    ctx.caps["max_tokens"] = 512;
    ctx.latency_ms = 140.25;
    return ctx;
}

// A trail of: ingest, three answers (alice, bob, alice), then the export's own records.
struct Fixture {
    TempDir dir;
    std::unique_ptr<appliance::AuditLog> log;
    std::string public_key;

    explicit Fixture(const std::string & name) : dir(name) {
        auto opened = appliance::AuditLog::open(dir.path / "audit.db");
        REQUIRE(opened.ok());
        log = std::move(opened).value();
        core::Json ingest = core::Json::object();
        ingest["job"] = "ingest-1";
        core::Json file = core::Json::object();
        file["path"] = "/srv/docs/ops-manual.pdf";
        file["sha256"] = std::string(64, 'a');
        ingest["files"].push_back(file);
        REQUIRE(log->append(appliance::audit_kind::kIngest, "cli", ingest).ok());
        const char * users[] = {"alice", "bob", "alice"};
        for (int i = 0; i < 3; ++i) {
            auto a = sample_answer("When do backups run? #" + std::to_string(i), i);
            REQUIRE(
                log->append(appliance::audit_kind::kAsk, users[i], appliance::answer_record(a, sample_context())).ok());
        }
        public_key = log->public_key_hex();
    }

    std::string bundle(const appliance::AuditFilter & filter = {}) {
        const auto path = dir.path / "trail.sbaudit";
        auto s = log->export_bundle(path, filter, "auditor");
        REQUIRE(s.ok());
        return core::read_file(path).value();
    }
};

std::map<std::string, std::string> members_of(const std::string & bundle) {
    auto members = appliance::read_archive(bundle);
    REQUIRE(members.ok());
    std::map<std::string, std::string> out;
    for (ArchiveMember & m : *members) {
        out[m.name] = m.bytes;
    }
    return out;
}

// Rebuilds the bundle with one member replaced, keeping the original manifest and signature:
// what someone editing the archive with tar would produce.
std::string with_member(const std::string & bundle, const std::string & name, const std::string & bytes) {
    std::vector<ArchiveMember> members = appliance::read_archive(bundle).value();
    for (ArchiveMember & m : members) {
        if (m.name == name) {
            m.bytes = bytes;
        }
    }
    return appliance::write_archive(members, 0);
}

std::vector<std::string> lines_of(const std::string & text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

std::string join_lines(const std::vector<std::string> & lines) {
    std::string out;
    for (const std::string & l : lines) {
        out += l + "\n";
    }
    return out;
}

bool has_problem(const appliance::BundleVerification & v, std::initializer_list<std::string> parts) {
    for (const std::string & p : v.problems) {
        bool all = true;
        for (const std::string & part : parts) {
            all = all && p.find(part) != std::string::npos;
        }
        if (all) {
            return true;
        }
    }
    return false;
}

std::string dump_problems(const appliance::BundleVerification & v) {
    std::string out;
    for (const std::string & p : v.problems) {
        out += p + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE("a valid unfiltered bundle verifies offline and is reported complete") {
    Fixture f("sb_audit_bundle_valid");
    const std::string bundle = f.bundle();
    auto v = appliance::verify_bundle(bundle, f.public_key);
    INFO(dump_problems(v));
    CHECK(v.ok);
    CHECK(v.complete);
    // ingest, three answers, the export record and the checkpoint that signs the head.
    CHECK(v.records == 6);
    CHECK(v.head_id == 6);
    CHECK(v.key_fingerprint == f.log->key_fingerprint());
}

TEST_CASE("a bundle holds the cited excerpts with full provenance and the answer's context") {
    Fixture f("sb_audit_bundle_contents");
    auto members = members_of(f.bundle());
    CHECK(members.count("manifest.json") == 1);
    CHECK(members.count("manifest.sig") == 1);
    const auto excerpts = lines_of(members["excerpts.jsonl"]);
    REQUIRE(excerpts.size() == 3);
    auto e = core::Json::parse(excerpts[0]).value();
    CHECK(e.get_int("record_id") == 2);
    CHECK(e.get_string("quote") == "Backups run nightly at 02:00 and are verified by checksum.");
    CHECK(e.get_string("location") == "ops-manual.pdf p. 3 lines 10-12");
    const core::Json & p = *e.find("provenance");
    CHECK(p.get_string("source_sha256") == std::string(64, 'a'));
    CHECK(p.get_int("document_version") == 2);
    CHECK(p.get_int("byte_start") == 1000);
    CHECK(p.find("boxes")->size() == 1);

    auto record = core::Json::parse(lines_of(members["records.jsonl"])[1]).value();
    const core::Json & body = *record.find("record");
    CHECK(body.get_string("model_sha256") == std::string(64, 'b'));
    CHECK(body.get_string("prompt_template_version") == "answer-v3");
    CHECK(body.get_string("index_version") == "7");
    CHECK(body.find("caps")->get_int("max_tokens") == 512);
    CHECK(body.find("retrieved")->size() == 2);
    CHECK(body.find("sentences")->as_array()[0].get_string("support") == "supported");
}

TEST_CASE("a filtered bundle verifies, is not complete, and holds only matching records") {
    Fixture f("sb_audit_bundle_filtered");
    appliance::AuditFilter alice;
    alice.actor = "alice";
    const std::string bundle = f.bundle(alice);
    auto v = appliance::verify_bundle(bundle, f.public_key);
    INFO(dump_problems(v));
    CHECK(v.ok);
    CHECK_FALSE(v.complete);
    CHECK(v.records == 2);
    CHECK(v.filters.get_string("user") == "alice");

    appliance::AuditFilter by_question;
    by_question.question = "BACKUPS RUN? #1";
    CHECK(appliance::verify_bundle(f.bundle(by_question), f.public_key).records == 1);
    appliance::AuditFilter by_document;
    by_document.document = "ops-manual.pdf";
    // The ingest and the three answers cite or ingest it.
    CHECK(appliance::verify_bundle(f.bundle(by_document), f.public_key).records == 4);
}

TEST_CASE("every field of a record tampered in turn is reported with the record id and the field") {
    Fixture f("sb_audit_bundle_fields");
    const std::string bundle = f.bundle();
    const auto lines = lines_of(members_of(bundle)["records.jsonl"]);
    REQUIRE(lines.size() == 6);
    struct Case {
        std::string field;
        std::function<void(core::Json &)> edit;
        std::vector<std::string> expected;
    };
    const std::vector<Case> cases = {
        {"id", [](core::Json & j) { j["id"] = 99; }, {"record 99", "field 'id'"}},
        {"at", [](core::Json & j) { j["at"] = "2020-01-01T00:00:00.000000Z"; }, {"record 3", "field 'at'"}},
        {"kind", [](core::Json & j) { j["kind"] = "ingest"; }, {"record 3", "field 'kind'"}},
        {"actor", [](core::Json & j) { j["actor"] = "mallory"; }, {"record 3", "field 'actor'", "\"bob\""}},
        {"question",
         [](core::Json & j) { j["record"]["question"] = "Who has the keys?"; },
         {"record 3", "field 'record'"}},
        {"answer", [](core::Json & j) { j["record"]["answer"] = "Never."; }, {"record 3", "field 'record'"}},
        {"support",
         [](core::Json & j) { j["record"]["sentences"].as_array()[0]["support"] = "partial"; },
         {"record 3", "field 'record'"}},
        {"quote",
         [](core::Json & j) { j["record"]["citations"].as_array()[0]["quote"] = "Backups never run."; },
         {"record 3", "field 'record'"}},
        {"page",
         [](core::Json & j) { j["record"]["citations"].as_array()[0]["provenance"]["page"] = 4; },
         {"record 3", "field 'record'"}},
        {"model",
         [](core::Json & j) { j["record"]["model_sha256"] = std::string(64, 'd'); },
         {"record 3", "field 'record'"}},
        {"retrieved",
         [](core::Json & j) { j["record"]["retrieved"].as_array().pop_back(); },
         {"record 3", "field 'record'"}},
        {"prev_hash", [](core::Json & j) { j["prev_hash"] = std::string(64, 'e'); }, {"record 3", "field 'prev_hash'"}},
        {"hash", [](core::Json & j) { j["hash"] = std::string(64, 'f'); }, {"record 3", "field 'hash'"}},
    };
    for (const Case & c : cases) {
        CAPTURE(c.field);
        auto edited = lines;
        core::Json j = core::Json::parse(edited[2]).value();
        c.edit(j);
        edited[2] = j.dump();
        auto v = appliance::verify_bundle(with_member(bundle, "records.jsonl", join_lines(edited)), f.public_key);
        INFO(dump_problems(v));
        CHECK_FALSE(v.ok);
        std::initializer_list<std::string> parts = {c.expected[0], c.expected[1]};
        CHECK(has_problem(v, parts));
        if (c.expected.size() > 2) {
            CHECK(has_problem(v, {c.expected[2]}));
        }
    }
}

TEST_CASE("an edit that recomputes the whole chain is still caught by the signed manifest") {
    Fixture f("sb_audit_bundle_rechain");
    const std::string bundle = f.bundle();
    auto lines = lines_of(members_of(bundle)["records.jsonl"]);
    // Rewrite bob's question and re-hash every record after it, as someone with the bundle but
    // not the signing key could.
    std::string prev;
    for (size_t i = 0; i < lines.size(); ++i) {
        core::Json j = core::Json::parse(lines[i]).value();
        if (i == 2) {
            j["record"]["question"] = "Who has the keys?";
        }
        if (i >= 2) {
            j["prev_hash"] = prev;
            core::Sha256 h;
            for (const char * part : {"prev_hash", "kind", "at", "actor"}) {
                h.update(j.get_string(part));
                h.update("\n");
            }
            h.update(j.find("record")->dump());
            core::Digest d = h.finish();
            j["hash"] = core::to_hex(d);
        }
        prev = j.get_string("hash");
        lines[i] = j.dump();
    }
    auto v = appliance::verify_bundle(with_member(bundle, "records.jsonl", join_lines(lines)), f.public_key);
    INFO(dump_problems(v));
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"record 3", "field 'record'"}));
    CHECK(has_problem(v, {"record 4", "field 'hash'"}));
}

TEST_CASE("a deleted middle record is reported by id") {
    Fixture f("sb_audit_bundle_deleted");
    const std::string bundle = f.bundle();
    auto lines = lines_of(members_of(bundle)["records.jsonl"]);
    lines.erase(lines.begin() + 2);
    auto v = appliance::verify_bundle(with_member(bundle, "records.jsonl", join_lines(lines)), f.public_key);
    INFO(dump_problems(v));
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"record 3 is listed in the signed manifest but missing", "removed"}));
}

TEST_CASE("swapped records are reported as out of order") {
    Fixture f("sb_audit_bundle_swapped");
    const std::string bundle = f.bundle();
    auto lines = lines_of(members_of(bundle)["records.jsonl"]);
    std::swap(lines[1], lines[2]);
    auto v = appliance::verify_bundle(with_member(bundle, "records.jsonl", join_lines(lines)), f.public_key);
    INFO(dump_problems(v));
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"record 2", "out of order", "after record 3"}));
}

TEST_CASE("a truncated bundle is rejected with the offset") {
    Fixture f("sb_audit_bundle_truncated");
    const std::string bundle = f.bundle();
    for (size_t keep : {bundle.size() - 512, bundle.size() / 2, size_t{700}, size_t{100}}) {
        CAPTURE(keep);
        auto v = appliance::verify_bundle(bundle.substr(0, keep), f.public_key);
        CHECK_FALSE(v.ok);
        CHECK(has_problem(v, {"bundle container at byte", "truncated"}));
    }
}

TEST_CASE("garbage appended after the end of the bundle is rejected") {
    Fixture f("sb_audit_bundle_appended");
    const std::string bundle = f.bundle();
    auto v = appliance::verify_bundle(bundle + "{\"id\":7}\n", f.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"byte " + std::to_string(bundle.size()), "appended"}));
}

TEST_CASE("a wrong public key is reported with both fingerprints") {
    Fixture f("sb_audit_bundle_wrongkey");
    const std::string bundle = f.bundle();
    Fixture other("sb_audit_bundle_otherkey");
    REQUIRE(other.public_key != f.public_key);
    auto v = appliance::verify_bundle(bundle, other.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"wrong key", f.log->key_fingerprint(), other.log->key_fingerprint()}));
    CHECK(has_problem(v, {"manifest.sig", "does not match"}));
}

TEST_CASE("a modified manifest or signature fails the signature check") {
    Fixture f("sb_audit_bundle_manifest");
    const std::string bundle = f.bundle();
    auto members = members_of(bundle);

    std::string manifest = members["manifest.json"];
    const size_t at = manifest.find("\"exported_by\": \"auditor\"");
    REQUIRE(at != std::string::npos);
    manifest.replace(at, 24, "\"exported_by\": \"someone\"");
    auto v = appliance::verify_bundle(with_member(bundle, "manifest.json", manifest), f.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"manifest.sig", "signature does not match"}));

    std::string sig = members["manifest.sig"];
    sig[10] = sig[10] == '0' ? '1' : '0';
    v = appliance::verify_bundle(with_member(bundle, "manifest.sig", sig), f.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"manifest.sig", "signature does not match"}));
}

TEST_CASE("edited excerpts, CSV or an added member are reported by member and line") {
    Fixture f("sb_audit_bundle_members");
    const std::string bundle = f.bundle();
    auto members = members_of(bundle);
    auto excerpts = lines_of(members["excerpts.jsonl"]);
    core::Json e = core::Json::parse(excerpts[1]).value();
    e["quote"] = "Backups are optional.";
    excerpts[1] = e.dump();
    auto v = appliance::verify_bundle(with_member(bundle, "excerpts.jsonl", join_lines(excerpts)), f.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"excerpts.jsonl line 2"}));
    CHECK(has_problem(v, {"member 'excerpts.jsonl'", "sha256"}));

    std::vector<ArchiveMember> extra = appliance::read_archive(bundle).value();
    extra.push_back({"notes.txt", "trust me"});
    v = appliance::verify_bundle(appliance::write_archive(extra, 0), f.public_key);
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"member 'notes.txt' is not listed"}));
}

TEST_CASE("flipping any single byte of a bundle is detected") {
    Fixture f("sb_audit_bundle_flip");
    const std::string bundle = f.bundle();
    size_t detected = 0;
    size_t tried = 0;
    for (size_t i = 0; i < bundle.size(); i += 13) {
        std::string flipped = bundle;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        ++tried;
        detected += appliance::verify_bundle(flipped, f.public_key).ok ? 0 : 1;
    }
    CHECK(detected == tried);
}

TEST_CASE("checkpoints sign the chain head and a forged checkpoint signature is detected") {
    TempDir dir("sb_audit_checkpoints");
    appliance::AuditOptions options;
    options.checkpoint_every = 3;
    auto log = appliance::AuditLog::open(dir.path / "audit.db", options).value();
    for (int i = 0; i < 7; ++i) {
        core::Json b = core::Json::object();
        b["question"] = "q" + std::to_string(i);
        REQUIRE(log->append(appliance::audit_kind::kAsk, "alice", b).ok());
    }
    appliance::AuditFilter checkpoints;
    checkpoints.kind = appliance::audit_kind::kCheckpoint;
    auto cps = log->list(checkpoints).value();
    // Records 1-3, checkpoint 4, records 5-7, checkpoint 8, ...
    REQUIRE(cps.size() >= 2);
    CHECK(cps[0].id == 4);
    CHECK(cps[0].body.get_int("signed_id") == 3);
    CHECK(log->verify().ok());

    const std::string bundle_path = (dir.path / "b.sbaudit").string();
    REQUIRE(log->export_bundle(bundle_path, {}, "auditor").ok());
    const std::string bundle = core::read_file(bundle_path).value();
    auto lines = lines_of(members_of(bundle)["records.jsonl"]);
    core::Json j = core::Json::parse(lines[3]).value();
    std::string sig = j["record"].get_string("signature");
    sig[0] = sig[0] == 'a' ? 'b' : 'a';
    j["record"]["signature"] = sig;
    lines[3] = j.dump();
    auto v = appliance::verify_bundle(with_member(bundle, "records.jsonl", join_lines(lines)), log->public_key_hex());
    CHECK_FALSE(v.ok);
    CHECK(has_problem(v, {"audit record 4 (checkpoint)", "field 'signature'"}));
}

TEST_CASE("retention expiry is a recorded, signed event and deletes nothing") {
    TempDir dir("sb_audit_retention");
    auto log = appliance::AuditLog::open(dir.path / "audit.db").value();
    core::Json b = core::Json::object();
    b["question"] = "q";
    REQUIRE(log->append(appliance::audit_kind::kAsk, "alice", b).ok());
    CHECK_FALSE(log->record_retention("last tuesday", "admin").ok());
    auto id = log->record_retention("2999-01-01", "admin");
    REQUIRE(id.ok());
    auto records = log->list({}).value();
    REQUIRE(records.size() == 3);
    CHECK(records[0].kind == "ask");
    CHECK(records[1].kind == "retention");
    CHECK(records[1].actor == "admin");
    CHECK(records[1].body.get_int("records_expired") == 1);
    CHECK(records[2].kind == "checkpoint");
    CHECK(log->verify().ok());
}

TEST_CASE("CSV export quotes commas, quotes and newlines as RFC 4180 requires") {
    appliance::AuditRecord r;
    r.id = 5;
    r.at = "2026-11-22T10:00:00.000000Z";
    r.kind = "ask";
    r.actor = "alice";
    r.body = core::Json::object();
    r.body["question"] = "Is it \"safe\", or not?\nSecond line";
    r.body["answer"] = "=HYPERLINK(\"x\")";
    core::Json c = core::Json::object();
    c["number"] = 1;
    c["location"] = "ops-manual.pdf p. 3";
    r.body["citations"].push_back(c);
    r.hash = "abc";
    std::ostringstream out;
    appliance::write_records_csv(out, {r});
    CHECK(out.str() == "id,at,kind,user,question,answer,cited_sources,hash\r\n"
                       "5,2026-11-22T10:00:00.000000Z,ask,alice,\"Is it \"\"safe\"\", or not?\nSecond line\","
                       "\"'=HYPERLINK(\"\"x\"\")\",[1] ops-manual.pdf p. 3,abc\r\n");
}
