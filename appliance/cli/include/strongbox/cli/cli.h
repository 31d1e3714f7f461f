// The `strongbox` command line: subcommands for ingest, ask, serve, audit and the model tools.
// Returns the process exit status: 0 success, 1 failure, 2 usage error, 3 partial success
// (some inputs failed while the rest went through).
#pragma once

namespace strongbox::appliance {

int run_cli(int argc, char ** argv);

}  // namespace strongbox::appliance
