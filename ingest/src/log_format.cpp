#include "log_format.h"

#include "log_time.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace strongbox::ingest {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// A forward-only reader over one line; every parser below is a short sequence of these steps
// and gives up (nullopt) at the first one that does not fit.
class Cursor {
  public:
    explicit Cursor(std::string_view s) : s_(s) {}

    bool done() const { return pos_ >= s_.size(); }
    size_t pos() const { return pos_; }
    void set_pos(size_t p) { pos_ = p; }
    char peek() const { return done() ? '\0' : s_[pos_]; }
    std::string_view rest() const { return done() ? std::string_view{} : s_.substr(pos_); }
    std::string_view slice(size_t from) const { return s_.substr(from, pos_ - from); }

    bool lit(char c) {
        if (peek() == c && !done()) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool lit(std::string_view t) {
        if (s_.substr(pos_).starts_with(t)) {
            pos_ += t.size();
            return true;
        }
        return false;
    }

    // Between min_n and max_n decimal digits as a number; nullopt (cursor unchanged) otherwise.
    std::optional<int64_t> number(size_t min_n, size_t max_n) {
        size_t p = pos_;
        int64_t v = 0;
        while (p < s_.size() && p - pos_ < max_n && is_digit(s_[p])) {
            if (v > (std::numeric_limits<int64_t>::max() - (s_[p] - '0')) / 10) {
                return std::nullopt;  // more than int64 holds (a 20-digit thread id): not this field
            }
            v = v * 10 + (s_[p] - '0');
            ++p;
        }
        if (p - pos_ < min_n) {
            return std::nullopt;
        }
        pos_ = p;
        return v;
    }

    size_t blanks() {
        size_t n = 0;
        while (!done() && is_blank(s_[pos_])) {
            ++pos_;
            ++n;
        }
        return n;
    }

    // Characters up to the next blank (or the end); empty when at a blank.
    std::string_view token() {
        size_t b = pos_;
        while (!done() && !is_blank(s_[pos_])) {
            ++pos_;
        }
        return s_.substr(b, pos_ - b);
    }

    // Characters up to `c` (not consumed); nullopt when `c` does not occur.
    std::optional<std::string_view> until(char c) {
        size_t e = s_.find(c, pos_);
        if (e == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view out = s_.substr(pos_, e - pos_);
        pos_ = e;
        return out;
    }

    // "[...]" with nested brackets; returns the inside.
    std::optional<std::string_view> bracketed() {
        if (peek() != '[') {
            return std::nullopt;
        }
        int depth = 0;
        for (size_t p = pos_; p < s_.size(); ++p) {
            if (s_[p] == '[') {
                ++depth;
            } else if (s_[p] == ']' && --depth == 0) {
                std::string_view inside = s_.substr(pos_ + 1, p - pos_ - 1);
                pos_ = p + 1;
                return inside;
            }
        }
        return std::nullopt;
    }

  private:
    std::string_view s_;
    size_t pos_ = 0;
};

// Fractional seconds of any precision -> microseconds.
int parse_fraction(Cursor & c) {
    size_t start = c.pos();
    auto digits = c.number(1, 9);
    if (!digits) {
        return 0;
    }
    size_t n = c.pos() - start;
    double scale = std::pow(10.0, 6 - static_cast<int>(n));
    return static_cast<int>(static_cast<double>(*digits) * scale);
}

// "Z", "+02:00", "+0200", "-07" after a stamp; nullopt when there is no zone.
std::optional<int> parse_zone(Cursor & c) {
    if (c.lit('Z') || c.lit('z')) {
        return 0;
    }
    size_t save = c.pos();
    int sign = 0;
    if (c.lit('+')) {
        sign = 1;
    } else if (c.lit('-')) {
        sign = -1;
    } else {
        return std::nullopt;
    }
    auto hh = c.number(2, 2);
    if (!hh || *hh > 14) {
        c.set_pos(save);
        return std::nullopt;
    }
    c.lit(':');
    auto mm = c.number(2, 2);
    return sign * static_cast<int>(*hh * 60 + mm.value_or(0));
}

// HH:MM:SS with an optional ".fff" or ",fff".
bool parse_clock(Cursor & c, CivilTime & t) {
    auto h = c.number(1, 2);
    if (!h || !c.lit(':')) {
        return false;
    }
    auto m = c.number(2, 2);
    if (!m || !c.lit(':')) {
        return false;
    }
    auto s = c.number(2, 2);
    if (!s) {
        return false;
    }
    t.hour = static_cast<int>(*h);
    t.minute = static_cast<int>(*m);
    t.second = static_cast<int>(*s);
    size_t save = c.pos();
    if ((c.lit('.') || c.lit(',')) && is_digit(c.peek())) {
        t.microsecond = parse_fraction(c);
    } else {
        c.set_pos(save);
    }
    return true;
}

void set_time(LogHeader & h, const CivilTime & t, int offset_minutes) {
    h.time_us = civil_to_unix_micros(t, offset_minutes);
}

// The rest of an ISO 8601 stamp once its year and first separator are read: "MM<sep>DD", 'T' or a
// space, the clock, and a zone (`default_offset` minutes when the stamp has none).
bool parse_iso_after_year(Cursor & c, int year, char sep, int default_offset, LogHeader & h) {
    CivilTime t;
    auto mo = c.number(2, 2);
    if (!mo || !c.lit(sep)) {
        return false;
    }
    auto d = c.number(2, 2);
    if (!d || !(c.lit('T') || c.lit('t') || c.lit(' '))) {
        return false;
    }
    t.year = year;
    t.month = static_cast<int>(*mo);
    t.day = static_cast<int>(*d);
    if (!parse_clock(c, t)) {
        return false;
    }
    set_time(h, t, parse_zone(c).value_or(default_offset));
    return true;
}

// The leading date-time stamps of application logs:
//   2026-06-14 15:16:01[,.]123[Z|+02:00]   2026-06-14T15:16:01...   2026/06/14 15:16:01
//   17/06/09 20:10:40 (yy/MM/dd)           081109 203615 (yyMMdd HHmmss)
bool parse_app_stamp(Cursor & c, const TimeAssumptions & ta, LogHeader & h) {
    const size_t start = c.pos();
    CivilTime t;
    auto first = c.number(2, 6);
    if (!first) {
        return false;
    }
    const size_t first_len = c.pos() - start;
    if (first_len == 4 && (c.peek() == '-' || c.peek() == '/')) {
        const char sep = c.peek();
        c.lit(sep);
        if (!parse_iso_after_year(c, static_cast<int>(*first), sep, ta.utc_offset_minutes, h)) {
            return false;
        }
    } else if (first_len == 2 && c.peek() == '/') {
        c.lit('/');
        auto mo = c.number(2, 2);
        if (!mo || !c.lit('/')) {
            return false;
        }
        auto d = c.number(2, 2);
        if (!d || !c.lit(' ')) {
            return false;
        }
        t.year = 2000 + static_cast<int>(*first);
        t.month = static_cast<int>(*mo);
        t.day = static_cast<int>(*d);
        if (!parse_clock(c, t)) {
            return false;
        }
        set_time(h, t, ta.utc_offset_minutes);
    } else if (first_len == 6 && c.lit(' ')) {
        auto hms = c.number(6, 6);
        if (!hms) {
            return false;
        }
        t.year = 2000 + static_cast<int>(*first / 10000);
        t.month = static_cast<int>(*first / 100 % 100);
        t.day = static_cast<int>(*first % 100);
        t.hour = static_cast<int>(*hms / 10000);
        t.minute = static_cast<int>(*hms / 100 % 100);
        t.second = static_cast<int>(*hms % 100);
        set_time(h, t, ta.utc_offset_minutes);
    } else {
        return false;
    }
    if (!h.time_us) {
        return false;  // digits that only look like a date (month 13, hour 25)
    }
    if (!c.done() && !is_blank(c.peek()) && c.peek() != ']') {
        return false;
    }
    h.time_text = std::string(c.slice(start));
    return true;
}

bool is_upper_word(std::string_view w) {
    if (w.empty()) {
        return false;
    }
    for (char ch : w) {
        if (!(ch >= 'A' && ch <= 'Z')) {
            return false;
        }
    }
    return true;
}

// A logger name such as "dfs.DataNode$PacketResponder" or "org.example.Foo".
bool looks_like_logger(std::string_view t) {
    if (t.empty() || t.find_first_of(".$") == std::string_view::npos) {
        return false;
    }
    for (char ch : t) {
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '$' || ch == '_' || ch == '-')) {
            return false;
        }
    }
    return true;
}

// log4j's "%t:%C{1}@%L" thread field ("QuorumPeer[myid=1]/0:0:...:2181:FastLeaderElection@774")
// names the class; keep it as the app.
void split_thread(std::string_view thread, LogHeader & h) {
    size_t at = thread.rfind('@');
    size_t colon = thread.rfind(':', at);
    bool line_no = at != std::string_view::npos && at + 1 < thread.size();
    for (size_t i = at + 1; line_no && i < thread.size(); ++i) {
        line_no = is_digit(thread[i]);
    }
    if (line_no && colon != std::string_view::npos && colon < at) {
        h.app = std::string(thread.substr(colon + 1, at - colon - 1));
        h.fields["thread"] = std::string(thread.substr(0, colon));
        h.fields["source_line"] = std::string(thread.substr(at + 1));
    } else {
        h.fields["thread"] = std::string(thread);
    }
}

std::optional<LogHeader> parse_app_log(std::string_view line, const TimeAssumptions & ta) {
    Cursor c(line);
    LogHeader h;
    bool bracketed_stamp = c.lit('[');
    if (!parse_app_stamp(c, ta, h)) {
        return std::nullopt;
    }
    if (bracketed_stamp && !c.lit(']')) {
        return std::nullopt;
    }
    // Header items in the orders the common layouts use them; at most a handful.
    bool have_level = false;
    bool have_thread = false;
    for (int item = 0; item < 6; ++item) {
        c.blanks();
        const size_t save = c.pos();
        if (c.lit("- ") || c.lit("| ")) {
            continue;
        }
        if (c.peek() == '[') {
            auto inside = c.bracketed();
            if (!inside) {
                break;
            }
            std::string sev = normalise_severity(core::trim(*inside));
            if (!have_level && !sev.empty()) {
                h.severity = sev;
                have_level = true;
                continue;
            }
            if (!have_thread && (c.done() || is_blank(c.peek()))) {
                split_thread(*inside, h);
                have_thread = true;
                continue;
            }
            c.set_pos(save);
            break;
        }
        std::string_view tok = c.token();
        if (tok.empty()) {
            break;
        }
        if (!have_level && is_upper_word(tok) && !normalise_severity(tok).empty()) {
            h.severity = normalise_severity(tok);
            have_level = true;
            continue;
        }
        if (!have_level && h.pid.empty() && std::all_of(tok.begin(), tok.end(), is_digit)) {
            // HDFS writes the thread id before the level.
            Cursor look(c.rest());
            look.blanks();
            std::string_view next = look.token();
            if (is_upper_word(next) && !normalise_severity(next).empty()) {
                h.pid = std::string(tok);
                continue;
            }
        }
        if (h.app.empty() && tok.size() > 1 && tok.back() == ':' && looks_like_logger(tok.substr(0, tok.size() - 1))) {
            h.app = std::string(tok.substr(0, tok.size() - 1));
            c.blanks();
            break;  // the logger ends the header
        }
        if (h.app.empty() && looks_like_logger(tok) && (c.rest().starts_with(" - ") || c.rest().starts_with(" : "))) {
            h.app = std::string(tok);
            c.blanks();
            if (!c.lit('-')) {
                c.lit(':');
            }
            continue;
        }
        c.set_pos(save);
        break;
    }
    c.blanks();
    h.message = std::string(c.rest());
    return h;
}

std::optional<LogHeader> parse_syslog_3164(std::string_view line, const TimeAssumptions & ta) {
    Cursor c(line);
    LogHeader h;
    if (c.lit('<')) {
        auto pri = c.number(1, 3);
        if (!pri || *pri > 191 || !c.lit('>')) {
            return std::nullopt;
        }
        static constexpr std::array<const char *, 8> kSev = {"emergency", "alert",  "critical", "error",
                                                             "warning",   "notice", "info",     "debug"};
        h.severity = kSev[static_cast<size_t>(*pri % 8)];
        h.fields["facility"] = static_cast<int64_t>(*pri / 8);
    }
    const size_t stamp_start = c.pos();
    CivilTime t;
    t.month = month_from_abbrev(c.token());
    if (t.month == 0 || !c.lit(' ')) {
        return std::nullopt;
    }
    c.lit(' ');  // "Jun  4": the day is space-padded
    auto day = c.number(1, 2);
    if (!day || !c.lit(' ')) {
        return std::nullopt;
    }
    t.day = static_cast<int>(*day);
    if (!parse_clock(c, t)) {
        return std::nullopt;
    }
    h.time_text = std::string(c.slice(stamp_start));
    t.year = ta.year;
    h.yearless_month = t.month;
    set_time(h, t, ta.utc_offset_minutes);
    if (!h.time_us || !c.lit(' ')) {
        return std::nullopt;
    }
    c.blanks();
    h.host = std::string(c.token());
    if (h.host.empty()) {
        return std::nullopt;
    }
    c.blanks();
    // TAG[PID]: the tag ends at '[' or ':'; some senders omit the tag altogether.
    const size_t tag_start = c.pos();
    std::string_view tok = c.token();
    size_t colon = tok.empty() ? std::string_view::npos : tok.size() - 1;
    if (colon != std::string_view::npos && tok[colon] == ':') {
        std::string_view tag = tok.substr(0, colon);
        size_t lb = tag.rfind('[');
        if (lb != std::string_view::npos && tag.back() == ']') {
            h.pid = std::string(tag.substr(lb + 1, tag.size() - lb - 2));
            tag = tag.substr(0, lb);
        }
        h.app = std::string(tag);
        c.blanks();
    } else {
        c.set_pos(tag_start);
    }
    h.message = std::string(c.rest());
    return h;
}

// RFC 3339 "2003-10-11T22:14:15.003Z" (the only stamp RFC 5424 allows).
bool parse_rfc3339(Cursor & c, LogHeader & h, const TimeAssumptions & ta) {
    const size_t start = c.pos();
    auto y = c.number(4, 4);
    if (!y || !c.lit('-') || !parse_iso_after_year(c, static_cast<int>(*y), '-', ta.utc_offset_minutes, h)) {
        return false;
    }
    h.time_text = std::string(c.slice(start));
    return h.time_us.has_value();
}

// RFC 5424 structured data: "-" or one or more [id name="value" ...] with \" \\ \] escapes.
bool parse_structured_data(Cursor & c, core::Json & out) {
    if (c.lit('-')) {
        return true;
    }
    if (c.peek() != '[') {
        return false;
    }
    core::Json sd = core::Json::object();
    while (c.lit('[')) {
        std::string id;
        while (!c.done() && c.peek() != ' ' && c.peek() != ']') {
            id += c.peek();
            c.set_pos(c.pos() + 1);
        }
        core::Json params = core::Json::object();
        while (c.lit(' ')) {
            auto name = c.until('=');
            if (!name || !c.lit("=\"")) {
                return false;
            }
            std::string value;
            bool closed = false;
            while (!c.done()) {
                char ch = c.peek();
                c.set_pos(c.pos() + 1);
                if (ch == '\\' && !c.done() && (c.peek() == '"' || c.peek() == '\\' || c.peek() == ']')) {
                    value += c.peek();
                    c.set_pos(c.pos() + 1);
                } else if (ch == '"') {
                    closed = true;
                    break;
                } else {
                    value += ch;
                }
            }
            if (!closed) {
                return false;
            }
            params[*name] = value;
        }
        if (!c.lit(']')) {
            return false;
        }
        sd[id] = std::move(params);
    }
    out = std::move(sd);
    return true;
}

std::optional<LogHeader> parse_syslog_5424(std::string_view line, const TimeAssumptions & ta) {
    Cursor c(line);
    LogHeader h;
    if (!c.lit('<')) {
        return std::nullopt;
    }
    auto pri = c.number(1, 3);
    if (!pri || *pri > 191 || !c.lit('>')) {
        return std::nullopt;
    }
    auto version = c.number(1, 2);
    if (!version || *version == 0 || !c.lit(' ')) {
        return std::nullopt;
    }
    static constexpr std::array<const char *, 8> kSev = {"emergency", "alert",  "critical", "error",
                                                         "warning",   "notice", "info",     "debug"};
    h.severity = kSev[static_cast<size_t>(*pri % 8)];
    h.fields["facility"] = static_cast<int64_t>(*pri / 8);
    if (!c.lit('-') && !parse_rfc3339(c, h, ta)) {
        return std::nullopt;
    }
    auto nil_or = [](std::string_view v) {
        return v == "-" ? std::string() : std::string(v);
    };
    std::array<std::string, 4> parts;  // HOSTNAME APP-NAME PROCID MSGID
    for (std::string & p : parts) {
        if (!c.lit(' ')) {
            return std::nullopt;
        }
        p = nil_or(c.token());
        if (c.done() && &p != &parts.back()) {
            return std::nullopt;
        }
    }
    h.host = parts[0];
    h.app = parts[1];
    h.pid = parts[2];
    if (!parts[3].empty()) {
        h.fields["msgid"] = parts[3];
    }
    if (!c.lit(' ')) {
        return std::nullopt;
    }
    core::Json sd;
    if (!parse_structured_data(c, sd)) {
        return std::nullopt;
    }
    if (!sd.is_null()) {
        h.fields["structured_data"] = std::move(sd);
    }
    c.lit(' ');
    c.lit("\xEF\xBB\xBF");  // the MSG may start with a UTF-8 BOM
    h.message = std::string(c.rest());
    return h;
}

const core::Json * first_key(const core::Json & obj, std::initializer_list<std::string_view> keys, std::string & used) {
    for (std::string_view k : keys) {
        if (const core::Json * v = obj.find(k)) {
            used = std::string(k);
            return v;
        }
    }
    return nullptr;
}

std::string scalar_text(const core::Json & v) {
    return v.is_string() ? v.as_string() : v.dump();
}

std::optional<LogHeader> parse_json_line(std::string_view line, const TimeAssumptions & ta) {
    std::string_view t = core::trim(line);
    if (t.size() < 2 || t.front() != '{' || t.back() != '}') {
        return std::nullopt;
    }
    auto parsed = core::Json::parse(t);
    if (!parsed.ok() || !parsed->is_object()) {
        return std::nullopt;
    }
    core::Json obj = std::move(parsed).value();
    LogHeader h;
    std::string key;
    if (const core::Json * v =
            first_key(obj, {"@timestamp", "timestamp", "time", "ts", "datetime", "date", "t"}, key)) {
        h.time_text = scalar_text(*v);
        if (v->is_string()) {
            Cursor c(v->as_string());
            LogHeader tmp;
            if (parse_rfc3339(c, tmp, ta) && c.done()) {
                h.time_us = tmp.time_us;
            } else {
                Cursor c2(v->as_string());
                if (parse_app_stamp(c2, ta, tmp) && c2.done()) {
                    h.time_us = tmp.time_us;
                }
            }
        } else if (v->is_number()) {
            // Epoch seconds, milliseconds or microseconds, told apart by magnitude. A number
            // beyond the years 0001-9999 is no time (llround would give an arbitrary one).
            constexpr double kMaxEpochMicros = 253402300800e6;  // 10000-01-01T00:00:00Z
            double x = v->as_double();
            double us = x > 1e14 ? x : (x > 1e11 ? x * 1e3 : x * 1e6);
            if (std::isfinite(us) && std::fabs(us) < kMaxEpochMicros) {
                h.time_us = static_cast<int64_t>(std::llround(us));
            }
        }
        obj.as_object().erase(key);
    }
    if (const core::Json * v =
            first_key(obj, {"level", "severity", "lvl", "levelname", "log.level", "loglevel"}, key)) {
        std::string raw = scalar_text(*v);
        if (v->is_int() && v->as_int() >= 10 && v->as_int() <= 60) {
            // pino and bunyan write numeric levels: 10 trace ... 60 fatal.
            static constexpr std::array<const char *, 6> kNumeric = {"trace", "debug", "info",
                                                                     "warn",  "error", "fatal"};
            raw = kNumeric[static_cast<size_t>(v->as_int() / 10 - 1)];
        }
        h.severity = normalise_severity(raw);
        if (h.severity.empty()) {
            h.severity = core::ascii_lower(raw);
        }
        obj.as_object().erase(key);
    }
    if (const core::Json * v = first_key(obj, {"msg", "message", "@message", "log", "text", "event"}, key)) {
        h.message = scalar_text(*v);
        obj.as_object().erase(key);
    }
    if (const core::Json * v = first_key(obj, {"host", "hostname", "host.name"}, key); v && v->is_string()) {
        h.host = v->as_string();
        obj.as_object().erase(key);
    }
    if (const core::Json * v = first_key(obj, {"logger", "logger_name", "service", "app", "component", "name"}, key);
        v && v->is_string()) {
        h.app = v->as_string();
        obj.as_object().erase(key);
    }
    if (const core::Json * v = first_key(obj, {"pid", "process"}, key); v && (v->is_int() || v->is_string())) {
        h.pid = scalar_text(*v);
        obj.as_object().erase(key);
    }
    if (h.message.empty()) {
        // No message key: mine its key=value pairs instead (values get masked like any message).
        for (const auto & [k, v] : obj.as_object()) {
            h.message +=
                (h.message.empty() ? "" : " ") + k + "=" + (v.is_object() || v.is_array() ? "{}" : scalar_text(v));
        }
    }
    if (!obj.as_object().empty()) {
        h.fields = std::move(obj);
    }
    return h;
}

// "\"GET /x HTTP/1.1\"" with backslash escapes, as Apache and nginx write them.
std::optional<std::string> parse_quoted(Cursor & c) {
    if (!c.lit('"')) {
        return std::nullopt;
    }
    std::string out;
    while (!c.done()) {
        char ch = c.peek();
        c.set_pos(c.pos() + 1);
        if (ch == '\\' && !c.done()) {
            out += c.peek();
            c.set_pos(c.pos() + 1);
        } else if (ch == '"') {
            return out;
        } else {
            out += ch;
        }
    }
    return std::nullopt;
}

std::optional<LogHeader> parse_access(std::string_view line, const TimeAssumptions &) {
    Cursor c(line);
    LogHeader h;
    core::Json f = core::Json::object();
    std::string_view client = c.token();
    if (client.empty() || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view ident = c.token();
    if (ident.empty() || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view user = c.token();
    if (user.empty() || !c.lit(' ') || !c.lit('[')) {
        return std::nullopt;
    }
    // [10/Oct/2000:13:55:36 -0700]
    const size_t stamp_start = c.pos();
    CivilTime t;
    auto d = c.number(1, 2);
    if (!d || !c.lit('/')) {
        return std::nullopt;
    }
    auto mon = c.until('/');
    if (!mon || (t.month = month_from_abbrev(*mon)) == 0 || !c.lit('/')) {
        return std::nullopt;
    }
    auto y = c.number(4, 4);
    if (!y || !c.lit(':') || !parse_clock(c, t)) {
        return std::nullopt;
    }
    t.year = static_cast<int>(*y);
    t.day = static_cast<int>(*d);
    c.blanks();
    auto zone = parse_zone(c);
    if (!zone || !c.lit(']')) {
        return std::nullopt;
    }
    h.time_text = std::string(line.substr(stamp_start, c.pos() - stamp_start - 1));
    set_time(h, t, *zone);
    if (!h.time_us || !c.lit(' ')) {
        return std::nullopt;
    }
    auto request = parse_quoted(c);
    if (!request || !c.lit(' ')) {
        return std::nullopt;
    }
    auto status = c.number(3, 3);
    if (!status || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view bytes = c.token();
    if (bytes.empty() || !(bytes == "-" || std::all_of(bytes.begin(), bytes.end(), is_digit))) {
        return std::nullopt;
    }
    int64_t n_bytes = 0;
    // A size beyond int64 is no response size: not an access line (std::stoll would throw).
    if (bytes != "-" && std::from_chars(bytes.data(), bytes.data() + bytes.size(), n_bytes).ec != std::errc()) {
        return std::nullopt;
    }
    f["client"] = std::string(client);
    f["ident"] = std::string(ident);
    f["user"] = std::string(user);
    f["status"] = *status;
    f["bytes"] = bytes == "-" ? core::Json() : core::Json(n_bytes);
    f["request"] = *request;
    Cursor rq(*request);
    std::string_view method = rq.token();
    rq.blanks();
    std::string_view target = rq.token();
    rq.blanks();
    std::string_view protocol = rq.token();
    if (!method.empty() && !target.empty()) {
        f["method"] = std::string(method);
        f["path"] = std::string(target);
        f["protocol"] = std::string(protocol);
    }
    c.blanks();
    if (c.peek() == '"') {
        auto referer = parse_quoted(c);
        c.blanks();
        auto agent = parse_quoted(c);
        if (!referer || !agent) {
            return std::nullopt;
        }
        f["referer"] = *referer;
        f["user_agent"] = *agent;
        c.blanks();
    }
    if (!c.done()) {
        f["extra"] = std::string(c.rest());  // custom LogFormat additions are kept, not parsed
    }
    h.host = std::string(client);
    h.severity = *status >= 500 ? "error" : (*status >= 400 ? "warning" : "info");
    h.message = *request + " " + std::to_string(*status);
    h.fields = std::move(f);
    return h;
}

std::optional<LogHeader> parse_apache_error(std::string_view line, const TimeAssumptions & ta) {
    Cursor c(line);
    LogHeader h;
    if (!c.lit('[')) {
        return std::nullopt;
    }
    // [Sun Dec 04 04:47:44 2005] or [Wed Oct 11 14:32:52.123456 2000]
    const size_t stamp_start = c.pos();
    if (!is_weekday_abbrev(c.token()) || !c.lit(' ')) {
        return std::nullopt;
    }
    CivilTime t;
    t.month = month_from_abbrev(c.token());
    if (t.month == 0 || !c.lit(' ')) {
        return std::nullopt;
    }
    c.blanks();
    auto d = c.number(1, 2);
    if (!d || !c.lit(' ') || !parse_clock(c, t) || !c.lit(' ')) {
        return std::nullopt;
    }
    auto y = c.number(4, 4);
    if (!y) {
        return std::nullopt;
    }
    t.day = static_cast<int>(*d);
    t.year = static_cast<int>(*y);
    h.time_text = std::string(c.slice(stamp_start));
    set_time(h, t, ta.utc_offset_minutes);
    if (!h.time_us || !c.lit("] ")) {
        return std::nullopt;
    }
    auto level = c.bracketed();
    if (!level) {
        return std::nullopt;
    }
    std::string_view lv = *level;
    if (size_t colon = lv.find(':'); colon != std::string_view::npos) {
        h.app = std::string(lv.substr(0, colon));  // 2.4: [module:level]
        lv = lv.substr(colon + 1);
    }
    h.severity = normalise_severity(lv);
    if (h.severity.empty()) {
        return std::nullopt;
    }
    c.blanks();
    const size_t save = c.pos();
    if (auto pid = c.bracketed(); pid && pid->starts_with("pid ")) {
        std::string_view p = pid->substr(4);
        size_t tid = p.find(":tid ");
        h.pid = std::string(p.substr(0, tid));
        if (tid != std::string_view::npos) {
            h.fields["tid"] = std::string(p.substr(tid + 5));
        }
        c.blanks();
    } else {
        c.set_pos(save);
    }
    h.message = std::string(c.rest());
    return h;
}

std::optional<LogHeader> parse_nginx_error(std::string_view line, const TimeAssumptions & ta) {
    Cursor c(line);
    LogHeader h;
    const size_t stamp_start = c.pos();
    CivilTime t;
    auto y = c.number(4, 4);
    if (!y || !c.lit('/')) {
        return std::nullopt;
    }
    auto mo = c.number(2, 2);
    if (!mo || !c.lit('/')) {
        return std::nullopt;
    }
    auto d = c.number(2, 2);
    if (!d || !c.lit(' ') || !parse_clock(c, t)) {
        return std::nullopt;
    }
    t.year = static_cast<int>(*y);
    t.month = static_cast<int>(*mo);
    t.day = static_cast<int>(*d);
    h.time_text = std::string(c.slice(stamp_start));
    set_time(h, t, ta.utc_offset_minutes);
    if (!h.time_us || !c.lit(' ')) {
        return std::nullopt;
    }
    auto level = c.bracketed();
    if (!level || (h.severity = normalise_severity(*level)).empty() || !c.lit(' ')) {
        return std::nullopt;
    }
    auto pid = c.number(1, 10);
    if (!pid || !c.lit('#')) {
        return std::nullopt;
    }
    auto tid = c.number(1, 20);
    if (!tid || !c.lit(':')) {
        return std::nullopt;
    }
    h.pid = std::to_string(*pid);
    h.fields["tid"] = *tid;
    c.blanks();
    const size_t save = c.pos();
    if (c.lit('*')) {
        if (auto conn = c.number(1, 20); conn && c.lit(' ')) {
            h.fields["connection"] = *conn;
        } else {
            c.set_pos(save);
        }
    }
    h.message = std::string(c.rest());
    // nginx appends ", client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "x"".
    std::string_view msg = h.message;
    size_t ctx = msg.find(", client: ");
    if (ctx != std::string_view::npos) {
        Cursor kv(msg.substr(ctx + 2));
        while (!kv.done()) {
            auto key = kv.until(':');
            if (!key || !kv.lit(": ")) {
                break;
            }
            std::string value;
            if (kv.peek() == '"') {
                auto q = parse_quoted(kv);
                if (!q) {
                    break;
                }
                value = *q;
            } else {
                auto v = kv.until(',');
                value = std::string(v ? *v : kv.rest());
                if (!v) {
                    kv.set_pos(kv.pos() + kv.rest().size());
                }
            }
            h.fields[*key] = value;
            if (!kv.lit(", ")) {
                break;
            }
        }
    }
    return h;
}

// - 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO msg
std::optional<LogHeader> parse_bgl(std::string_view line, const TimeAssumptions &) {
    Cursor c(line);
    LogHeader h;
    std::string_view label = c.token();
    if (label.empty() || !c.lit(' ')) {
        return std::nullopt;
    }
    auto epoch = c.number(9, 11);
    if (!epoch || !c.lit(' ')) {
        return std::nullopt;
    }
    auto y = c.number(4, 4);
    if (!y || !c.lit('.') || !c.number(2, 2) || !c.lit('.') || !c.number(2, 2) || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view node = c.token();
    if (node.empty() || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view stamp = c.token();
    // 2005-06-03-15.42.50.675872
    if (stamp.size() < 19 || stamp[4] != '-' || stamp[10] != '-' || stamp[13] != '.' || !c.lit(' ')) {
        return std::nullopt;
    }
    std::string_view node2 = c.token();
    c.blanks();
    std::string_view type = c.token();
    c.blanks();
    std::string_view component = c.token();
    c.blanks();
    std::string_view level = c.token();
    if (node2.empty() || type.empty() || component.empty() || level.empty()) {
        return std::nullopt;
    }
    c.blanks();
    // The epoch seconds are UTC; the stamp text is the machine's local time with microseconds.
    int64_t micros = 0;
    if (stamp.size() > 20 && stamp[19] == '.') {
        Cursor fc(stamp.substr(20));
        micros = parse_fraction(fc);
    }
    h.time_us = *epoch * 1000000 + micros;
    h.time_text = std::string(stamp);
    h.host = std::string(node);
    h.app = std::string(component);
    h.severity = normalise_severity(level);
    if (h.severity.empty()) {
        h.severity = core::ascii_lower(level);
    }
    h.fields["alert"] = std::string(label);
    h.fields["type"] = std::string(type);
    if (node2 != node) {
        h.fields["reporting_node"] = std::string(node2);
    }
    h.message = std::string(c.rest());
    return h;
}

std::optional<LogHeader> parse_free_text(std::string_view line) {
    if (looks_like_continuation(line) || core::trim(line).empty()) {
        return std::nullopt;
    }
    LogHeader h;
    h.message = std::string(core::trim(line));
    return h;
}

}  // namespace

std::string_view to_string(LogFormat format) {
    switch (format) {
    case LogFormat::kAuto:
        return "auto";
    case LogFormat::kSyslog3164:
        return "syslog-3164";
    case LogFormat::kSyslog5424:
        return "syslog-5424";
    case LogFormat::kJsonLines:
        return "json-lines";
    case LogFormat::kAccessCommon:
        return "access-common";
    case LogFormat::kAccessCombined:
        return "access-combined";
    case LogFormat::kApacheError:
        return "apache-error";
    case LogFormat::kNginxError:
        return "nginx-error";
    case LogFormat::kAppLog:
        return "app-log";
    case LogFormat::kBglRas:
        return "bgl-ras";
    case LogFormat::kFreeText:
        return "free-text";
    }
    return "unknown";
}

std::optional<LogFormat> log_format_from_string(std::string_view name) {
    for (LogFormat f : {LogFormat::kAuto, LogFormat::kSyslog3164, LogFormat::kSyslog5424, LogFormat::kJsonLines,
                        LogFormat::kAccessCommon, LogFormat::kAccessCombined, LogFormat::kApacheError,
                        LogFormat::kNginxError, LogFormat::kAppLog, LogFormat::kBglRas, LogFormat::kFreeText}) {
        if (to_string(f) == name) {
            return f;
        }
    }
    return std::nullopt;
}

std::string normalise_severity(std::string_view word) {
    std::string w = core::ascii_lower(core::trim(word));
    if (w == "trace" || w == "finest" || w == "finer") {
        return "trace";
    }
    if (w == "debug" || w == "dbg" || w == "fine" || w == "verbose") {
        return "debug";
    }
    if (w == "info" || w == "information" || w == "informational" || w == "config") {
        return "info";
    }
    if (w == "notice") {
        return "notice";
    }
    if (w == "warn" || w == "warning") {
        return "warning";
    }
    if (w == "error" || w == "err" || w == "severe" || w == "failure") {
        return "error";
    }
    if (w == "crit" || w == "critical" || w == "fatal") {
        return "critical";
    }
    if (w == "alert") {
        return "alert";
    }
    if (w == "emerg" || w == "emergency" || w == "panic") {
        return "emergency";
    }
    return "";
}

bool looks_like_continuation(std::string_view line) {
    if (line.empty()) {
        return false;
    }
    if (is_blank(line.front())) {
        return true;
    }
    if (line.starts_with("Caused by: ") || line.starts_with("Suppressed: ") ||
        line.starts_with("Traceback (most recent call last)")) {
        return true;
    }
    if (line.starts_with("at ") && line.find('(') != std::string_view::npos && line.back() == ')') {
        return true;
    }
    if (line.starts_with("... ") && line.ends_with(" more")) {
        return true;
    }
    return false;
}

std::optional<LogHeader> parse_log_line(LogFormat format, std::string_view line, const TimeAssumptions & time) {
    if (line.empty() || is_blank(line.front())) {
        return std::nullopt;  // continuation lines never start a record
    }
    switch (format) {
    case LogFormat::kSyslog3164:
        return parse_syslog_3164(line, time);
    case LogFormat::kSyslog5424:
        return parse_syslog_5424(line, time);
    case LogFormat::kJsonLines:
        return parse_json_line(line, time);
    case LogFormat::kAccessCommon:
    case LogFormat::kAccessCombined:
        return parse_access(line, time);
    case LogFormat::kApacheError:
        return parse_apache_error(line, time);
    case LogFormat::kNginxError:
        return parse_nginx_error(line, time);
    case LogFormat::kAppLog:
        return parse_app_log(line, time);
    case LogFormat::kBglRas:
        return parse_bgl(line, time);
    case LogFormat::kFreeText:
        return parse_free_text(line);
    case LogFormat::kAuto:
        break;
    }
    return std::nullopt;
}

LogFormat detect_log_format(const std::vector<std::string_view> & sample_lines, const TimeAssumptions & time) {
    // Most specific first: a tie goes to the earlier entry.
    static constexpr std::array<LogFormat, 9> kCandidates = {
        LogFormat::kSyslog5424,  LogFormat::kJsonLines,  LogFormat::kAccessCommon,
        LogFormat::kApacheError, LogFormat::kNginxError, LogFormat::kBglRas,
        LogFormat::kSyslog3164,  LogFormat::kAppLog,     LogFormat::kFreeText};
    size_t considered = 0;
    for (std::string_view l : sample_lines) {
        if (!core::trim(l).empty() && !looks_like_continuation(l)) {
            ++considered;
        }
    }
    if (considered == 0) {
        return LogFormat::kFreeText;
    }
    LogFormat best = LogFormat::kFreeText;
    size_t best_hits = 0;
    size_t combined_hits = 0;
    for (LogFormat f : kCandidates) {
        if (f == LogFormat::kFreeText) {
            break;
        }
        size_t hits = 0;
        for (std::string_view l : sample_lines) {
            if (auto h = parse_log_line(f, l, time)) {
                ++hits;
                if (f == LogFormat::kAccessCommon && h->fields.contains("user_agent")) {
                    ++combined_hits;
                }
            }
        }
        if (hits > best_hits) {
            best_hits = hits;
            best = f;
        }
    }
    if (best_hits * 5 < considered) {
        return LogFormat::kFreeText;
    }
    if (best == LogFormat::kAccessCommon && combined_hits * 2 >= best_hits) {
        return LogFormat::kAccessCombined;
    }
    return best;
}

}  // namespace strongbox::ingest
