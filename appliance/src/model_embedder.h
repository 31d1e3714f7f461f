// ModelEmbedder: retrieval's Embedder backed by a BERT sentence-embedding model run by the
// inference runtime. retrieval and inference never see each other; this adapter is the one place
// they meet.
//
// identity() = {general.name (the file name when the model has none), sha256 of the model file,
// embedding dimension}: the vector index records it, so replacing the model file, even with one
// of the same name, is caught on open with the index's "re-embed the corpus" error.
//
// Thread-safety: embed() and embed_batch() may be called from any thread; the model serialises
// its forward passes. Errors: open() returns the EmbeddingModel errors with the path; embedding
// does not fail for text input.
//
//   SB_ASSIGN_OR_RETURN(auto embedder, open_embedder(settings.embedding_model_path, 2));
//   SB_ASSIGN_OR_RETURN(Retriever r, Retriever::open(options, embedder));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/retrieval/embedder.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::inference {
class EmbeddingModel;
}

namespace strongbox::appliance {

class ModelEmbedder final : public retrieval::Embedder {
  public:
    static core::Result<std::shared_ptr<ModelEmbedder>> open(const std::filesystem::path & model_path, int n_threads);
    ~ModelEmbedder() override;

    retrieval::EmbedderIdentity identity() const override { return identity_; }
    core::Result<std::vector<float>> embed(std::string_view text) const override;
    // One forward pass over all texts (the model groups them by its token budget).
    core::Result<std::vector<float>> embed_batch(std::span<const std::string> texts) const override;

  private:
    ModelEmbedder(std::unique_ptr<inference::EmbeddingModel> model, retrieval::EmbedderIdentity identity);

    std::unique_ptr<inference::EmbeddingModel> model_;
    retrieval::EmbedderIdentity identity_;
};

// The embedder the appliance runs with: the model at `model_path`, or the built-in
// HashedEmbedder when the path is empty.
core::Result<std::shared_ptr<const retrieval::Embedder>> open_embedder(const std::filesystem::path & model_path,
                                                                       int n_threads);

// The embedding model an appliance over `data_dir` runs with: `cli_path` when given, else the
// stored setting "embedding_model" of <data_dir>/settings.json, else empty (built-in embedder).
core::Result<std::filesystem::path> configured_embedding_model(const std::filesystem::path & cli_path,
                                                               const std::filesystem::path & data_dir);

// "" when `path` names a BERT sentence-embedding GGUF file, else why not (settings validation).
std::string check_embedding_model_file(const std::filesystem::path & path);

}  // namespace strongbox::appliance
