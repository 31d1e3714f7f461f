#include "strongbox/appliance/selftest.h"

#include "model_embedder.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/appliance/fingerprint.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"
#include "strongbox/retrieval/embedder.h"
#include "strongbox/retrieval/vector_index.h"
#include "strongbox/webui/server.h"
#include "strongbox/webui/tls.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

SelftestCheck check_database(const fs::path & data_dir) {
    SelftestCheck c{"database integrity", false, false, ""};
    const fs::path db = DataPaths{data_dir}.store();
    if (!fs::exists(db)) {
        c.detail = "no database at " + db.string();
        return c;
    }
    try {
        SQLite::Database handle(db.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(handle, "PRAGMA integrity_check");
        std::string result;
        while (q.executeStep()) {
            result += q.getColumn(0).getString();
        }
        c.passed = result == "ok";
        c.detail = c.passed ? "integrity_check ok" : "integrity_check: " + result.substr(0, 200);
    } catch (const std::exception & e) {
        c.detail = db.string() + ": " + e.what();
    }
    return c;
}

SelftestCheck check_index(const fs::path & data_dir, const retrieval::EmbedderIdentity & expected) {
    SelftestCheck c{"vector index", false, false, ""};
    const fs::path path = DataPaths{data_dir}.vector_index();
    if (!fs::exists(path)) {
        c.detail = "no vector index at " + path.string();
        return c;
    }
    // load() checks the sha256 the file records over its payload and the embedder it was built with.
    auto index = retrieval::VectorIndex::load(path, expected);
    if (!index.ok()) {
        c.detail = index.error().message();
        return c;
    }
    c.passed = true;
    c.detail = std::to_string(index->size()) + " vectors; recorded sha256 and embedder " +
               index->identity().to_string() + " match";
    return c;
}

SelftestCheck check_audit(const fs::path & data_dir) {
    SelftestCheck c{"audit chain", false, false, ""};
    const fs::path path = DataPaths{data_dir}.audit();
    if (!fs::exists(path)) {
        c.detail = "no audit trail at " + path.string();
        return c;
    }
    auto audit = AuditLog::open(path);
    if (!audit.ok()) {
        c.detail = audit.error().message();
        return c;
    }
    auto status = (*audit)->verify();
    auto n = (*audit)->count();
    c.passed = status.ok();
    c.detail = status.ok() ? std::to_string(n.value_or(0)) + " records verify" : status.error().message();
    return c;
}

SelftestCheck check_model(const SelftestOptions & o) {
    SelftestCheck c{"model matches manifest", false, false, ""};
    if (o.model_sha256.empty()) {
        c.skipped = true;
        c.detail = "no expected model hash given";
        return c;
    }
    const fs::path path = !o.model_path.empty()            ? o.model_path
                          : !o.settings.model_path.empty() ? o.settings.model_path
                                                           : o.data_dir / "model.gguf";
    auto sha = core::sha256_file_hex(path);
    if (!sha.ok()) {
        c.detail = sha.error().message();
        return c;
    }
    c.passed = *sha == o.model_sha256;
    c.detail = c.passed ? path.string() + " sha256 matches"
                        : path.string() + " sha256 " + sha->substr(0, 16) + " differs from the manifest's " +
                              o.model_sha256.substr(0, 16);
    return c;
}

bool cites(const core::Answer & a, const std::string & file, int page) {
    return std::any_of(a.citations.begin(), a.citations.end(), [&](const core::Citation & cit) {
        return fs::path(cit.provenance.source_path).filename() == file && (page == 0 || cit.provenance.page == page);
    });
}

SelftestCheck check_salt(const SelftestOptions & o, Appliance & app) {
    SelftestCheck c{"hidden salt matches the manifest", false, false, ""};
    const core::Json running = app.fingerprint();
    if (!o.expected_salt) {
        c.skipped = true;
        c.detail = "no manifest given; running fingerprint " + running.get_string("fingerprint");
        return c;
    }
    const std::vector<std::string> differ = salt_mismatches(*o.expected_salt, app.hidden_salt());
    c.passed = differ.empty();
    if (c.passed) {
        c.detail = "every pinned part matches; fingerprint " + running.get_string("fingerprint");
    } else {
        c.detail = "differs:";
        for (const std::string & d : differ) {
            c.detail += " " + d + ";";
        }
        c.detail.pop_back();
    }
    return c;
}

// Serves the appliance's own certificate on an ephemeral port and fetches /healthz over HTTPS,
// trusting only that certificate: the TLS stack, the key pair and the handler all work.
SelftestCheck check_web_tls(const fs::path & data_dir, Appliance & app) {
    SelftestCheck c{"web server answers over TLS", false, false, ""};
    const fs::path cert = DataPaths{data_dir}.tls_cert();
    const fs::path key = DataPaths{data_dir}.tls_key();
    // The same pair `strongbox serve` makes at first start, when it is not there yet.
    if (auto made = webui::ensure_self_signed_certificate(cert, key, {"localhost", "127.0.0.1"}); !made.ok()) {
        c.detail = made.error().message();
        return c;
    }
    auto accounts = access::Accounts::open(DataPaths{data_dir}.accounts());
    if (!accounts.ok()) {
        c.detail = accounts.error().message();
        return c;
    }
    auto service = make_web_service(app);
    webui::ServerOptions options;
    options.port = 0;
    options.tls_cert = cert;
    options.tls_key = key;
    options.shutdown_grace_ms = 200;
    webui::Server server(*service, **accounts, options);
    if (auto st = server.start(); !st.ok()) {
        c.detail = st.error().message();
        return c;
    }
    Poco::Net::initializeSSL();
    try {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, "", "", cert.string(), Poco::Net::Context::VERIFY_STRICT, 1, false);
        Poco::Net::HTTPSClientSession session("localhost", static_cast<Poco::UInt16>(server.port()), context);
        session.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        auto j = core::Json::parse(body);
        c.passed = server.tls() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK && j.ok() &&
                   j->get_string("status") == "ok";
        c.detail = "GET https://localhost:" + std::to_string(server.port()) + "/healthz with " +
                   cert.filename().string() + ": HTTP " + std::to_string(static_cast<int>(response.getStatus())) +
                   (c.passed ? " ok" : " " + body.substr(0, 120));
    } catch (const Poco::Exception & e) {
        c.detail = "GET /healthz over TLS: " + e.displayText();
    } catch (const std::exception & e) {
        c.detail = std::string("GET /healthz over TLS: ") + e.what();
    }
    server.stop();
    // No uninitializeSSL(): run from the daemon's admin page, tearing down NetSSL's process-wide
    // state would pull it from under the server and clients still using it (see webui server.cpp).
    return c;
}

std::vector<SelftestCheck> check_golden(const SelftestOptions & o, Appliance & app) {
    std::vector<SelftestCheck> out;
    if (o.golden_path.empty()) {
        out.push_back({"golden questions", false, true, "no golden question file given"});
        return out;
    }
    auto text = core::read_file(o.golden_path);
    auto doc = text.ok() ? core::Json::parse(*text) : core::Result<core::Json>(text.error());
    if (!doc.ok() || !doc->is_array()) {
        out.push_back(
            {"golden questions", false, false, doc.ok() ? "golden file is not a JSON array" : doc.error().message()});
        return out;
    }
    for (const auto & item : doc->as_array()) {
        const std::string question = item.get_string("question");
        SelftestCheck c{"golden: " + question.substr(0, 60), false, false, ""};
        const auto start = std::chrono::steady_clock::now();
        auto answer = app.ask(question, "selftest", "selftest", app.settings().top_k);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (!answer.ok()) {
            c.detail = answer.error().message();
            out.push_back(c);
            continue;
        }
        std::string missing;
        if (const core::Json * expect = item.find("expect"); expect != nullptr && expect->is_array()) {
            for (const auto & e : expect->as_array()) {
                const std::string file = e.get_string("file");
                const int page = static_cast<int>(e.get_int("page", 0));
                if (!cites(*answer, file, page)) {
                    missing += " " + file + (page > 0 ? " p." + std::to_string(page) : "");
                }
            }
        }
        c.passed = missing.empty() && ms <= o.latency_budget_ms;
        char timing[96];
        std::snprintf(timing, sizeof timing, "%.1f ms (budget %.0f ms%s)", ms, o.latency_budget_ms,
                      ms <= o.latency_budget_ms ? "" : ", too slow");
        c.detail =
            timing + (missing.empty() ? std::string(", expected citations present") : ", missing citations:" + missing);
        out.push_back(c);
    }
    return out;
}

}  // namespace

bool SelftestReport::passed() const {
    return std::all_of(checks.begin(), checks.end(), [](const SelftestCheck & c) { return c.passed || c.skipped; });
}

std::vector<std::string> SelftestReport::failed() const {
    std::vector<std::string> out;
    for (const SelftestCheck & c : checks) {
        if (!c.passed && !c.skipped) {
            out.push_back(c.name);
        }
    }
    return out;
}

SelftestReport run_selftest(const SelftestOptions & o) {
    SelftestReport r;
    r.checks.push_back(check_database(o.data_dir));
    // The index must match the embedder the appliance runs with (built-in or a BERT model).
    if (o.app != nullptr) {
        r.checks.push_back(check_index(o.data_dir, o.app->retriever().embedder().identity()));
    } else if (auto model = configured_embedding_model(o.settings.embedding_model_path, o.data_dir); !model.ok()) {
        r.checks.push_back({"vector index", false, false, model.error().message()});
    } else if (auto embedder = open_embedder(*model, 1); !embedder.ok()) {
        r.checks.push_back({"vector index", false, false, embedder.error().message()});
    } else {
        r.checks.push_back(check_index(o.data_dir, (*embedder)->identity()));
    }
    r.checks.push_back(check_audit(o.data_dir));
    r.checks.push_back(check_model(o));
    std::unique_ptr<Appliance> owned;
    Appliance * app = o.app;
    if (app == nullptr) {
        Settings settings = o.settings;
        settings.data_dir = o.data_dir;
        settings.holder = "strongbox selftest";
        auto opened = Appliance::open(settings);
        if (!opened.ok()) {
            r.checks.push_back({"appliance opens", false, false, opened.error().message()});
            return r;
        }
        owned = std::move(opened).value();
        app = owned.get();
    }
    r.checks.push_back(check_salt(o, *app));
    r.checks.push_back(check_web_tls(o.data_dir, *app));
    for (auto & c : check_golden(o, *app)) {
        r.checks.push_back(std::move(c));
    }
    return r;
}

core::Json to_json(const SelftestReport & r) {
    core::Json j = core::Json::object();
    j["passed"] = r.passed();
    core::Json checks = core::Json::array();
    for (const SelftestCheck & c : r.checks) {
        core::Json e = core::Json::object();
        e["name"] = c.name;
        e["status"] = c.skipped ? "skip" : c.passed ? "pass" : "fail";
        e["detail"] = c.detail;
        checks.push_back(std::move(e));
    }
    j["checks"] = std::move(checks);
    core::Json failed = core::Json::array();
    for (const std::string & name : r.failed()) {
        failed.push_back(name);
    }
    j["failed"] = std::move(failed);
    return j;
}

std::string format_selftest(const SelftestReport & r) {
    std::string out;
    for (const auto & c : r.checks) {
        out += std::string(c.skipped ? "SKIP" : c.passed ? "PASS" : "FAIL") + "  " + c.name + ": " + c.detail + "\n";
    }
    if (r.passed()) {
        out += "selftest passed\n";
    } else {
        out += "selftest FAILED (";
        const std::vector<std::string> failed = r.failed();
        for (size_t i = 0; i < failed.size(); ++i) {
            out += (i > 0 ? ", " : "") + failed[i];
        }
        out += "): this box does not deliver what its image promises\n";
    }
    return out;
}

}  // namespace strongbox::appliance
