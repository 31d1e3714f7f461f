// The GGUF side that Model and EmbeddingModel share: tensors looked up by name with their shapes
// checked, the file's identity (its sha256 hashed once, on first request), and the lines of
// `strongbox model info` that describe the file rather than the network.
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/inference/gguf.h"
#include "strongbox/inference/model.h"

#include <cstdint>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace strongbox::inference::detail {

// "[a, b, c]"
std::string shape_text(const std::vector<uint64_t> & shape);

// Errors name the file and the tensor. Each model's binder adds the typed lookups it needs.
class TensorBinder {
  public:
    explicit TensorBinder(const GgufFile & f) : f_(f) {}

    core::Error corrupt(const std::string & what) const;
    // kCorruptInput when the tensor is missing or its shape is not `shape`.
    core::Result<const GgufTensorInfo *> tensor(const std::string & name, const std::vector<uint64_t> & shape) const;

  protected:
    const GgufFile & f_;
};

// A model's identity; the file is hashed on the first call only. Thread-safe.
class FileIdentity {
  public:
    core::Result<ModelIdentity> of(const GgufFile & file, const std::string & architecture, uint64_t n_params) const;

  private:
    mutable std::mutex mu_;
    mutable std::optional<std::string> sha256_;
};

// "file: ... (GGUF vN, B bytes)" and "name: ..." lines.
void write_file_lines(std::ostream & o, const GgufFile & f);
// "parameters: N (x.xxM)" line.
void write_parameters_line(std::ostream & o, uint64_t n_params);
// "tensor types: T xN ..." then every tensor with its type and shape.
void write_tensor_lines(std::ostream & o, const GgufFile & f);

}  // namespace strongbox::inference::detail
