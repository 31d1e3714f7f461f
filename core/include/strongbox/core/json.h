// Json: a small JSON value used for the API, the CLI's --json output, JSON-lines logs and audit
// records.
//
// Objects keep their keys sorted, so dump() is canonical: the same value always gives the same
// bytes (the audit chain hashes them). Numbers keep whether they were integers, so 64-bit ids
// survive a round trip. parse() rejects invalid UTF-8, trailing bytes, and nesting deeper than
// 256 levels, with the byte offset of the fault. Values are plain data: not thread-safe to
// mutate concurrently.
//
//   SB_ASSIGN_OR_RETURN(Json body, Json::parse(request_text));
//   std::string q = body.get_string("question");
//   Json out = Json::object();
//   out["answer"] = "...";
//   std::string text = out.dump();
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace strongbox::core {

class Json {
  public:
    using Array = std::vector<Json>;
    using Object = std::map<std::string, Json, std::less<>>;

    Json() = default;                                  // null
    Json(std::nullptr_t) {}                            // NOLINT(google-explicit-constructor)
    Json(bool b) : v_(b) {}                            // NOLINT(google-explicit-constructor)
    Json(int i) : v_(static_cast<int64_t>(i)) {}       // NOLINT(google-explicit-constructor)
    Json(int64_t i) : v_(i) {}                         // NOLINT(google-explicit-constructor)
    Json(uint64_t i) : v_(static_cast<int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
    Json(double d) : v_(d) {}                          // NOLINT(google-explicit-constructor)
    Json(const char * s) : v_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
    Json(std::string s) : v_(std::move(s)) {}          // NOLINT(google-explicit-constructor)
    Json(std::string_view s) : v_(std::string(s)) {}   // NOLINT(google-explicit-constructor)
    Json(Array a) : v_(std::move(a)) {}                // NOLINT(google-explicit-constructor)
    Json(Object o) : v_(std::move(o)) {}               // NOLINT(google-explicit-constructor)

    static Json object() { return Json(Object{}); }

    static Json array() { return Json(Array{}); }

    static Result<Json> parse(std::string_view text);

    // Compact canonical text; indent > 0 pretty-prints for people.
    std::string dump(int indent = 0) const;

    bool is_null() const { return v_.index() == 0; }
    bool is_bool() const { return v_.index() == 1; }
    bool is_int() const { return v_.index() == 2; }
    bool is_number() const { return v_.index() == 2 || v_.index() == 3; }
    bool is_string() const { return v_.index() == 4; }
    bool is_array() const { return v_.index() == 5; }
    bool is_object() const { return v_.index() == 6; }

    bool as_bool() const { return std::get<bool>(v_); }
    int64_t as_int() const;  // doubles are truncated, and clamped to the int64 range
    double as_double() const;
    const std::string & as_string() const { return std::get<std::string>(v_); }
    const Array & as_array() const { return std::get<Array>(v_); }
    Array & as_array() { return std::get<Array>(v_); }
    const Object & as_object() const { return std::get<Object>(v_); }
    Object & as_object() { return std::get<Object>(v_); }

    // Object access. operator[] turns a null into an object; find() returns nullptr when absent.
    Json & operator[](std::string_view key);
    const Json * find(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }

    // Typed lookups with a fallback for absent or mistyped members.
    std::string get_string(std::string_view key, std::string_view fallback = "") const;
    int64_t get_int(std::string_view key, int64_t fallback = 0) const;
    double get_double(std::string_view key, double fallback = 0.0) const;
    bool get_bool(std::string_view key, bool fallback = false) const;

    // Array append; turns a null into an array.
    void push_back(Json value);
    size_t size() const;

    bool operator==(const Json & other) const = default;

  private:
    void dump_to(std::string & out, int indent, int depth) const;

    std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

// Appends s to out as a quoted JSON string; invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string & out, std::string_view s);

}  // namespace strongbox::core
