// The web UI's HTTP(S) server: listens on a TCP port and serves the routes of Handler (handler.h)
// from a pool of worker threads. Poco does the HTTP/1.1 and TLS work (keep-alive, chunked streams,
// NetSSL); nothing of Poco shows here.
//
// HTTPS when tls_cert and tls_key are set (TLS 1.2+, ECDHE AEAD ciphers only; the session cookie
// then carries Secure and responses Strict-Transport-Security). Plain HTTP is served only on a
// loopback address unless allow_insecure_http says otherwise, so passwords and session cookies do
// not cross a network in clear by accident.
//
// Thread-safety: start(), stop() and the destructor are called by the owner thread; requests are
// served concurrently on worker threads, so the services must be thread-safe.
// Error contract: start() returns kUnavailable when the address cannot be bound (port taken,
// no such interface) and kInvalidArgument for bad options (plain HTTP on a non-loopback address
// without allow_insecure_http, unreadable certificate or key); it never throws. stop() lets requests
// in flight finish (up to shutdown_grace_ms), then closes every connection; the destructor stops.
//
//   Server server(service, accounts, ServerOptions{.port = 0});
//   SB_TRY(server.start());
//   std::printf("listening on %d\n", server.port());
//   ...
//   server.stop();
#pragma once

#include "strongbox/access/accounts.h"
#include "strongbox/core/result.h"
#include "strongbox/webui/handler.h"
#include "strongbox/webui/service.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::webui {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                               // 0 picks a free port; see Server::port()
    int max_threads = 4;                           // service calls running at once
    int max_queued = 64;                           // service calls waiting; more get 503 + Retry-After
    size_t max_body_bytes = 64 * 1024;             // larger request bodies get 413
    size_t max_upload_bytes = 64 * 1024 * 1024;    // see HandlerOptions
    size_t max_update_bytes = 1024 * 1024 * 1024;  // see HandlerOptions
    // PEM certificate (chain) and private key; both set: HTTPS. See tls.h for the self-signed pair.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    bool allow_insecure_http = false;      // plain HTTP on a non-loopback address
    bool open_metrics_on_loopback = true;  // see HandlerOptions
    // Open connections served at once; each holds a worker thread while open, idle keep-alive
    // ones included. Raised to max_threads + max_queued + 4 when lower. A connection beyond it is
    // answered at once with the overload 503 (Retry-After, Connection: close) and closed, by a few
    // threads kept for that; only when those are busy too do new connections wait, briefly, or
    // get closed unanswered.
    int max_connections = 64;
    int keep_alive_timeout_s = 10;  // idle keep-alive connections are closed after this
    int io_timeout_s = 30;          // a client that stalls mid-request is dropped after this
    int queue_timeout_ms = 30000;   // see HandlerOptions
    int retry_after_seconds = 2;
    int shutdown_grace_ms = 5000;  // stop() waits this long for requests in flight
    // Host names the server answers for (see HandlerOptions::allowed_hosts). Empty: "localhost",
    // "127.0.0.1" and "::1" when host is a loopback address, any host otherwise.
    std::vector<std::string> allowed_hosts;
    std::function<void(std::string_view line)> access_log;  // see HandlerOptions
    std::string setup_code;                                 // see HandlerOptions
};

class Server {
  public:
    Server(Services services, access::Accounts & accounts, ServerOptions options);
    ~Server();
    Server(const Server &) = delete;
    Server & operator=(const Server &) = delete;

    core::Status start();
    // The bound port (the chosen one when options.port was 0); 0 before start().
    int port() const;
    bool tls() const;  // serving HTTPS
    // Stops accepting, lets requests in flight finish (bounded by shutdown_grace_ms), closes all
    // connections and joins the workers. Safe to call twice.
    void stop();

    Handler & handler();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::webui
