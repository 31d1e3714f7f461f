// Embedder: turns text into a fixed-length, L2-normalised float vector for dense retrieval.
//
// identity() names the embedding space (name, version, dimension, parameter hash). Vectors from
// different identities are not comparable, so the vector index stores the identity it was built
// with and refuses to open under another one. A model-backed embedder (a GGUF sentence-embedding
// model of the BERT family run by the inference runtime) implements this interface where
// inference is wired in (appliance), with name = the model name and version = the sha256 of the
// model file, so swapping the file is detected on open and asks for a re-embed.
//
// HashedEmbedder is the built-in embedder that needs no model file. It is lexical: signed feature
// hashing of word unigrams and character 3-5-grams of each word (with word-boundary markers),
// sublinear term frequency (1 + ln tf), stopwords dropped, L2-normalised. It matches texts that
// share words or word pieces, so it tolerates inflection ("encrypt"/"encrypted"), compounds and
// small typos. It is NOT semantic: synonyms and paraphrases with no shared pieces score near zero.
//
// Thread-safety: embed() and embed_batch() are const and safe to call concurrently.
// Errors: model-backed embedders may fail (kUnavailable, kInternal); HashedEmbedder never fails.
//
//   HashedEmbedder embedder;                       // 384 dimensions
//   SB_ASSIGN_OR_RETURN(std::vector<float> v, embedder.embed("disk encryption keys"));
#pragma once

#include "strongbox/core/result.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::retrieval {

struct EmbedderIdentity {
    std::string name;     // e.g. "hashed-ngram"
    std::string version;  // changes whenever the same text would embed differently
    int dimension = 0;

    // "hashed-ngram/1/384": stored beside the vector index and compared on open.
    std::string to_string() const;

    bool operator==(const EmbedderIdentity &) const = default;
};

class Embedder {
  public:
    virtual ~Embedder() = default;

    virtual EmbedderIdentity identity() const = 0;

    // One L2-normalised vector of identity().dimension floats. Text without any feature gives the
    // zero vector (it is similar to nothing).
    virtual core::Result<std::vector<float>> embed(std::string_view text) const = 0;

    // Row-major texts.size() x dimension; the default embeds one text at a time.
    virtual core::Result<std::vector<float>> embed_batch(std::span<const std::string> texts) const;
};

class HashedEmbedder final : public Embedder {
  public:
    static constexpr int kDefaultDimension = 384;

    explicit HashedEmbedder(int dimension = kDefaultDimension);

    EmbedderIdentity identity() const override;
    core::Result<std::vector<float>> embed(std::string_view text) const override;

  private:
    int dimension_;
};

}  // namespace strongbox::retrieval
