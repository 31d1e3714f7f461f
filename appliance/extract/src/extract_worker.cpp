// The daemon side of isolated extraction (see extract_worker.h for the design notes): starts a
// strongbox-extract worker per file, relays its progress, enforces the wall clock, and turns
// the way it ended into the document or a reason that names the file.
#include "strongbox/extract/extract_worker.h"

#include "protocol.h"
#include "worker_run.h"

#include "strongbox/core/file.h"
#include "strongbox/core/json.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char ** environ;

namespace strongbox::appliance {
namespace {

namespace proto = extract_protocol;
using Clock = std::chrono::steady_clock;

constexpr size_t kStderrTail = 4096;  // enough for a library's last words
// A page's text with a box per word, OCR'd or not, is tens of KiB; 1 MiB per page leaves room for
// the densest and still stops a worker that answers a 3-page file with gigabytes.
constexpr size_t kOutputBase = size_t{16} << 20;
constexpr size_t kOutputPerPage = size_t{1} << 20;
constexpr const char * kTornLine = "a torn last line";

std::string seconds_text(double s) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s);
    return ec == std::errc() ? std::string(buf, end) + " s" : "? s";
}

struct Pipe {
    core::UniqueFd read;
    core::UniqueFd write;
};

core::Result<Pipe> make_pipe() {
    int fds[2];
    // Close-on-exec, so a worker started by another thread meanwhile does not inherit our ends.
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return core::Error(core::ErrorCode::kResourceExhausted,
                           std::string("cannot create a pipe: ") + strerror(errno));
    }
    return Pipe{core::UniqueFd(fds[0]), core::UniqueFd(fds[1])};
}

// The request goes over a socket so that a worker which died before reading it costs this
// thread an EPIPE from send(MSG_NOSIGNAL), not a process-wide SIGPIPE.
core::Result<Pipe> make_request_channel() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        return core::Error(core::ErrorCode::kResourceExhausted,
                           std::string("cannot create a socket pair: ") + strerror(errno));
    }
    return Pipe{core::UniqueFd(fds[0]), core::UniqueFd(fds[1])};
}

// A started worker; the destructor kills and reaps one that was not waited for, so an early
// return (or a progress callback that throws) never leaves a process behind.
class Child {
  public:
    explicit Child(pid_t pid) : pid_(pid) {}
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }
    Child(const Child &) = delete;
    Child & operator=(const Child &) = delete;

    void kill() const { ::kill(pid_, SIGKILL); }

    // Non-blocking when `block` is false; true once reaped.
    bool reap(bool block, int & status, rusage & usage) {
        for (;;) {
            const pid_t r = ::wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
            if (r == pid_) {
                pid_ = -1;
                return true;
            }
            if (r < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
    }

  private:
    pid_t pid_;
};

std::string signal_name(int sig) {
    const char * abbrev = ::sigabbrev_np(sig);
    return abbrev != nullptr ? std::string("SIG") + abbrev : "unknown";
}

// A library that ran out of memory outside operator new (Poppler's gmalloc, Leptonica) prints
// this much before it aborts or crashes.
bool reads_like_out_of_memory(const std::string & tail) {
    static const char * const kSigns[] = {"out of memory",          "Out of memory", "bad_alloc",
                                          "Cannot allocate memory", "malloc fail",   "memory exhausted"};
    return std::any_of(std::begin(kSigns), std::end(kSigns),
                       [&](const char * s) { return tail.find(s) != std::string::npos; });
}

// The last non-empty line of the worker's stderr, for the reason shown to the admin.
std::string last_line(const std::string & tail) {
    size_t end = tail.find_last_not_of("\r\n \t");
    if (end == std::string::npos) {
        return {};
    }
    const size_t begin = tail.rfind('\n', end);
    return tail.substr(begin == std::string::npos ? 0 : begin + 1,
                       end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

double cpu_seconds(const rusage & u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// One worker, one request: `request` goes to its stdin, progress lines go to `progress`, and the
// one final line ({"error":...} or the operation's result, keyed by `result_key`) comes back.
class WorkerRun {
  public:
    WorkerRun(std::string what, core::Json request, std::string result_key,
              std::function<void(size_t, size_t)> progress, const ExtractLimits & limits)
        : what_(std::move(what)),
          request_(std::move(request)),
          result_key_(std::move(result_key)),
          progress_(std::move(progress)),
          limits_(limits) {}

    // The final line's value under result_key, or why there is none.
    core::Result<core::Json> run();

  private:
    core::Error fail(core::ErrorCode code, const std::string & reason) const {
        return core::Error(code, what_ + ": " + reason);
    }

    // Handles one line from the worker; false (with protocol_error_ set) when it is not valid.
    bool handle_line(std::string_view line);

    core::Result<core::Json> outcome(int status, const rusage & usage);

    std::string what_;  // "ingest /data/a.pdf": how every reason starts
    core::Json request_;
    std::string result_key_;
    std::function<void(size_t, size_t)> progress_;
    const ExtractLimits & limits_;
    Clock::time_point deadline_;
    double timeout_s_ = 0;
    bool pages_known_ = false;
    size_t max_output_ = 0;  // bytes a result line may take
    bool timed_out_ = false;
    std::string protocol_error_;  // set when the worker broke the protocol; it is then killed
    std::optional<core::Json> final_;
    std::string stderr_tail_;
};

bool WorkerRun::handle_line(std::string_view line) {
    auto parsed = core::Json::parse(line);
    if (!parsed.ok() || !parsed->is_object()) {
        protocol_error_ = "a line that is not a JSON object";
        return false;
    }
    if (const core::Json * p = parsed->find("progress")) {
        if (!p->is_array() || p->size() != 2 || !p->as_array()[0].is_int() || !p->as_array()[1].is_int() ||
            p->as_array()[0].as_int() < 0 || p->as_array()[1].as_int() < p->as_array()[0].as_int()) {
            protocol_error_ = "a malformed progress line";
            return false;
        }
        const auto done = static_cast<size_t>(p->as_array()[0].as_int());
        const auto total = static_cast<size_t>(p->as_array()[1].as_int());
        if (!pages_known_) {
            // The page count is the worker's claim, so the extension it earns is capped by the CPU limit.
            pages_known_ = true;
            const double extra = std::min(limits_.timeout_per_page_s * static_cast<double>(total),
                                          static_cast<double>(std::max(limits_.cpu_s, 1)));
            timeout_s_ += extra;
            deadline_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(extra));
            max_output_ = std::min(max_output_, kOutputBase + kOutputPerPage * total);
        }
        if (progress_) {
            progress_(done, total);
        }
        return true;
    }
    if (parsed->contains(result_key_) || parsed->contains("error")) {
        if (final_.has_value()) {
            protocol_error_ = "a second result";
            return false;
        }
        final_ = std::move(parsed).value();
        return true;
    }
    protocol_error_ = "an unexpected line";
    return false;
}

// The one directory a sandboxed worker may write in (Poppler writes PNGs through a file). The
// daemon makes and removes it: the worker's sandbox lets it empty the directory, not delete it.
struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        std::error_code ec;
        std::string name = (std::filesystem::temp_directory_path(ec) / "strongbox-extract-XXXXXX").string();
        if (!ec && ::mkdtemp(name.data()) != nullptr) {
            path = name;
        }
    }
    ~ScratchDir() {
        std::error_code ec;
        if (!path.empty()) {
            std::filesystem::remove_all(path, ec);
        }
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir & operator=(const ScratchDir &) = delete;
};

core::Result<core::Json> WorkerRun::run() {
    const std::filesystem::path worker = extract_worker_path(limits_);
    if (::access(worker.c_str(), X_OK) != 0) {
        return fail(core::ErrorCode::kUnavailable, "the extraction worker " + worker.string() +
                                                       " is missing or not executable (" + strerror(errno) +
                                                       "); PDF and DOCX files are only parsed in it");
    }
    const ScratchDir scratch;
    if (!scratch.path.empty()) {
        request_["scratch"] = scratch.path.string();
    }
    SB_ASSIGN_OR_RETURN(Pipe request, make_request_channel());
    SB_ASSIGN_OR_RETURN(Pipe result, make_pipe());
    SB_ASSIGN_OR_RETURN(Pipe errors, make_pipe());

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, request.read.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, errors.write.get(), STDOUT_FILENO);  // library chatter
    posix_spawn_file_actions_adddup2(&actions, errors.write.get(), STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, result.write.get(), proto::kResultFd);
    posix_spawn_file_actions_addclosefrom_np(&actions, proto::kResultFd + 1);  // nothing else of the daemon's
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig :
         {SIGPIPE, SIGXCPU, SIGXFSZ, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
        sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    const std::string memory = std::to_string(std::max<size_t>(limits_.memory_mib, 1));
    const std::string cpu = std::to_string(std::max(limits_.cpu_s, 1));
    const std::string fsize = std::to_string(std::max<size_t>(limits_.file_size_mib, 1));
    std::string program = worker.string();
    std::vector<char *> argv = {program.data(),
                                const_cast<char *>("--memory-mib"),
                                const_cast<char *>(memory.c_str()),
                                const_cast<char *>("--cpu-s"),
                                const_cast<char *>(cpu.c_str()),
                                const_cast<char *>("--file-size-mib"),
                                const_cast<char *>(fsize.c_str()),
                                nullptr};
    std::vector<std::string> environment = extract_worker_environment();
    std::vector<char *> envp;
    for (std::string & entry : environment) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0) {
        return fail(core::ErrorCode::kUnavailable,
                    "cannot start the extraction worker " + worker.string() + ": " + strerror(spawned));
    }
    Child child(pid);
    const auto start = Clock::now();
    timeout_s_ = limits_.timeout_s;
    deadline_ = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits_.timeout_s));
    request.read.reset();
    result.write.reset();
    errors.write.reset();

    const std::string req_text = request_.dump();
    // A request is far below the socket's buffer, so this does not block; a worker that died
    // before reading it shows up below as a crash, not as a failed send here.
    [[maybe_unused]] const ssize_t sent = ::send(request.write.get(), req_text.data(), req_text.size(), MSG_NOSIGNAL);
    request.write.reset();

    // Output cap: a document cannot honestly be larger than the worker's address space, nor, once
    // the worker has said how many pages it reads, than its pages can hold (max_output_, note 4).
    max_output_ = std::max<size_t>(limits_.memory_mib, 1) * 1024 * 1024;
    std::string buffer;
    size_t scanned = 0;
    bool result_open = true;
    bool errors_open = true;
    char chunk[65536];
    while ((result_open || errors_open) && protocol_error_.empty()) {
        const auto now = Clock::now();
        if (now >= deadline_) {
            timed_out_ = true;
            child.kill();
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now).count() + 1;
        pollfd fds[2] = {{result_open ? result.read.get() : -1, POLLIN, 0},
                         {errors_open ? errors.read.get() : -1, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
        if (ready < 0 && errno != EINTR) {
            protocol_error_ = std::string("poll failed: ") + strerror(errno);
            child.kill();
            break;
        }
        if (ready <= 0) {
            continue;
        }
        if (errors_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t n = ::read(errors.read.get(), chunk, sizeof chunk);
            if (n > 0) {
                stderr_tail_.append(chunk, static_cast<size_t>(n));
                if (stderr_tail_.size() > kStderrTail) {
                    stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
                }
            } else if (n == 0 || errno != EINTR) {
                errors_open = false;
            }
        }
        if (result_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t n = ::read(result.read.get(), chunk, sizeof chunk);
            if (n > 0) {
                buffer.append(chunk, static_cast<size_t>(n));
                // buffer[0, scanned) holds no newline: a long document line is scanned once.
                size_t line_start = 0;
                for (size_t nl; (nl = buffer.find('\n', std::max(scanned, line_start))) != std::string::npos;) {
                    if (!handle_line(std::string_view(buffer).substr(line_start, nl - line_start))) {
                        child.kill();
                        break;
                    }
                    line_start = nl + 1;
                }
                buffer.erase(0, line_start);
                scanned = buffer.size();
                if (protocol_error_.empty() && buffer.size() > max_output_) {
                    protocol_error_ = "more than " + std::to_string(max_output_ >> 20) + " MiB of output";
                    child.kill();
                }
            } else if (n == 0 || errno != EINTR) {
                result_open = false;
                if (!buffer.empty() && protocol_error_.empty()) {
                    protocol_error_ = kTornLine;
                }
            }
        }
    }

    // Both pipes closed: the worker is exiting, or holds on without them; the deadline still applies.
    int status = 0;
    rusage usage{};
    while (!child.reap(false, status, usage)) {
        if (Clock::now() >= deadline_) {
            timed_out_ = true;
            child.kill();
            child.reap(true, status, usage);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return outcome(status, usage);
}

core::Result<core::Json> WorkerRun::outcome(int status, const rusage & usage) {
    const std::string memory = std::to_string(limits_.memory_mib) + " MiB";
    const std::string said = last_line(stderr_tail_);
    const std::string last_words = said.empty() ? std::string() : "; it said: " + said;
    if (timed_out_) {
        return fail(core::ErrorCode::kDeadlineExceeded,
                    "extraction timed out after " + seconds_text(timeout_s_) + " and was stopped");
    }
    // Killed for a line it could not have meant: that is the reason. A torn last line is only a
    // symptom; how the worker ended says more.
    const std::string protocol = "extraction worker protocol error: " + protocol_error_;
    if (!protocol_error_.empty() && protocol_error_ != kTornLine) {
        return fail(core::ErrorCode::kInternal, protocol);
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        if (sig == SIGXCPU || (sig == SIGKILL && cpu_seconds(usage) >= limits_.cpu_s)) {
            return fail(core::ErrorCode::kResourceExhausted,
                        "extraction exceeded the CPU-time limit of " + std::to_string(limits_.cpu_s) + " s");
        }
        if (sig == SIGXFSZ) {
            return fail(core::ErrorCode::kResourceExhausted,
                        "extraction exceeded the file-size limit of " + std::to_string(limits_.file_size_mib) + " MiB");
        }
        if (reads_like_out_of_memory(stderr_tail_)) {
            return fail(core::ErrorCode::kResourceExhausted, "extraction ran out of memory (limit " + memory + ")");
        }
        return fail(core::ErrorCode::kInternal, "the extraction worker crashed (signal " + std::to_string(sig) + ", " +
                                                    signal_name(sig) + ")" + last_words);
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == proto::kExitOutOfMemory || (code != 0 && !final_ && reads_like_out_of_memory(stderr_tail_))) {
        return fail(core::ErrorCode::kResourceExhausted, "extraction ran out of memory (limit " + memory + ")");
    }
    if (code != 0) {
        return fail(core::ErrorCode::kInternal,
                    "the extraction worker failed (exit status " + std::to_string(code) + ")" + last_words);
    }
    if (!protocol_error_.empty()) {
        return fail(core::ErrorCode::kInternal, protocol);
    }
    if (!final_) {
        return fail(core::ErrorCode::kInternal, "extraction worker protocol error: it exited without a result");
    }
    if (const core::Json * error = final_->find("error")) {
        const int64_t c = error->get_int("code", static_cast<int64_t>(core::ErrorCode::kInternal));
        const bool known = c >= static_cast<int64_t>(core::ErrorCode::kInvalidArgument) &&
                           c <= static_cast<int64_t>(core::ErrorCode::kInternal);
        return core::Error(known ? static_cast<core::ErrorCode>(c) : core::ErrorCode::kInternal,
                           error->get_string("message", "extraction failed"));
    }
    return *final_->find(result_key_);
}

}  // namespace

bool needs_isolation(ingest::SourceKind kind) {
    return kind == ingest::SourceKind::kPdf || kind == ingest::SourceKind::kDocx;
}

std::vector<std::string> extract_worker_environment() {
    static constexpr std::string_view kNames[] = {
        "PATH", "HOME", "LANG", "TZ", "TMPDIR", "TESSDATA_PREFIX", "XDG_CACHE_HOME", "STRONGBOX_LOG"};
    static constexpr std::string_view kPrefixes[] = {"LC_", "OMP_", "FONTCONFIG_", "ASAN_", "UBSAN_", "LSAN_", "TSAN_"};
    std::vector<std::string> kept;
    for (char ** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const std::string_view name = entry.substr(0, entry.find('='));
        const bool wanted = std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames) ||
                            std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                                        [name](std::string_view p) { return name.starts_with(p); });
        if (wanted && name.size() < entry.size()) {
            kept.emplace_back(entry);
        }
    }
    return kept;
}

std::filesystem::path extract_worker_path(const ExtractLimits & limits) {
    if (!limits.worker.empty()) {
        return limits.worker;
    }
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (ec ? std::filesystem::path() : self.parent_path()) / proto::kWorkerName;
}

core::Result<core::ExtractedDocument> extract_isolated(const std::filesystem::path & path,
                                                       const ingest::IngestOptions & options,
                                                       const ExtractLimits & limits) {
    if (!limits.enabled) {
        return ingest::extract_file(path, options);
    }
    // The same name extract_file() reports, so a reason reads the same wherever it was found.
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    abs = (ec ? path : abs).lexically_normal();
    char head[1024];
    std::ifstream in(abs, std::ios::binary);
    in.read(head, sizeof head);
    if (!in && !in.eof()) {
        return ingest::extract_file(path, options);  // unreadable: extract_file() says why
    }
    const std::string_view bytes(head, static_cast<size_t>(in.gcount()));
    if (!in.is_open() || !needs_isolation(ingest::detect_kind(abs, bytes))) {
        return ingest::extract_file(path, options);
    }
    core::Json request = core::Json::object();
    request["op"] = proto::kOpExtract;
    request["path"] = abs.string();
    request["options"] = proto::options_to_json(options);
    const std::string what = "ingest " + abs.string();
    SB_ASSIGN_OR_RETURN(core::Json document,
                        WorkerRun(what, std::move(request), "document", options.progress, limits).run());
    auto doc = core::extracted_document_from_json(document);
    if (!doc.ok()) {
        return core::Error(core::ErrorCode::kInternal,
                           what + ": extraction worker protocol error: " + doc.error().message());
    }
    return doc;
}

core::Result<core::Json> run_worker(const std::string & what, core::Json request, const std::string & result_key,
                                    const ExtractLimits & limits) {
    return WorkerRun(what, std::move(request), result_key, nullptr, limits).run();
}

}  // namespace strongbox::appliance
