// How local commands find and talk to a running `strongbox serve`: the daemon writes its URL to
// DATA_DIR/daemon.json while it runs; `strongbox ask` uses it when the data directory is locked.
#pragma once

#include "strongbox/core/answer.h"
#include "strongbox/core/result.h"

#include <filesystem>
#include <memory>
#include <string>

namespace strongbox::webui {
class AppService;
}

namespace strongbox::appliance {

class Appliance;

core::Status write_daemon_file(const std::filesystem::path & data_dir, const std::string & url);
void remove_daemon_file(const std::filesystem::path & data_dir);

core::Result<core::Answer> ask_daemon(const std::filesystem::path & data_dir, const std::string & question,
                                      const std::string & user, int top_k);

// The AppService the web server calls, backed by the appliance.
std::unique_ptr<webui::AppService> make_web_service(Appliance & app);

}  // namespace strongbox::appliance
