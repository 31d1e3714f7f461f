// LsaEmbedder: a corpus-fitted embedder (latent semantic analysis) that needs no model file.
//
// fit() builds TF-IDF vectors of the corpus over the same hashed word and character n-gram
// features as HashedEmbedder (16,384 signed buckets), then keeps the top singular directions of
// that matrix (randomized SVD: Gaussian sketch, two power iterations, exact eigensolve of the
// small projected problem). embed() maps text to TF-IDF features and projects it onto those
// directions. Words that co-occur in the corpus ("car", "automobile" next to "engine") land close
// together, so dense search reaches passages that share no word with the query. It is still
// bag-of-words: no word order, and it only knows associations present in the fitted corpus.
//
// identity() = "lsa-hashed" / "1-<sha256 prefix of the fitted parameters>" / dimension, so any
// re-fit changes the identity and the vector index demands re-embedding.
//
// Thread-safety: a fitted embedder is immutable; embed() may run concurrently. Errors: fit()
// rejects a corpus smaller than the dimension (kInvalidArgument); load() reports damaged files
// (kCorruptInput) and I/O failures (kIoError), naming the file.
//
//   SB_ASSIGN_OR_RETURN(LsaEmbedder lsa, LsaEmbedder::fit(chunk_texts, 128));
//   SB_TRY(lsa.save(data_dir / "embedder.lsa"));
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/retrieval/embedder.h"

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace strongbox::retrieval {

class LsaEmbedder final : public Embedder {
  public:
    static constexpr int kBuckets = 16384;

    static core::Result<LsaEmbedder> fit(std::span<const std::string> corpus, int dimension = 128, uint32_t seed = 1);
    static core::Result<LsaEmbedder> load(const std::filesystem::path & path);
    core::Status save(const std::filesystem::path & path) const;

    EmbedderIdentity identity() const override;
    core::Result<std::vector<float>> embed(std::string_view text) const override;

  private:
    LsaEmbedder(int dimension, std::vector<float> idf, std::vector<float> projection);

    int dimension_;
    std::vector<float> idf_;         // kBuckets
    std::vector<float> projection_;  // dimension x kBuckets, row-major
    std::string version_;
};

}  // namespace strongbox::retrieval
