// GgufFile: a GGUF model file (versions 2 and 3) opened read-only over a memory map.
//
// open() parses the header, the metadata key/value pairs and the tensor directory, checking
// every count, length, offset and size against the file with overflow-safe arithmetic, so a
// GgufFile that exists is internally consistent: each GgufTensorInfo::data points at n_bytes
// that lie inside the mapping. Tensor bytes are never copied; they stay valid while the
// GgufFile lives (moving it keeps them valid, the mapping does not move).
//
// Thread-safety: a GgufFile is immutable after open(); concurrent readers are fine.
// Errors: open() returns kIoError (cannot open/map), kUnsupported (GGUF v1, future versions) or
// kCorruptInput (anything malformed), with a message naming the file, the field and, where it
// helps, the byte offset. Typed metadata getters return kNotFound for a missing key and
// kCorruptInput for a key of the wrong type.
//
//   SB_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open("model.gguf"));
//   SB_ASSIGN_OR_RETURN(std::string arch, f.get_string("general.architecture"));
//   const GgufTensorInfo * emb = f.find_tensor("token_embd.weight");
#pragma once

#include "strongbox/core/result.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strongbox::inference {

// GGUF metadata value type ids (on-disk values; never renumber).
enum class GgufType : uint32_t {
    kUint8 = 0,
    kInt8 = 1,
    kUint16 = 2,
    kInt16 = 3,
    kUint32 = 4,
    kInt32 = 5,
    kFloat32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kUint64 = 10,
    kInt64 = 11,
    kFloat64 = 12,
};

std::string_view gguf_type_name(GgufType type);

// One metadata value: a scalar, a string, or an array of one element type (arrays may nest).
class GgufValue {
  public:
    GgufValue() = default;

    static GgufValue of_uint8(uint8_t v) { return integer(GgufType::kUint8, v); }
    static GgufValue of_int8(int8_t v) { return integer(GgufType::kInt8, v); }
    static GgufValue of_uint16(uint16_t v) { return integer(GgufType::kUint16, v); }
    static GgufValue of_int16(int16_t v) { return integer(GgufType::kInt16, v); }
    static GgufValue of_uint32(uint32_t v) { return integer(GgufType::kUint32, v); }
    static GgufValue of_int32(int32_t v) { return integer(GgufType::kInt32, v); }
    static GgufValue of_uint64(uint64_t v) { return integer(GgufType::kUint64, static_cast<int64_t>(v)); }
    static GgufValue of_int64(int64_t v) { return integer(GgufType::kInt64, v); }
    static GgufValue of_float32(float v);
    static GgufValue of_float64(double v);
    static GgufValue of_bool(bool v) { return integer(GgufType::kBool, v ? 1 : 0); }
    static GgufValue of_string(std::string v);
    static GgufValue of_string_array(std::vector<std::string> v);
    static GgufValue of_float32_array(std::span<const float> v);
    static GgufValue of_int32_array(std::span<const int32_t> v);
    // An array of kFloat32 or kFloat64 elements.
    static GgufValue of_float_array(GgufType element_type, std::vector<double> v);
    // An array of integers of element_type (one of the integer types or kBool).
    static GgufValue of_integer_array(GgufType element_type, std::vector<int64_t> v);
    static GgufValue of_array_of_arrays(std::vector<GgufValue> v);

    GgufType type() const { return is_array_ ? GgufType::kArray : type_; }
    bool is_array() const { return is_array_; }
    // For arrays: the element type; for scalars: type().
    GgufType element_type() const { return type_; }
    // Number of array elements (1 for a scalar).
    size_t size() const;

    // Scalar views; nullopt when the value is an array or of another kind. Integer conversions
    // succeed only when the value fits the requested type.
    std::optional<uint64_t> as_uint64() const;
    std::optional<int64_t> as_int64() const;
    std::optional<double> as_float64() const;  // float32 and float64 values
    std::optional<bool> as_bool() const;
    std::optional<std::string_view> as_string() const;

    // Array views; empty when the array holds another element kind.
    std::span<const std::string> string_items() const;
    std::span<const int64_t> integer_items() const;  // uint64 items are stored bit-cast
    std::span<const double> float_items() const;
    std::span<const GgufValue> array_items() const;

    // One-line rendering for `strongbox model info` (arrays abbreviated).
    std::string describe() const;

  private:
    static GgufValue integer(GgufType t, int64_t v);

    GgufType type_ = GgufType::kUint8;
    bool is_array_ = false;
    std::vector<int64_t> ints_;
    std::vector<double> floats_;
    std::vector<std::string> strings_;
    std::vector<GgufValue> arrays_;
};

struct GgufTensorInfo {
    std::string name;
    uint32_t type_id = 0;         // a TensorType value; open() rejects unknown ids
    std::vector<uint64_t> shape;  // ne[0] first = row length; 1 to 4 dimensions
    uint64_t offset = 0;          // from the start of the data section
    size_t n_bytes = 0;
    const uint8_t * data = nullptr;

    uint64_t n_elements() const;
    uint64_t n_rows() const;  // product of shape[1..]
};

class GgufFile {
  public:
    static core::Result<GgufFile> open(const std::filesystem::path & path);
    // Parses bytes held in memory (tests, fuzzing); `name` stands for the file in messages.
    static core::Result<GgufFile> from_bytes(std::string bytes, std::string name);

    GgufFile(GgufFile &&) noexcept;
    GgufFile & operator=(GgufFile &&) noexcept;
    GgufFile(const GgufFile &) = delete;
    GgufFile & operator=(const GgufFile &) = delete;
    ~GgufFile();

    uint32_t version() const;
    const std::string & name() const;  // the path or name given to open()/from_bytes()
    uint32_t alignment() const;
    size_t file_size() const;
    size_t data_offset() const;  // where the tensor data section starts

    // Metadata in file order.
    const std::vector<std::pair<std::string, GgufValue>> & metadata() const;
    const GgufValue * find(std::string_view key) const;

    core::Result<std::string> get_string(std::string_view key) const;
    core::Result<uint32_t> get_uint32(std::string_view key) const;  // any integer type, if it fits
    core::Result<int32_t> get_int32(std::string_view key) const;
    core::Result<uint64_t> get_uint64(std::string_view key) const;
    core::Result<float> get_float32(std::string_view key) const;  // float32 or float64
    core::Result<bool> get_bool(std::string_view key) const;
    core::Result<std::span<const std::string>> get_string_array(std::string_view key) const;
    core::Result<std::vector<float>> get_float32_array(std::string_view key) const;
    core::Result<std::vector<int32_t>> get_int32_array(std::string_view key) const;

    const std::vector<GgufTensorInfo> & tensors() const;
    const GgufTensorInfo * find_tensor(std::string_view name) const;

  private:
    struct Impl;
    explicit GgufFile(std::unique_ptr<Impl> impl);
    core::Error missing(std::string_view key) const;
    core::Error wrong_type(std::string_view key, const GgufValue & v, std::string_view expected) const;

    std::unique_ptr<Impl> impl_;
};

}  // namespace strongbox::inference
