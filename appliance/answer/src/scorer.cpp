#include "strongbox/answer/scorer.h"

#include "strongbox/answer/answerer.h"
#include "strongbox/core/hash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace strongbox::appliance {

// The text of appliance/answer/scorer/answer-scorer.json, generated into the build (CMakeLists.txt).
extern const char * const kShippedScorerJson;

namespace {

double sigmoid(double z) {
    return 1.0 / (1.0 + std::exp(-z));
}

double logit(double p) {
    p = std::clamp(p, 1e-9, 1.0 - 1e-9);
    return std::log(p / (1.0 - p));
}

// Logistic regression by full-batch gradient descent; `weight` per row scales its loss.
void fit(const std::vector<std::vector<double>> & rows, const std::vector<int> & labels,
         const std::vector<double> & weight, double l2, std::vector<double> & w, double & b) {
    constexpr double kRate = 2.0;
    constexpr int kEpochs = 3000;
    std::vector<double> grad(w.size());
    for (int epoch = 0; epoch < kEpochs; ++epoch) {
        std::fill(grad.begin(), grad.end(), 0.0);
        double grad_b = 0;
        for (size_t r = 0; r < rows.size(); ++r) {
            double z = b;
            for (size_t f = 0; f < w.size(); ++f) {
                z += w[f] * rows[r][f];
            }
            const double err = weight[r] * (sigmoid(z) - labels[r]);
            for (size_t f = 0; f < w.size(); ++f) {
                grad[f] += err * rows[r][f];
            }
            grad_b += err;
        }
        for (size_t f = 0; f < w.size(); ++f) {
            w[f] -= kRate * (grad[f] + l2 * w[f]);
        }
        b -= kRate * grad_b;
    }
}

}  // namespace

double AnswerScorer::raw(const std::vector<double> & x) const {
    double z = bias;
    for (size_t i = 0; i < weights.size() && i < x.size(); ++i) {
        z += weights[i] * x[i];
    }
    return sigmoid(z);
}

double AnswerScorer::probability(const std::vector<double> & x) const {
    return sigmoid(calibration_slope * logit(raw(x)) + calibration_offset);
}

core::Json AnswerScorer::to_json() const {
    core::Json j = core::Json::object();
    j["version"] = version;
    core::Json names = core::Json::array();
    core::Json w = core::Json::array();
    for (size_t i = 0; i < features.size(); ++i) {
        names.push_back(features[i]);
        w.push_back(weights[i]);
    }
    j["features"] = std::move(names);
    j["weights"] = std::move(w);
    j["bias"] = bias;
    j["calibration_slope"] = calibration_slope;
    j["calibration_offset"] = calibration_offset;
    j["trained_on"] = trained_on;
    return j;
}

core::Result<AnswerScorer> AnswerScorer::from_json(const core::Json & j) {
    AnswerScorer s;
    s.version = j.get_string("version");
    s.bias = j.get_double("bias");
    s.calibration_slope = j.get_double("calibration_slope", 1);
    s.calibration_offset = j.get_double("calibration_offset", 0);
    s.trained_on = j.get_string("trained_on");
    const core::Json * names = j.find("features");
    const core::Json * weights = j.find("weights");
    if (s.version.empty() || names == nullptr || weights == nullptr || !names->is_array() || !weights->is_array() ||
        names->size() != weights->size()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           "answer scorer: needs version, and features and weights of one length");
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
    std::vector<std::vector<double>> rows;
    std::vector<int> labels;
    for (const TrainingQuestion & q : questions) {
        rows.insert(rows.end(), q.rows.begin(), q.rows.end());
        labels.insert(labels.end(), q.labels.begin(), q.labels.end());
    }
    const auto positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
    if (positives == 0 || positives == labels.size()) {
        return s;
    }
    // Each class carries half the loss, so the rare answering sentences are not drowned.
    std::vector<double> weight(labels.size());
    for (size_t r = 0; r < labels.size(); ++r) {
        weight[r] = 0.5 / static_cast<double>(labels[r] != 0 ? positives : labels.size() - positives);
    }
    fit(rows, labels, weight, 1e-3, s.weights, s.bias);

    // Calibration: the best candidate of each question against whether it is right.
    std::vector<std::vector<double>> best;
    std::vector<int> right;
    for (const TrainingQuestion & q : questions) {
        if (q.rows.empty()) {
            continue;
        }
        size_t top = 0;
        for (size_t r = 1; r < q.rows.size(); ++r) {
            top = s.raw(q.rows[r]) > s.raw(q.rows[top]) ? r : top;
        }
        best.push_back({logit(s.raw(q.rows[top]))});
        right.push_back(q.labels[top]);
    }
    std::vector<double> slope = {1.0};
    const std::vector<double> even(best.size(), 1.0 / static_cast<double>(std::max<size_t>(1, best.size())));
    fit(best, right, even, 0.0, slope, s.calibration_offset);
    s.calibration_slope = slope[0];
    return s;
}

}  // namespace strongbox::appliance
