// The web server's services (webui/service.h) backed by a running Appliance: what `strongbox
// serve` hands the web server.
//
// Thread-safety: as the Appliance behind it; the server calls it from its worker threads.
//
//   auto service = make_web_service(*app);
//   webui::Server server(*service, *accounts, options);
#pragma once

#include "strongbox/webui/service.h"

#include <memory>

namespace strongbox::appliance {

class Appliance;

std::unique_ptr<webui::AllServices> make_web_service(Appliance & app);

}  // namespace strongbox::appliance
