// Fuzz target for the offline audit bundle verifier (what an auditor runs on a file they were
// handed) and its ustar reader. For any bytes:
//   - verify_bundle() returns, ok exactly when it lists no problem, each problem one non-empty
//     line; with the key that signed the two genuine seed bundles it accepts nothing but those two
//     files byte for byte, give or take zero padding at the end (no byte is left unchecked);
//   - an archive read_archive() accepts is written back by write_archive() to members that read
//     back the same;
//   - the members re-sealed with a key of this process (manifest.sig replaced by a real signature
//     of the manifest bytes) verify without crashing, so the fuzzer also reaches the record,
//     member, excerpt and completeness checks behind the signature.
// Seeds: tests/fuzz/corpus/audit_bundle (see its SOURCES.md).
#include "archive.h"
#include "fuzz_targets.h"
#include "signing.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/hash.h"

#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

namespace strongbox::fuzz {
namespace {

namespace sa = strongbox::appliance;

// The key that signed genuine-full and genuine-user-alice, and the sha256 of those two files
// without their trailing zero bytes (zero blocks after the end-of-archive marker are tolerated,
// as tar tools pad archives with them).
constexpr std::string_view kSeedKey = kAuditSeedKey;
constexpr std::string_view kGenuine[] = {
    "0d12cfe53b97b6e781530535f56f6d3c73e05415ccac06b3e0b794d037faf6fc",
    "6892249bca31d742993e500b93fef4cd285648115d59f1043b06db422c8f6871",
};

const sa::SigningKey & own_key() {
    static const sa::SigningKey key = [] {
        const auto dir = std::filesystem::temp_directory_path() / ("sb_audit_fuzz_" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        auto k = sa::SigningKey::load_or_create(dir);
        require(k.ok());
        std::filesystem::remove_all(dir);
        return std::move(k).value();
    }();
    return key;
}

void check_report(const sa::BundleVerification & v) {
    require(v.ok == v.problems.empty());
    for (const std::string & p : v.problems) {
        require(!p.empty());
    }
}

}  // namespace

int audit_bundle(const uint8_t * data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    const sa::BundleVerification v = sa::verify_bundle(bytes, kSeedKey);
    check_report(v);
    if (v.ok) {
        const std::string sha = core::sha256_hex(bytes.substr(0, bytes.find_last_not_of('\0') + 1));
        require(sha == kGenuine[0] || sha == kGenuine[1]);
    }

    auto members = sa::read_archive(bytes);
    if (!members.ok()) {
        return 0;
    }
    auto again = sa::read_archive(sa::write_archive(*members, 1'790'000'000));
    require(again.ok() && again->size() == members->size());
    for (size_t i = 0; i < members->size(); ++i) {
        require((*again)[i].name == (*members)[i].name && (*again)[i].bytes == (*members)[i].bytes);
    }

    // Re-sealed with this process's key: the signature check passes, the rest of the bundle is
    // whatever the fuzzer made of it.
    const sa::ArchiveMember * manifest = nullptr;
    for (const sa::ArchiveMember & m : *members) {
        manifest = m.name == "manifest.json" ? &m : manifest;
    }
    if (manifest == nullptr) {
        return 0;
    }
    const std::string sig = own_key().sign(sa::kBundleDomain, manifest->bytes) + "\n";
    std::vector<sa::ArchiveMember> resealed;
    for (const sa::ArchiveMember & m : *members) {
        resealed.push_back(m.name == "manifest.sig" ? sa::ArchiveMember{m.name, sig} : m);
    }
    check_report(
        sa::verify_bundle(sa::write_archive(resealed, 1'790'000'000), sa::public_key_hex(own_key().public_key())));
    return 0;
}

}  // namespace strongbox::fuzz

#ifdef SB_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::fuzz::audit_bundle(data, size);
}
#endif
