// GgufWriter: builds a GGUF v3 file (metadata + tensors) and writes it atomically.
//
// Tensors are either given as bytes or as a fill callback that produces their bytes while the
// file is written, so multi-GB models (quantizer output, benchmark models) stream to disk
// without being held in memory. The file appears under its final name only once it is complete
// and fsynced (temp file + rename), so a crash leaves no half-written model behind.
//
// Thread-safety: none; build and write from one thread.
// Errors: add_tensor() rejects duplicate names, bad shapes and byte counts that do not match
// the type (kInvalidArgument); write() returns kIoError naming the path, or the fill
// callback's error.
//
//   GgufWriter w;
//   w.set("general.architecture", GgufValue::of_string("llama"));
//   SB_TRY(w.add_tensor("output_norm.weight", TensorType::kF32, {64}, bytes));
//   SB_TRY(w.write("model.gguf"));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/tensor_type.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace strongbox::inference {

class GgufWriter {
  public:
    // Fills exactly dst.size() bytes of one tensor.
    using FillFn = std::function<core::Status(std::span<uint8_t> dst)>;

    // alignment: a power of two; stored as general.alignment when it is not the default 32.
    explicit GgufWriter(uint32_t alignment = 32);

    // Adds or replaces a metadata key (file order = first insertion order).
    void set(std::string key, GgufValue value);
    void remove(std::string_view key);

    core::Status add_tensor(std::string name, TensorType type, std::vector<uint64_t> shape,
                            std::span<const uint8_t> data);
    core::Status add_tensor(std::string name, TensorType type, std::vector<uint64_t> shape, FillFn fill);

    size_t tensor_count() const { return tensors_.size(); }

    core::Status write(const std::filesystem::path & path) const;

    // Bytes of a tensor of this type and shape; nullopt when the shape is invalid for the type.
    static std::optional<size_t> tensor_bytes(TensorType type, const std::vector<uint64_t> & shape);

  private:
    struct PendingTensor {
        std::string name;
        TensorType type;
        std::vector<uint64_t> shape;
        size_t n_bytes;
        FillFn fill;
    };

    uint32_t alignment_;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<PendingTensor> tensors_;
};

}  // namespace strongbox::inference
