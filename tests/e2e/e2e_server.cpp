// A Strongbox web server over a small text corpus, for the browser end-to-end test. It serves the
// real Handler and Server with CorpusService (tests/webui/corpus_service.h) until SIGINT/SIGTERM.
//
//   strongbox_e2e_server --corpus tests/data/webui --port 0 --port-file /tmp/port
#include "../webui/corpus_service.h"

#include "strongbox/core/file.h"
#include "strongbox/webui/server.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

int usage() {
    std::fprintf(stderr, "usage: strongbox_e2e_server --corpus DIR [--port N] [--port-file FILE]\n");
    return 2;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string corpus;
    std::string port_file;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--corpus") == 0) {
            corpus = argv[i + 1];
        } else if (std::strcmp(argv[i], "--port") == 0) {
            port = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--port-file") == 0) {
            port_file = argv[i + 1];
        } else {
            return usage();
        }
    }
    if (corpus.empty() || argc % 2 == 0) {
        return usage();
    }

    // Block the stop signals before any thread starts, so only sigwait below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    strongbox::webui::testing::CorpusService service;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto & entry : std::filesystem::directory_iterator(corpus, ec)) {
        if (entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    if (ec || files.empty()) {
        std::fprintf(stderr, "strongbox_e2e_server: no .txt files in %s\n", corpus.c_str());
        return 1;
    }
    std::sort(files.begin(), files.end());
    for (const auto & f : files) {
        strongbox::core::Status st = service.add_file(f);
        if (!st.ok()) {
            std::fprintf(stderr, "strongbox_e2e_server: %s\n", st.error().to_string().c_str());
            return 1;
        }
    }

    strongbox::webui::ServerOptions options;
    options.port = port;
    strongbox::webui::Server server(service, options);
    strongbox::core::Status st = server.start();
    if (!st.ok()) {
        std::fprintf(stderr, "strongbox_e2e_server: %s\n", st.error().to_string().c_str());
        return 1;
    }
    if (!port_file.empty()) {
        st = strongbox::core::write_file_atomic(port_file, std::to_string(server.port()) + "\n");
        if (!st.ok()) {
            std::fprintf(stderr, "strongbox_e2e_server: %s\n", st.error().to_string().c_str());
            return 1;
        }
    }
    std::printf("listening on http://127.0.0.1:%d/\n", server.port());
    std::fflush(stdout);

    int signal = 0;
    sigwait(&stop_signals, &signal);
    server.stop();
    return 0;
}
