#include "strongbox/core/hash.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <sodium.h>

namespace strongbox::core {

struct Sha256::State {
    crypto_hash_sha256_state st;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    crypto_hash_sha256_init(&state_->st);
}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const uint8_t> bytes) {
    crypto_hash_sha256_update(&state_->st, bytes.data(), bytes.size());
}

void Sha256::update(std::string_view bytes) {
    update(std::span(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
}

Digest Sha256::finish() {
    Digest d{};
    crypto_hash_sha256_final(&state_->st, d.data());
    return d;
}

Digest sha256(std::string_view bytes) {
    Sha256 h;
    h.update(bytes);
    return h.finish();
}

std::string sha256_hex(std::string_view bytes) {
    Digest d = sha256(bytes);
    return to_hex(d);
}

Result<std::string> sha256_file_hex(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error(ErrorCode::kIoError, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    Sha256 h;
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
    }
    if (in.bad()) {
        return Error(ErrorCode::kIoError, "read failed on " + path.string());
    }
    Digest d = h.finish();
    return to_hex(d);
}

std::string to_hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0xF];
    }
    return out;
}

}  // namespace strongbox::core
