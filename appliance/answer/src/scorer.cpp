#include "strongbox/answer/scorer.h"

#include "strongbox/answer/answerer.h"
#include "strongbox/core/hash.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace strongbox::appliance {

// The text of appliance/answer/scorer/answer-scorer.json, generated into the build (CMakeLists.txt).
extern const char * const kShippedScorerJson;

namespace {

double sigmoid(double z) {
    return 1.0 / (1.0 + std::exp(-z));
}

// Minimises a loss by Adam; `gradient` adds the loss's gradient at w to g (zeroed by the caller).
void minimise(std::vector<double> & w, int steps, double rate,
              const std::function<void(const std::vector<double> &, std::vector<double> &)> & gradient) {
    constexpr double kBeta1 = 0.9;
    constexpr double kBeta2 = 0.999;
    std::vector<double> m(w.size()), v(w.size()), g(w.size());
    for (int t = 1; t <= steps; ++t) {
        std::fill(g.begin(), g.end(), 0.0);
        gradient(w, g);
        for (size_t i = 0; i < w.size(); ++i) {
            m[i] = kBeta1 * m[i] + (1 - kBeta1) * g[i];
            v[i] = kBeta2 * v[i] + (1 - kBeta2) * g[i] * g[i];
            const double m_hat = m[i] / (1 - std::pow(kBeta1, t));
            const double v_hat = v[i] / (1 - std::pow(kBeta2, t));
            w[i] -= rate * m_hat / (std::sqrt(v_hat) + 1e-8);
        }
    }
}

// The softmax of the candidates' scores, and each one's lead over the best candidate that does
// not overlap it (kMaxLead when there is none).
void shares_and_leads(std::vector<Candidate> & cs, std::vector<double> & leads) {
    double top = -INFINITY;
    for (const Candidate & c : cs) {
        top = std::max(top, c.score);
    }
    double sum = 0;
    for (Candidate & c : cs) {
        c.share = std::exp(c.score - top);
        sum += c.share;
    }
    leads.assign(cs.size(), AnswerScorer::kMaxLead);
    for (size_t i = 0; i < cs.size(); ++i) {
        cs[i].share /= sum;
        for (size_t k = 0; k < cs.size(); ++k) {
            if (k != i && !cs[i].overlaps(cs[k])) {
                leads[i] = std::min(leads[i], cs[i].score - cs[k].score);
            }
        }
        leads[i] = std::clamp(leads[i], -AnswerScorer::kMaxLead, AnswerScorer::kMaxLead);
    }
}

}  // namespace

double AnswerScorer::rank_score(const std::vector<double> & x) const {
    double z = 0;
    for (size_t i = 0; i < weights.size() && i < x.size(); ++i) {
        z += weights[i] * x[i];
    }
    return z;
}

double AnswerScorer::confidence(double score, double share, double lead) const {
    const double x[kConfidenceInputs] = {score, share, std::clamp(lead, -kMaxLead, kMaxLead)};
    double z = confidence_bias;
    for (size_t i = 0; i < kConfidenceInputs && i < confidence_weights.size(); ++i) {
        z += confidence_weights[i] * x[i];
    }
    return sigmoid(z);
}

void AnswerScorer::score(std::vector<Candidate> & candidates) const {
    for (Candidate & c : candidates) {
        c.score = rank_score(c.features);
    }
    std::vector<double> leads;
    shares_and_leads(candidates, leads);
    for (size_t i = 0; i < candidates.size(); ++i) {
        candidates[i].confidence = confidence(candidates[i].score, candidates[i].share, leads[i]);
    }
}

core::Json AnswerScorer::to_json() const {
    auto numbers = [](const std::vector<double> & xs) {
        core::Json a = core::Json::array();
        for (double x : xs) {
            a.push_back(x);
        }
        return a;
    };
    core::Json j = core::Json::object();
    j["version"] = version;
    core::Json names = core::Json::array();
    for (const std::string & n : features) {
        names.push_back(n);
    }
    j["features"] = std::move(names);
    j["weights"] = numbers(weights);
    j["confidence_inputs"] = core::Json::parse(R"(["score", "share", "lead"])").value();
    j["confidence_weights"] = numbers(confidence_weights);
    j["confidence_bias"] = confidence_bias;
    j["trained_on"] = trained_on;
    return j;
}

core::Result<AnswerScorer> AnswerScorer::from_json(const core::Json & j) {
    AnswerScorer s;
    s.version = j.get_string("version");
    s.confidence_bias = j.get_double("confidence_bias");
    s.trained_on = j.get_string("trained_on");
    const core::Json * names = j.find("features");
    const core::Json * weights = j.find("weights");
    const core::Json * confidence = j.find("confidence_weights");
    if (s.version.empty() || names == nullptr || weights == nullptr || !names->is_array() || !weights->is_array() ||
        names->size() != weights->size() || confidence == nullptr || !confidence->is_array() ||
        confidence->size() != kConfidenceInputs) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "answer scorer: needs version, features and weights of one length, and " +
                               std::to_string(kConfidenceInputs) + " confidence weights");
    }
    const std::vector<std::string> & expected = candidate_feature_names();
    for (size_t i = 0; i < names->size(); ++i) {
        const std::string name = names->as_array()[i].as_string();
        if (i >= expected.size() || name != expected[i]) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               "answer scorer " + s.version + ": feature " + std::to_string(i) + " is \"" + name +
                                   "\", the answerer computes \"" + (i < expected.size() ? expected[i] : "nothing") +
                                   "\"");
        }
        s.features.push_back(name);
        s.weights.push_back(weights->as_array()[i].as_double());
    }
    if (s.features.size() != expected.size()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "answer scorer " + s.version + ": has " + std::to_string(s.features.size()) +
                               " features, the answerer " + std::to_string(expected.size()));
    }
    for (const core::Json & w : confidence->as_array()) {
        s.confidence_weights.push_back(w.as_double());
    }
    return s;
}

std::string AnswerScorer::sha256() const {
    return core::sha256_hex(to_json().dump());
}

const AnswerScorer & AnswerScorer::shipped() {
    static const AnswerScorer kShipped = [] {
        auto j = core::Json::parse(kShippedScorerJson);
        auto s = j.ok() ? from_json(*j) : core::Result<AnswerScorer>(j.error());
        if (!s.ok()) {
            // A build-time file: a broken one is a build defect, caught by the first test.
            std::fprintf(stderr, "strongbox: built-in answer scorer: %s\n", s.error().message().c_str());
            std::abort();
        }
        return std::move(s).value();
    }();
    return kShipped;
}

AnswerScorer train_scorer(const std::vector<TrainingQuestion> & questions, const std::string & version,
                          const std::string & trained_on) {
    AnswerScorer s;
    s.version = version;
    s.trained_on = trained_on;
    s.features = candidate_feature_names();
    s.weights.assign(s.features.size(), 0.0);
    s.confidence_weights.assign(AnswerScorer::kConfidenceInputs, 0.0);

    // Ranking: -log of the softmax mass on each answerable question's answering candidates.
    std::vector<const TrainingQuestion *> answerable;
    for (const TrainingQuestion & q : questions) {
        if (std::find(q.labels.begin(), q.labels.end(), 1) != q.labels.end()) {
            answerable.push_back(&q);
        }
    }
    if (answerable.empty()) {
        return s;
    }
    constexpr double kL2 = 1e-2;
    minimise(s.weights, 2000, 0.05, [&](const std::vector<double> & w, std::vector<double> & g) {
        std::vector<double> score;
        for (const TrainingQuestion * q : answerable) {
            score.resize(q->candidates.size());
            double top = -INFINITY;
            for (size_t c = 0; c < score.size(); ++c) {
                score[c] = 0;
                for (size_t f = 0; f < w.size(); ++f) {
                    score[c] += w[f] * q->candidates[c].features[f];
                }
                top = std::max(top, score[c]);
            }
            double all = 0;
            double right = 0;
            for (size_t c = 0; c < score.size(); ++c) {
                score[c] = std::exp(score[c] - top);
                all += score[c];
                right += q->labels[c] != 0 ? score[c] : 0.0;
            }
            // d/dw = E_all[x] - E_right[x]
            for (size_t c = 0; c < score.size(); ++c) {
                const double coeff = score[c] / all - (q->labels[c] != 0 ? score[c] / right : 0.0);
                for (size_t f = 0; f < w.size(); ++f) {
                    g[f] += coeff * q->candidates[c].features[f] / static_cast<double>(answerable.size());
                }
            }
        }
        for (size_t f = 0; f < w.size(); ++f) {
            g[f] += kL2 * w[f];
        }
    });

    // Confidence: each question's best candidate against whether it is right.
    std::vector<std::array<double, AnswerScorer::kConfidenceInputs>> rows;
    std::vector<int> right;
    for (const TrainingQuestion & q : questions) {
        if (q.candidates.empty()) {
            continue;
        }
        std::vector<Candidate> cs = q.candidates;
        for (Candidate & c : cs) {
            c.score = s.rank_score(c.features);
        }
        std::vector<double> leads;
        shares_and_leads(cs, leads);
        const size_t top = static_cast<size_t>(
            std::max_element(cs.begin(), cs.end(),
                             [](const Candidate & a, const Candidate & b) { return a.score < b.score; }) -
            cs.begin());
        rows.push_back({cs[top].score, cs[top].share, leads[top]});
        right.push_back(q.labels[top]);
    }
    std::vector<double> theta(AnswerScorer::kConfidenceInputs + 1, 0.0);  // weights, then bias
    minimise(theta, 3000, 0.05, [&](const std::vector<double> & w, std::vector<double> & g) {
        for (size_t r = 0; r < rows.size(); ++r) {
            double z = w.back();
            for (size_t f = 0; f < rows[r].size(); ++f) {
                z += w[f] * rows[r][f];
            }
            const double err = (sigmoid(z) - right[r]) / static_cast<double>(rows.size());
            for (size_t f = 0; f < rows[r].size(); ++f) {
                g[f] += err * rows[r][f];
            }
            g.back() += err;
        }
    });
    std::copy(theta.begin(), theta.end() - 1, s.confidence_weights.begin());
    s.confidence_bias = theta.back();
    return s;
}

}  // namespace strongbox::appliance
