#include "strongbox/inference/gguf_writer.h"

#include "strongbox/core/file.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

namespace strongbox::inference {
namespace {

using core::Error;
using core::ErrorCode;

constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;

void put_bytes(std::string & out, const void * p, size_t n) {
    out.append(static_cast<const char *>(p), n);
}

template <typename T>
void put(std::string & out, T v) {
    put_bytes(out, &v, sizeof v);
}

void put_string(std::string & out, std::string_view s) {
    put<uint64_t>(out, s.size());
    out.append(s);
}

void put_scalar(std::string & out, GgufType t, int64_t i, double f) {
    switch (t) {
    case GgufType::kUint8:
    case GgufType::kBool:
        put<uint8_t>(out, static_cast<uint8_t>(i));
        break;
    case GgufType::kInt8:
        put<int8_t>(out, static_cast<int8_t>(i));
        break;
    case GgufType::kUint16:
        put<uint16_t>(out, static_cast<uint16_t>(i));
        break;
    case GgufType::kInt16:
        put<int16_t>(out, static_cast<int16_t>(i));
        break;
    case GgufType::kUint32:
        put<uint32_t>(out, static_cast<uint32_t>(i));
        break;
    case GgufType::kInt32:
        put<int32_t>(out, static_cast<int32_t>(i));
        break;
    case GgufType::kUint64:
        put<uint64_t>(out, static_cast<uint64_t>(i));
        break;
    case GgufType::kInt64:
        put<int64_t>(out, i);
        break;
    case GgufType::kFloat32:
        put<float>(out, static_cast<float>(f));
        break;
    case GgufType::kFloat64:
        put<double>(out, f);
        break;
    case GgufType::kString:
    case GgufType::kArray:
        SB_CHECK(false);
    }
}

void put_value(std::string & out, const GgufValue & v) {
    if (!v.is_array()) {
        if (v.element_type() == GgufType::kString) {
            put_string(out, *v.as_string());
        } else if (v.element_type() == GgufType::kFloat32 || v.element_type() == GgufType::kFloat64) {
            put_scalar(out, v.element_type(), 0, *v.as_float64());
        } else {
            put_scalar(out, v.element_type(), v.integer_items()[0], 0.0);
        }
        return;
    }
    put<uint32_t>(out, static_cast<uint32_t>(v.element_type()));
    put<uint64_t>(out, v.size());
    switch (v.element_type()) {
    case GgufType::kString:
        for (const std::string & s : v.string_items()) {
            put_string(out, s);
        }
        break;
    case GgufType::kArray:
        for (const GgufValue & a : v.array_items()) {
            put_value(out, a);
        }
        break;
    case GgufType::kFloat32:
    case GgufType::kFloat64:
        for (double d : v.float_items()) {
            put_scalar(out, v.element_type(), 0, d);
        }
        break;
    default:
        for (int64_t i : v.integer_items()) {
            put_scalar(out, v.element_type(), i, 0.0);
        }
        break;
    }
}

// Closes the descriptor and removes the temp file unless released.
struct TempFile {
    int fd = -1;
    std::filesystem::path path;
    bool keep = false;
    ~TempFile() {
        if (fd >= 0) {
            ::close(fd);
        }
        if (!keep && !path.empty()) {
            ::unlink(path.c_str());
        }
    }
};

Error io_error(const char * what, const std::filesystem::path & p) {
    int e = errno;
    return Error(e == ENOSPC ? ErrorCode::kResourceExhausted : ErrorCode::kIoError,
                 std::string(what) + " " + p.string() + ": " + std::strerror(e));
}

core::Status write_all(int fd, const uint8_t * p, size_t n, const std::filesystem::path & path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error("cannot write", path);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return core::ok_status();
}

size_t padding(size_t pos, size_t alignment) {
    return (alignment - pos % alignment) % alignment;
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
    SB_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
    if (alignment != kDefaultAlignment) {
        set("general.alignment", GgufValue::of_uint32(alignment));
    }
}

void GgufWriter::set(std::string key, GgufValue value) {
    for (auto & kv : metadata_) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::remove(std::string_view key) {
    std::erase_if(metadata_, [&](const auto & kv) { return kv.first == key; });
}

std::optional<size_t> GgufWriter::tensor_bytes(TensorType type, const std::vector<uint64_t> & shape) {
    if (shape.empty() || shape.size() > 4) {
        return std::nullopt;
    }
    auto row = row_size(type, static_cast<size_t>(shape[0]));
    if (!row) {
        return std::nullopt;
    }
    uint64_t total = *row;
    for (size_t i = 1; i < shape.size(); ++i) {
        if (__builtin_mul_overflow(total, shape[i], &total)) {
            return std::nullopt;
        }
    }
    return static_cast<size_t>(total);
}

core::Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<uint64_t> shape,
                                    std::span<const uint8_t> data) {
    auto n = tensor_bytes(type, shape);
    if (n && *n != data.size()) {
        return Error(ErrorCode::kInvalidArgument, "tensor '" + name + "': " + std::to_string(data.size()) +
                                                      " bytes given, the shape needs " + std::to_string(*n));
    }
    auto copy = std::make_shared<std::vector<uint8_t>>(data.begin(), data.end());
    return add_tensor(std::move(name), type, std::move(shape), [copy](std::span<uint8_t> dst) {
        std::memcpy(dst.data(), copy->data(), dst.size());
        return core::ok_status();
    });
}

core::Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<uint64_t> shape, FillFn fill) {
    auto n = tensor_bytes(type, shape);
    if (!n) {
        return Error(ErrorCode::kInvalidArgument, "tensor '" + name + "': shape is not valid for type " +
                                                      tensor_type_name(static_cast<uint32_t>(type)));
    }
    for (const PendingTensor & t : tensors_) {
        if (t.name == name) {
            return Error(ErrorCode::kInvalidArgument, "duplicate tensor name '" + name + "'");
        }
    }
    tensors_.push_back(PendingTensor{std::move(name), type, std::move(shape), *n, std::move(fill)});
    return core::ok_status();
}

core::Status GgufWriter::write(const std::filesystem::path & path) const {
    std::string head;
    put<uint32_t>(head, kMagic);
    put<uint32_t>(head, kVersion);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, metadata_.size());
    for (const auto & [key, value] : metadata_) {
        put_string(head, key);
        put<uint32_t>(head, static_cast<uint32_t>(value.type()));
        put_value(head, value);
    }
    std::vector<uint64_t> offsets;
    uint64_t offset = 0;
    for (const PendingTensor & t : tensors_) {
        put_string(head, t.name);
        put<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
        for (uint64_t d : t.shape) {
            put<uint64_t>(head, d);
        }
        put<uint32_t>(head, static_cast<uint32_t>(t.type));
        put<uint64_t>(head, offset);
        offsets.push_back(offset);
        offset += t.n_bytes;
        offset += padding(static_cast<size_t>(offset), alignment_);
    }
    head.append(padding(head.size(), alignment_), '\0');

    TempFile tmp;
    tmp.path = core::temp_sibling(path);
    // Created afresh: a file or link already at the name is never written through.
    tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (tmp.fd < 0) {
        return io_error("cannot create", tmp.path);
    }
    SB_TRY(write_all(tmp.fd, reinterpret_cast<const uint8_t *>(head.data()), head.size(), tmp.path));
    std::vector<uint8_t> buf;
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const PendingTensor & t : tensors_) {
        buf.assign(t.n_bytes, 0);
        core::Status st = t.fill(std::span<uint8_t>(buf));
        if (!st.ok()) {
            return std::move(st).error().with_context("write " + path.string() + ": tensor '" + t.name + "'");
        }
        SB_TRY(write_all(tmp.fd, buf.data(), buf.size(), tmp.path));
        SB_TRY(write_all(tmp.fd, zeros.data(), padding(t.n_bytes, alignment_), tmp.path));
    }
    if (::fsync(tmp.fd) != 0) {
        return io_error("cannot fsync", tmp.path);
    }
    ::close(tmp.fd);
    tmp.fd = -1;
    if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
        return io_error("cannot rename into", path);
    }
    tmp.keep = true;
    return core::fsync_directory(path.parent_path());
}

}  // namespace strongbox::inference
