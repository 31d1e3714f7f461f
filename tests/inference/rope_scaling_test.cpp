// RoPE scaling as read from GGUF keys (<arch>.rope.scaling.type/.factor/.original_context_length),
// checked against the angles written out below in double precision: linear position
// interpolation, and YaRN as GGUF models expect it (ggml's rule: the dimensions whose wavelength
// fits more than beta_fast = 32 turns into the original context keep their angle, those with
// fewer than beta_slow = 1 turn are interpolated by the factor, a linear ramp over the dimension
// index in between, and cos/sin scaled by 1 + 0.1 ln(factor)).
#include "strongbox/inference/gguf_writer.h"
#include "strongbox/inference/model.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

#include "model/model_impl.h"
#include <unistd.h>

using namespace strongbox;
using namespace strongbox::inference;
namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(SB_TEST_DATA_DIR) / "inference" / "stories260K.gguf";

// stories260K (head_dim 8, rope base 10000, context 512) with the given scaling keys.
std::shared_ptr<const Model> scaled_model(const std::string & type, float factor, uint32_t orig_ctx) {
    auto src = GgufFile::open(kModel);
    REQUIRE(src.ok());
    GgufWriter w;
    for (const auto & [k, v] : src->metadata()) {
        w.set(k, v);
    }
    w.set("llama.rope.scaling.type", GgufValue::of_string(type));
    w.set("llama.rope.scaling.factor", GgufValue::of_float32(factor));
    if (orig_ctx != 0) {
        w.set("llama.rope.scaling.original_context_length", GgufValue::of_uint32(orig_ctx));
    }
    for (const GgufTensorInfo & t : src->tensors()) {
        REQUIRE(w.add_tensor(t.name, static_cast<TensorType>(t.type_id), t.shape,
                             std::span<const uint8_t>(t.data, t.n_bytes))
                    .ok());
    }
    const fs::path out = fs::temp_directory_path() / ("sb_rope_" + type + "_" + std::to_string(::getpid()) + ".gguf");
    REQUIRE(w.write(out).ok());
    auto m = Model::load(out);
    fs::remove(out);  // the mapping stays valid
    REQUIRE_MESSAGE(m.ok(), m.error().message());
    return *m;
}

struct Angles {
    std::vector<double> theta;  // per rotated pair
    double mscale = 1.0;
};

Angles expected(const std::string & type, double pos, double factor, double orig_ctx) {
    const double base = 10000.0;
    const int d = 8;
    Angles a;
    double low = 0, high = 0;
    if (type == "yarn") {
        // The dimension index at which the pair makes `turns` full turns over the original context.
        auto dim_for_turns = [&](double turns) {
            return d * std::log(orig_ctx / (turns * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
        };
        low = std::max(0.0, std::floor(dim_for_turns(32.0)));
        high = std::min(d - 1.0, std::ceil(dim_for_turns(1.0)));
        a.mscale = 1.0 + 0.1 * std::log(factor);
    }
    for (int i = 0; i < d / 2; ++i) {
        const double plain = pos * std::pow(base, -2.0 * i / d);
        if (type == "linear") {
            a.theta.push_back(plain / factor);
        } else if (type == "yarn") {
            const double keep = 1.0 - std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
            a.theta.push_back(keep * plain + (1.0 - keep) * plain / factor);
        } else {
            a.theta.push_back(plain);
        }
    }
    return a;
}

// Largest difference between the model's cos/sin table and the expected angles.
double table_error(const Model & m, const std::string & type, double factor, double orig_ctx, uint32_t n_ctx) {
    std::vector<float> cos_t, sin_t;
    build_rope_table(m.impl(), n_ctx, cos_t, sin_t);
    REQUIRE(cos_t.size() == size_t{n_ctx} * 4);
    double worst = 0;
    for (uint32_t pos = 0; pos < n_ctx; ++pos) {
        const Angles a = expected(type, pos, factor, orig_ctx);
        for (size_t i = 0; i < 4; ++i) {
            worst = std::max(worst, std::abs(cos_t[pos * 4 + i] - std::cos(a.theta[i]) * a.mscale));
            worst = std::max(worst, std::abs(sin_t[pos * 4 + i] - std::sin(a.theta[i]) * a.mscale));
        }
    }
    return worst;
}

}  // namespace

TEST_CASE("linear RoPE scaling divides every angle by the factor read from the file") {
    auto m = scaled_model("linear", 4.0f, 0);
    CHECK(m->config().rope_scaling == RopeScaling::kLinear);
    CHECK(m->config().rope_scaling_factor == 4.0f);
    REQUIRE(m->config().rope_freq_base == 10000.0f);
    REQUIRE(m->config().rope_dim == 8);
    CHECK(table_error(*m, "linear", 4.0, 512, 2048) < 1e-6);
    CHECK(table_error(*m, "none", 1.0, 512, 2048) > 0.1);  // the scaling really is applied
}

TEST_CASE("YaRN keeps fast dimensions, interpolates slow ones, ramps between and scales the magnitude") {
    auto m = scaled_model("yarn", 4.0f, 256);
    CHECK(m->config().rope_scaling == RopeScaling::kYarn);
    CHECK(m->config().rope_scaling_orig_ctx == 256);
    CHECK(table_error(*m, "yarn", 4.0, 256, 2048) < 1e-6);

    // With head_dim 8 and an original context of 256, pair 0 turns 41 times (kept), pair 1 lies
    // halfway up the ramp and pairs 2 and 3 (1.3 and 0.04 turns) are interpolated: each regime is
    // exercised.
    const Angles a = expected("yarn", 1000, 4.0, 256);
    CHECK(a.theta[0] == doctest::Approx(1000.0));
    CHECK(a.theta[3] == doctest::Approx(1000.0 * std::pow(10000.0, -0.75) / 4.0));
    CHECK(a.theta[1] < 1000.0 * std::pow(10000.0, -0.25));
    CHECK(a.theta[1] > 1000.0 * std::pow(10000.0, -0.25) / 4.0);
    CHECK(a.mscale == doctest::Approx(1.0 + 0.1 * std::log(4.0)));

    // Without original_context_length the training context (512) is the original one.
    auto dflt = scaled_model("yarn", 2.0f, 0);
    CHECK(dflt->config().rope_scaling_orig_ctx == 512);
    CHECK(table_error(*dflt, "yarn", 2.0, 512, 1024) < 1e-6);
}
