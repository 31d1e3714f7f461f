// Reference encoders/decoders of the GGUF tensor types against ggml-produced vectors, and
// round-trip accuracy of Strongbox's own quantizers.
#include "cpu/quants.h"

#include "strongbox/inference/gguf.h"
#include "strongbox/inference/tensor_type.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace strongbox::inference;
using namespace strongbox::inference::cpu;

namespace {

const GgufFile & vectors() {
    static const GgufFile file = [] {
        auto f = GgufFile::open(std::string(SB_TEST_DATA_DIR) + "/inference/quants/ggml-quant-vectors.gguf");
        REQUIRE_MESSAGE(f.ok(), (f.ok() ? std::string() : f.error().message()));
        return std::move(f).value();
    }();
    return file;
}

const char * const kVectorTypes[] = {"f16",  "bf16", "q4_0", "q4_1", "q5_0", "q5_1",   "q8_0",
                                     "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs"};

std::vector<float> input_matrix() {
    const GgufTensorInfo * in = vectors().find_tensor("input");
    REQUIRE(in != nullptr);
    REQUIRE(in->type_id == static_cast<uint32_t>(TensorType::kF32));
    std::vector<float> x(in->n_elements());
    std::memcpy(x.data(), in->data, x.size() * sizeof(float));
    return x;
}

double rms(const std::vector<float> & a) {
    double s = 0.0;
    for (float v : a) {
        s += static_cast<double>(v) * static_cast<double>(v);
    }
    return std::sqrt(s / static_cast<double>(a.size()));
}

double rms_error(const std::vector<float> & a, const std::vector<float> & b) {
    double s = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        s += d * d;
    }
    return std::sqrt(s / static_cast<double>(a.size()));
}

std::vector<float> round_trip(TensorType type, const std::vector<float> & x) {
    std::vector<uint8_t> q(*row_size(type, x.size()));
    REQUIRE(quantize_row(type, x.data(), q.data(), x.size()));
    std::vector<float> y(x.size());
    REQUIRE(dequantize_row(type, q.data(), y.data(), x.size()));
    return y;
}

}  // namespace

TEST_CASE("dequantization of every GGUF type is bit-identical to the ggml reference vectors") {
    for (const char * name : kVectorTypes) {
        CAPTURE(name);
        const GgufTensorInfo * q = vectors().find_tensor(std::string("q.") + name);
        const GgufTensorInfo * deq = vectors().find_tensor(std::string("deq.") + name);
        REQUIRE(q != nullptr);
        REQUIRE(deq != nullptr);
        const auto type = static_cast<TensorType>(q->type_id);
        CHECK(type == *parse_tensor_type(name));
        const size_t n = q->n_elements();
        REQUIRE(deq->n_elements() == n);
        std::vector<float> out(n, -1.0f);
        const size_t row = q->shape[0];
        const size_t row_bytes = *row_size(type, row);
        for (size_t r = 0; r < n / row; ++r) {
            REQUIRE(dequantize_row(type, q->data + r * row_bytes, out.data() + r * row, row));
        }
        size_t mismatches = 0;
        size_t first = n;
        for (size_t i = 0; i < n; ++i) {
            float expected;
            std::memcpy(&expected, deq->data + i * sizeof(float), sizeof expected);
            if (std::memcmp(&expected, &out[i], sizeof expected) != 0) {
                first = mismatches++ == 0 ? i : first;
            }
        }
        CAPTURE(first);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("Q8_0 and Q4_0 quantization reproduces the reference bytes") {
    const std::vector<float> x = input_matrix();
    for (const char * name : {"q8_0", "q4_0", "f16", "bf16"}) {
        CAPTURE(name);
        const GgufTensorInfo * ref = vectors().find_tensor(std::string("q.") + name);
        REQUIRE(ref != nullptr);
        const auto type = static_cast<TensorType>(ref->type_id);
        std::vector<uint8_t> q(*row_size(type, x.size()));
        REQUIRE(quantize_row(type, x.data(), q.data(), x.size()));
        REQUIRE(q.size() == ref->n_bytes);
        CHECK(std::memcmp(q.data(), ref->data, q.size()) == 0);
    }
}

TEST_CASE("round trip through each quantizer stays within its stated error bound") {
    // Bounds are relative RMS error over N(0,1) data (measured values in parentheses, rounded up).
    struct Bound {
        TensorType type;
        double max_rel_rmse;
    };
    const Bound bounds[] = {
        {TensorType::kF16, 0.0003},   {TensorType::kBF16, 0.0025},  {TensorType::kQ8_0, 0.006},
        {TensorType::kQ4_0, 0.095},   {TensorType::kQ4_1, 0.085},   {TensorType::kQ5_0, 0.046},
        {TensorType::kQ5_1, 0.041},   {TensorType::kQ2_K, 0.30},    {TensorType::kQ3_K, 0.16},
        {TensorType::kQ4_K, 0.080},   {TensorType::kQ5_K, 0.040},   {TensorType::kQ6_K, 0.019},
        {TensorType::kIQ4_NL, 0.080}, {TensorType::kIQ4_XS, 0.080},
    };
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(4096);
    for (float & v : x) {
        v = normal(rng);
    }
    for (const Bound & b : bounds) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(b.type)));
        const double rel = rms_error(x, round_trip(b.type, x)) / rms(x);
        CHECK(rel < b.max_rel_rmse);
    }
}

TEST_CASE("our quantizers are about as accurate as ggml's on the reference input rows") {
    // Per row (Gaussian, small-scale Gaussian, Gaussian with outliers, uniform with zeros), the RMS
    // error of our round trip may exceed that of ggml's reference quantization by at most 10% (measured: 0.92
    // to 1.07x).
    const std::vector<float> x = input_matrix();
    const GgufTensorInfo * in = vectors().find_tensor("input");
    const size_t row = in->shape[0];
    for (const char * name : kVectorTypes) {
        CAPTURE(name);
        const GgufTensorInfo * deq = vectors().find_tensor(std::string("deq.") + name);
        REQUIRE(deq != nullptr);
        const auto type = *parse_tensor_type(name);
        for (size_t r = 0; r < x.size() / row; ++r) {
            CAPTURE(r);
            const std::vector<float> xr(x.begin() + static_cast<std::ptrdiff_t>(r * row),
                                        x.begin() + static_cast<std::ptrdiff_t>((r + 1) * row));
            std::vector<float> ggml(row);
            std::memcpy(ggml.data(), deq->data + r * row * sizeof(float), row * sizeof(float));
            const double ours = rms_error(xr, round_trip(type, xr));
            const double theirs = rms_error(xr, ggml);
            CHECK(ours <= theirs * 1.10 + 1e-12);
        }
    }
}

TEST_CASE("quantizing all-zero and outlier rows gives finite values and keeps zeros exact") {
    std::vector<float> zeros(512, 0.0f);
    std::vector<float> spiky(512, 0.01f);
    spiky[3] = 50.0f;
    spiky[300] = -80.0f;
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1,
                            TensorType::kQ8_0, TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                            TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kIQ4_NL, TensorType::kIQ4_XS}) {
        CAPTURE(tensor_type_name(static_cast<uint32_t>(type)));
        for (float v : round_trip(type, zeros)) {
            CHECK(v == 0.0f);
        }
        const std::vector<float> y = round_trip(type, spiky);
        for (float v : y) {
            REQUIRE(std::isfinite(v));
        }
        CHECK(std::fabs(y[300] + 80.0f) < 80.0f * 0.15f);
    }
}

TEST_CASE("rows that are not a whole number of blocks and unknown types are refused") {
    std::vector<float> x(48, 1.0f);
    std::vector<uint8_t> q(256);
    CHECK_FALSE(quantize_row(TensorType::kQ4_0, x.data(), q.data(), 48));
    CHECK_FALSE(dequantize_row(TensorType::kQ4_K, q.data(), x.data(), 32));
    CHECK_FALSE(quantize_row(TensorType::kI32, x.data(), q.data(), 32));
    CHECK_FALSE(dequantize_row(TensorType::kQ8_K, q.data(), x.data(), 256));
}

TEST_CASE("half and bfloat16 conversions round to nearest even and keep specials") {
    CHECK(fp32_to_fp16(1.0f) == 0x3C00);
    CHECK(fp32_to_fp16(65504.0f) == 0x7BFF);
    CHECK(fp32_to_fp16(65520.0f) == 0x7C00);  // halfway to 65536 rounds to infinity
    CHECK(fp32_to_fp16(-INFINITY) == 0xFC00);
    CHECK(std::isnan(fp16_to_fp32(fp32_to_fp16(NAN))));
    CHECK(fp32_to_fp16(0x1p-24f) == 0x0001);                // smallest subnormal
    CHECK(fp32_to_fp16(0x1p-25f) == 0x0000);                // exactly half of it: ties to even (zero)
    CHECK(fp32_to_fp16(0x1.8p-25f) == 0x0001);              // above half rounds up
    CHECK(fp32_to_fp16(1.0f + 0x1p-11f) == 0x3C00);         // tie, even stays
    CHECK(fp32_to_fp16(1.0f + 3.0f * 0x1p-11f) == 0x3C02);  // tie, odd rounds up
    // Every half value survives a round trip through float.
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = fp16_to_fp32(static_cast<uint16_t>(h));
        if (!std::isnan(f)) {
            REQUIRE(fp32_to_fp16(f) == h);
        }
    }
    CHECK(fp32_to_bf16(1.0f) == 0x3F80);
    CHECK(fp32_to_bf16(1.0f + 0x1p-8f) == 0x3F80);         // tie, even stays
    CHECK(fp32_to_bf16(1.0f + 3.0f * 0x1p-8f) == 0x3F82);  // tie, odd rounds up
    CHECK(bf16_to_fp32(0xC040) == -3.0f);
    CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(NAN))));
}
