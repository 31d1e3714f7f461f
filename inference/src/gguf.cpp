// GGUF reader.
//
// Design notes:
// 1. Every read goes through Cursor, which checks the remaining length before touching bytes;
//    sizes are combined with checked_mul/checked_add, so no count or length from the file can
//    wrap an offset or make us read outside the mapping.
// 2. Counts are checked against what the rest of the file could possibly hold (each metadata
//    pair and tensor record takes a minimum number of bytes) before anything is reserved, so an
//    absurd count fails fast instead of allocating.
// 3. The tensor data section starts at the first multiple of general.alignment after the
//    directory; every tensor offset must be a multiple of the alignment and its bytes must end
//    inside the file.
#include "strongbox/inference/gguf.h"

#include "strongbox/inference/tensor_type.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;
// Smallest encodings: a KV pair is an empty key (8) + type (4) + a one-byte value; a tensor
// record is an empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorBytes = 8 + 4 + 8 + 4 + 8;

bool checked_mul(uint64_t a, uint64_t b, uint64_t * out) {
    return !__builtin_mul_overflow(a, b, out);
}

bool checked_add(uint64_t a, uint64_t b, uint64_t * out) {
    return !__builtin_add_overflow(a, b, out);
}

size_t scalar_size(GgufType t) {
    switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
        return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
        return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
        return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
        return 8;
    case GgufType::kString:
        return 8;  // at least the length
    case GgufType::kArray:
        return 12;  // at least element type + count
    }
    return 0;
}

bool known_type(uint32_t t) {
    return t <= static_cast<uint32_t>(GgufType::kFloat64);
}

bool is_integer(GgufType t) {
    switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kBool:
        return true;
    default:
        return false;
    }
}

// Bounds-checked little-endian reader over the mapped bytes.
class Cursor {
  public:
    Cursor(const uint8_t * data, size_t size, const std::string & name) : data_(data), size_(size), name_(name) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    Error corrupt(const std::string & what) const { return Error(ErrorCode::kCorruptInput, name_ + ": " + what); }

    template <typename T>
    Result<T> read(const char * field) {
        if (remaining() < sizeof(T)) {
            return corrupt("truncated file: " + std::string(field) + " at offset " + std::to_string(pos_) + " needs " +
                           std::to_string(sizeof(T)) + " bytes, " + std::to_string(remaining()) + " left");
        }
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    Result<std::string> read_string(const std::string & field) {
        size_t at = pos_;
        SB_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>("string length"));
        if (len > remaining()) {
            return corrupt("string length overflow: " + field + " at offset " + std::to_string(at) + " claims " +
                           std::to_string(len) + " bytes, " + std::to_string(remaining()) + " left");
        }
        std::string s(reinterpret_cast<const char *>(data_ + pos_), static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return s;
    }

  private:
    const uint8_t * data_;
    size_t size_;
    size_t pos_ = 0;
    const std::string & name_;
};

Result<GgufValue> read_array(Cursor & c, const std::string & key, int depth) {
    if (depth >= kMaxArrayDepth) {
        return c.corrupt("metadata '" + key + "': arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    }
    size_t at = c.pos();
    SB_ASSIGN_OR_RETURN(uint32_t et, c.read<uint32_t>("array element type"));
    if (!known_type(et)) {
        return c.corrupt("metadata '" + key + "': unknown array element type " + std::to_string(et) + " at offset " +
                         std::to_string(at));
    }
    auto etype = static_cast<GgufType>(et);
    SB_ASSIGN_OR_RETURN(uint64_t n, c.read<uint64_t>("array length"));
    uint64_t min_bytes = 0;
    if (!checked_mul(n, scalar_size(etype), &min_bytes) || min_bytes > c.remaining()) {
        return c.corrupt("metadata '" + key + "': array of " + std::to_string(n) + " " +
                         std::string(gguf_type_name(etype)) + " at offset " + std::to_string(at) +
                         " does not fit in the " + std::to_string(c.remaining()) + " bytes left");
    }
    const auto count = static_cast<size_t>(n);
    if (etype == GgufType::kString) {
        std::vector<std::string> items;
        items.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            SB_ASSIGN_OR_RETURN(std::string s, c.read_string("metadata '" + key + "'[" + std::to_string(i) + "]"));
            items.push_back(std::move(s));
        }
        return GgufValue::of_string_array(std::move(items));
    }
    if (etype == GgufType::kArray) {
        std::vector<GgufValue> items;
        items.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            SB_ASSIGN_OR_RETURN(GgufValue v, read_array(c, key, depth + 1));
            items.push_back(std::move(v));
        }
        return GgufValue::of_array_of_arrays(std::move(items));
    }
    if (etype == GgufType::kFloat32 || etype == GgufType::kFloat64) {
        std::vector<double> items;
        items.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            if (etype == GgufType::kFloat32) {
                SB_ASSIGN_OR_RETURN(float f, c.read<float>("array item"));
                items.push_back(static_cast<double>(f));
            } else {
                SB_ASSIGN_OR_RETURN(double d, c.read<double>("array item"));
                items.push_back(d);
            }
        }
        return GgufValue::of_float_array(etype, std::move(items));
    }
    std::vector<int64_t> ints;
    ints.reserve(count);
    auto read_all = [&](auto tag) -> core::Status {
        using T = decltype(tag);
        for (size_t i = 0; i < count; ++i) {
            SB_ASSIGN_OR_RETURN(T v, c.read<T>("array item"));
            ints.push_back(static_cast<int64_t>(v));  // uint64 stored bit-cast, see GgufValue
        }
        return core::ok_status();
    };
    switch (etype) {
    case GgufType::kUint8:
    case GgufType::kBool:
        SB_TRY(read_all(uint8_t{}));
        break;
    case GgufType::kInt8:
        SB_TRY(read_all(int8_t{}));
        break;
    case GgufType::kUint16:
        SB_TRY(read_all(uint16_t{}));
        break;
    case GgufType::kInt16:
        SB_TRY(read_all(int16_t{}));
        break;
    case GgufType::kUint32:
        SB_TRY(read_all(uint32_t{}));
        break;
    case GgufType::kInt32:
        SB_TRY(read_all(int32_t{}));
        break;
    case GgufType::kUint64:
        SB_TRY(read_all(uint64_t{}));
        break;
    case GgufType::kInt64:
        SB_TRY(read_all(int64_t{}));
        break;
    default:
        return c.corrupt("metadata '" + key + "': unexpected array element type");
    }
    if (etype == GgufType::kBool) {
        for (int64_t b : ints) {
            if (b > 1) {
                return c.corrupt("metadata '" + key + "': bool array item " + std::to_string(b));
            }
        }
    }
    return GgufValue::of_integer_array(etype, std::move(ints));
}

Result<GgufValue> read_value(Cursor & c, GgufType type, const std::string & key, int depth) {
    switch (type) {
    case GgufType::kUint8: {
        SB_ASSIGN_OR_RETURN(uint8_t v, c.read<uint8_t>("uint8 value"));
        return GgufValue::of_uint8(v);
    }
    case GgufType::kInt8: {
        SB_ASSIGN_OR_RETURN(int8_t v, c.read<int8_t>("int8 value"));
        return GgufValue::of_int8(v);
    }
    case GgufType::kUint16: {
        SB_ASSIGN_OR_RETURN(uint16_t v, c.read<uint16_t>("uint16 value"));
        return GgufValue::of_uint16(v);
    }
    case GgufType::kInt16: {
        SB_ASSIGN_OR_RETURN(int16_t v, c.read<int16_t>("int16 value"));
        return GgufValue::of_int16(v);
    }
    case GgufType::kUint32: {
        SB_ASSIGN_OR_RETURN(uint32_t v, c.read<uint32_t>("uint32 value"));
        return GgufValue::of_uint32(v);
    }
    case GgufType::kInt32: {
        SB_ASSIGN_OR_RETURN(int32_t v, c.read<int32_t>("int32 value"));
        return GgufValue::of_int32(v);
    }
    case GgufType::kUint64: {
        SB_ASSIGN_OR_RETURN(uint64_t v, c.read<uint64_t>("uint64 value"));
        return GgufValue::of_uint64(v);
    }
    case GgufType::kInt64: {
        SB_ASSIGN_OR_RETURN(int64_t v, c.read<int64_t>("int64 value"));
        return GgufValue::of_int64(v);
    }
    case GgufType::kFloat32: {
        SB_ASSIGN_OR_RETURN(float v, c.read<float>("float32 value"));
        return GgufValue::of_float32(v);
    }
    case GgufType::kFloat64: {
        SB_ASSIGN_OR_RETURN(double v, c.read<double>("float64 value"));
        return GgufValue::of_float64(v);
    }
    case GgufType::kBool: {
        size_t at = c.pos();
        SB_ASSIGN_OR_RETURN(uint8_t v, c.read<uint8_t>("bool value"));
        if (v > 1) {
            return c.corrupt("metadata '" + key + "': bool value " + std::to_string(v) + " at offset " +
                             std::to_string(at));
        }
        return GgufValue::of_bool(v != 0);
    }
    case GgufType::kString: {
        SB_ASSIGN_OR_RETURN(std::string s, c.read_string("metadata '" + key + "'"));
        return GgufValue::of_string(std::move(s));
    }
    case GgufType::kArray:
        return read_array(c, key, depth);
    }
    return c.corrupt("metadata '" + key + "': unknown value type");
}

struct Mapping {
    void * addr = nullptr;
    size_t size = 0;
    ~Mapping() {
        if (addr != nullptr && addr != MAP_FAILED) {
            munmap(addr, size);
        }
    }
};

}  // namespace

// ---- GgufValue ----

std::string_view gguf_type_name(GgufType type) {
    switch (type) {
    case GgufType::kUint8:
        return "uint8";
    case GgufType::kInt8:
        return "int8";
    case GgufType::kUint16:
        return "uint16";
    case GgufType::kInt16:
        return "int16";
    case GgufType::kUint32:
        return "uint32";
    case GgufType::kInt32:
        return "int32";
    case GgufType::kFloat32:
        return "float32";
    case GgufType::kBool:
        return "bool";
    case GgufType::kString:
        return "string";
    case GgufType::kArray:
        return "array";
    case GgufType::kUint64:
        return "uint64";
    case GgufType::kInt64:
        return "int64";
    case GgufType::kFloat64:
        return "float64";
    }
    return "unknown";
}

GgufValue GgufValue::integer(GgufType t, int64_t v) {
    GgufValue out;
    out.type_ = t;
    out.ints_.push_back(v);
    return out;
}

GgufValue GgufValue::of_float32(float v) {
    GgufValue out;
    out.type_ = GgufType::kFloat32;
    out.floats_.push_back(static_cast<double>(v));
    return out;
}

GgufValue GgufValue::of_float64(double v) {
    GgufValue out;
    out.type_ = GgufType::kFloat64;
    out.floats_.push_back(v);
    return out;
}

GgufValue GgufValue::of_string(std::string v) {
    GgufValue out;
    out.type_ = GgufType::kString;
    out.strings_.push_back(std::move(v));
    return out;
}

GgufValue GgufValue::of_string_array(std::vector<std::string> v) {
    GgufValue out;
    out.type_ = GgufType::kString;
    out.is_array_ = true;
    out.strings_ = std::move(v);
    return out;
}

GgufValue GgufValue::of_float32_array(std::span<const float> v) {
    GgufValue out;
    out.type_ = GgufType::kFloat32;
    out.is_array_ = true;
    out.floats_.reserve(v.size());
    for (float f : v) {
        out.floats_.push_back(static_cast<double>(f));
    }
    return out;
}

GgufValue GgufValue::of_float_array(GgufType element_type, std::vector<double> v) {
    SB_CHECK(element_type == GgufType::kFloat32 || element_type == GgufType::kFloat64);
    GgufValue out;
    out.type_ = element_type;
    out.is_array_ = true;
    out.floats_ = std::move(v);
    return out;
}

GgufValue GgufValue::of_int32_array(std::span<const int32_t> v) {
    return of_integer_array(GgufType::kInt32, std::vector<int64_t>(v.begin(), v.end()));
}

GgufValue GgufValue::of_integer_array(GgufType element_type, std::vector<int64_t> v) {
    SB_CHECK(is_integer(element_type));
    GgufValue out;
    out.type_ = element_type;
    out.is_array_ = true;
    out.ints_ = std::move(v);
    return out;
}

GgufValue GgufValue::of_array_of_arrays(std::vector<GgufValue> v) {
    GgufValue out;
    out.type_ = GgufType::kArray;
    out.is_array_ = true;
    out.arrays_ = std::move(v);
    return out;
}

size_t GgufValue::size() const {
    if (!is_array_) {
        return 1;
    }
    return ints_.size() + floats_.size() + strings_.size() + arrays_.size();
}

std::optional<uint64_t> GgufValue::as_uint64() const {
    if (is_array_ || !is_integer(type_) || type_ == GgufType::kBool) {
        return std::nullopt;
    }
    if (type_ == GgufType::kUint64) {
        return static_cast<uint64_t>(ints_[0]);
    }
    if (ints_[0] < 0) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(ints_[0]);
}

std::optional<int64_t> GgufValue::as_int64() const {
    if (is_array_ || !is_integer(type_) || type_ == GgufType::kBool) {
        return std::nullopt;
    }
    if (type_ == GgufType::kUint64 && ints_[0] < 0) {
        return std::nullopt;
    }
    return ints_[0];
}

std::optional<double> GgufValue::as_float64() const {
    if (is_array_ || (type_ != GgufType::kFloat32 && type_ != GgufType::kFloat64)) {
        return std::nullopt;
    }
    return floats_[0];
}

std::optional<bool> GgufValue::as_bool() const {
    if (is_array_ || type_ != GgufType::kBool) {
        return std::nullopt;
    }
    return ints_[0] != 0;
}

std::optional<std::string_view> GgufValue::as_string() const {
    if (is_array_ || type_ != GgufType::kString) {
        return std::nullopt;
    }
    return std::string_view(strings_[0]);
}

std::span<const std::string> GgufValue::string_items() const {
    return is_array_ ? std::span<const std::string>(strings_) : std::span<const std::string>();
}

std::span<const int64_t> GgufValue::integer_items() const {
    return ints_;
}

std::span<const double> GgufValue::float_items() const {
    return is_array_ ? std::span<const double>(floats_) : std::span<const double>();
}

std::span<const GgufValue> GgufValue::array_items() const {
    return arrays_;
}

std::string GgufValue::describe() const {
    auto scalar = [this](size_t i) -> std::string {
        if (type_ == GgufType::kString) {
            std::string s = strings_[i];
            if (s.size() > 60) {
                s = s.substr(0, 57) + "...";
            }
            for (char & ch : s) {
                if (ch == '\n') {
                    ch = ' ';
                }
            }
            return "\"" + s + "\"";
        }
        if (type_ == GgufType::kFloat32 || type_ == GgufType::kFloat64) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", floats_[i]);
            return buf;
        }
        if (type_ == GgufType::kBool) {
            return ints_[i] != 0 ? "true" : "false";
        }
        if (type_ == GgufType::kUint64) {
            return std::to_string(static_cast<uint64_t>(ints_[i]));
        }
        return std::to_string(ints_[i]);
    };
    if (!is_array_) {
        return scalar(0);
    }
    std::string out = "[" + std::string(gguf_type_name(type_)) + " x " + std::to_string(size()) + "]";
    if (type_ != GgufType::kArray && size() > 0) {
        out += " " + scalar(0) + (size() > 1 ? ", ..." : "");
    }
    return out;
}

// ---- GgufTensorInfo ----

uint64_t GgufTensorInfo::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : shape) {
        n *= d;  // open() has checked this product does not overflow
    }
    return n;
}

uint64_t GgufTensorInfo::n_rows() const {
    return shape.empty() || shape[0] == 0 ? 0 : n_elements() / shape[0];
}

// ---- GgufFile ----

struct GgufFile::Impl {
    std::string name;
    std::unique_ptr<Mapping> mapping;  // for open()
    std::string owned;                 // for from_bytes()
    const uint8_t * bytes = nullptr;
    size_t size = 0;
    uint32_t version = 0;
    uint32_t alignment = kDefaultAlignment;
    size_t data_offset = 0;
    std::vector<std::pair<std::string, GgufValue>> metadata;
    std::unordered_map<std::string, size_t> key_index;
    std::vector<GgufTensorInfo> tensors;
    std::unordered_map<std::string, size_t> tensor_index;

    core::Status parse();
};

core::Status GgufFile::Impl::parse() {
    Cursor c(bytes, size, name);
    if (size < 4) {
        return c.corrupt("not a GGUF file: " + std::to_string(size) + " bytes is too short for the magic");
    }
    SB_ASSIGN_OR_RETURN(uint32_t magic, c.read<uint32_t>("magic"));
    if (magic != kMagic) {
        char shown[5] = {};
        std::memcpy(shown, bytes, 4);
        for (char & ch : shown) {
            if (ch != 0 && (ch < 32 || ch > 126)) {
                ch = '?';
            }
        }
        return c.corrupt(std::string("bad magic '") + shown + "' (expected 'GGUF')");
    }
    SB_ASSIGN_OR_RETURN(version, c.read<uint32_t>("version"));
    if (version == 1) {
        return Error(ErrorCode::kUnsupported, name + ": unsupported GGUF version 1 (re-convert the model to GGUF v3)");
    }
    if (version != 2 && version != 3) {
        // A byte-swapped small version means a big-endian file.
        bool swapped = (version & 0xFFFF) == 0 && version != 0;
        return Error(ErrorCode::kUnsupported, name + ": unsupported GGUF version " + std::to_string(version) +
                                                  (swapped ? " (big-endian files are not supported)" : ""));
    }
    SB_ASSIGN_OR_RETURN(uint64_t n_tensors, c.read<uint64_t>("tensor count"));
    SB_ASSIGN_OR_RETURN(uint64_t n_kv, c.read<uint64_t>("metadata count"));
    uint64_t need = 0;
    if (!checked_mul(n_kv, kMinKvBytes, &need) || need > c.remaining()) {
        return c.corrupt("absurd metadata count " + std::to_string(n_kv) + " for " + std::to_string(c.remaining()) +
                         " bytes left");
    }
    if (!checked_mul(n_tensors, kMinTensorBytes, &need) || need > c.remaining()) {
        return c.corrupt("absurd tensor count " + std::to_string(n_tensors) + " for " + std::to_string(c.remaining()) +
                         " bytes left");
    }

    metadata.reserve(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
        size_t at = c.pos();
        SB_ASSIGN_OR_RETURN(std::string key, c.read_string("metadata key #" + std::to_string(i)));
        SB_ASSIGN_OR_RETURN(uint32_t t, c.read<uint32_t>("metadata value type"));
        if (!known_type(t)) {
            return c.corrupt("metadata '" + key + "': unknown value type " + std::to_string(t));
        }
        SB_ASSIGN_OR_RETURN(GgufValue v, read_value(c, static_cast<GgufType>(t), key, 0));
        if (!key_index.emplace(key, metadata.size()).second) {
            return c.corrupt("duplicate metadata key '" + key + "' at offset " + std::to_string(at));
        }
        metadata.emplace_back(std::move(key), std::move(v));
    }

    if (auto it = key_index.find("general.alignment"); it != key_index.end()) {
        const GgufValue * a = &metadata[it->second].second;
        if (a->is_array() || a->element_type() != GgufType::kUint32) {
            return c.corrupt("general.alignment must be uint32, found " + std::string(gguf_type_name(a->type())));
        }
        uint64_t al = *a->as_uint64();
        if (al == 0 || (al & (al - 1)) != 0) {
            return c.corrupt("general.alignment " + std::to_string(al) + " is not a power of two");
        }
        alignment = static_cast<uint32_t>(al);
    }

    tensors.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        size_t at = c.pos();
        GgufTensorInfo info;
        SB_ASSIGN_OR_RETURN(info.name, c.read_string("tensor name #" + std::to_string(i)));
        const std::string label = "tensor '" + info.name + "'";
        SB_ASSIGN_OR_RETURN(uint32_t n_dims, c.read<uint32_t>("tensor dimension count"));
        if (n_dims == 0 || n_dims > kMaxDims) {
            return c.corrupt(label + ": n_dims " + std::to_string(n_dims) + " is outside 1.." +
                             std::to_string(kMaxDims));
        }
        uint64_t n_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            SB_ASSIGN_OR_RETURN(uint64_t ne, c.read<uint64_t>("tensor dimension"));
            if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
                !checked_mul(n_elements, ne, &n_elements) ||
                n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return c.corrupt(label + ": shape product overflows at dimension " + std::to_string(d));
            }
            info.shape.push_back(ne);
        }
        SB_ASSIGN_OR_RETURN(info.type_id, c.read<uint32_t>("tensor type"));
        auto traits = tensor_type_traits(info.type_id);
        if (!traits) {
            return c.corrupt(label + ": unknown tensor type " + std::to_string(info.type_id));
        }
        SB_ASSIGN_OR_RETURN(info.offset, c.read<uint64_t>("tensor offset"));
        if (info.shape[0] % traits->block_size != 0) {
            return c.corrupt(label + ": row length " + std::to_string(info.shape[0]) + " is not a multiple of the " +
                             std::string(traits->name) + " block size " + std::to_string(traits->block_size));
        }
        uint64_t n_bytes = 0;
        if (!checked_mul(n_elements / traits->block_size, traits->type_size, &n_bytes)) {
            return c.corrupt(label + ": byte size overflows");
        }
        info.n_bytes = static_cast<size_t>(n_bytes);
        if (!tensor_index.emplace(info.name, tensors.size()).second) {
            return c.corrupt("duplicate tensor name '" + info.name + "' at offset " + std::to_string(at));
        }
        tensors.push_back(std::move(info));
    }

    uint64_t data_start = c.pos();
    uint64_t pad = (alignment - data_start % alignment) % alignment;
    if (!checked_add(data_start, pad, &data_start)) {
        return c.corrupt("data section offset overflows");
    }
    // A file with no tensors may end right after the directory.
    if (data_start > size && !tensors.empty()) {
        return c.corrupt("truncated file: tensor data section at offset " + std::to_string(data_start) +
                         " starts past the end (" + std::to_string(size) + " bytes)");
    }
    data_offset = static_cast<size_t>(std::min<uint64_t>(data_start, size));
    const uint64_t data_size = size - data_offset;
    for (GgufTensorInfo & t : tensors) {
        if (t.offset % alignment != 0) {
            return c.corrupt("tensor '" + t.name + "': offset " + std::to_string(t.offset) +
                             " is not a multiple of the alignment " + std::to_string(alignment));
        }
        uint64_t end = 0;
        if (!checked_add(t.offset, t.n_bytes, &end) || end > data_size) {
            return c.corrupt("tensor '" + t.name + "': data at offset " + std::to_string(t.offset) + " + " +
                             std::to_string(t.n_bytes) + " bytes runs past the end of the data section (" +
                             std::to_string(data_size) + " bytes)");
        }
        t.data = bytes + data_offset + t.offset;
    }
    return core::ok_status();
}

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile &&) noexcept = default;
GgufFile & GgufFile::operator=(GgufFile &&) noexcept = default;
GgufFile::~GgufFile() = default;

Result<GgufFile> GgufFile::open(const std::filesystem::path & path) {
    auto impl = std::make_unique<Impl>();
    impl->name = path.string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError,
                     impl->name + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        return Error(ErrorCode::kIoError, impl->name + ": cannot stat: " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error(ErrorCode::kInvalidArgument, impl->name + ": not a regular file");
    }
    impl->size = static_cast<size_t>(st.st_size);
    impl->mapping = std::make_unique<Mapping>();
    if (impl->size > 0) {
        void * addr = ::mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (addr == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            return Error(ErrorCode::kIoError, impl->name + ": cannot map: " + std::strerror(e));
        }
        impl->mapping->addr = addr;
        impl->mapping->size = impl->size;
        impl->bytes = static_cast<const uint8_t *>(addr);
    }
    ::close(fd);  // the mapping keeps the file referenced
    SB_TRY(impl->parse());
    return GgufFile(std::move(impl));
}

Result<GgufFile> GgufFile::from_bytes(std::string bytes, std::string name) {
    auto impl = std::make_unique<Impl>();
    impl->name = std::move(name);
    impl->owned = std::move(bytes);
    impl->bytes = reinterpret_cast<const uint8_t *>(impl->owned.data());
    impl->size = impl->owned.size();
    SB_TRY(impl->parse());
    return GgufFile(std::move(impl));
}

uint32_t GgufFile::version() const {
    return impl_->version;
}
const std::string & GgufFile::name() const {
    return impl_->name;
}
uint32_t GgufFile::alignment() const {
    return impl_->alignment;
}
size_t GgufFile::file_size() const {
    return impl_->size;
}
size_t GgufFile::data_offset() const {
    return impl_->data_offset;
}

const std::vector<std::pair<std::string, GgufValue>> & GgufFile::metadata() const {
    return impl_->metadata;
}

const GgufValue * GgufFile::find(std::string_view key) const {
    auto it = impl_->key_index.find(std::string(key));
    return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].second;
}

const std::vector<GgufTensorInfo> & GgufFile::tensors() const {
    return impl_->tensors;
}

const GgufTensorInfo * GgufFile::find_tensor(std::string_view name) const {
    auto it = impl_->tensor_index.find(std::string(name));
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

Error GgufFile::missing(std::string_view key) const {
    return Error(ErrorCode::kNotFound, impl_->name + ": metadata key '" + std::string(key) + "' is missing");
}

Error GgufFile::wrong_type(std::string_view key, const GgufValue & v, std::string_view expected) const {
    std::string found(gguf_type_name(v.type()));
    if (v.is_array()) {
        found += " of " + std::string(gguf_type_name(v.element_type()));
    }
    return Error(ErrorCode::kCorruptInput, impl_->name + ": metadata key '" + std::string(key) + "' is " + found +
                                               ", expected " + std::string(expected));
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    auto s = v->as_string();
    if (!s) {
        return wrong_type(key, *v, "string");
    }
    return std::string(*s);
}

Result<uint64_t> GgufFile::get_uint64(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    auto u = v->as_uint64();
    if (!u) {
        return wrong_type(key, *v, "an unsigned integer");
    }
    return *u;
}

Result<uint32_t> GgufFile::get_uint32(std::string_view key) const {
    SB_ASSIGN_OR_RETURN(uint64_t u, get_uint64(key));
    if (u > std::numeric_limits<uint32_t>::max()) {
        return Error(ErrorCode::kCorruptInput, impl_->name + ": metadata key '" + std::string(key) +
                                                   "' = " + std::to_string(u) + " is too large");
    }
    return static_cast<uint32_t>(u);
}

Result<int32_t> GgufFile::get_int32(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    auto i = v->as_int64();
    if (!i) {
        return wrong_type(key, *v, "an integer");
    }
    if (*i < std::numeric_limits<int32_t>::min() || *i > std::numeric_limits<int32_t>::max()) {
        return Error(ErrorCode::kCorruptInput, impl_->name + ": metadata key '" + std::string(key) +
                                                   "' = " + std::to_string(*i) + " does not fit int32");
    }
    return static_cast<int32_t>(*i);
}

Result<float> GgufFile::get_float32(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    auto f = v->as_float64();
    if (!f) {
        return wrong_type(key, *v, "float32");
    }
    return static_cast<float>(*f);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    auto b = v->as_bool();
    if (!b) {
        return wrong_type(key, *v, "bool");
    }
    return *b;
}

Result<std::span<const std::string>> GgufFile::get_string_array(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    if (!v->is_array() || v->element_type() != GgufType::kString) {
        return wrong_type(key, *v, "array of string");
    }
    return v->string_items();
}

Result<std::vector<float>> GgufFile::get_float32_array(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    if (!v->is_array() || (v->element_type() != GgufType::kFloat32 && v->element_type() != GgufType::kFloat64)) {
        return wrong_type(key, *v, "array of float32");
    }
    std::vector<float> out;
    out.reserve(v->size());
    for (double d : v->float_items()) {
        out.push_back(static_cast<float>(d));
    }
    return out;
}

Result<std::vector<int32_t>> GgufFile::get_int32_array(std::string_view key) const {
    const GgufValue * v = find(key);
    if (v == nullptr) {
        return missing(key);
    }
    if (!v->is_array() || !is_integer(v->element_type()) || v->element_type() == GgufType::kBool) {
        return wrong_type(key, *v, "array of int32");
    }
    std::vector<int32_t> out;
    out.reserve(v->size());
    for (int64_t i : v->integer_items()) {
        if (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()) {
            return Error(ErrorCode::kCorruptInput, impl_->name + ": metadata key '" + std::string(key) + "' holds " +
                                                       std::to_string(i) + ", which does not fit int32");
        }
        out.push_back(static_cast<int32_t>(i));
    }
    return out;
}

}  // namespace strongbox::inference
