#include "strongbox/retrieval/lsa_embedder.h"

#include "test_support.h"

#include "strongbox/core/file.h"

#include <doctest/doctest.h>

#include <random>

using namespace strongbox;
using namespace strongbox::retrieval;
using retrieval::testing::TempDir;

namespace {

// Three topics; within a topic, synonyms appear in different texts but share context words.
std::vector<std::string> topical_corpus() {
    const std::vector<std::vector<std::string>> topics = {
        {"car", "automobile", "vehicle"},
        {"soup", "broth", "stew"},
        {"invoice", "bill", "receipt"},
    };
    const std::vector<std::vector<std::string>> context = {
        {"engine", "wheels", "garage", "mechanic", "tyres", "brakes", "fuel"},
        {"recipe", "onions", "kitchen", "simmer", "pepper", "carrots", "ladle"},
        {"payment", "bank", "accounts", "overdue", "ledger", "supplier", "amount"},
    };
    std::mt19937 rng(3);
    std::vector<std::string> corpus;
    for (int i = 0; i < 240; ++i) {
        size_t t = static_cast<size_t>(i % 3);
        std::string text = topics[t][rng() % 3];
        for (int w = 0; w < 4; ++w) {
            text += " " + context[t][rng() % context[t].size()];
        }
        corpus.push_back(text);
    }
    return corpus;
}

double cosine(const Embedder & e, const std::string & a, const std::string & b) {
    auto va = e.embed(a);
    auto vb = e.embed(b);
    REQUIRE(va.ok());
    REQUIRE(vb.ok());
    double s = 0;
    for (size_t i = 0; i < va->size(); ++i) {
        s += static_cast<double>((*va)[i]) * (*vb)[i];
    }
    return s;
}

}  // namespace

TEST_CASE("an LSA embedder relates words that only share contexts in the corpus") {
    auto corpus = topical_corpus();
    auto lsa = LsaEmbedder::fit(corpus, 8);
    REQUIRE_MESSAGE(lsa.ok(), (lsa.ok() ? "" : lsa.error().message()));
    CHECK(lsa->identity().name == "lsa-hashed");
    CHECK(lsa->identity().dimension == 8);
    double related = cosine(*lsa, "automobile", "car garage");
    double unrelated = cosine(*lsa, "automobile", "soup kitchen");
    CAPTURE(related);
    CAPTURE(unrelated);
    CHECK(related > 0.3);
    CHECK(related > unrelated + 0.25);
    // The purely lexical embedder cannot see this relation.
    HashedEmbedder hashed;
    CHECK(cosine(hashed, "automobile", "car garage") < 0.2);
}

TEST_CASE("a re-fitted LSA embedder gets a new identity and a saved one loads unchanged") {
    auto corpus = topical_corpus();
    auto a = LsaEmbedder::fit(corpus, 8, 1);
    auto b = LsaEmbedder::fit(std::span<const std::string>(corpus.data(), 200), 8, 1);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK_FALSE(a->identity() == b->identity());
    TempDir dir("lsa_io");
    REQUIRE(a->save(dir / "e.lsa").ok());
    auto loaded = LsaEmbedder::load(dir / "e.lsa");
    REQUIRE(loaded.ok());
    CHECK(loaded->identity() == a->identity());
    CHECK(*loaded->embed("mechanic brakes") == *a->embed("mechanic brakes"));
    auto bytes = core::read_file(dir / "e.lsa");
    REQUIRE(bytes.ok());
    REQUIRE(core::write_file_atomic(dir / "t.lsa", bytes->substr(0, bytes->size() - 100)).ok());
    auto truncated = LsaEmbedder::load(dir / "t.lsa");
    REQUIRE_FALSE(truncated.ok());
    CHECK(truncated.error().code() == core::ErrorCode::kCorruptInput);
    CHECK(LsaEmbedder::fit(std::span<const std::string>(corpus.data(), 4), 8).error().code() ==
          core::ErrorCode::kInvalidArgument);
}
