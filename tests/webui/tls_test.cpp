// HTTPS: the self-signed certificate made at first start, and a real server on an ephemeral port
// answered by a client that trusts exactly that certificate.
#include "strongbox/webui/tls.h"

#include "test_support.h"

#include "strongbox/core/file.h"
#include "strongbox/webui/server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

namespace sb = strongbox;
using namespace sb::webui;
using namespace sb::webui::testing;

namespace {

struct Reply {
    int status = 0;
    std::string body;
    Poco::Net::HTTPResponse head;
};

Poco::Net::Context::Ptr trusting(const std::filesystem::path & cert) {
    Poco::Net::initializeSSL();
    // Failed verifications are refused, never asked about on a console.
    Poco::Net::SSLManager::instance().initializeClient(
        nullptr, new Poco::Net::RejectCertificateHandler(false),
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_STRICT));
    Poco::Net::Context::Params p;
    p.caLocation = cert.string();
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    p.loadDefaultCAs = false;
    return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, p);
}

Reply https(Poco::Net::HTTPSClientSession & session, const std::string & method, const std::string & path,
            const std::string & body = {}) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost("localhost", session.getPort());
    if (!body.empty()) {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(req) << body;
    Reply r;
    std::istream & in = session.receiveResponse(r.head);
    r.status = static_cast<int>(r.head.getStatus());
    std::ostringstream out;
    Poco::StreamCopier::copyStream(in, out);
    r.body = out.str();
    return r;
}

// A certificate for localhost in a scratch directory, and server options that serve HTTPS with it.
struct LocalTls {
    ScratchDir dir;
    std::filesystem::path cert = dir.path / "tls-cert.pem";
    std::filesystem::path key = dir.path / "tls-key.pem";

    LocalTls() { REQUIRE(ensure_self_signed_certificate(cert, key, {"localhost", "127.0.0.1"}).ok()); }

    ServerOptions server_options() const {
        ServerOptions o;
        o.port = 0;
        o.tls_cert = cert;
        o.tls_key = key;
        o.access_log = [](std::string_view) {
        };
        return o;
    }
};

}  // namespace

TEST_CASE("a self-signed certificate is made once, with a private key only its owner can read") {
    ScratchDir dir;
    const auto cert = dir.path / "tls-cert.pem";
    const auto key = dir.path / "tls-key.pem";
    auto made = ensure_self_signed_certificate(cert, key, {"localhost", "127.0.0.1", "::1"});
    REQUIRE_MESSAGE(made.ok(), made.error().to_string());
    CHECK(made.value() == true);
    CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    auto pem = sb::core::read_file(cert);
    REQUIRE(pem.ok());
    CHECK(pem.value().starts_with("-----BEGIN CERTIFICATE-----"));
    auto fingerprint = certificate_fingerprint(cert);
    REQUIRE(fingerprint.ok());
    CHECK(fingerprint.value().size() == std::string("SHA256 ").size() + 32 * 3 - 1);

    // An installed pair is kept as it is.
    auto again = ensure_self_signed_certificate(cert, key, {"localhost"});
    REQUIRE(again.ok());
    CHECK(again.value() == false);
    CHECK(certificate_fingerprint(cert).value() == fingerprint.value());

    std::filesystem::remove(key);
    auto half = ensure_self_signed_certificate(cert, key, {"localhost"});
    REQUIRE_FALSE(half.ok());
    CHECK(half.error().code() == sb::core::ErrorCode::kInvalidArgument);
}

TEST_CASE("the server speaks HTTPS with the generated certificate and sets a Secure session cookie") {
    const LocalTls tls;
    TestAccounts accounts;
    CorpusService service;
    load_corpus(service);
    Server server(service, *accounts.accounts, tls.server_options());
    sb::core::Status started = server.start();
    REQUIRE_MESSAGE(started.ok(), started.error().to_string());
    CHECK(server.tls());

    Poco::Net::HTTPSClientSession session("localhost", static_cast<Poco::UInt16>(server.port()), trusting(tls.cert));
    Reply health = https(session, "GET", "/healthz");
    CHECK(health.status == 200);
    CHECK(health.head.get("Strict-Transport-Security", "") == "max-age=31536000");
    Reply login = https(session, "POST", "/api/v1/login", R"({"name":"tester","password":"tester-password"})");
    CHECK(login.status == 200);
    CHECK(login.head.get("Set-Cookie", "").find("; Secure") != std::string::npos);

    // A client that does not trust this certificate gets no answer at all.
    ScratchDir other;
    REQUIRE(ensure_self_signed_certificate(other.path / "c.pem", other.path / "k.pem", {"localhost"}).ok());
    Poco::Net::HTTPSClientSession stranger("localhost", static_cast<Poco::UInt16>(server.port()),
                                           trusting(other.path / "c.pem"));
    CHECK_THROWS_AS(https(stranger, "GET", "/healthz"), Poco::Exception);
    server.stop();
}

TEST_CASE("over HTTPS a connection beyond max_connections also gets 503 with Retry-After") {
    const LocalTls tls;
    TestAccounts accounts;
    CorpusService service;
    ServerOptions o = tls.server_options();
    o.max_threads = 1;
    o.max_queued = 0;
    o.max_connections = 5;  // the least allowed with one slot and no queue
    o.keep_alive_timeout_s = 60;
    o.retry_after_seconds = 3;
    Server server(service, *accounts.accounts, o);
    REQUIRE(server.start().ok());
    const auto port = static_cast<Poco::UInt16>(server.port());
    std::vector<std::unique_ptr<Poco::Net::HTTPSClientSession>> held;
    for (int i = 0; i < o.max_connections; ++i) {
        held.push_back(std::make_unique<Poco::Net::HTTPSClientSession>("localhost", port, trusting(tls.cert)));
        held.back()->setKeepAlive(true);
        REQUIRE(https(*held.back(), "GET", "/healthz").status == 200);
    }
    // The refusal completes the TLS handshake before answering, so the client reads a real 503.
    Poco::Net::HTTPSClientSession extra("localhost", port, trusting(tls.cert));
    extra.setTimeout(Poco::Timespan(5, 0));
    Reply refused = https(extra, "GET", "/healthz");
    CHECK(refused.status == 503);
    CHECK(refused.head.get("Retry-After", "") == "3");
    CHECK(refused.head.get("Strict-Transport-Security", "") == "max-age=31536000");
    const sb::core::Json body = json_of(refused.body);
    REQUIRE(body.find("error") != nullptr);
    CHECK(body.find("error")->get_string("code") == "overloaded");
}

TEST_CASE("plain HTTP is refused on a non-loopback address unless explicitly allowed, and TLS needs both files") {
    TestAccounts accounts;
    CorpusService service;
    ServerOptions o;
    o.port = 0;
    o.host = "0.0.0.0";
    sb::core::Status st = Server(service, *accounts.accounts, o).start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == sb::core::ErrorCode::kInvalidArgument);
    CHECK(st.error().message().find("HTTPS") != std::string::npos);

    o.host = "127.0.0.1";
    o.tls_cert = "/nonexistent/cert.pem";
    st = Server(service, *accounts.accounts, o).start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == sb::core::ErrorCode::kInvalidArgument);
    o.tls_key = "/nonexistent/key.pem";
    st = Server(service, *accounts.accounts, o).start();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message().find("/nonexistent/cert.pem") != std::string::npos);
}
