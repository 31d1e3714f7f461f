// The extraction worker's sandbox, probed from inside a real strongbox-extract: what a parser bug
// could reach is what these requests reach.

#include "worker_run.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "support/temp_dir.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace strongbox;

namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

// Whether this kernel offers Landlock: where it does, the worker must use it.
bool kernel_has_landlock() {
    return ::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) >= 1;
}

// A listening TCP socket on 127.0.0.1 that the worker is asked to reach.
struct Listener {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port = 0;
    Listener() {
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof at;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&at), sizeof at) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&at), &len) == 0);
        port = ntohs(at.sin_port);
    }
    ~Listener() { ::close(fd); }
};

core::Json probe(const fs::path & path, int port) {
    appliance::ExtractLimits limits;
    limits.worker = SB_EXTRACT_WORKER;
    core::Json request = core::Json::object();
    request["op"] = "sandbox_probe";
    request["path"] = path.string();
    request["port"] = port;
    auto report = appliance::run_worker("sandbox probe", std::move(request), "sandbox", limits);
    REQUIRE_MESSAGE(report.ok(), report.error().to_string());
    return std::move(report).value();
}

}  // namespace

TEST_CASE("the extraction worker cannot read the data directory's key, reach the network or start a process") {
    testing::TempDir data("sb_sandbox");
    const fs::path key = data.path / "audit-signing.key";
    REQUIRE(core::write_file_atomic(key, "not the real key").ok());
    Listener daemon_port;

    const core::Json report = probe(key, daemon_port.port);
    INFO(report.dump());
    CHECK(report.get_bool("no_new_privs"));
    if (kernel_has_landlock()) {
        CHECK(report.get_int("landlock_abi") >= 1);
        CHECK(report.get_string("open") == "EACCES");
    }
    CHECK(report.get_bool("seccomp") == !kSanitizerBuild);
    if (report.get_bool("seccomp")) {
        CHECK(report.get_string("socket") == "EPERM");
        CHECK(report.get_string("fork") == "EPERM");
    }
    if (report.get_bool("seccomp") || report.get_bool("network_namespace")) {
        CHECK(report.get_string("connect") != "ok");
    }
}

TEST_CASE("the sandboxed worker still reads the system's data its parsers load") {
    // Fonts, Poppler's and Tesseract's data and the C library's files live in these trees; the
    // extraction and page tests show the input file itself is read.
    CHECK(probe("/etc/os-release", 1).get_string("open") == "ok");
}
