// Row operations of the forward pass: known values, invariants, and the AVX2 versions against
// the scalar definitions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "cpu/quants.h"

using namespace strongbox::inference::cpu;

namespace {

std::vector<float> random_row(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> v(n);
    for (float & x : v) {
        x = normal(rng);
    }
    return v;
}

// Runs f once per instruction set present (scalar first) and returns each result.
template <typename F>
auto per_isa(F f) {
    std::vector<decltype(f())> out;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
        if (isa <= detected_isa()) {
            force_isa(isa);
            out.push_back(f());
        }
    }
    force_isa(detected_isa());
    return out;
}

double dot(const float * a, const float * b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    }
    return s;
}

}  // namespace

TEST_CASE("rmsnorm scales a row to unit root mean square and applies the weight on every path") {
    for (size_t n : {size_t{7}, size_t{64}, size_t{4867}}) {
        const std::vector<float> x = random_row(n, 3, 5.0f);
        std::vector<float> w(n);
        for (size_t i = 0; i < n; ++i) {
            w[i] = 0.5f + static_cast<float>(i % 3);
        }
        const auto results = per_isa([&] {
            std::vector<float> y(n);
            std::vector<float> yw(n);
            rmsnorm(x.data(), nullptr, y.data(), n, 1e-6f);
            rmsnorm(x.data(), w.data(), yw.data(), n, 1e-6f);
            return std::make_pair(y, yw);
        });
        for (const auto & [y, yw] : results) {
            CHECK(std::sqrt(dot(y.data(), y.data(), n) / static_cast<double>(n)) == doctest::Approx(1.0).epsilon(1e-5));
            for (size_t i = 0; i < n; ++i) {
                REQUIRE(yw[i] == doctest::Approx(y[i] * w[i]).epsilon(1e-6));
                REQUIRE(y[i] == doctest::Approx(results[0].first[i]).epsilon(1e-6));
            }
        }
    }
    // In place works too.
    std::vector<float> v = {3.0f, 4.0f};
    rmsnorm(v.data(), nullptr, v.data(), 2, 0.0f);
    CHECK(v[0] == doctest::Approx(3.0 / std::sqrt(12.5)));
}

TEST_CASE("layernorm gives zero mean and unit variance before weight and bias") {
    const std::vector<float> x = random_row(384, 5, 3.0f);
    std::vector<float> y(x.size());
    layernorm(x.data(), nullptr, nullptr, y.data(), x.size(), 1e-12f);
    double mean = 0.0;
    for (float v : y) {
        mean += static_cast<double>(v);
    }
    mean /= static_cast<double>(y.size());
    CHECK(std::fabs(mean) < 1e-6);
    CHECK(dot(y.data(), y.data(), y.size()) / static_cast<double>(y.size()) == doctest::Approx(1.0).epsilon(1e-5));
    std::vector<float> w(x.size(), 2.0f);
    std::vector<float> b(x.size(), 1.0f);
    std::vector<float> z(x.size());
    layernorm(x.data(), w.data(), b.data(), z.data(), x.size(), 1e-12f);
    CHECK(z[10] == doctest::Approx(2.0f * y[10] + 1.0f));
}

TEST_CASE("softmax sums to one, keeps order, survives large logits and zeroes masked entries") {
    std::vector<float> x = {1000.0f, 999.0f, -INFINITY, 998.0f};
    softmax(x.data(), x.size());
    CHECK(x[0] + x[1] + x[2] + x[3] == doctest::Approx(1.0f));
    CHECK(x[2] == 0.0f);
    CHECK(x[0] > x[1]);
    CHECK(x[1] > x[3]);
    CHECK(x[0] / x[1] == doctest::Approx(std::exp(1.0f)));
    std::vector<float> one = {-3.0f};
    softmax(one.data(), 1);
    CHECK(one[0] == 1.0f);
}

TEST_CASE("swiglu and gelu match their closed forms") {
    const std::vector<float> gate = {0.0f, 1.0f, -2.0f, 8.0f};
    const std::vector<float> up = {5.0f, 2.0f, 1.0f, -1.0f};
    std::vector<float> out(4);
    swiglu(gate.data(), up.data(), out.data(), 4);
    CHECK(out[0] == 0.0f);
    CHECK(out[1] == doctest::Approx(2.0 / (1.0 + std::exp(-1.0))));
    CHECK(out[2] == doctest::Approx(-2.0 / (1.0 + std::exp(2.0))));
    CHECK(out[3] == doctest::Approx(-8.0 / (1.0 + std::exp(-8.0))));
    const std::vector<float> x = {0.0f, 1.0f, -3.0f};
    std::vector<float> g(3);
    gelu(x.data(), g.data(), 3);
    CHECK(g[0] == 0.0f);
    CHECK(g[1] == doctest::Approx(0.8411920));
    CHECK(g[2] == doctest::Approx(-0.0036374).epsilon(1e-3));
}

TEST_CASE("rope rotates pairs by position times frequency in both layouts") {
    // One head of 4 dims, all rotated; frequencies 1 and 0.01 (base 10000, n_rot 4).
    std::vector<float> inv(2);
    rope_inv_freq(4, 10000.0f, inv.data());
    CHECK(inv[0] == 1.0f);
    CHECK(inv[1] == doctest::Approx(0.01f));
    const float pos = 3.0f;
    std::vector<float> normal = {1.0f, 0.0f, 0.0f, 1.0f};
    rope(normal.data(), 1, 4, 4, pos, inv.data(), 1.0f, RopeStyle::kNormal);
    CHECK(normal[0] == doctest::Approx(std::cos(3.0)));
    CHECK(normal[1] == doctest::Approx(std::sin(3.0)));
    CHECK(normal[2] == doctest::Approx(-std::sin(0.03)));
    CHECK(normal[3] == doctest::Approx(std::cos(0.03)));
    // NeoX pairs dimension i with i + 2.
    std::vector<float> neox = {1.0f, 0.0f, 0.0f, 1.0f};
    rope(neox.data(), 1, 4, 4, pos, inv.data(), 1.0f, RopeStyle::kNeox);
    CHECK(neox[0] == doctest::Approx(std::cos(3.0)));
    CHECK(neox[2] == doctest::Approx(std::sin(3.0)));
    CHECK(neox[1] == doctest::Approx(-std::sin(0.03)));
    CHECK(neox[3] == doctest::Approx(std::cos(0.03)));
}

TEST_CASE("rope scores depend only on the distance between positions, and untouched dims stay") {
    const size_t head_dim = 64;
    const size_t n_rot = 32;  // partial rotation: dims 32..63 pass through
    std::vector<float> inv(n_rot / 2);
    rope_inv_freq(n_rot, 10000.0f, inv.data());
    const std::vector<float> q0 = random_row(head_dim * 2, 8);
    const std::vector<float> k0 = random_row(head_dim * 2, 9);
    for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
        auto score = [&](float pq, float pk) {
            std::vector<float> q = q0;
            std::vector<float> k = k0;
            rope(q.data(), 2, head_dim, n_rot, pq, inv.data(), 1.0f, style);
            rope(k.data(), 2, head_dim, n_rot, pk, inv.data(), 1.0f, style);
            CHECK(std::memcmp(q.data() + n_rot, q0.data() + n_rot, (head_dim - n_rot) * sizeof(float)) == 0);
            return dot(q.data() + head_dim, k.data() + head_dim, head_dim);  // second head
        };
        CHECK(score(10.0f, 7.0f) == doctest::Approx(score(1003.0f, 1000.0f)).epsilon(1e-4));
        CHECK(score(5.0f, 5.0f) ==
              doctest::Approx(dot(q0.data() + head_dim, k0.data() + head_dim, head_dim)).epsilon(1e-5));
    }
    // mscale multiplies the rotated part.
    std::vector<float> v = {1.0f, 0.0f};
    rope(v.data(), 1, 2, 2, 0.0f, inv.data(), 2.0f, RopeStyle::kNormal);
    CHECK(v[0] == doctest::Approx(2.0f));
}

TEST_CASE("fp16 row conversions are bit-identical to the scalar converters on every path") {
    std::vector<uint16_t> all(65536 + 3);
    for (size_t i = 0; i < all.size(); ++i) {
        all[i] = static_cast<uint16_t>(i);
    }
    std::vector<float> x = random_row(10003, 12, 300.0f);
    x[0] = 65520.0f;
    x[1] = 1e-8f;
    x[2] = -0.0f;
    x[3] = 1.0f + 0x1p-11f;
    const auto results = per_isa([&] {
        std::vector<float> f(all.size());
        fp16_to_fp32_row(all.data(), f.data(), all.size());
        std::vector<uint16_t> h(x.size());
        fp32_to_fp16_row(x.data(), h.data(), x.size());
        return std::make_pair(f, h);
    });
    for (const auto & [f, h] : results) {
        for (size_t i = 0; i < all.size(); ++i) {
            const float expected = fp16_to_fp32(all[i]);
            REQUIRE(std::memcmp(&f[i], &expected, sizeof expected) == 0);
        }
        for (size_t i = 0; i < x.size(); ++i) {
            REQUIRE(h[i] == fp32_to_fp16(x[i]));
        }
    }
}

TEST_CASE("fp16 dot product and scaled add agree with the scalar definitions") {
    for (size_t n : {size_t{1}, size_t{67}, size_t{128}}) {
        const std::vector<float> src = random_row(n, 21);
        std::vector<uint16_t> h(n);
        fp32_to_fp16_row(src.data(), h.data(), n);
        const std::vector<float> x = random_row(n, 22);
        const auto results = per_isa([&] {
            std::vector<float> y = x;
            add_scaled_f16(0.75f, h.data(), y.data(), n);
            return std::make_pair(dot_f16(h.data(), x.data(), n), y);
        });
        double exact = 0.0;
        double mag = 0.0;
        for (size_t i = 0; i < n; ++i) {
            exact += static_cast<double>(fp16_to_fp32(h[i])) * static_cast<double>(x[i]);
            mag += std::fabs(static_cast<double>(fp16_to_fp32(h[i])) * static_cast<double>(x[i]));
        }
        for (const auto & [d, y] : results) {
            CHECK(std::fabs(static_cast<double>(d) - exact) <= 1e-6 * mag);
            for (size_t i = 0; i < n; ++i) {
                REQUIRE(y[i] == doctest::Approx(x[i] + 0.75f * fp16_to_fp32(h[i])).epsilon(1e-6));
            }
        }
    }
}
