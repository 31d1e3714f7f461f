// SHA-256 over bytes, strings and files (libsodium underneath). Sha256 objects are not
// thread-safe; the free functions are.
#pragma once

#include "strongbox/core/result.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace strongbox::core {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 & operator=(const Sha256 &) = delete;

    void update(std::span<const uint8_t> bytes);
    void update(std::string_view bytes);
    Digest finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

Digest sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
Result<std::string> sha256_file_hex(const std::filesystem::path & path);

std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace strongbox::core
