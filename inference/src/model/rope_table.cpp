#include <algorithm>
#include <cmath>
#include <numbers>

#include "model/model_impl.h"

namespace strongbox::inference {
namespace {

// YaRN ramp between the dimensions that keep extrapolating and those that interpolate.
float yarn_ramp(float low, float high, size_t i0) {
    const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
    return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

float yarn_corr_dim(uint32_t n_dims, uint32_t n_ctx_orig, float n_rot, float base) {
    const float turns = static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * std::numbers::pi_v<float>);
    return static_cast<float>(n_dims) * std::log(turns) / (2.0f * std::log(base));
}

}  // namespace

void build_rope_table(const Model::Impl & m, uint32_t n_ctx, std::vector<float> & cos_t, std::vector<float> & sin_t) {
    const ModelConfig & c = m.config;
    const auto & factors = m.rope_freq_factors;
    const uint32_t half = c.rope_dim / 2;
    cos_t.assign(size_t{n_ctx} * half, 0.0f);
    sin_t.assign(size_t{n_ctx} * half, 0.0f);
    const float freq_scale = 1.0f / c.rope_scaling_factor;
    float corr_lo = 0.0f, corr_hi = 0.0f, mscale = 1.0f;
    if (c.rope_scaling == RopeScaling::kYarn) {
        // ggml's defaults: beta_fast 32, beta_slow 1, extrapolation factor 1.
        corr_lo =
            std::max(0.0f, std::floor(yarn_corr_dim(c.rope_dim, c.rope_scaling_orig_ctx, 32.0f, c.rope_freq_base)));
        corr_hi = std::min(static_cast<float>(c.rope_dim - 1),
                           std::ceil(yarn_corr_dim(c.rope_dim, c.rope_scaling_orig_ctx, 1.0f, c.rope_freq_base)));
        mscale = 1.0f + 0.1f * std::log(1.0f / freq_scale);
    }
    for (uint32_t pos = 0; pos < n_ctx; ++pos) {
        for (uint32_t i = 0; i < half; ++i) {
            // theta_i = pos * base^(-2i/d), computed in double so long contexts keep their precision.
            double theta = static_cast<double>(pos) *
                           std::pow(static_cast<double>(c.rope_freq_base), -2.0 * i / static_cast<double>(c.rope_dim));
            if (!factors.empty()) {
                theta /= static_cast<double>(factors[i]);
            }
            float scale = 1.0f;
            if (c.rope_scaling == RopeScaling::kLinear) {
                theta *= static_cast<double>(freq_scale);
            } else if (c.rope_scaling == RopeScaling::kYarn) {
                const double interp = theta * static_cast<double>(freq_scale);
                const double mix = static_cast<double>(yarn_ramp(corr_lo, corr_hi, 2 * i));
                theta = interp * (1.0 - mix) + theta * mix;
                scale = mscale;
            }
            cos_t[size_t{pos} * half + i] = static_cast<float>(std::cos(theta)) * scale;
            sin_t[size_t{pos} * half + i] = static_cast<float>(std::sin(theta)) * scale;
        }
    }
}

}  // namespace strongbox::inference
