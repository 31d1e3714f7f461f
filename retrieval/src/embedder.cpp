#include "strongbox/retrieval/embedder.h"

#include "feature_hashing.h"
#include "tokenize.h"

#include "strongbox/core/text.h"

#include <cmath>
#include <unordered_map>

namespace strongbox::retrieval {

std::string EmbedderIdentity::to_string() const {
    return name + "/" + version + "/" + std::to_string(dimension);
}

core::Result<std::vector<float>> Embedder::embed_batch(std::span<const std::string> texts) const {
    const auto dim = static_cast<size_t>(identity().dimension);
    std::vector<float> out;
    out.reserve(texts.size() * dim);
    for (const auto & text : texts) {
        SB_ASSIGN_OR_RETURN(std::vector<float> v, embed(text));
        SB_CHECK(v.size() == dim);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

HashedEmbedder::HashedEmbedder(int dimension) : dimension_(dimension) {
    SB_CHECK(dimension > 0);
}

EmbedderIdentity HashedEmbedder::identity() const {
    // Bump the version whenever features, weights or the hash change.
    return EmbedderIdentity{"hashed-ngram", "1", dimension_};
}

core::Result<std::vector<float>> HashedEmbedder::embed(std::string_view text) const {
    std::vector<float> v(static_cast<size_t>(dimension_), 0.0f);
    detail::for_each_feature(text, [&](uint64_t hash, float weight) {
        size_t bucket = hash % static_cast<uint64_t>(dimension_);
        v[bucket] += (hash >> 63) != 0 ? -weight : weight;
    });
    detail::l2_normalise(v);
    return v;
}

}  // namespace strongbox::retrieval
