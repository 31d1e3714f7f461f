// Fuzz target for core::Json, the parser behind every API body, settings file, JSON-lines log and
// audit record. For any bytes:
//   - parse() either fails with "invalid JSON at byte N: <why>", N inside the input, or
//   - returns a value whose dump() is valid UTF-8, parses back to the same value (numbers by
//     value), and is canonical: dumping the re-parsed value gives the same bytes, so the audit
//     chain's hashes do not change when a record is read and written again;
//   - the pretty form (dump(2)) parses back to the same canonical bytes;
//   - every typed accessor is defined on every member (no undefined conversion of huge numbers).
#include "fuzz_targets.h"

#include "strongbox/core/json.h"
#include "strongbox/core/text.h"

#include <charconv>
#include <string>
#include <string_view>

namespace strongbox::fuzz {
namespace {

using core::Json;

bool same_value(const Json & a, const Json & b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_int() && b.is_int()) {
            return a.as_int() == b.as_int();
        }
        return a.as_double() == b.as_double();
    }
    if (a.is_array() && b.is_array()) {
        if (a.size() != b.size()) {
            return false;
        }
        for (size_t i = 0; i < a.size(); ++i) {
            if (!same_value(a.as_array()[i], b.as_array()[i])) {
                return false;
            }
        }
        return true;
    }
    if (a.is_object() && b.is_object()) {
        if (a.size() != b.size()) {
            return false;
        }
        for (const auto & [key, value] : a.as_object()) {
            const Json * other = b.find(key);
            if (other == nullptr || !same_value(value, *other)) {
                return false;
            }
        }
        return true;
    }
    return a == b;
}

// Touches every accessor an API handler uses on a member.
void read_all(const Json & v) {
    if (v.is_number()) {
        (void)v.as_int();
        (void)v.as_double();
    }
    if (v.is_array()) {
        for (const Json & e : v.as_array()) {
            read_all(e);
        }
    }
    if (v.is_object()) {
        for (const auto & [key, value] : v.as_object()) {
            require(v.find(key) == &value);
            (void)v.get_int(key);
            (void)v.get_double(key);
            (void)v.get_string(key);
            (void)v.get_bool(key);
            read_all(value);
        }
    }
}

}  // namespace

int json_text(const uint8_t * data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    core::Result<Json> parsed = Json::parse(text);
    if (!parsed.ok()) {
        // "invalid JSON at byte N: ..." with N within the input.
        const std::string & msg = parsed.error().message();
        constexpr std::string_view kPrefix = "invalid JSON at byte ";
        require(msg.rfind(kPrefix, 0) == 0);
        size_t at = 0;
        auto [p, ec] = std::from_chars(msg.data() + kPrefix.size(), msg.data() + msg.size(), at);
        require(ec == std::errc() && at <= size && std::string_view(p).rfind(": ", 0) == 0);
        return 0;
    }
    read_all(*parsed);
    const std::string canonical = parsed->dump();
    require(core::is_valid_utf8(canonical));
    core::Result<Json> again = Json::parse(canonical);
    require(again.ok());
    require(same_value(*parsed, *again));
    require(again->dump() == canonical);
    core::Result<Json> pretty = Json::parse(parsed->dump(2));
    require(pretty.ok());
    require(pretty->dump() == canonical);
    return 0;
}

}  // namespace strongbox::fuzz

#ifdef SB_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::fuzz::json_text(data, size);
}
#endif
