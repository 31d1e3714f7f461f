#include "daemon_client.h"

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <unistd.h>

#include <sstream>

namespace strongbox::appliance {
namespace {

std::filesystem::path daemon_file(const std::filesystem::path & data_dir) {
    return data_dir / "daemon.json";
}

}  // namespace

core::Status write_daemon_file(const std::filesystem::path & data_dir, const std::string & url) {
    core::Json j = core::Json::object();
    j["url"] = url;
    j["pid"] = static_cast<int64_t>(::getpid());
    return core::write_file_atomic(daemon_file(data_dir), j.dump() + "\n");
}

void remove_daemon_file(const std::filesystem::path & data_dir) {
    std::error_code ec;
    std::filesystem::remove(daemon_file(data_dir), ec);
}

core::Result<core::Answer> ask_daemon(const std::filesystem::path & data_dir, const std::string & question,
                                      const std::string & user, int top_k) {
    auto text = core::read_file(daemon_file(data_dir));
    if (!text.ok()) {
        return core::Error(core::ErrorCode::kUnavailable,
                           "data directory " + data_dir.string() + " is locked by another command; try again when it ends");
    }
    SB_ASSIGN_OR_RETURN(core::Json info, core::Json::parse(*text));
    try {
        Poco::URI uri(info.get_string("url"));
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        session.setTimeout(Poco::Timespan(120, 0));
        core::Json body = core::Json::object();
        body["question"] = question;
        body["top_k"] = top_k;
        body["user"] = user;
        const std::string payload = body.dump();
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/api/ask", Poco::Net::HTTPMessage::HTTP_1_1);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(payload.size()));
        session.sendRequest(request) << payload;
        Poco::Net::HTTPResponse response;
        std::istream & in = session.receiveResponse(response);
        std::string reply;
        Poco::StreamCopier::copyToString(in, reply);
        SB_ASSIGN_OR_RETURN(core::Json j, core::Json::parse(reply));
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            const core::Json * err = j.find("error");
            return core::Error(core::ErrorCode::kUnavailable, "the running daemon answered " +
                                                                  std::to_string(static_cast<int>(response.getStatus())) +
                                                                  ": " + (err ? err->get_string("message") : reply));
        }
        return core::answer_from_json(j);
    } catch (const std::exception & e) {
        return core::Error(core::ErrorCode::kUnavailable, std::string("cannot reach the running daemon: ") + e.what());
    }
}

}  // namespace strongbox::appliance
