#include "strongbox/inference/gguf.h"

#include "strongbox/inference/gguf_writer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(SB_TEST_DATA_DIR) / "inference";

// Builds GGUF bytes by hand so each test can break exactly one field.
struct Bytes {
    std::string s;
    template <typename T>
    Bytes & put(T v) {
        s.append(reinterpret_cast<const char *>(&v), sizeof v);
        return *this;
    }
    Bytes & str(std::string_view v) {
        put<uint64_t>(v.size());
        s.append(v);
        return *this;
    }
    Bytes & header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
        s.append("GGUF");
        return put(version).put(n_tensors).put(n_kv);
    }
    Bytes & kv_u32(std::string_view key, uint32_t v) { return str(key).put<uint32_t>(4).put(v); }
    Bytes & kv_str(std::string_view key, std::string_view v) { return str(key).put<uint32_t>(8).str(v); }
    Bytes & tensor(std::string_view name, std::initializer_list<uint64_t> shape, uint32_t type, uint64_t offset) {
        str(name).put<uint32_t>(static_cast<uint32_t>(shape.size()));
        for (uint64_t d : shape) {
            put(d);
        }
        return put(type).put(offset);
    }
    Bytes & pad(size_t alignment = 32) {
        s.append((alignment - s.size() % alignment) % alignment, '\0');
        return *this;
    }
    Bytes & zeros(size_t n) {
        s.append(n, '\0');
        return *this;
    }
};

std::string open_error(const std::string & bytes) {
    auto r = GgufFile::from_bytes(bytes, "case.gguf");
    REQUIRE_FALSE(r.ok());
    return r.error().message();
}

// A valid file: two KV pairs, one F32 tensor of 8 floats.
Bytes valid_file() {
    Bytes b;
    b.header(3, 1, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 5);
    b.tensor("w", {8}, 0, 0).pad();
    for (int i = 0; i < 8; ++i) {
        b.put<float>(static_cast<float>(i));
    }
    return b;
}

}  // namespace

TEST_CASE("stories260K GGUF v3 opens with its metadata and 48 tensors inside the mapping") {
    auto f = GgufFile::open(kData / "stories260K.gguf");
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    CHECK(f->version() == 3);
    CHECK(f->get_string("general.architecture").value() == "llama");
    CHECK(f->get_uint32("llama.embedding_length").value() == 64);
    CHECK(f->get_uint32("llama.block_count").value() == 5);
    CHECK(f->get_string_array("tokenizer.ggml.tokens")->size() == 512);
    CHECK(f->get_float32_array("tokenizer.ggml.scores")->size() == 512);
    CHECK(f->get_int32_array("tokenizer.ggml.token_type")->size() == 512);
    CHECK(f->tensors().size() == 48);
    const GgufTensorInfo * emb = f->find_tensor("token_embd.weight");
    REQUIRE(emb != nullptr);
    CHECK(emb->shape == std::vector<uint64_t>{64, 512});
    CHECK(emb->n_bytes == 64u * 512u * 4u);
    for (const GgufTensorInfo & t : f->tensors()) {
        CHECK(t.offset + t.n_bytes <= f->file_size() - f->data_offset());
        CHECK(t.data == emb->data - emb->offset + t.offset);
    }
    CHECK(f->find_tensor("no.such.tensor") == nullptr);
}

TEST_CASE("typed metadata getters name the key when it is missing or of another type") {
    auto f = GgufFile::from_bytes(valid_file().s, "mem.gguf");
    REQUIRE(f.ok());
    auto missing = f->get_uint32("llama.context_length");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == strongbox::core::ErrorCode::kNotFound);
    CHECK(missing.error().message() == "mem.gguf: metadata key 'llama.context_length' is missing");
    auto wrong = f->get_string("llama.block_count");
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().message() == "mem.gguf: metadata key 'llama.block_count' is uint32, expected string");
    CHECK(f->get_int32("llama.block_count").value() == 5);
    CHECK(f->get_uint64("llama.block_count").value() == 5u);
}

TEST_CASE("GGUF v1 files are rejected as unsupported naming the file") {
    const fs::path p = kData / "stories260K-v1-head.gguf";
    auto f = GgufFile::open(p);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code() == strongbox::core::ErrorCode::kUnsupported);
    CHECK(f.error().message().find(p.string() + ": unsupported GGUF version 1") == 0);
}

TEST_CASE("a missing file is reported as not found with its path") {
    auto f = GgufFile::open(kData / "absent.gguf");
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code() == strongbox::core::ErrorCode::kNotFound);
    CHECK(f.error().message().find("absent.gguf: cannot open") != std::string::npos);
}

TEST_CASE("bad magic is rejected showing the bytes found") {
    std::string b = valid_file().s;
    b[0] = 'X';
    CHECK(open_error(b) == "case.gguf: bad magic 'XGUF' (expected 'GGUF')");
}

TEST_CASE("a future GGUF version is rejected as unsupported") {
    Bytes b;
    b.header(4, 0, 0);
    auto r = GgufFile::from_bytes(b.s, "case.gguf");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == strongbox::core::ErrorCode::kUnsupported);
    CHECK(r.error().message() == "case.gguf: unsupported GGUF version 4");
}

TEST_CASE("truncated GGUF header is rejected with the offset") {
    std::string b = valid_file().s.substr(0, 12);
    CHECK(open_error(b) == "case.gguf: truncated file: tensor count at offset 8 needs 8 bytes, 4 left");
}

TEST_CASE("truncated metadata value is rejected with the offset") {
    Bytes b;
    b.header(3, 0, 1).str("general.name").put<uint32_t>(4);  // uint32 value missing
    CHECK(open_error(b.s) == "case.gguf: truncated file: uint32 value at offset 48 needs 4 bytes, 0 left");
}

TEST_CASE("tensor data past the end of the file is rejected naming the tensor") {
    std::string b = valid_file().s;
    b.resize(b.size() - 4);
    CHECK(open_error(b) ==
          "case.gguf: tensor 'w': data at offset 0 + 32 bytes runs past the end of the data section (28 bytes)");
}

TEST_CASE("misaligned tensor offsets are rejected") {
    Bytes b;
    b.header(3, 1, 0).tensor("w", {8}, 0, 4).pad().zeros(64);
    CHECK(open_error(b.s) == "case.gguf: tensor 'w': offset 4 is not a multiple of the alignment 32");
}

TEST_CASE("general.alignment is honoured and must be a power of two") {
    Bytes ok;
    ok.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("w", {8}, 0, 64).pad(64).zeros(96);
    auto f = GgufFile::from_bytes(ok.s, "a.gguf");
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    CHECK(f->alignment() == 64);
    CHECK(f->data_offset() % 64 == 0);
    CHECK(f->find_tensor("w")->offset == 64);
    Bytes bad;
    bad.header(3, 0, 1).kv_u32("general.alignment", 48);
    CHECK(open_error(bad.s) == "case.gguf: general.alignment 48 is not a power of two");
}

TEST_CASE("duplicate metadata keys are rejected") {
    Bytes b;
    b.header(3, 0, 2).kv_u32("llama.block_count", 1).kv_u32("llama.block_count", 2);
    CHECK(open_error(b.s) == "case.gguf: duplicate metadata key 'llama.block_count' at offset 57");
}

TEST_CASE("duplicate tensor names are rejected") {
    Bytes b;
    b.header(3, 2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad().zeros(64);
    CHECK(open_error(b.s) == "case.gguf: duplicate tensor name 'w' at offset 57");
}

TEST_CASE("absurd metadata and tensor counts fail before allocating") {
    Bytes kv;
    kv.header(3, 0, uint64_t{1} << 60);
    CHECK(open_error(kv.s) == "case.gguf: absurd metadata count 1152921504606846976 for 0 bytes left");
    Bytes t;
    t.header(3, ~uint64_t{0}, 0).zeros(100);
    CHECK(open_error(t.s) == "case.gguf: absurd tensor count 18446744073709551615 for 100 bytes left");
    Bytes arr;
    arr.header(3, 0, 1).str("a").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(uint64_t{1} << 62);
    CHECK(open_error(arr.s) ==
          "case.gguf: metadata 'a': array of 4611686018427387904 float32 at offset 37 does not fit in the 0 "
          "bytes left");
}

TEST_CASE("string lengths past the end of the file are rejected") {
    Bytes b;
    b.header(3, 0, 1).put<uint64_t>(~uint64_t{0}).s.append("key-and-more");
    CHECK(open_error(b.s) ==
          "case.gguf: string length overflow: metadata key #0 at offset 24 claims 18446744073709551615 bytes, 12 left");
}

TEST_CASE("tensors with more than four dimensions are rejected") {
    Bytes b;
    b.header(3, 1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32);
    CHECK(open_error(b.s) == "case.gguf: tensor 'w': n_dims 5 is outside 1..4");
}

TEST_CASE("tensor shapes whose element count overflows are rejected") {
    Bytes b;
    b.header(3, 1, 0).tensor("w", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0).pad().zeros(32);
    CHECK(open_error(b.s) == "case.gguf: tensor 'w': shape product overflows at dimension 1");
}

TEST_CASE("unknown tensor types and rows that are not whole blocks are rejected") {
    Bytes b;
    b.header(3, 1, 0).tensor("w", {32}, 17, 0).pad().zeros(64);
    CHECK(open_error(b.s) == "case.gguf: tensor 'w': unknown tensor type 17");
    Bytes q;
    q.header(3, 1, 0).tensor("q", {48}, 2, 0).pad().zeros(64);  // Q4_0 blocks are 32 wide
    CHECK(open_error(q.s) == "case.gguf: tensor 'q': row length 48 is not a multiple of the q4_0 block size 32");
}

TEST_CASE("GGUF writer output reads back with the same metadata and tensor bytes") {
    const fs::path out = fs::temp_directory_path() / ("sb_gguf_writer_" + std::to_string(::getpid()) + ".gguf");
    GgufWriter w(64);
    w.set("general.architecture", GgufValue::of_string("llama"));
    w.set("llama.block_count", GgufValue::of_uint32(2));
    w.set("llama.rope.freq_base", GgufValue::of_float32(10000.0f));
    w.set("tokenizer.ggml.tokens", GgufValue::of_string_array({"<s>", "a", "b"}));
    const float scores[] = {0.0f, -1.5f, -2.5f};
    w.set("tokenizer.ggml.scores", GgufValue::of_float32_array(scores));
    const int32_t types[] = {3, 1, 1};
    w.set("tokenizer.ggml.token_type", GgufValue::of_int32_array(types));
    w.set("llama.block_count", GgufValue::of_uint32(3));  // replaces, keeps position
    std::vector<float> a(64 * 3);
    for (size_t i = 0; i < a.size(); ++i) {
        a[i] = static_cast<float>(i) * 0.5f;
    }
    REQUIRE(w.add_tensor("a", TensorType::kF32, {64, 3},
                         std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(a.data()), a.size() * 4))
                .ok());
    REQUIRE(w.add_tensor("b", TensorType::kQ8_0, {32, 2}, [](std::span<uint8_t> dst) {
                 for (size_t i = 0; i < dst.size(); ++i) {
                     dst[i] = static_cast<uint8_t>(i);
                 }
                 return strongbox::core::ok_status();
             }).ok());
    const std::vector<uint8_t> four(4);
    auto dup = w.add_tensor("a", TensorType::kF32, {1}, four);
    CHECK(dup.error().message() == "duplicate tensor name 'a'");
    auto bad = w.add_tensor("c", TensorType::kQ4_0, {48}, std::span<const uint8_t>());
    CHECK(bad.error().message() == "tensor 'c': shape is not valid for type q4_0");
    REQUIRE(w.write(out).ok());

    auto f = GgufFile::open(out);
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    CHECK(f->alignment() == 64);
    CHECK(f->metadata()[2].first == "llama.block_count");
    CHECK(f->get_uint32("llama.block_count").value() == 3);
    CHECK(f->get_float32("llama.rope.freq_base").value() == 10000.0f);
    CHECK(f->get_string_array("tokenizer.ggml.tokens")->back() == "b");
    CHECK(f->get_float32_array("tokenizer.ggml.scores").value() == std::vector<float>{0.0f, -1.5f, -2.5f});
    CHECK(f->get_int32_array("tokenizer.ggml.token_type").value() == std::vector<int32_t>{3, 1, 1});
    const GgufTensorInfo * ta = f->find_tensor("a");
    REQUIRE(ta != nullptr);
    CHECK(std::memcmp(ta->data, a.data(), a.size() * 4) == 0);
    const GgufTensorInfo * tb = f->find_tensor("b");
    REQUIRE(tb != nullptr);
    CHECK(tb->n_bytes == 68u);
    CHECK(tb->offset % 64 == 0);
    CHECK(tb->data[67] == 67);
    fs::remove(out);
}

TEST_CASE("rewriting stories260K through the writer preserves every key and tensor") {
    auto src = GgufFile::open(kData / "stories260K.gguf");
    REQUIRE(src.ok());
    GgufWriter w;
    for (const auto & [k, v] : src->metadata()) {
        w.set(k, v);
    }
    for (const GgufTensorInfo & t : src->tensors()) {
        REQUIRE(w.add_tensor(t.name, static_cast<TensorType>(t.type_id), t.shape,
                             std::span<const uint8_t>(t.data, t.n_bytes))
                    .ok());
    }
    const fs::path out = fs::temp_directory_path() / ("sb_gguf_rewrite_" + std::to_string(::getpid()) + ".gguf");
    REQUIRE(w.write(out).ok());
    {
        auto back = GgufFile::open(out);
        REQUIRE(back.ok());
        REQUIRE(back->metadata().size() == src->metadata().size());
        for (size_t i = 0; i < src->metadata().size(); ++i) {
            CHECK(back->metadata()[i].first == src->metadata()[i].first);
            CHECK(back->metadata()[i].second.describe() == src->metadata()[i].second.describe());
        }
        REQUIRE(back->tensors().size() == src->tensors().size());
        for (size_t i = 0; i < src->tensors().size(); ++i) {
            const auto & a = src->tensors()[i];
            const auto & b = back->tensors()[i];
            CHECK(a.name == b.name);
            CHECK(a.shape == b.shape);
            CHECK(std::memcmp(a.data, b.data, a.n_bytes) == 0);
        }
    }
    // The source was written by another tool with the same layout rules, so the bytes agree.
    std::ifstream x(kData / "stories260K.gguf", std::ios::binary), y(out, std::ios::binary);
    std::string xs((std::istreambuf_iterator<char>(x)), {}), ys((std::istreambuf_iterator<char>(y)), {});
    CHECK(xs.size() == ys.size());
    fs::remove(out);
}

TEST_CASE("every file of the GGUF fuzz corpus parses or fails with a message naming it") {
    const fs::path dir = kData / "gguf-corpus";
    REQUIRE(fs::is_directory(dir));
    size_t n = 0, n_ok = 0;
    for (const auto & entry : fs::directory_iterator(dir)) {
        auto f = GgufFile::open(entry.path());
        ++n;
        if (f.ok()) {
            ++n_ok;
            for (const GgufTensorInfo & t : f->tensors()) {
                CHECK(t.data != nullptr);
            }
        } else {
            CHECK(f.error().message().find(entry.path().string() + ": ") == 0);
        }
    }
    CHECK(n >= 8);
    CHECK(n_ok >= 1);
    CHECK(n_ok < n);
}
