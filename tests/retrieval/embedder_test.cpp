#include "strongbox/retrieval/embedder.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace strongbox::retrieval;

namespace {

double cosine(const std::vector<float> & a, const std::vector<float> & b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        s += static_cast<double>(a[i]) * b[i];
    }
    return s;
}

std::vector<float> embed(const Embedder & e, const std::string & text) {
    auto v = e.embed(text);
    REQUIRE(v.ok());
    return *v;
}

}  // namespace

TEST_CASE("hashed embeddings are unit length, deterministic and sized by the identity") {
    HashedEmbedder e;
    CHECK(e.identity().to_string() == "hashed-ngram/1/384");
    auto a = embed(e, "Rotate the disk encryption keys every quarter.");
    auto b = embed(e, "Rotate the disk encryption keys every quarter.");
    REQUIRE(a.size() == 384);
    CHECK(a == b);
    CHECK(cosine(a, a) == doctest::Approx(1.0).epsilon(1e-5));
    HashedEmbedder small(64);
    CHECK(embed(small, "abc").size() == 64);
    CHECK_FALSE(small.identity() == e.identity());
}

TEST_CASE("inflected and misspelt words stay closer than unrelated text") {
    HashedEmbedder e;
    auto query = embed(e, "encryption key rotation");
    auto inflected = embed(e, "keys are rotated and encrypted");
    auto typo = embed(e, "encrpytion key rotaton");
    auto unrelated = embed(e, "the cafeteria menu lists soup and bread");
    CHECK(cosine(query, inflected) > cosine(query, unrelated) + 0.1);
    CHECK(cosine(query, typo) > cosine(query, unrelated) + 0.2);
    CHECK(cosine(query, unrelated) < 0.15);
}

TEST_CASE("text made only of stopwords or punctuation embeds to the zero vector") {
    HashedEmbedder e;
    for (const char * text : {"", "the of and", "?!... --- ***"}) {
        CAPTURE(text);
        auto v = embed(e, text);
        double norm = cosine(v, v);
        CHECK(norm == 0.0);
    }
}

TEST_CASE("batch embedding returns the same rows as single embedding") {
    HashedEmbedder e(32);
    std::vector<std::string> texts = {"first text", "second passage", "third"};
    auto batch = e.embed_batch(texts);
    REQUIRE(batch.ok());
    REQUIRE(batch->size() == 3 * 32);
    auto second = embed(e, "second passage");
    CHECK(std::vector<float>(batch->begin() + 32, batch->begin() + 64) == second);
}
