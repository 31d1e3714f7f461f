// strongbox-extract: the worker process that runs the third-party parsers (Poppler, Tesseract,
// Poco Zip/XML) on one untrusted file for the daemon (see extract_worker.h).
//
//   strongbox-extract --memory-mib N --cpu-s N --file-size-mib N  < request  3> result
//
// The request on stdin is one JSON object naming an operation (protocol.h): extract a document,
// or read a PDF page's size or render it (page_render.h), so nothing secret (a PDF password)
// shows on the command line. The limits are set before the request is read, the sandbox
// (sandbox.h) after it and before any parser runs; links only ingest and core, so the address
// space it starts with is small and the memory limit is mostly left to the parsers.
#include "poppler_render.h"
#include "protocol.h"
#include "sandbox.h"

#include "strongbox/core/document.h"
#include "strongbox/core/json.h"
#include "strongbox/ingest/ingest.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace proto = strongbox::appliance::extract_protocol;
using strongbox::core::Json;

// Writes all of `text`; a parent that went away (EPIPE) ends the worker, there is no one to tell.
void write_all(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(proto::kResultFd, text.data(), text.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            std::_Exit(1);
        }
        text.remove_prefix(static_cast<size_t>(n));
    }
}

// Called by operator new when the address-space limit refuses memory. Exiting here, with a code
// the daemon knows, beats letting a library catch bad_alloc and go on half-initialised.
[[noreturn]] void out_of_memory() {
    static const char kMessage[] = "strongbox-extract: out of memory\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    std::_Exit(proto::kExitOutOfMemory);
}

// AddressSanitizer and ThreadSanitizer reserve terabytes of shadow address space, so under them an
// address-space limit stops the worker at its first allocation; sanitizer builds go without it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kLimitAddressSpace = false;
#else
constexpr bool kLimitAddressSpace = true;
#endif

bool set_limit(int resource, rlim_t soft, rlim_t hard) {
    const rlimit lim{soft, hard};
    return ::setrlimit(resource, &lim) == 0;
}

bool parse_count(const char * text, long long & out) {
    char * end = nullptr;
    errno = 0;
    out = std::strtoll(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && out > 0;
}

int usage(const char * why) {
    std::fprintf(stderr, "strongbox-extract: %s\nusage: strongbox-extract --memory-mib N --cpu-s N --file-size-mib N\n",
                 why);
    return proto::kExitUsage;
}

Json error_line(const strongbox::core::Error & e) {
    Json error = Json::object();
    error["code"] = static_cast<int>(e.code());
    error["message"] = e.message();
    Json out = Json::object();
    out["error"] = std::move(error);
    return out;
}

Json image_line(const strongbox::appliance::RenderedImage & image) {
    std::string png(sodium_base64_encoded_len(image.png.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(png.data(), png.size(), reinterpret_cast<const unsigned char *>(image.png.data()),
                      image.png.size(), sodium_base64_VARIANT_ORIGINAL);
    png.pop_back();  // the terminating NUL
    Json body = Json::object();
    body["png"] = std::move(png);
    body["width"] = image.width;
    body["height"] = image.height;
    body["dpi"] = image.dpi;
    Json out = Json::object();
    out["image"] = std::move(body);
    return out;
}

// "ok", or the name of the error a call failed with.
std::string outcome(bool ok) {
    if (ok) {
        return "ok";
    }
    const char * name = ::strerrorname_np(errno);
    return name != nullptr ? name : std::to_string(errno);
}

// The sandbox_probe operation (protocol.h): what the confinement lets through.
Json probe_sandbox(const strongbox::appliance::SandboxReport & sandbox, const Json & request) {
    Json body = Json::object();
    body["no_new_privs"] = sandbox.no_new_privs;
    body["network_namespace"] = sandbox.network_namespace;
    body["landlock_abi"] = sandbox.landlock_abi;
    body["seccomp"] = sandbox.seccomp;
    body["skipped"] = sandbox.skipped;
    const int fd = ::open(request.get_string("path").c_str(), O_RDONLY | O_CLOEXEC);
    body["open"] = outcome(fd >= 0);
    if (fd >= 0) {
        ::close(fd);
    }
    const int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    body["socket"] = outcome(sock >= 0);
    if (sock >= 0) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(request.get_int("port", 1)));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        body["connect"] = outcome(::connect(sock, reinterpret_cast<const sockaddr *>(&to), sizeof to) == 0);
        ::close(sock);
    } else {
        body["connect"] = body.get_string("socket");
    }
    const pid_t child = ::fork();
    if (child == 0) {
        std::_Exit(0);
    }
    body["fork"] = outcome(child > 0);
    if (child > 0) {
        ::waitpid(child, nullptr, 0);
    }
    Json out = Json::object();
    out["sandbox"] = std::move(body);
    return out;
}

// Runs the request's operation; its result or its error as the final line.
Json run_request(const Json & request) {
    namespace sb = strongbox;
    const std::string op = request.get_string("op");
    const std::string path = request.get_string("path");
    const int page = static_cast<int>(request.get_int("page", 0));
    Json out = Json::object();
    if (op == proto::kOpExtract) {
        const Json * options_json = request.find("options");
        sb::ingest::IngestOptions options =
            proto::options_from_json(options_json != nullptr ? *options_json : Json::object());
        // Called one at a time (ingest.h); one short write() per line, so lines never interleave.
        options.progress = [](size_t done, size_t total) {
            write_all("{\"progress\":[" + std::to_string(done) + "," + std::to_string(total) + "]}\n");
        };
        auto doc = sb::ingest::extract_file(path, options);
        if (!doc.ok()) {
            return error_line(doc.error());
        }
        out["document"] = sb::core::to_json(*doc);
    } else if (op == proto::kOpPageSize) {
        auto size = sb::appliance::pdf_page_size(path, page);
        if (!size.ok()) {
            return error_line(size.error());
        }
        Json body = Json::object();
        body["width"] = size->width;
        body["height"] = size->height;
        out["page"] = std::move(body);
    } else if (op == proto::kOpPagePng) {
        auto image = sb::appliance::render_pdf_page_png(path, page, static_cast<int>(request.get_int("dpi", 0)));
        return image.ok() ? image_line(*image) : error_line(image.error());
    } else if (op == proto::kOpRegionPng) {
        const Json * r = request.find("region");
        if (r == nullptr || !r->is_array() || r->size() != 4 ||
            !std::all_of(r->as_array().begin(), r->as_array().end(), [](const Json & v) { return v.is_number(); })) {
            return error_line(sb::core::Error(sb::core::ErrorCode::kInvalidArgument, "region must be [x0,y0,x1,y1]"));
        }
        const auto & c = r->as_array();
        const sb::core::Box region{c[0].as_double(), c[1].as_double(), c[2].as_double(), c[3].as_double(), -1, -1};
        auto image = sb::appliance::render_pdf_region_png(
            path, page, region, request.get_double("dpi", 0),
            request.get_bool("grey", false) ? sb::appliance::PixelFormat::kGrey : sb::appliance::PixelFormat::kRgb);
        return image.ok() ? image_line(*image) : error_line(image.error());
    } else {
        return error_line(sb::core::Error(sb::core::ErrorCode::kInvalidArgument, "unknown operation \"" + op + "\""));
    }
    return out;
}

}  // namespace

int main(int argc, char ** argv) {
    // Dies with the daemon thread that started it: a worker nobody waits for must not linger.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // No core dumps (whatever core_pattern says) and no ptrace by other processes of this user:
    // the memory holds the document and perhaps its password.
    ::prctl(PR_SET_DUMPABLE, 0);
    if (::getppid() == 1) {
        return 1;
    }
    long long memory_mib = 0;
    long long cpu_s = 0;
    long long file_size_mib = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        long long * target = arg == "--memory-mib"      ? &memory_mib
                             : arg == "--cpu-s"         ? &cpu_s
                             : arg == "--file-size-mib" ? &file_size_mib
                                                        : nullptr;
        if (target == nullptr || i + 1 >= argc || !parse_count(argv[++i], *target)) {
            return usage(("bad argument " + std::string(arg)).c_str());
        }
    }
    if (memory_mib == 0 || cpu_s == 0 || file_size_mib == 0) {
        return usage("every limit must be given");
    }
    const rlim_t mib = 1024 * 1024;
    // CPU: SIGXCPU at the soft limit, SIGKILL a second later should a library catch it.
    if (!set_limit(RLIMIT_CORE, 0, 0) ||
        (kLimitAddressSpace && !set_limit(RLIMIT_AS, memory_mib * mib, memory_mib * mib)) ||
        !set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) ||
        !set_limit(RLIMIT_FSIZE, file_size_mib * mib, file_size_mib * mib)) {
        std::fprintf(stderr, "strongbox-extract: cannot set resource limits: %s\n", std::strerror(errno));
        return 1;
    }
    std::set_new_handler(out_of_memory);
    // One malloc arena: each extra one reserves 64 MiB of address space, and a thread whose arena
    // cannot grow under the limit falls back to one mmap per small allocation, which turns a
    // quick "out of memory" into minutes of system calls.
    ::mallopt(M_ARENA_MAX, 1);

    std::string request;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return usage("cannot read the request");
        }
        if (n == 0) {
            break;
        }
        request.append(buf, static_cast<size_t>(n));
    }
    auto parsed = Json::parse(request);
    if (!parsed.ok() || !parsed->is_object() || parsed->get_string("path").empty()) {
        return usage("the request is not {\"op\": ..., \"path\": ..., ...}");
    }
    // Confined before any parser sees a byte of the file (sandbox.h).
    const bool probe = parsed->get_string("op") == proto::kOpSandboxProbe;
    const std::string scratch = parsed->get_string("scratch");
    if (!scratch.empty()) {
        ::setenv("TMPDIR", scratch.c_str(), 1);  // where the parsers' temporary files go
    }
    const strongbox::appliance::SandboxReport sandbox =
        strongbox::appliance::enter_sandbox(probe ? std::string() : parsed->get_string("path"), scratch);
    Json out = Json::object();
    try {
        out = probe ? probe_sandbox(sandbox, *parsed) : run_request(*parsed);
    } catch (const std::bad_alloc &) {
        out_of_memory();
    } catch (const std::system_error & e) {
        // A thread whose stack does not fit under the limit: the same shortage, by another name.
        if (e.code() == std::errc::resource_unavailable_try_again || e.code() == std::errc::not_enough_memory) {
            out_of_memory();
        }
        out = error_line(strongbox::core::Error(strongbox::core::ErrorCode::kInternal,
                                                std::string("extraction failed: ") + e.what()));
    } catch (const std::exception & e) {
        out = error_line(strongbox::core::Error(strongbox::core::ErrorCode::kInternal,
                                                std::string("extraction failed: ") + e.what()));
    }
    write_all(out.dump() + "\n");
    // No static destructors: the parsers' teardown is not worth a crash after the result is out.
    std::_Exit(0);
}
