#include "strongbox/retrieval/lsa_embedder.h"

#include "feature_hashing.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

// LAPACK's symmetric eigensolver (linked through FAISS).
extern "C" void dsyev_(const char * jobz, const char * uplo, const int * n, double * a, const int * lda, double * w,
                       double * work, const int * lwork, int * info);

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

constexpr std::string_view kMagic = "SBLSA001";
constexpr int kOversample = 16;
constexpr int kPowerIterations = 2;

using SparseRow = std::vector<std::pair<uint32_t, float>>;

// Signed hashed features of text, before IDF weighting.
SparseRow features(std::string_view text) {
    SparseRow row;
    detail::for_each_feature(text, [&](uint64_t hash, float weight) {
        auto bucket = static_cast<uint32_t>(hash % LsaEmbedder::kBuckets);
        row.emplace_back(bucket, (hash >> 63) != 0 ? -weight : weight);
    });
    std::sort(row.begin(), row.end());
    // Merge collisions inside one text.
    SparseRow merged;
    for (const auto & [b, w] : row) {
        if (!merged.empty() && merged.back().first == b) {
            merged.back().second += w;
        } else {
            merged.emplace_back(b, w);
        }
    }
    return merged;
}

void weight_and_normalise(SparseRow & row, const std::vector<float> & idf) {
    double norm = 0;
    for (auto & [b, w] : row) {
        w *= idf[b];
        norm += static_cast<double>(w) * w;
    }
    if (norm > 0) {
        auto inv = static_cast<float>(1.0 / std::sqrt(norm));
        for (auto & entry : row) {
            entry.second *= inv;
        }
    }
}

// Eigen-decomposition of a symmetric n x n matrix (row-major, overwritten by eigenvectors as
// columns... in LAPACK's column-major view, i.e. rows here). Eigenvalues ascending.
Result<std::vector<double>> symmetric_eigen(std::vector<double> & a, int n) {
    std::vector<double> w(static_cast<size_t>(n));
    int lwork = -1;
    int info = 0;
    double query = 0;
    dsyev_("V", "U", &n, a.data(), &n, w.data(), &query, &lwork, &info);
    lwork = static_cast<int>(query);
    std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
    dsyev_("V", "U", &n, a.data(), &n, w.data(), work.data(), &lwork, &info);
    if (info != 0) {
        return Error(ErrorCode::kInternal, "LSA fit: eigensolver failed (info " + std::to_string(info) + ")");
    }
    return w;
}

// Orthonormal basis of the columns of m (rows x cols, row-major), in place, through the
// eigen-decomposition of m^T m. Columns with no energy are zeroed.
core::Status orthonormalise(std::vector<float> & m, size_t rows, int cols) {
    const auto c = static_cast<size_t>(cols);
    std::vector<double> gram(c * c, 0.0);
    for (size_t r = 0; r < rows; ++r) {
        const float * row = &m[r * c];
        for (size_t i = 0; i < c; ++i) {
            for (size_t j = i; j < c; ++j) {
                gram[i * c + j] += static_cast<double>(row[i]) * row[j];
            }
        }
    }
    for (size_t i = 0; i < c; ++i) {
        for (size_t j = 0; j < i; ++j) {
            gram[i * c + j] = gram[j * c + i];
        }
    }
    SB_ASSIGN_OR_RETURN(std::vector<double> lambda, symmetric_eigen(gram, cols));
    // gram now holds eigenvectors: eigenvector k is gram[k * c + 0 .. c) (column-major result).
    std::vector<double> transform(c * c, 0.0);  // t[i][k] = v_k[i] / sqrt(lambda_k)
    double top = lambda.back();
    for (size_t k = 0; k < c; ++k) {
        if (lambda[k] <= top * 1e-10) {
            continue;
        }
        double s = 1.0 / std::sqrt(lambda[k]);
        for (size_t i = 0; i < c; ++i) {
            transform[i * c + k] = gram[k * c + i] * s;
        }
    }
    std::vector<double> out(c);
    for (size_t r = 0; r < rows; ++r) {
        float * row = &m[r * c];
        std::fill(out.begin(), out.end(), 0.0);
        for (size_t i = 0; i < c; ++i) {
            double v = row[i];
            for (size_t k = 0; k < c; ++k) {
                out[k] += v * transform[i * c + k];
            }
        }
        for (size_t k = 0; k < c; ++k) {
            row[k] = static_cast<float>(out[k]);
        }
    }
    return {};
}

std::string parameter_digest(int dimension, const std::vector<float> & idf, const std::vector<float> & projection) {
    core::Sha256 h;
    h.update(std::string_view(reinterpret_cast<const char *>(&dimension), sizeof dimension));
    h.update(std::string_view(reinterpret_cast<const char *>(idf.data()), idf.size() * sizeof(float)));
    h.update(std::string_view(reinterpret_cast<const char *>(projection.data()), projection.size() * sizeof(float)));
    return core::to_hex(h.finish()).substr(0, 16);
}

}  // namespace

LsaEmbedder::LsaEmbedder(int dimension, std::vector<float> idf, std::vector<float> projection)
    : dimension_(dimension), idf_(std::move(idf)), projection_(std::move(projection)) {
    version_ = "1-" + parameter_digest(dimension_, idf_, projection_);
}

Result<LsaEmbedder> LsaEmbedder::fit(std::span<const std::string> corpus, int dimension, uint32_t seed) {
    if (dimension <= 0 || corpus.size() < static_cast<size_t>(dimension)) {
        return Error(ErrorCode::kInvalidArgument, "LSA fit: " + std::to_string(corpus.size()) +
                                                      " texts cannot support " + std::to_string(dimension) +
                                                      " dimensions");
    }
    const size_t n = corpus.size();
    const size_t d = kBuckets;
    const int l = dimension + kOversample;
    const auto lc = static_cast<size_t>(l);
    std::vector<SparseRow> rows(n);
    std::vector<float> df(d, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        rows[i] = features(corpus[i]);
        for (const auto & entry : rows[i]) {
            df[entry.first] += 1.0f;
        }
    }
    std::vector<float> idf(d);
    for (size_t b = 0; b < d; ++b) {
        idf[b] = static_cast<float>(std::log((static_cast<double>(n) + 1.0) / (df[b] + 1.0)) + 1.0);
    }
    for (auto & row : rows) {
        weight_and_normalise(row, idf);
    }
    // Sketch Y = X * Omega, then power iterations Y = X (X^T Y) with re-orthonormalisation.
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> z(d * lc);  // D x l
    for (auto & v : z) {
        v = normal(rng);
    }
    std::vector<float> y(n * lc);  // N x l
    auto multiply_x = [&]() {      // y = X z
        std::fill(y.begin(), y.end(), 0.0f);
        for (size_t i = 0; i < n; ++i) {
            float * out = &y[i * lc];
            for (const auto & [b, w] : rows[i]) {
                const float * zr = &z[b * lc];
                for (size_t k = 0; k < lc; ++k) {
                    out[k] += w * zr[k];
                }
            }
        }
    };
    auto multiply_xt = [&]() {  // z = X^T y
        std::fill(z.begin(), z.end(), 0.0f);
        for (size_t i = 0; i < n; ++i) {
            const float * yr = &y[i * lc];
            for (const auto & [b, w] : rows[i]) {
                float * out = &z[b * lc];
                for (size_t k = 0; k < lc; ++k) {
                    out[k] += w * yr[k];
                }
            }
        }
    };
    multiply_x();
    for (int it = 0; it < kPowerIterations; ++it) {
        SB_TRY(orthonormalise(y, n, l));
        multiply_xt();
        SB_TRY(orthonormalise(z, d, l));
        multiply_x();
    }
    SB_TRY(orthonormalise(y, n, l));  // y = Q, an orthonormal basis of X's dominant column space
    multiply_xt();                    // z = X^T Q = B^T (D x l)
    // Small problem: B B^T = (Q^T X)(X^T Q) = z^T z (l x l); its eigenvectors give B's left
    // singular vectors u_k, and the right singular vectors are v_k = B^T u_k / s_k.
    std::vector<double> c(lc * lc, 0.0);
    for (size_t b = 0; b < d; ++b) {
        const float * zr = &z[b * lc];
        for (size_t i = 0; i < lc; ++i) {
            for (size_t j = i; j < lc; ++j) {
                c[i * lc + j] += static_cast<double>(zr[i]) * zr[j];
            }
        }
    }
    for (size_t i = 0; i < lc; ++i) {
        for (size_t j = 0; j < i; ++j) {
            c[i * lc + j] = c[j * lc + i];
        }
    }
    SB_ASSIGN_OR_RETURN(std::vector<double> s2, symmetric_eigen(c, l));
    const auto r = static_cast<size_t>(dimension);
    std::vector<float> projection(r * d, 0.0f);
    for (size_t k = 0; k < r; ++k) {
        size_t e = lc - 1 - k;  // eigenvalues ascend: take the largest
        if (s2[e] <= 0) {
            continue;
        }
        double inv_s = 1.0 / std::sqrt(s2[e]);
        const double * u = &c[e * lc];
        float * v = &projection[k * d];
        for (size_t b = 0; b < d; ++b) {
            const float * zr = &z[b * lc];
            double acc = 0;
            for (size_t i = 0; i < lc; ++i) {
                acc += zr[i] * u[i];
            }
            v[b] = static_cast<float>(acc * inv_s);
        }
    }
    return LsaEmbedder(dimension, std::move(idf), std::move(projection));
}

EmbedderIdentity LsaEmbedder::identity() const {
    return EmbedderIdentity{"lsa-hashed", version_, dimension_};
}

Result<std::vector<float>> LsaEmbedder::embed(std::string_view text) const {
    SparseRow row = features(text);
    weight_and_normalise(row, idf_);
    std::vector<float> out(static_cast<size_t>(dimension_), 0.0f);
    for (size_t k = 0; k < out.size(); ++k) {
        const float * v = &projection_[k * kBuckets];
        double acc = 0;
        for (const auto & [b, w] : row) {
            acc += static_cast<double>(w) * v[b];
        }
        out[k] = static_cast<float>(acc);
    }
    detail::l2_normalise(out);
    return out;
}

core::Status LsaEmbedder::save(const std::filesystem::path & path) const {
    std::string bytes(kMagic);
    int32_t dim = dimension_;
    bytes.append(reinterpret_cast<const char *>(&dim), sizeof dim);
    std::string payload;
    payload.append(reinterpret_cast<const char *>(idf_.data()), idf_.size() * sizeof(float));
    payload.append(reinterpret_cast<const char *>(projection_.data()), projection_.size() * sizeof(float));
    bytes += core::sha256_hex(payload);
    bytes += payload;
    auto st = core::write_file_atomic(path, bytes);
    if (!st.ok()) {
        return std::move(st).error().with_context("save LSA embedder");
    }
    return {};
}

Result<LsaEmbedder> LsaEmbedder::load(const std::filesystem::path & path) {
    SB_ASSIGN_OR_RETURN(std::string bytes, core::read_file(path));
    auto corrupt = [&](const std::string & why) {
        return Error(ErrorCode::kCorruptInput,
                     "LSA embedder " + path.string() + " is damaged (" + why + "); fit it again and re-embed");
    };
    const size_t header = kMagic.size() + 4 + 64;
    if (bytes.size() < header || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
        return corrupt("bad magic or truncated header");
    }
    int32_t dim = 0;
    std::memcpy(&dim, bytes.data() + kMagic.size(), 4);
    std::string_view payload = std::string_view(bytes).substr(header);
    if (dim <= 0 || dim > 4096 ||
        payload.size() != (static_cast<size_t>(kBuckets) + static_cast<size_t>(dim) * kBuckets) * sizeof(float)) {
        return corrupt("size does not match its dimension");
    }
    if (core::sha256_hex(payload) != bytes.substr(kMagic.size() + 4, 64)) {
        return corrupt("checksum mismatch");
    }
    std::vector<float> idf(kBuckets);
    std::vector<float> projection(static_cast<size_t>(dim) * kBuckets);
    std::memcpy(idf.data(), payload.data(), idf.size() * sizeof(float));
    std::memcpy(projection.data(), payload.data() + idf.size() * sizeof(float), projection.size() * sizeof(float));
    return LsaEmbedder(dim, std::move(idf), std::move(projection));
}

}  // namespace strongbox::retrieval
