#include "model/model_file.h"

#include "strongbox/core/hash.h"
#include "strongbox/inference/tensor_type.h"

#include <cstdio>
#include <map>

namespace strongbox::inference::detail {

std::string shape_text(const std::vector<uint64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        s += (i ? ", " : "") + std::to_string(shape[i]);
    }
    return s + "]";
}

core::Error TensorBinder::corrupt(const std::string & what) const {
    return core::Error(core::ErrorCode::kCorruptInput, f_.name() + ": " + what);
}

core::Result<const GgufTensorInfo *> TensorBinder::tensor(const std::string & name,
                                                          const std::vector<uint64_t> & shape) const {
    const GgufTensorInfo * t = f_.find_tensor(name);
    if (t == nullptr) {
        return corrupt("tensor '" + name + "' is missing");
    }
    if (t->shape != shape) {
        return corrupt("tensor '" + name + "' has shape " + shape_text(t->shape) + ", expected " + shape_text(shape));
    }
    return t;
}

core::Result<ModelIdentity> FileIdentity::of(const GgufFile & file, const std::string & architecture,
                                             uint64_t n_params) const {
    ModelIdentity id;
    id.path = file.name();
    {
        std::lock_guard lock(mu_);
        if (!sha256_) {
            SB_ASSIGN_OR_RETURN(std::string hex, core::sha256_file_hex(file.name()));
            sha256_ = hex;
        }
        id.file_sha256 = *sha256_;
    }
    id.architecture = architecture;
    id.name = file.get_string("general.name").value_or("");
    id.n_params = n_params;
    id.file_size = file.file_size();
    for (const GgufTensorInfo & t : file.tensors()) {
        ++id.tensor_types[tensor_type_name(t.type_id)];
    }
    return id;
}

void write_file_lines(std::ostream & o, const GgufFile & f) {
    o << "file: " << f.name() << " (GGUF v" << f.version() << ", " << f.file_size() << " bytes)\n";
    o << "name: " << f.get_string("general.name").value_or("") << "\n";
}

void write_parameters_line(std::ostream & o, uint64_t n_params) {
    char millions[32];
    std::snprintf(millions, sizeof millions, "%.2fM", static_cast<double>(n_params) / 1e6);
    o << "parameters: " << n_params << " (" << millions << ")\n";
}

void write_tensor_lines(std::ostream & o, const GgufFile & f) {
    std::map<std::string, uint32_t> types;
    for (const GgufTensorInfo & t : f.tensors()) {
        ++types[tensor_type_name(t.type_id)];
    }
    o << "tensor types:";
    for (const auto & [name, n] : types) {
        o << " " << name << " x" << n;
    }
    o << "\ntensors:\n";
    for (const GgufTensorInfo & t : f.tensors()) {
        o << "  " << t.name << " " << tensor_type_name(t.type_id) << " " << shape_text(t.shape) << "\n";
    }
}

}  // namespace strongbox::inference::detail
