#include "strongbox/webui/tls.h"

#include "strongbox/core/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strongbox::webui {
namespace {

constexpr long kValidDays = 825;  // the longest validity browsers accept for a server certificate

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T * p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

core::Error openssl_error(const std::string & what) {
    char buf[256] = "unknown error";
    if (unsigned long code = ERR_get_error(); code != 0) {
        ERR_error_string_n(code, buf, sizeof(buf));
    }
    ERR_clear_error();
    return core::Error(core::ErrorCode::kInternal, what + ": " + buf);
}

bool is_ip(const std::string & name) {
    unsigned char buf[16];
    return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

core::Status add_extension(X509 * x, X509V3_CTX * ctx, int nid, const std::string & value) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
        return openssl_error("certificate extension " + value);
    }
    return core::ok_status();
}

std::string bio_string(BIO * bio) {
    char * data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(n));
}

}  // namespace

core::Result<bool> ensure_self_signed_certificate(const std::filesystem::path & cert, const std::filesystem::path & key,
                                                  const std::vector<std::string> & names) {
    std::error_code ec;
    const bool have_cert = std::filesystem::exists(cert, ec);
    const bool have_key = std::filesystem::exists(key, ec);
    if (have_cert && have_key) {
        return false;
    }
    if (have_cert != have_key) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "TLS: " + (have_cert ? cert : key).string() + " exists but " +
                               (have_cert ? key : cert).string() +
                               " does not; install both or remove both to have a new self-signed pair made");
    }
    if (names.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "TLS: a certificate needs at least one host name");
    }

    PkeyPtr pkey(EVP_EC_gen("P-256"));
    if (!pkey) {
        return openssl_error("TLS: generate a P-256 key");
    }
    X509Ptr x(X509_new());
    BnPtr serial(BN_new());
    if (!x || !serial || X509_set_version(x.get(), 2) != 1 ||
        BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())) == nullptr) {
        return openssl_error("TLS: start a certificate");
    }
    // An hour of slack for clocks that lag the one that made the certificate.
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), kValidDays * 24 * 3600);
    X509_NAME * subject = X509_get_subject_name(x.get());
    const std::string common_name = names.front().substr(0, 64);
    if (X509_set_pubkey(x.get(), pkey.get()) != 1 ||
        X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>("Strongbox"),
                                   -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1, 0) != 1 ||
        X509_set_issuer_name(x.get(), subject) != 1) {
        return openssl_error("TLS: name the certificate");
    }
    std::string alt_names;
    for (const std::string & n : names) {
        alt_names += (alt_names.empty() ? "" : ",") + std::string(is_ip(n) ? "IP:" : "DNS:") + n;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    SB_TRY(add_extension(x.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
    SB_TRY(add_extension(x.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
    SB_TRY(add_extension(x.get(), &ctx, NID_ext_key_usage, "serverAuth"));
    SB_TRY(add_extension(x.get(), &ctx, NID_subject_key_identifier, "hash"));
    SB_TRY(add_extension(x.get(), &ctx, NID_subject_alt_name, alt_names));
    if (X509_sign(x.get(), pkey.get(), EVP_sha256()) == 0) {
        return openssl_error("TLS: sign the certificate");
    }

    BioPtr key_bio(BIO_new(BIO_s_mem()));
    BioPtr cert_bio(BIO_new(BIO_s_mem()));
    if (!key_bio || !cert_bio ||
        PEM_write_bio_PrivateKey(key_bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(cert_bio.get(), x.get()) != 1) {
        return openssl_error("TLS: encode the certificate");
    }
    // Key first: a certificate without its key would make the next start refuse both.
    SB_TRY(core::write_file_atomic(key, bio_string(key_bio.get()), {.mode = 0600}));
    if (core::Status st = core::write_file_atomic(cert, bio_string(cert_bio.get()), {.mode = 0644}); !st.ok()) {
        std::filesystem::remove(key, ec);
        return std::move(st).error();
    }
    return true;
}

core::Result<std::string> certificate_fingerprint(const std::filesystem::path & cert) {
    SB_ASSIGN_OR_RETURN(std::string pem, core::read_file(cert));
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!x) {
        ERR_clear_error();
        return core::Error(core::ErrorCode::kCorruptInput, "TLS: " + cert.string() + " holds no PEM certificate");
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(x.get(), EVP_sha256(), md, &n) != 1) {
        return openssl_error("TLS: fingerprint " + cert.string());
    }
    std::string out = "SHA256 ";
    char hex[4];
    for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(hex, sizeof(hex), i + 1 < n ? "%02X:" : "%02X", md[i]);
        out += hex;
    }
    return out;
}

}  // namespace strongbox::webui
