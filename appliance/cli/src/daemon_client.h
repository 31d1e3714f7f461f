// How local commands find and talk to a running `strongbox serve`: the daemon writes DATA_DIR/daemon.json
// (a URL it can be reached on from this box and, when it serves HTTPS, the certificate it serves) while it
// runs; `strongbox ask` uses it when the data directory is locked.
//
// Identity of a forwarded question (the web server accepts no unauthenticated asks):
//   1. It is asked as a Strongbox account: `--user NAME`, else the invoking login (local_user_name()).
//      The account must exist, be enabled and be allowed to ask (staff or admin); the answer covers
//      that account's collections and the audit record names it, as if it had asked in the console.
//   2. The command mints a one-use API token for that account in DATA_DIR/accounts.db, sends it as
//      `Authorization: Bearer` and revokes it as soon as the answer is in. No credential is kept at
//      rest, and none is ever printed or logged. Whoever can write accounts.db can already do the
//      same with `strongbox token create`, so this gives a local command nothing it did not have.
//   3. A command killed between minting and revoking leaves a token whose raw value died with it;
//      `strongbox serve` revokes all such leftovers at every start (revoke_local_tokens()).
//   4. Over HTTPS the client trusts exactly the certificate named in daemon.json (no system CAs)
//      and checks the host name against it, so the question never goes to another listener.
//
// Thread-safety: free functions without shared state. Error contract: kUnavailable when no daemon
// can be reached or it answers with an error, kNotFound / kPermissionDenied for an account that
// does not exist or may not ask; nothing throws.
#pragma once

#include "strongbox/core/answer.h"
#include "strongbox/core/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace strongbox::access {
class Accounts;
}  // namespace strongbox::access

namespace strongbox::appliance {

class Appliance;

// What daemon.json says about the running daemon.
struct DaemonInfo {
    std::string url;                 // "https://127.0.0.1:8443/"
    std::filesystem::path tls_cert;  // the certificate it serves; empty for plain HTTP
    int64_t pid = 0;
};

// `tls_cert` empty: plain HTTP. Only the data directory's owner can write daemon.json, which is
// why the certificate it names may be trusted.
core::Status write_daemon_file(const std::filesystem::path & data_dir, const DaemonInfo & info);
void remove_daemon_file(const std::filesystem::path & data_dir);
core::Result<DaemonInfo> read_daemon_file(const std::filesystem::path & data_dir);

// The URL a local command reaches a server bound to `host` on: loopback for the wildcard
// addresses, brackets around IPv6 literals.
std::string local_daemon_url(const std::string & host, int port, bool tls);

// The account a local command acts as: `requested` when not empty; else, under sudo, the user who
// ran sudo ($SUDO_USER); else the login name of the real user id; "" when none is known.
std::string local_user_name(const std::string & requested);

// Revokes the tokens ask_daemon minted and never revoked; returns how many. Called at serve start.
core::Result<int> revoke_local_tokens(access::Accounts & accounts);

core::Result<core::Answer> ask_daemon(const std::filesystem::path & data_dir, const std::string & question,
                                      const std::string & user, int top_k);

}  // namespace strongbox::appliance
