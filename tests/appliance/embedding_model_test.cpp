// A BERT sentence-embedding model as the appliance's dense-retrieval embedder: chosen from the
// command line or the saved setting, its vectors in the index, its identity recorded and checked.
// The model is tiny with random weights: these tests prove the wiring, not semantic quality.

#include "strongbox/inference/embedding_model.h"

#include "model_embedder.h"
#include "settings_store.h"
#include "test_support.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "../inference/bert_fixture.h"
#include <unistd.h>

using namespace strongbox;
using appliance::testing::TempDir;
using inference::testing::TinyBert;
namespace fs = std::filesystem;

namespace {

const fs::path kStrongbox = fs::path(SB_BINARY_DIR) / "appliance" / "strongbox";

// Per process: several build trees may run this suite at once.
std::string unique(const std::string & stem) {
    return stem + "_" + std::to_string(::getpid());
}

fs::path write_model(const fs::path & dir, const std::string & file, uint64_t seed) {
    TinyBert m;
    m.seed = seed;
    m.randomize();
    const fs::path p = dir / file;
    REQUIRE(m.write(p).ok());
    return p;
}

std::vector<fs::path> write_passages(const fs::path & dir) {
    const std::array<std::pair<const char *, const char *>, 3> texts = {{
        {"keys.txt", "Disk encryption keys are rotated every ninety days by the security team."},
        {"backup.txt", "The nightly backup job copies the database to the NAS and keeps fourteen snapshots."},
        {"cooling.txt", "If the server room passes thirty degrees, call facilities and shut down the test racks."},
    }};
    std::vector<fs::path> paths;
    for (const auto & [name, text] : texts) {
        paths.push_back(dir / name);
        REQUIRE(core::write_file_atomic(paths.back(), text).ok());
    }
    return paths;
}

core::Result<std::unique_ptr<appliance::Appliance>> open_app(const fs::path & data, const fs::path & model) {
    appliance::Settings s;
    s.data_dir = data;
    s.embedding_model_path = model;
    s.model_threads = 1;
    return appliance::Appliance::open(s);
}

retrieval::EmbedderIdentity expected_identity(const fs::path & model) {
    return {"tiny-bert", core::sha256_file_hex(model).value(), 32};
}

}  // namespace

TEST_CASE("with an embedding model configured, ingested passages carry its vectors and the index its identity") {
    TempDir dir(unique("sb_bert_ingest"));
    const fs::path model = write_model(dir.path, "tiny-bert.gguf", 1);
    const std::vector<fs::path> files = write_passages(dir.path);
    auto app = open_app(dir.path / "data", model);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    appliance::IngestReport report = (*app)->ingest(files, [](size_t, size_t, const appliance::IngestFileResult &) {});
    REQUIRE(report.count(appliance::IngestFileResult::Outcome::kAdded) == 3);

    const retrieval::EmbedderIdentity id = expected_identity(model);
    CHECK((*app)->retriever().embedder().identity() == id);
    CHECK((*app)->retriever().vectors().identity() == id);
    CHECK((*app)->health().get_string("embedder") == id.to_string());

    // Each stored vector is the model's embedding of its chunk: embedding the chunk text with the
    // model on its own finds that chunk at cosine similarity 1.
    auto direct = inference::EmbeddingModel::open(model);
    REQUIRE(direct.ok());
    auto hits = (*app)->search("backup keys server", 10, (*app)->all_collections());
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 3);
    for (const retrieval::SearchHit & hit : *hits) {
        auto v = (*direct)->embed({hit.text});
        REQUIRE(v.ok());
        auto nearest = (*app)->retriever().vectors().search((*v)[0], 1);
        REQUIRE(nearest.ok());
        REQUIRE(nearest->size() == 1);
        CHECK(nearest->front().chunk_id == hit.chunk_id);
        CHECK(nearest->front().similarity > 0.9999f);
    }
}

TEST_CASE("an index built with one embedding model refuses another model or the built-in embedder: re-embed") {
    TempDir dir(unique("sb_bert_mismatch"));
    const fs::path model = write_model(dir.path, "tiny-bert.gguf", 1);
    const fs::path other = write_model(dir.path, "tiny-bert-retrained.gguf", 2);  // same name, other weights
    const fs::path data = dir.path / "data";
    {
        auto app = open_app(data, model);
        REQUIRE_MESSAGE(app.ok(), app.error().to_string());
        auto report =
            (*app)->ingest(write_passages(dir.path), [](size_t, size_t, const appliance::IngestFileResult &) {});
        REQUIRE(report.count(appliance::IngestFileResult::Outcome::kAdded) == 3);
    }
    auto swapped = open_app(data, other);
    REQUIRE_FALSE(swapped.ok());
    INFO(swapped.error().to_string());
    CHECK(swapped.error().message().find("re-embed the corpus") != std::string::npos);
    CHECK(swapped.error().message().find(expected_identity(model).to_string()) != std::string::npos);
    CHECK(swapped.error().message().find(expected_identity(other).to_string()) != std::string::npos);

    auto builtin = open_app(data, "");
    REQUIRE_FALSE(builtin.ok());
    CHECK(builtin.error().message().find("re-embed the corpus") != std::string::npos);

    auto same = open_app(data, model);
    REQUIRE_MESSAGE(same.ok(), same.error().to_string());
    CHECK((*same)->retriever().vectors().size() == 3);
}

TEST_CASE("the embedding_model setting accepts only BERT GGUF files and picks the model when the appliance opens") {
    TempDir dir(unique("sb_bert_setting"));
    const fs::path model = write_model(dir.path, "tiny-bert.gguf", 1);
    const fs::path data = dir.path / "data";
    fs::create_directories(data);
    auto store = appliance::SettingsStore::open(data / "settings.json");
    REQUIRE(store.ok());
    CHECK((*store)->get("embedding_model").as_string().empty());

    auto refused = [&](const std::string & value) {
        core::Json change = core::Json::object();
        change["embedding_model"] = value;
        auto r = (*store)->update(change);
        REQUIRE(r.ok());
        REQUIRE(r->refused.count("embedding_model") == 1);
        return r->refused.at("embedding_model");
    };
    CHECK(refused("tiny-bert.gguf").find("must be the absolute path of a .gguf file") != std::string::npos);
    CHECK(refused((dir.path / "absent.gguf").string()).find("no such file") != std::string::npos);
    const fs::path llama = fs::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf";
    CHECK(refused(llama.string()) == "stories260K.gguf is a 'llama' model, not a BERT sentence-embedding model");

    core::Json change = core::Json::object();
    change["embedding_model"] = model.string();
    auto applied = (*store)->update(change);
    REQUIRE(applied.ok());
    REQUIRE(applied->refused.empty());
    store->reset();

    auto app = open_app(data, "");  // nothing on the command line: the saved setting applies
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    CHECK((*app)->retriever().embedder().identity() == expected_identity(model));
    app->reset();

    // The model file goes away: the appliance names it rather than falling back to another embedder.
    fs::remove(model);
    auto without = open_app(data, "");
    REQUIRE_FALSE(without.ok());
    CHECK(without.error().message().find("open the embedding model " + model.string()) != std::string::npos);
    auto reopened = appliance::SettingsStore::open(data / "settings.json");
    REQUIRE(reopened.ok());
    CHECK((*reopened)->get("embedding_model").as_string() == model.string());
}

TEST_CASE("strongbox model info prints a BERT encoder's architecture and pooling") {
    TempDir dir(unique("sb_bert_info"));
    const fs::path model = write_model(dir.path, "tiny-bert.gguf", 1);
    const std::string cmd = kStrongbox.string() + " model info " + model.string() + " 2>&1";
    FILE * pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        out.append(buf.data(), n);
    }
    CHECK(::pclose(pipe) == 0);
    CHECK(out.find("architecture: bert (sentence embedding encoder)") != std::string::npos);
    CHECK(out.find("pooling: mean, L2-normalised") != std::string::npos);
    CHECK(out.find("embedding_length: 32") != std::string::npos);
}
