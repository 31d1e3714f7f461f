#include "daemon_client.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/webui/service.h"

namespace strongbox::appliance {
namespace {

class WebService final : public webui::AppService {
  public:
    explicit WebService(Appliance & app) : app_(app) {}

    core::Result<core::Answer> ask(const webui::AskRequest & request) override {
        return app_.ask(request.question, request.user.empty() ? "anonymous" : request.user, "http", request.top_k);
    }

    core::Result<webui::SourceView> source(int64_t chunk_id) override { return app_.source(chunk_id); }

    core::Json health() override { return app_.health(); }

  private:
    Appliance & app_;
};

}  // namespace

std::unique_ptr<webui::AppService> make_web_service(Appliance & app) {
    return std::make_unique<WebService>(app);
}

}  // namespace strongbox::appliance
