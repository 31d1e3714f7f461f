#include "signing.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

core::Error key_error(const std::filesystem::path & path, const std::string & reason) {
    return core::Error(core::ErrorCode::kCorruptInput, "audit signing key " + path.string() + ": " + reason);
}

core::Error os_error(const std::string & what, const std::filesystem::path & path) {
    const int err = errno;
    return core::Error(core::code_for_errno(err), what + " " + path.string() + ": " + std::strerror(err));
}

void ensure_sodium() {
    // sodium_init() is idempotent and thread-safe; -1 means no usable randomness, which no key can survive.
    SB_CHECK(sodium_init() >= 0);
}

bool from_hex(std::string_view hex, uint8_t * out, size_t out_len) {
    size_t bin_len = 0;
    if (hex.size() != out_len * 2) {
        return false;
    }
    return sodium_hex2bin(out, out_len, hex.data(), hex.size(), nullptr, &bin_len, nullptr) == 0 && bin_len == out_len;
}

core::Status load(const std::filesystem::path & key_path, const std::filesystem::path & pub_path,
                  std::array<uint8_t, 64> & secret, PublicKey & pub);

}  // namespace

core::Result<SigningKey> SigningKey::load_or_create(const std::filesystem::path & dir) {
    ensure_sodium();
    const std::filesystem::path key_path = dir / kSigningKeyFile;
    const std::filesystem::path pub_path = dir / kPublicKeyFile;
    std::error_code ec;
    if (!std::filesystem::exists(key_path, ec)) {
        if (std::filesystem::exists(pub_path, ec)) {
            return key_error(key_path,
                             "is missing but " + pub_path.string() +
                                 " exists; restore the key from backup (a new key would not match the public key "
                                 "auditors hold)");
        }
        std::array<uint8_t, 64> sk{};
        PublicKey pk{};
        crypto_sign_keypair(pk.data(), sk.data());
        // exclusive: link() fails instead of replacing a key another process made meanwhile.
        core::Status created =
            core::write_file_atomic(key_path, std::string_view(reinterpret_cast<const char *>(sk.data()), sk.size()),
                                    {.mode = 0600, .exclusive = true});
        sodium_memzero(sk.data(), sk.size());
        // Another process may have created the key between exists() and link(): load the winner's key.
        if (!created.ok() && created.error().code() != core::ErrorCode::kAlreadyExists) {
            return std::move(created).error().with_context("create the audit signing key");
        }
        if (created.ok()) {
            SB_TRY(core::write_file_atomic(pub_path, public_key_hex(pk) + "\n"));
        }
    }
    SigningKey key;
    SB_TRY(load(key_path, pub_path, key.secret_key_, key.public_key_));
    return key;
}

std::string SigningKey::sign(std::string_view domain, std::string_view message) const {
    std::string input;
    input.reserve(domain.size() + 1 + message.size());
    input.append(domain);
    input.push_back('\0');
    input.append(message);
    std::array<uint8_t, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char *>(input.data()), input.size(),
                         secret_key_.data());
    return core::to_hex(sig);
}

std::string key_fingerprint(const PublicKey & key) {
    return core::sha256_hex(std::string_view(reinterpret_cast<const char *>(key.data()), key.size()));
}

std::string public_key_hex(const PublicKey & key) {
    return core::to_hex(key);
}

core::Result<PublicKey> parse_public_key(std::string_view text) {
    const std::string_view hex = core::trim(text);
    PublicKey key{};
    if (!from_hex(hex, key.data(), key.size())) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "a public key must be 64 hex digits, got " + std::to_string(hex.size()) + " characters");
    }
    return key;
}

core::Result<PublicKey> read_public_key_file(const std::filesystem::path & path) {
    SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
    auto key = parse_public_key(text);
    if (!key.ok()) {
        return std::move(key).error().with_context("public key file " + path.string());
    }
    return key;
}

core::Status verify_signature(const PublicKey & key, std::string_view domain, std::string_view message,
                              std::string_view signature_hex) {
    ensure_sodium();
    std::array<uint8_t, crypto_sign_BYTES> sig{};
    // Only the lower-case spelling sign() writes: nothing else covers the signature's own bytes, so
    // another spelling of the same signature would be a changed file that still verifies.
    const bool lower_hex = std::all_of(signature_hex.begin(), signature_hex.end(),
                                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!lower_hex || !from_hex(signature_hex, sig.data(), sig.size())) {
        return core::Error(core::ErrorCode::kCorruptInput, "the signature is not 128 lower-case hex digits");
    }
    std::string input;
    input.reserve(domain.size() + 1 + message.size());
    input.append(domain);
    input.push_back('\0');
    input.append(message);
    if (crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char *>(input.data()), input.size(),
                                    key.data()) != 0) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "the signature does not match (wrong key, or the signed bytes were changed)");
    }
    return {};
}

namespace {

core::Status load(const std::filesystem::path & key_path, const std::filesystem::path & pub_path,
                  std::array<uint8_t, 64> & secret, PublicKey & pub) {
    const core::UniqueFd fd(::open(key_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        return os_error("open audit signing key", key_path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return os_error("stat audit signing key", key_path);
    }
    if (!S_ISREG(st.st_mode)) {
        return key_error(key_path, "is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return core::Error(core::ErrorCode::kPermissionDenied,
                           "audit signing key " + key_path.string() + " has mode " + mode +
                               "; it must not be accessible to group or others (chmod 600)");
    }
    if (st.st_size != static_cast<off_t>(secret.size())) {
        return key_error(key_path,
                         "has " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(secret.size()));
    }
    if (::read(fd.get(), secret.data(), secret.size()) != static_cast<ssize_t>(secret.size())) {
        return os_error("read audit signing key", key_path);
    }
    // The secret key embeds its public half; recompute it from the seed so a damaged file is caught here
    // rather than by auditors failing to verify signatures months later.
    std::array<uint8_t, crypto_sign_SEEDBYTES> seed{};
    std::array<uint8_t, 64> check_sk{};
    PublicKey check_pk{};
    crypto_sign_ed25519_sk_to_seed(seed.data(), secret.data());
    crypto_sign_seed_keypair(check_pk.data(), check_sk.data(), seed.data());
    sodium_memzero(seed.data(), seed.size());
    sodium_memzero(check_sk.data(), check_sk.size());
    crypto_sign_ed25519_sk_to_pk(pub.data(), secret.data());
    if (check_pk != pub) {
        return key_error(key_path, "is damaged (its public half does not match its seed)");
    }
    std::error_code ec;
    if (std::filesystem::exists(pub_path, ec)) {
        auto on_disk = read_public_key_file(pub_path);
        if (!on_disk.ok()) {
            return std::move(on_disk).error();
        }
        if (*on_disk != pub) {
            return key_error(key_path, "does not match the public key in " + pub_path.string());
        }
    } else {
        SB_TRY(core::write_file_atomic(pub_path, public_key_hex(pub) + "\n"));
    }
    return {};
}

}  // namespace

}  // namespace strongbox::appliance
