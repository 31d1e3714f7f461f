#include "daemon_client.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <sstream>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

// Every token ask_daemon mints is named with this prefix and its process id, so serve can find
// the ones a killed command left behind (any token named so is revoked then: the name is reserved).
constexpr const char * kLocalTokenPrefix = "strongbox ask, local, pid ";

std::filesystem::path daemon_file(const std::filesystem::path & data_dir) {
    return appliance::DataPaths{data_dir}.daemon_file();
}

// Revokes the one-use token however the request ends.
class MintedToken {
  public:
    MintedToken(access::Accounts & accounts, access::ApiToken token) : accounts_(accounts), token_(std::move(token)) {}

    ~MintedToken() { (void)accounts_.revoke_token(token_.id); }

    MintedToken(const MintedToken &) = delete;
    MintedToken & operator=(const MintedToken &) = delete;

    const std::string & raw() const { return token_.token; }

  private:
    access::Accounts & accounts_;
    access::ApiToken token_;
};

// Checks the account before minting so the user reads why, not a bare 401/403 from the daemon.
core::Status check_can_ask(access::Accounts & accounts, const std::string & name) {
    if (name.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "cannot tell who is asking (no login name); pass --user NAME of your Strongbox account");
    }
    core::Result<access::User> u = accounts.user(name);
    if (!u.ok()) {
        if (u.error().code() != core::ErrorCode::kNotFound) {
            return std::move(u).error();
        }
        return core::Error(core::ErrorCode::kNotFound,
                           "the running daemon answers Strongbox accounts only, and there is no account named \"" +
                               name + "\"; pass --user NAME of your account, or add one with: strongbox user add " +
                               name);
    }
    if (u->disabled) {
        return core::Error(core::ErrorCode::kPermissionDenied, "the Strongbox account \"" + name + "\" is disabled");
    }
    if (u->role != access::kRoleStaff && u->role != access::kRoleAdmin) {
        return core::Error(core::ErrorCode::kPermissionDenied,
                           "the Strongbox account \"" + name + "\" is an " + u->role + " and may not ask questions");
    }
    return core::ok_status();
}

// A session to the daemon: plain HTTP, or HTTPS trusting only the certificate daemon.json names.
std::unique_ptr<Poco::Net::HTTPClientSession> open_session(const DaemonInfo & info, const Poco::URI & uri) {
    if (uri.getScheme() != "https") {
        return std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    if (info.tls_cert.empty()) {
        throw Poco::Exception("daemon.json names an https URL but no certificate to trust");
    }
    Poco::Net::initializeSSL();
    Poco::Net::Context::Params params;
    params.caLocation = info.tls_cert.string();
    params.loadDefaultCAs = false;  // only the daemon's own certificate, never the system's CAs
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;  // STRICT: host names checked on loopback too
    params.verificationDepth = 1;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // A certificate that fails verification is refused; Poco's default handler would ask on the console.
    Poco::Net::SSLManager::instance().initializeClient(nullptr, new Poco::Net::RejectCertificateHandler(false),
                                                       context);
    return std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
}

}  // namespace

core::Status write_daemon_file(const std::filesystem::path & data_dir, const DaemonInfo & info) {
    core::Json j = core::Json::object();
    j["url"] = info.url;
    if (!info.tls_cert.empty()) {
        std::error_code ec;
        const std::filesystem::path cert = std::filesystem::absolute(info.tls_cert, ec);
        j["tls_cert"] = (ec ? info.tls_cert : cert).string();
    }
    j["pid"] = static_cast<int64_t>(::getpid());
    return core::write_file_atomic(daemon_file(data_dir), j.dump() + "\n");
}

void remove_daemon_file(const std::filesystem::path & data_dir) {
    std::error_code ec;
    std::filesystem::remove(daemon_file(data_dir), ec);
}

core::Result<DaemonInfo> read_daemon_file(const std::filesystem::path & data_dir) {
    auto text = core::read_file(daemon_file(data_dir));
    if (!text.ok()) {
        return core::Error(core::ErrorCode::kUnavailable, "data directory " + data_dir.string() +
                                                              " is locked by another command; try again when it ends");
    }
    auto j = core::Json::parse(*text);
    if (!j.ok() || !j->is_object() || j->get_string("url").empty()) {
        return core::Error(core::ErrorCode::kUnavailable, daemon_file(data_dir).string() + " names no daemon URL");
    }
    DaemonInfo info;
    info.url = j->get_string("url");
    info.tls_cert = j->get_string("tls_cert");
    info.pid = j->get_int("pid");
    return info;
}

std::string local_daemon_url(const std::string & host, int port, bool tls) {
    std::string h = host;
    if (h == "0.0.0.0" || h.empty()) {
        h = "127.0.0.1";
    } else if (h == "::") {
        h = "::1";
    }
    if (h.find(':') != std::string::npos) {
        h = "[" + h + "]";
    }
    return std::string(tls ? "https://" : "http://") + h + ":" + std::to_string(port) + "/";
}

std::string local_user_name(const std::string & requested) {
    if (!requested.empty()) {
        return requested;
    }
    // Under sudo the real and effective ids are root's; the person is the one who ran sudo.
    if (::geteuid() == 0) {
        if (const char * sudo_user = std::getenv("SUDO_USER"); sudo_user != nullptr && *sudo_user != '\0') {
            return sudo_user;
        }
    }
    std::vector<char> buf(16384);
    passwd pw{};
    passwd * found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_name != nullptr) {
        return found->pw_name;
    }
    const char * user = std::getenv("USER");
    return user != nullptr ? user : "";
}

core::Result<int> revoke_local_tokens(access::Accounts & accounts) {
    SB_ASSIGN_OR_RETURN(std::vector<access::ApiToken> tokens, accounts.tokens(""));
    int revoked = 0;
    for (const access::ApiToken & t : tokens) {
        if (t.name.rfind(kLocalTokenPrefix, 0) == 0) {
            SB_TRY(accounts.revoke_token(t.id));
            ++revoked;
        }
    }
    return revoked;
}

core::Result<core::Answer> ask_daemon(const std::filesystem::path & data_dir, const std::string & question,
                                      const std::string & user, int top_k) {
    SB_ASSIGN_OR_RETURN(DaemonInfo info, read_daemon_file(data_dir));
    SB_ASSIGN_OR_RETURN(std::unique_ptr<access::Accounts> accounts,
                        access::Accounts::open(DataPaths{data_dir}.accounts()));
    SB_TRY(check_can_ask(*accounts, user));
    SB_ASSIGN_OR_RETURN(access::ApiToken minted,
                        accounts->create_token(user, kLocalTokenPrefix + std::to_string(::getpid())));
    MintedToken token(*accounts, std::move(minted));
    try {
        Poco::URI uri(info.url);
        std::unique_ptr<Poco::Net::HTTPClientSession> session = open_session(info, uri);
        session->setTimeout(Poco::Timespan(120, 0));
        core::Json body = core::Json::object();
        body["question"] = question;
        body["top_k"] = top_k;
        const std::string payload = body.dump();
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/api/v1/ask",
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer " + token.raw());
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(payload.size()));
        session->sendRequest(request) << payload;
        Poco::Net::HTTPResponse response;
        std::istream & in = session->receiveResponse(response);
        std::string reply;
        Poco::StreamCopier::copyToString(in, reply);
        core::Result<core::Json> j = core::Json::parse(reply);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            const core::Json * err = j.ok() ? j->find("error") : nullptr;
            return core::Error(core::ErrorCode::kUnavailable,
                               "the running daemon at " + info.url + " answered " +
                                   std::to_string(static_cast<int>(response.getStatus())) + ": " +
                                   (err != nullptr ? err->get_string("message") : reply.substr(0, 200)));
        }
        if (!j.ok()) {
            return core::Error(core::ErrorCode::kUnavailable,
                               "the running daemon at " + info.url +
                                   " sent an answer that is not JSON: " + j.error().message());
        }
        return core::answer_from_json(*j);
    } catch (const Poco::Exception & e) {
        return core::Error(core::ErrorCode::kUnavailable,
                           "cannot reach the running daemon at " + info.url + ": " + e.displayText());
    } catch (const std::exception & e) {
        return core::Error(core::ErrorCode::kUnavailable,
                           "cannot reach the running daemon at " + info.url + ": " + e.what());
    }
}

}  // namespace strongbox::appliance
