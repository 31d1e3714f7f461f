#include "strongbox/core/json.h"

#include "strongbox/core/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace strongbox::core {
namespace {

constexpr int kMaxDepth = 256;

class Parser {
  public:
    explicit Parser(std::string_view text) : s_(text) {}

    Result<Json> parse_document() {
        SB_ASSIGN_OR_RETURN(Json value, parse_value(0));
        skip_ws();
        if (pos_ != s_.size()) {
            return fail("unexpected trailing characters");
        }
        return value;
    }

  private:
    Error fail(std::string_view what) const {
        return Error(ErrorCode::kCorruptInput,
                     "invalid JSON at byte " + std::to_string(pos_) + ": " + std::string(what));
    }

    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }

    bool consume(std::string_view word) {
        if (s_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    Result<Json> parse_value(int depth) {
        if (depth > kMaxDepth) {
            return fail("nesting too deep");
        }
        skip_ws();
        if (pos_ >= s_.size()) {
            return fail("unexpected end of input");
        }
        char c = s_[pos_];
        if (c == '{') {
            return parse_object(depth);
        }
        if (c == '[') {
            return parse_array(depth);
        }
        if (c == '"') {
            SB_ASSIGN_OR_RETURN(std::string str, parse_string());
            return Json(std::move(str));
        }
        if (consume("true")) {
            return Json(true);
        }
        if (consume("false")) {
            return Json(false);
        }
        if (consume("null")) {
            return Json();
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            return parse_number();
        }
        return fail(std::string("unexpected character '") + c + "'");
    }

    Result<Json> parse_object(int depth) {
        ++pos_;  // '{'
        Json::Object obj;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return Json(std::move(obj));
        }
        while (true) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') {
                return fail("expected a string key");
            }
            SB_ASSIGN_OR_RETURN(std::string key, parse_string());
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') {
                return fail("expected ':'");
            }
            ++pos_;
            SB_ASSIGN_OR_RETURN(Json value, parse_value(depth + 1));
            obj.insert_or_assign(std::move(key), std::move(value));
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                return Json(std::move(obj));
            }
            return fail("expected ',' or '}'");
        }
    }

    Result<Json> parse_array(int depth) {
        ++pos_;  // '['
        Json::Array arr;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return Json(std::move(arr));
        }
        while (true) {
            SB_ASSIGN_OR_RETURN(Json value, parse_value(depth + 1));
            arr.push_back(std::move(value));
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                return Json(std::move(arr));
            }
            return fail("expected ',' or ']'");
        }
    }

    Result<uint32_t> parse_hex4() {
        if (pos_ + 4 > s_.size()) {
            return fail("truncated \\u escape");
        }
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            char h = s_[pos_++];
            v <<= 4;
            if (h >= '0' && h <= '9') {
                v |= static_cast<uint32_t>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
                v |= static_cast<uint32_t>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
                v |= static_cast<uint32_t>(h - 'A' + 10);
            } else {
                return fail("bad hex digit in \\u escape");
            }
        }
        return v;
    }

    Result<std::string> parse_string() {
        ++pos_;  // opening quote
        std::string out;
        size_t run_start = pos_;
        while (true) {
            if (pos_ >= s_.size()) {
                return fail("unterminated string");
            }
            char c = s_[pos_];
            if (c == '"') {
                out.append(s_.substr(run_start, pos_ - run_start));
                ++pos_;
                break;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                return fail("control character in string");
            }
            if (c != '\\') {
                ++pos_;
                continue;
            }
            out.append(s_.substr(run_start, pos_ - run_start));
            ++pos_;
            if (pos_ >= s_.size()) {
                return fail("unterminated escape");
            }
            char e = s_[pos_++];
            switch (e) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                SB_ASSIGN_OR_RETURN(uint32_t cp, parse_hex4());
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (!consume("\\u")) {
                        return fail("unpaired surrogate");
                    }
                    SB_ASSIGN_OR_RETURN(uint32_t lo, parse_hex4());
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        return fail("unpaired surrogate");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail("unpaired surrogate");
                }
                append_utf8(out, cp);
                break;
            }
            default:
                return fail("unknown escape");
            }
            run_start = pos_;
        }
        if (!is_valid_utf8(out)) {
            return fail("string is not valid UTF-8");
        }
        return out;
    }

    Result<Json> parse_number() {
        size_t start = pos_;
        bool is_integer = true;
        if (s_[pos_] == '-') {
            ++pos_;
        }
        auto digits = [&] {
            size_t d0 = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                ++pos_;
            }
            return pos_ > d0;
        };
        if (!digits()) {
            return fail("expected digits");
        }
        if (pos_ < s_.size() && s_[pos_] == '.') {
            is_integer = false;
            ++pos_;
            if (!digits()) {
                return fail("expected digits after '.'");
            }
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            is_integer = false;
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
                ++pos_;
            }
            if (!digits()) {
                return fail("expected exponent digits");
            }
        }
        const char * first = s_.data() + start;
        const char * last = s_.data() + pos_;
        if (is_integer) {
            int64_t i = 0;
            auto [p, ec] = std::from_chars(first, last, i);
            if (ec == std::errc() && p == last) {
                return Json(i);
            }
        }
        double d = 0;
        auto [p, ec] = std::from_chars(first, last, d);
        if (ec != std::errc() || p != last) {
            return fail("number out of range");
        }
        return Json(d);
    }

    std::string_view s_;
    size_t pos_ = 0;
};

void newline(std::string & out, int indent, int depth) {
    if (indent > 0) {
        out += '\n';
        out.append(static_cast<size_t>(indent * depth), ' ');
    }
}

}  // namespace

Result<Json> Json::parse(std::string_view text) {
    return Parser(text).parse_document();
}

int64_t Json::as_int() const {
    if (const auto * d = std::get_if<double>(&v_)) {
        // Clamped: converting a double outside int64's range (a client's "top_k": 1e300) is undefined.
        if (std::isnan(*d)) {
            return 0;
        }
        if (*d >= 9223372036854775808.0) {
            return std::numeric_limits<int64_t>::max();
        }
        if (*d < -9223372036854775808.0) {
            return std::numeric_limits<int64_t>::min();
        }
        return static_cast<int64_t>(*d);
    }
    return std::get<int64_t>(v_);
}

double Json::as_double() const {
    if (const auto * i = std::get_if<int64_t>(&v_)) {
        return static_cast<double>(*i);
    }
    return std::get<double>(v_);
}

Json & Json::operator[](std::string_view key) {
    if (is_null()) {
        v_ = Object{};
    }
    auto & obj = std::get<Object>(v_);
    auto it = obj.find(key);
    if (it == obj.end()) {
        it = obj.emplace(std::string(key), Json()).first;
    }
    return it->second;
}

const Json * Json::find(std::string_view key) const {
    const auto * obj = std::get_if<Object>(&v_);
    if (obj == nullptr) {
        return nullptr;
    }
    auto it = obj->find(key);
    return it == obj->end() ? nullptr : &it->second;
}

std::string Json::get_string(std::string_view key, std::string_view fallback) const {
    const Json * v = find(key);
    return v != nullptr && v->is_string() ? v->as_string() : std::string(fallback);
}

int64_t Json::get_int(std::string_view key, int64_t fallback) const {
    const Json * v = find(key);
    return v != nullptr && v->is_number() ? v->as_int() : fallback;
}

double Json::get_double(std::string_view key, double fallback) const {
    const Json * v = find(key);
    return v != nullptr && v->is_number() ? v->as_double() : fallback;
}

bool Json::get_bool(std::string_view key, bool fallback) const {
    const Json * v = find(key);
    return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

void Json::push_back(Json value) {
    if (is_null()) {
        v_ = Array{};
    }
    std::get<Array>(v_).push_back(std::move(value));
}

size_t Json::size() const {
    if (const auto * a = std::get_if<Array>(&v_)) {
        return a->size();
    }
    if (const auto * o = std::get_if<Object>(&v_)) {
        return o->size();
    }
    return 0;
}

std::string Json::dump(int indent) const {
    std::string out;
    dump_to(out, indent, 0);
    return out;
}

void Json::dump_to(std::string & out, int indent, int depth) const {
    switch (v_.index()) {
    case 0:
        out += "null";
        break;
    case 1:
        out += std::get<bool>(v_) ? "true" : "false";
        break;
    case 2:
        out += std::to_string(std::get<int64_t>(v_));
        break;
    case 3: {
        double d = std::get<double>(v_);
        if (!std::isfinite(d)) {
            out += "null";  // JSON has no NaN/Inf
            break;
        }
        if (d == 0) {
            d = 0.0;  // "-0" would read back as the integer 0 and dump differently: not canonical
        }
        char buf[32];
        auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
        out.append(buf, p);
        break;
    }
    case 4:
        append_json_string(out, std::get<std::string>(v_));
        break;
    case 5: {
        const auto & arr = std::get<Array>(v_);
        out += '[';
        for (size_t i = 0; i < arr.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            newline(out, indent, depth + 1);
            arr[i].dump_to(out, indent, depth + 1);
        }
        if (!arr.empty()) {
            newline(out, indent, depth);
        }
        out += ']';
        break;
    }
    case 6: {
        const auto & obj = std::get<Object>(v_);
        out += '{';
        bool first = true;
        for (const auto & [key, value] : obj) {
            if (!first) {
                out += ',';
            }
            first = false;
            newline(out, indent, depth + 1);
            append_json_string(out, key);
            out += indent > 0 ? ": " : ":";
            value.dump_to(out, indent, depth + 1);
        }
        if (!obj.empty()) {
            newline(out, indent, depth);
        }
        out += '}';
        break;
    }
    default:
        SB_CHECK(false);
    }
}

void append_json_string(std::string & out, std::string_view s) {
    const std::string clean = is_valid_utf8(s) ? std::string(s) : sanitize_utf8(s);
    out += '"';
    for (char c : clean) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

}  // namespace strongbox::core
