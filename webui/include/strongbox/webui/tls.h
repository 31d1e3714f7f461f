// The appliance's TLS certificate: at first start `strongbox serve` makes a self-signed one (ECDSA
// P-256, SHA-256, valid 825 days) so the console is HTTPS from the first minute; an admin replaces
// it by installing their own PEM files (or naming them with --tls-cert/--tls-key).
//
// Thread-safety: free functions, no shared state; call at startup.
// Error contract: kInvalidArgument when only one of the two files exists; kIoError naming the
// file when it cannot be written or read; kInternal when OpenSSL fails. Never throws.
//
//   SB_ASSIGN_OR_RETURN(bool made, ensure_self_signed_certificate(dir / "tls-cert.pem",
//                                                                 dir / "tls-key.pem", {"localhost", "127.0.0.1"}));
#pragma once

#include "strongbox/core/result.h"

#include <filesystem>
#include <string>
#include <vector>

namespace strongbox::webui {

// Keeps `cert` and `key` when both exist; when neither does, writes a new self-signed certificate
// for `names` (DNS names and IP addresses, the first one also its common name) and its private key
// (mode 0600). Returns whether it generated them.
core::Result<bool> ensure_self_signed_certificate(const std::filesystem::path & cert, const std::filesystem::path & key,
                                                  const std::vector<std::string> & names);

// "SHA256 AB:CD:...": the certificate's fingerprint as browsers show it, so a user can check the
// certificate they are asked to trust is the appliance's.
core::Result<std::string> certificate_fingerprint(const std::filesystem::path & cert);

}  // namespace strongbox::webui
