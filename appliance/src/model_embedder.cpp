#include "model_embedder.h"

#include "settings_store.h"

#include "strongbox/appliance/data_dir.h"
#include "strongbox/inference/embedding_model.h"
#include "strongbox/inference/gguf.h"

namespace strongbox::appliance {

ModelEmbedder::ModelEmbedder(std::unique_ptr<inference::EmbeddingModel> model, retrieval::EmbedderIdentity identity)
    : model_(std::move(model)), identity_(std::move(identity)) {}

ModelEmbedder::~ModelEmbedder() = default;

core::Result<std::shared_ptr<ModelEmbedder>> ModelEmbedder::open(const std::filesystem::path & model_path,
                                                                 int n_threads) {
    auto model = inference::EmbeddingModel::open(model_path, {.n_threads = n_threads});
    if (!model.ok()) {
        return std::move(model).error().with_context("open the embedding model " + model_path.string());
    }
    // Hashing reads the file once (a fraction of a second for MiniLM-sized models).
    auto id = (*model)->identity();
    if (!id.ok()) {
        return std::move(id).error().with_context("hash the embedding model " + model_path.string());
    }
    retrieval::EmbedderIdentity identity;
    identity.name = id->name.empty() ? model_path.filename().string() : id->name;
    identity.version = id->file_sha256;
    identity.dimension = static_cast<int>((*model)->dimension());
    return std::shared_ptr<ModelEmbedder>(new ModelEmbedder(std::move(model).value(), std::move(identity)));
}

core::Result<std::vector<float>> ModelEmbedder::embed(std::string_view text) const {
    SB_ASSIGN_OR_RETURN(auto vectors, model_->embed({std::string(text)}));
    return std::move(vectors.front());
}

core::Result<std::vector<float>> ModelEmbedder::embed_batch(std::span<const std::string> texts) const {
    SB_ASSIGN_OR_RETURN(auto vectors, model_->embed(std::vector<std::string>(texts.begin(), texts.end())));
    std::vector<float> out;
    out.reserve(texts.size() * model_->dimension());
    for (const std::vector<float> & v : vectors) {
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

core::Result<std::shared_ptr<const retrieval::Embedder>> open_embedder(const std::filesystem::path & model_path,
                                                                       int n_threads) {
    if (model_path.empty()) {
        return std::shared_ptr<const retrieval::Embedder>(std::make_shared<retrieval::HashedEmbedder>());
    }
    SB_ASSIGN_OR_RETURN(std::shared_ptr<ModelEmbedder> model, ModelEmbedder::open(model_path, n_threads));
    return std::shared_ptr<const retrieval::Embedder>(std::move(model));
}

core::Result<std::filesystem::path> configured_embedding_model(const std::filesystem::path & cli_path,
                                                               const std::filesystem::path & data_dir) {
    if (!cli_path.empty()) {
        return cli_path;
    }
    SB_ASSIGN_OR_RETURN(auto store, SettingsStore::open(DataPaths{data_dir}.settings()));
    const core::Json stored = store->get("embedding_model");
    return std::filesystem::path(stored.is_string() ? stored.as_string() : std::string());
}

std::string check_embedding_model_file(const std::filesystem::path & path) {
    std::error_code ec;
    if (!path.is_absolute() || path.extension() != ".gguf") {
        return "must be the absolute path of a .gguf file, or \"\" for the built-in embedder";
    }
    if (!std::filesystem::is_regular_file(path, ec)) {
        return "no such file: " + path.string();
    }
    auto file = inference::GgufFile::open(path);
    if (!file.ok()) {
        return "cannot read " + path.string() + ": " + file.error().message();
    }
    const std::string arch = file->get_string("general.architecture").value_or("");
    if (arch != "bert") {
        return path.filename().string() + " is a '" + arch + "' model, not a BERT sentence-embedding model";
    }
    return "";
}

}  // namespace strongbox::appliance
