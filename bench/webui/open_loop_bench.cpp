// Open-loop load for `strongbox serve`: requests leave on a fixed schedule (request i of a stream
// at start + i / rate) whatever the server does, and each latency is measured from that SCHEDULED
// time, so a server that falls behind shows it in the percentiles instead of slowing the client
// down (no coordinated omission, unlike a closed loop such as wrk). Each stream has a pool of
// keep-alive connections, one thread each; a request whose time has come while every connection
// of its stream is busy waits for one, and that wait counts. lag_p99 says how late requests
// actually left: when it is large the pool, not the server, was the limit.
//
// Streams run at once for --duration seconds, then each prints one row: offered and achieved
// rate, p50/p90/p99/p99.9/max of the answered requests (the expected status: 200, or 401 for a
// wrong password), the refusals (429/503) with their own p50/p99, other failures by status or
// socket error, and every status seen. It measures; it asserts nothing.
//
//   strongbox_bench_open_loop --url http://127.0.0.1:8080 --token sbt_... --queries queries.txt
//       [--duration 10] [--user NAME --password PW] [--collection default] [--timeout 30]
//       [--scenario LABEL] [--server-pid PID] [--header] STREAM...
//
// STREAM is [label=]kind@rate[/connections] (default 32 connections), e.g. search@20, model=ask@1/8.
// Kinds:
//   healthz, readyz   GET without credentials
//   documents         GET /api/v1/documents?collection=<--collection>
//   source            GET /api/v1/source/<chunk id>, ids taken from a few searches before the run
//   search, ask       POST {"query"|"question", "top_k": 5}, rotating through --queries
//   login             POST /api/v1/login, one new connection per attempt, each from its own loopback
//                     source address (127.x.y.z), so per-address throttling never engages: every
//                     attempt costs a password check, as in a flood from many machines. One in four
//                     is --user with --password (expect 200), the rest unknown names (expect 401).
//   login-one         the same mix over keep-alive connections from one address (127.0.0.99):
//                     after 5 failures the address is locked and everything gets 429 at once.
// With --server-pid, the server's CPU time over the run is printed after the rows.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kDefaultConnections = 32;
constexpr int kRightLoginEvery = 4;  // one login in four carries the right password

enum class Kind { kHealthz, kReadyz, kDocuments, kSource, kSearch, kAsk, kLogin, kLoginOne };

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string token;
    std::string user;
    std::string password;
    std::string collection = "default";
    std::vector<std::string> queries;
    double duration_s = 10;
    int timeout_s = 30;
    std::string scenario = "-";
    int server_pid = 0;
    bool header = false;
};

struct Request {
    std::string method;
    std::string path;
    std::string body;
    bool authorized = true;
    int expected = 200;
};

// One request's fate. status 0: a socket error, named in `error`.
struct Sample {
    double latency_ms = 0;  // from the scheduled send time to the last byte of the answer
    double lag_ms = 0;      // how late it actually left
    int status = 0;
    int expected = 200;
    std::string error;
};

struct Stream {
    std::string label;
    Kind kind = Kind::kSearch;
    double rate = 1;
    int connections = kDefaultConnections;
    std::atomic<int64_t> next{0};
    std::mutex mu;
    std::vector<Sample> samples;  // guarded by mu
};

[[noreturn]] void die(const std::string & message) {
    std::fprintf(stderr, "strongbox_bench_open_loop: %s\n", message.c_str());
    std::exit(2);
}

std::optional<Kind> kind_of(std::string_view name) {
    static const std::map<std::string_view, Kind> kinds = {
        {"healthz", Kind::kHealthz}, {"readyz", Kind::kReadyz},     {"documents", Kind::kDocuments},
        {"source", Kind::kSource},   {"search", Kind::kSearch},     {"ask", Kind::kAsk},
        {"login", Kind::kLogin},     {"login-one", Kind::kLoginOne}};
    auto it = kinds.find(name);
    return it == kinds.end() ? std::nullopt : std::optional<Kind>(it->second);
}

// Escapes what a query line could hold that JSON strings may not.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// ---- one HTTP/1.1 connection ---------------------------------------------------------------------

class Connection {
  public:
    Connection(const Options & o, uint32_t source_address) : options_(o), source_(source_address) {}
    ~Connection() { close(); }
    Connection(const Connection &) = delete;
    Connection & operator=(const Connection &) = delete;

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        buffer_.clear();
    }

    // The status, or 0 with `error` set. A reused connection the server has already closed is
    // reopened once, as any keep-alive client does.
    int exchange(const std::string & request, bool close_after, std::string & error, std::string * body_out) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool reused = fd_ >= 0;
            if (!reused && !open(error)) {
                return 0;
            }
            bool nothing_received = false;
            const int status = round_trip(request, error, nothing_received, body_out);
            if (status > 0) {
                if (close_after || must_close_) {
                    close();
                }
                return status;
            }
            close();
            if (!(reused && nothing_received)) {
                return 0;
            }
        }
        return 0;
    }

  private:
    bool open(std::string & error) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            error = "socket";
            return false;
        }
        timeval tv{};
        tv.tv_sec = options_.timeout_s;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (source_ != 0) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            local.sin_addr.s_addr = htonl(source_);
            if (::bind(fd_, reinterpret_cast<const sockaddr *>(&local), sizeof local) != 0) {
                error = "bind";
                close();
                return false;
            }
        }
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(options_.port));
        if (::inet_pton(AF_INET, options_.host.c_str(), &to.sin_addr) != 1) {
            die("--url must name an IPv4 address, got " + options_.host);
        }
        if (::connect(fd_, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0) {
            error = errno == ETIMEDOUT || errno == EINPROGRESS ? "connect-timeout" : "connect";
            close();
            return false;
        }
        return true;
    }

    bool fill(std::string & error) {
        char chunk[16384];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<size_t>(n));
            return true;
        }
        error = n == 0 ? "eof" : (errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "read");
        return false;
    }

    int round_trip(const std::string & request, std::string & error, bool & nothing_received, std::string * body_out) {
        nothing_received = true;
        must_close_ = false;
        for (size_t sent = 0; sent < request.size();) {
            const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                error = errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "write";
                return 0;
            }
            sent += static_cast<size_t>(n);
        }
        size_t head_end = std::string::npos;
        while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill(error)) {
                return 0;
            }
            nothing_received = false;
        }
        nothing_received = false;
        const std::string head = buffer_.substr(0, head_end + 2);
        buffer_.erase(0, head_end + 4);
        if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
            error = "bad-response";
            return 0;
        }
        const int status = std::atoi(head.c_str() + 9);
        int64_t length = -1;
        bool chunked = false;
        for (size_t at = head.find("\r\n"); at != std::string::npos && at + 2 < head.size();) {
            const size_t end = head.find("\r\n", at + 2);
            std::string line = head.substr(at + 2, end - at - 2);
            std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return std::tolower(c); });
            if (line.starts_with("content-length:")) {
                length = std::atoll(line.c_str() + 15);
            } else if (line.starts_with("transfer-encoding:") && line.find("chunked") != std::string::npos) {
                chunked = true;
            } else if (line.starts_with("connection:") && line.find("close") != std::string::npos) {
                must_close_ = true;
            }
            at = end;
        }
        std::string body;
        if (chunked) {
            for (;;) {
                size_t eol;
                while ((eol = buffer_.find("\r\n")) == std::string::npos) {
                    if (!fill(error)) {
                        return 0;
                    }
                }
                const size_t size = std::strtoul(buffer_.c_str(), nullptr, 16);
                while (buffer_.size() < eol + 2 + size + 2) {
                    if (!fill(error)) {
                        return 0;
                    }
                }
                body.append(buffer_, eol + 2, size);
                buffer_.erase(0, eol + 2 + size + 2);
                if (size == 0) {
                    break;
                }
            }
        } else if (length >= 0) {
            while (buffer_.size() < static_cast<size_t>(length)) {
                if (!fill(error)) {
                    return 0;
                }
            }
            body = buffer_.substr(0, static_cast<size_t>(length));
            buffer_.erase(0, static_cast<size_t>(length));
        } else {
            std::string ignored;
            while (fill(ignored)) {
            }
            body = std::move(buffer_);
            buffer_.clear();
            must_close_ = true;
        }
        if (body_out != nullptr) {
            *body_out = std::move(body);
        }
        return status;
    }

    const Options & options_;
    uint32_t source_ = 0;  // host byte order; 0: let the kernel pick
    int fd_ = -1;
    bool must_close_ = false;
    std::string buffer_;
};

std::string http_request(const Options & o, const Request & r, bool close_after) {
    std::string out = r.method + " " + r.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) + "\r\n";
    if (r.authorized && !o.token.empty()) {
        out += "Authorization: Bearer " + o.token + "\r\n";
    }
    if (r.method == "POST") {
        out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (close_after) {
        out += "Connection: close\r\n";
    }
    return out + "\r\n" + r.body;
}

// ---- what each kind sends ------------------------------------------------------------------------

struct Plan {
    const Options & options;
    std::vector<int64_t> chunk_ids;
    uint32_t run_salt = 0;  // keeps unknown names and source addresses fresh from run to run
};

Request request_for(const Plan & plan, Kind kind, int64_t i) {
    const Options & o = plan.options;
    const std::string & query = o.queries[static_cast<size_t>(i) % o.queries.size()];
    Request r;
    r.method = "GET";
    switch (kind) {
    case Kind::kHealthz:
        r.path = "/healthz";
        r.authorized = false;
        break;
    case Kind::kReadyz:
        r.path = "/readyz";
        r.authorized = false;
        break;
    case Kind::kDocuments:
        r.path = "/api/v1/documents?collection=" + o.collection;
        break;
    case Kind::kSource:
        r.path = "/api/v1/source/" + std::to_string(plan.chunk_ids[static_cast<size_t>(i) % plan.chunk_ids.size()]);
        break;
    case Kind::kSearch:
        r.method = "POST";
        r.path = "/api/v1/search";
        r.body = "{\"query\":" + json_string(query) + ",\"top_k\":5}";
        break;
    case Kind::kAsk:
        r.method = "POST";
        r.path = "/api/v1/ask";
        r.body = "{\"question\":" + json_string(query) + ",\"top_k\":5}";
        break;
    case Kind::kLogin:
    case Kind::kLoginOne: {
        r.method = "POST";
        r.path = "/api/v1/login";
        r.authorized = false;
        if (i % kRightLoginEvery == 0) {
            r.body = "{\"name\":" + json_string(o.user) + ",\"password\":" + json_string(o.password) + "}";
        } else {
            r.body = "{\"name\":\"flood-" + std::to_string(plan.run_salt) + "-" + std::to_string(i) +
                     "\",\"password\":\"not the password\"}";
            r.expected = 401;
        }
        break;
    }
    }
    return r;
}

// 127.a.b.c for attempt i: 16 million addresses, none ending in 0 or 255.
uint32_t loopback_source(uint32_t salt, int64_t i) {
    const uint64_t n = (static_cast<uint64_t>(salt) + static_cast<uint64_t>(i)) % (250ULL * 256ULL * 250ULL);
    const uint32_t a = 1 + static_cast<uint32_t>(n / (256 * 250));
    const uint32_t b = static_cast<uint32_t>(n / 250 % 256);
    const uint32_t c = 1 + static_cast<uint32_t>(n % 250);
    return (127U << 24) | (a << 16) | (b << 8) | c;
}

// Chunk ids for the source kind, from the hits of a few searches.
std::vector<int64_t> discover_chunks(const Options & o) {
    Connection conn(o, 0);
    std::vector<int64_t> ids;
    for (size_t q = 0; q < std::min<size_t>(o.queries.size(), 20); ++q) {
        Request r;
        r.method = "POST";
        r.path = "/api/v1/search";
        r.body = "{\"query\":" + json_string(o.queries[q]) + ",\"top_k\":5}";
        std::string error;
        std::string body;
        if (conn.exchange(http_request(o, r, false), false, error, &body) != 200) {
            continue;
        }
        for (size_t at = body.find("\"chunk_id\":"); at != std::string::npos; at = body.find("\"chunk_id\":", at + 1)) {
            ids.push_back(std::atoll(body.c_str() + at + 11));
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.empty()) {
        die("no search returned a chunk id for the source stream");
    }
    return ids;
}

void run_worker(const Plan & plan, Stream & s, Clock::time_point start, Clock::time_point end) {
    const bool fresh = s.kind == Kind::kLogin;
    const uint32_t fixed_source = s.kind == Kind::kLoginOne ? (127U << 24 | 99U) : 0;
    Connection keep(plan.options, fixed_source);
    const auto period = std::chrono::duration<double>(1.0 / s.rate);
    std::vector<Sample> mine;
    for (;;) {
        const int64_t i = s.next++;
        const auto due = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
        if (due >= end) {
            break;
        }
        std::this_thread::sleep_until(due);
        const Request r = request_for(plan, s.kind, i);
        const auto left = Clock::now();
        Sample x;
        x.expected = r.expected;
        if (fresh) {
            Connection once(plan.options, loopback_source(plan.run_salt, i));
            x.status = once.exchange(http_request(plan.options, r, true), true, x.error, nullptr);
        } else {
            x.status = keep.exchange(http_request(plan.options, r, false), false, x.error, nullptr);
        }
        const auto done = Clock::now();
        x.latency_ms = std::chrono::duration<double, std::milli>(done - due).count();
        x.lag_ms = std::chrono::duration<double, std::milli>(left - due).count();
        mine.push_back(std::move(x));
    }
    std::lock_guard lock(s.mu);
    s.samples.insert(s.samples.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
}

// ---- figures -------------------------------------------------------------------------------------

double percentile(std::vector<double> & v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');  // the name may hold spaces; fields count from after it
    if (close == std::string::npos) {
        return 0;
    }
    std::vector<std::string> fields;
    size_t at = close + 2;
    while (at < stat.size() && fields.size() < 14) {
        const size_t space = stat.find(' ', at);
        fields.push_back(stat.substr(at, space - at));
        at = space == std::string::npos ? stat.size() : space + 1;
    }
    if (fields.size() < 14) {
        return 0;
    }
    // Fields 14 and 15 of the file (utime, stime) are 12 and 13 after the name.
    return static_cast<double>(std::atoll(fields[11].c_str()) + std::atoll(fields[12].c_str())) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    in >> one;
    return one;
}

void print_header() {
    std::printf("%-14s %-10s %8s %6s %8s %8s %8s %8s %8s %8s %7s %8s %8s %6s %8s  %s\n", "scenario", "stream",
                "offered", "sent", "ok/s", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "refused", "ref_p50",
                "ref_p99", "failed", "lag_p99", "statuses");
}

void print_row(const std::string & scenario, Stream & s, double seconds) {
    std::vector<double> ok;
    std::vector<double> refused;
    std::vector<double> lag;
    std::map<std::string, int> statuses;
    int failed = 0;
    for (const Sample & x : s.samples) {
        lag.push_back(x.lag_ms);
        statuses[x.status == 0 ? x.error : std::to_string(x.status)]++;
        // A login's right and wrong passwords both count as answered when they got what they deserve.
        const bool answered = x.status == x.expected || ((s.kind == Kind::kLogin || s.kind == Kind::kLoginOne) &&
                                                         (x.status == 200 || x.status == 401));
        if (answered) {
            ok.push_back(x.latency_ms);
        } else if (x.status == 429 || x.status == 503) {
            refused.push_back(x.latency_ms);
        } else {
            ++failed;
        }
    }
    std::string by_status;
    for (const auto & [name, n] : statuses) {
        by_status += (by_status.empty() ? "" : ",") + name + ":" + std::to_string(n);
    }
    const double ok_rate = static_cast<double>(ok.size()) / seconds;
    const double p50 = percentile(ok, 50);  // sorts ok: the maximum is last from here on
    const double p90 = percentile(ok, 90);
    const double p99 = percentile(ok, 99);
    const double p999 = percentile(ok, 99.9);
    const double max = ok.empty() ? 0.0 : ok.back();
    const double refused_p50 = percentile(refused, 50);
    const double refused_p99 = percentile(refused, 99);
    std::printf("%-14s %-10s %8.1f %6zu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %7zu %8.1f %8.1f %6d %8.1f  %s\n",
                scenario.c_str(), s.label.c_str(), s.rate, s.samples.size(), ok_rate, p50, p90, p99, p999, max,
                refused.size(), refused_p50, refused_p99, failed, percentile(lag, 99),
                by_status.empty() ? "-" : by_status.c_str());
}

// ---- command line --------------------------------------------------------------------------------

std::unique_ptr<Stream> parse_stream(const std::string & spec) {
    auto s = std::make_unique<Stream>();
    std::string rest = spec;
    if (size_t eq = rest.find('='); eq != std::string::npos) {
        s->label = rest.substr(0, eq);
        rest = rest.substr(eq + 1);
    }
    const size_t at = rest.find('@');
    if (at == std::string::npos) {
        die("stream \"" + spec + "\" must be [label=]kind@rate[/connections]");
    }
    const std::string kind = rest.substr(0, at);
    std::optional<Kind> k = kind_of(kind);
    if (!k) {
        die("unknown stream kind \"" + kind + "\" in \"" + spec + "\"");
    }
    s->kind = *k;
    if (s->label.empty()) {
        s->label = kind;
    }
    std::string rate = rest.substr(at + 1);
    if (size_t slash = rate.find('/'); slash != std::string::npos) {
        s->connections = std::atoi(rate.c_str() + slash + 1);
        rate = rate.substr(0, slash);
    }
    s->rate = std::atof(rate.c_str());
    if (!(s->rate > 0) || s->connections < 1 || s->connections > 1024) {
        die("stream \"" + spec + "\": rate must be > 0 and connections 1 to 1024");
    }
    return s;
}

void parse_url(const std::string & url, Options & o) {
    std::string rest = url;
    if (rest.starts_with("http://")) {
        rest = rest.substr(7);
    } else if (rest.find("://") != std::string::npos) {
        die("only http:// URLs are supported, got " + url);
    }
    rest = rest.substr(0, rest.find('/'));
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos) {
        die("--url needs a port, got " + url);
    }
    o.host = rest.substr(0, colon);
    o.port = std::atoi(rest.c_str() + colon + 1);
}

}  // namespace

int main(int argc, char ** argv) {
    Options o;
    std::vector<std::unique_ptr<Stream>> streams;
    std::string queries_path;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                die(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--url") {
            parse_url(value(), o);
        } else if (a == "--token") {
            o.token = value();
        } else if (a == "--queries") {
            queries_path = value();
        } else if (a == "--duration") {
            o.duration_s = std::atof(value().c_str());
        } else if (a == "--user") {
            o.user = value();
        } else if (a == "--password") {
            o.password = value();
        } else if (a == "--collection") {
            o.collection = value();
        } else if (a == "--timeout") {
            o.timeout_s = std::atoi(value().c_str());
        } else if (a == "--scenario") {
            o.scenario = value();
        } else if (a == "--server-pid") {
            o.server_pid = std::atoi(value().c_str());
        } else if (a == "--header") {
            o.header = true;
        } else if (a.starts_with("--")) {
            die("unknown option " + a);
        } else {
            streams.push_back(parse_stream(a));
        }
    }
    if (o.header) {
        print_header();
    }
    if (streams.empty()) {
        return 0;
    }
    if (o.port <= 0 || !(o.duration_s > 0) || o.timeout_s < 1) {
        die("give --url http://ADDR:PORT, a --duration > 0 and a --timeout >= 1");
    }
    if (!queries_path.empty()) {
        std::ifstream in(queries_path);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty()) {
                o.queries.push_back(line);
            }
        }
    }
    if (o.queries.empty()) {
        o.queries.push_back("strongbox");
    }
    Plan plan{o, {}, static_cast<uint32_t>(std::random_device{}())};
    for (const auto & s : streams) {
        if ((s->kind == Kind::kLogin || s->kind == Kind::kLoginOne) && (o.user.empty() || o.password.empty())) {
            die("login streams need --user and --password");
        }
        if (s->kind == Kind::kSource && plan.chunk_ids.empty()) {
            plan.chunk_ids = discover_chunks(o);
        }
    }

    const double cpu_before = o.server_pid > 0 ? cpu_seconds(o.server_pid) : 0;
    // Threads first, clock after: the schedule starts once every connection thread exists.
    const auto start = Clock::now() + std::chrono::milliseconds(100);
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
    std::vector<std::thread> threads;
    for (const auto & s : streams) {
        for (int c = 0; c < s->connections; ++c) {
            threads.emplace_back(run_worker, std::cref(plan), std::ref(*s), start, end);
        }
    }
    for (std::thread & t : threads) {
        t.join();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto & s : streams) {
        print_row(o.scenario, *s, o.duration_s);
    }
    if (o.server_pid > 0) {
        std::printf("%-14s server CPU %.1f s in %.1f s (%.2f cores), load average %s\n", o.scenario.c_str(),
                    cpu_seconds(o.server_pid) - cpu_before, seconds, (cpu_seconds(o.server_pid) - cpu_before) / seconds,
                    load_average().c_str());
    } else {
        std::printf("%-14s load average %s\n", o.scenario.c_str(), load_average().c_str());
    }
    return 0;
}
