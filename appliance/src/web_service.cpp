#include "daemon_client.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/webui/service.h"

namespace strongbox::appliance {
namespace {

class WebService final : public webui::AppService {
  public:
    explicit WebService(Appliance & app) : app_(app) {}

    core::Result<core::Answer> ask(const webui::AskRequest & request) override {
        return app_.ask(request.question, user_of(request), "http", request.top_k);
    }

    // Streams the verified answer text as it is generated, then the complete answer.
    core::Status ask_stream(const webui::AskRequest & request, const webui::AskSink & sink) override {
        webui::AskProgress stage;
        stage.kind = webui::AskProgress::Kind::kStage;
        stage.text = "answering";
        if (!sink(stage)) {
            return core::Error(core::ErrorCode::kCancelled, "ask_stream: client went away");
        }
        auto answer = app_.ask(request.question, user_of(request), "http", request.top_k, [&](std::string_view text) {
            webui::AskProgress event;
            event.kind = webui::AskProgress::Kind::kText;
            event.text = std::string(text);
            return sink(event);
        });
        if (!answer.ok()) {
            return std::move(answer).error();
        }
        webui::AskProgress done;
        done.kind = webui::AskProgress::Kind::kAnswer;
        done.answer = std::move(answer).value();
        if (!sink(done)) {
            return core::Error(core::ErrorCode::kCancelled, "ask_stream: client went away");
        }
        return core::ok_status();
    }

    core::Result<webui::SourceView> source(int64_t chunk_id) override { return app_.source(chunk_id); }

    core::Json health() override { return app_.health(); }

  private:
    static std::string user_of(const webui::AskRequest & request) {
        return request.user.empty() ? "anonymous" : request.user;
    }

    Appliance & app_;
};

}  // namespace

std::unique_ptr<webui::AppService> make_web_service(Appliance & app) {
    return std::make_unique<WebService>(app);
}

}  // namespace strongbox::appliance
