// VectorIndex over FAISS.
//
// Design notes:
// 1. FAISS labels are our "slots", not chunk ids: slots_[label] is the chunk id, -1 once removed.
//    Selectors then work the same way for every index type (FAISS 1.7.3's IndexIDMap throws when
//    searched with a selector). Access control is a selector that maps the slot to its chunk id
//    and tests it in the caller's ChunkIdSet: FAISS asks only about the vectors it visits, so
//    HNSW and IVF searches cost the same whatever the corpus size.
// 2. Flat indexes remove for real and compact; FAISS keeps the order of the remaining vectors,
//    so slots_ is compacted the same way. IVF indexes are given slot numbers as ids and remove
//    by id without renumbering. HNSW cannot remove: its slots become tombstones that the search
//    bitmap leaves out, and rebuild() drops them.
// 3. File layout: "SBVEC001", u64 header length, header JSON (identity, factory, slot count,
//    payload sha256), payload = i64 slots[] then the FAISS serialisation. The checksum is
//    verified before FAISS parses anything, so damaged bytes never reach FAISS's reader.
// 4. Flat searches do not go through FAISS: FAISS 1.7.3 as Debian builds it (no SSE3 at compile
//    time) scores one query at a time with its scalar fvec_inner_product_ref, with or without a
//    selector, about 5 ms per 10k vectors. flat_search() scans the stored vectors itself with a
//    dot product picked at run time (AVX2+FMA, else SSE2), skips invisible slots before scoring
//    them, and keeps the exact top k, ties broken by the lower slot; FAISS Flat remains the storage.
// 5. The flat scan reads a compact copy first (FlatCodes: int8 per dimension, one scale per vector,
//    a quarter of the bytes), so a search streams ~0.4 kB per vector instead of 1.5 kB. Each
//    vector also keeps |x| and the norm of its rounding error e = x - scale * code, so by
//    Cauchy-Schwarz |x.q - approx| <= |e_x| |q| + |x^| |e_q|, plus a slack for float rounding.
//    Only vectors whose upper bound reaches the k-th best lower bound are scored exactly with the
//    float kernel; every other one is provably below k exactly scored vectors. Hits, scores and
//    tie order are therefore those of the full float scan (design note 4). Non-finite or huge
//    vectors and queries take the full float scan. The codes are derived data: rebuilt at load, never saved.
// 6. IVF,SQ8 searches (auto's choice from 1M vectors) do not go through FAISS either: without SIMD,
//    FAISS decodes and multiplies one component at a time. ivf_sq8_search() ranks the centroids with
//    the float dot kernel and scans the kIvfProbes best lists. FAISS decodes component i of a code as
//    vmin[i] + (code[i] + 0.5) / 255 * vdiff[i] (ScalarQuantizer::trained = vmin[d], vdiff[d]), a
//    residual from the list's centroid when by_residual, so a vector's inner product with the query
//    is the centroid's score + bias + sum w[i] * code[i], with w and bias computed once per query:
//    one u8 -> float multiply-add pass per vector (dot_u8: AVX2+FMA, else SSE2). Access control is
//    tested before scoring, on chunk ids mirrored in list order (ListChunks, derived data synced
//    after every add and remove): looking each label up in slots_ cost more than the scan at 1M.
//    Exact top k with note 4's tie rule; hits and scores are FAISS's IndexIVF::search up to float
//    rounding and tie order. Other IVF codes (IVF-PQ files), other metrics or list storage keep
//    FAISS's search; set_faiss_ivf_scan(true) selects it for comparison.
#include "strongbox/retrieval/vector_index.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"
#include "strongbox/core/log.h"
#include "strongbox/retrieval/store.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Result;
using core::Status;
using faiss_idx = faiss::Index::idx_t;

namespace {

constexpr std::string_view kMagic = "SBVEC001";
constexpr size_t kEmbedBatch = 256;
constexpr int64_t kFlatBelow = 50'000;
constexpr int64_t kHnswBelow = 1'000'000;
constexpr int kHnswEfSearch = 128;
constexpr size_t kIvfProbes = 32;
constexpr faiss_idx kTrainSample = 100'000;

enum class Kind { kFlat, kHnsw, kIvf };

std::string resolve_factory(std::string_view factory, int64_t n, [[maybe_unused]] int dimension) {
    if (factory != "auto") {
        return std::string(factory);
    }
    if (n < kFlatBelow) {
        return "Flat";
    }
    if (n < kHnswBelow) {
        return "HNSW32";
    }
    // sqrt(n) lists: about a thousand vectors per list at 1M, trained on a 100k sample. Codes are
    // 8-bit scalar quantised (dimension bytes per vector): on 1M clustered vectors
    // (strongbox_bench_scale) PQ with dimension/8 bytes found 0.18 of the exact top 10, SQ8 0.967
    // at 32 probes. Indexes saved as IVF-PQ keep loading: the factory is in the file.
    auto lists = static_cast<int64_t>(std::sqrt(static_cast<double>(n)));
    return "IVF" + std::to_string(lists) + ",SQ8";
}

// FAISS reads from and writes into our own buffers, so a million-vector index is held once while it
// is saved or loaded rather than copied between FAISS's vector and the file image.
struct SpanReader final : faiss::IOReader {
    std::string_view data;
    size_t at = 0;

    size_t operator()(void * ptr, size_t size, size_t nitems) override {
        if (size == 0 || nitems == 0) {
            return nitems;
        }
        size_t n = std::min(nitems, (data.size() - at) / size);
        std::memcpy(ptr, data.data() + at, n * size);
        at += n * size;
        return n;
    }
};

struct StringWriter final : faiss::IOWriter {
    std::string * out = nullptr;

    size_t operator()(const void * ptr, size_t size, size_t nitems) override {
        out->append(static_cast<const char *>(ptr), size * nitems);
        return nitems;
    }
};

std::string rebuild_hint() {
    return "rebuild it from the store (Retriever::rebuild_index, `strongbox reindex`)";
}

// Dot products for flat_search (design note 4). Every kernel sums in float with its own order, so
// scores agree with FAISS's to about 1e-6, not bit for bit.
float dot_scalar(const float * a, const float * b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) {
        s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
float dot_sse2(const float * a, const float * b, size_t n) {
    __m128 s0 = _mm_setzero_ps();
    __m128 s1 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
    }
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, _mm_add_ps(s0, s1));
    float s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    return s + dot_scalar(a + i, b + i, n - i);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float * a, const float * b, size_t n) {
    __m256 s0 = _mm256_setzero_ps();
    __m256 s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, half);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + dot_sse2(a + i, b + i, n - i);
}
#endif

// Run-time dispatch shared by every kernel here: the AVX2 variants need AVX2 and FMA, SSE2 is in
// every x86-64 CPU, other CPUs take the portable loops. Checked once; what ships is built without
// -march flags.
bool cpu_has_avx2_fma() {
#if defined(__x86_64__)
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

using DotFn = float (*)(const float *, const float *, size_t);

DotFn pick_dot() {
#if defined(__x86_64__)
    return cpu_has_avx2_fma() ? dot_avx2 : dot_sse2;
#else
    return dot_scalar;
#endif
}

// Integer dot products of int8 codes in [-127, 127] (design note 5): exact in int32 for any
// dimension below 130,000, so the approximation error is only the codes' rounding.
int32_t dot_i8_scalar(const int8_t * a, const int8_t * b, size_t n) {
    int32_t s = 0;
    for (size_t i = 0; i < n; ++i) {
        s += int32_t{a[i]} * int32_t{b[i]};
    }
    return s;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) int32_t dot_i8_avx2(const int8_t * a, const int8_t * b, size_t n) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(a + i));
        __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + i));
        // maddubs multiplies unsigned by signed bytes: |x| times y with x's sign. Pairs sum to at
        // most 2 * 127 * 127, inside int16, because codes never take -128.
        __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s) + dot_i8_scalar(a + i, b + i, n - i);
}
#endif

using DotI8Fn = int32_t (*)(const int8_t *, const int8_t *, size_t);

DotI8Fn pick_dot_i8() {
#if defined(__x86_64__)
    if (cpu_has_avx2_fma()) {
        return dot_i8_avx2;
    }
#endif
    return dot_i8_scalar;
}

// Weighted sums of 8-bit scalar-quantiser codes, sum w[i] * code[i], for ivf_sq8_search (design
// note 6): one u8 -> float conversion and one multiply-add per component. Like the float kernels
// each sums in its own order.
float dot_u8_scalar(const float * w, const uint8_t * code, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += w[i] * static_cast<float>(code[i]);
        s1 += w[i + 1] * static_cast<float>(code[i + 1]);
        s2 += w[i + 2] * static_cast<float>(code[i + 2]);
        s3 += w[i + 3] * static_cast<float>(code[i + 3]);
    }
    for (; i < n; ++i) {
        s0 += w[i] * static_cast<float>(code[i]);
    }
    return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
float dot_u8_sse2(const float * w, const uint8_t * code, size_t n) {
    const __m128i zero = _mm_setzero_si128();
    __m128 s0 = _mm_setzero_ps();
    __m128 s1 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t bytes = 0;
        std::memcpy(&bytes, code + i, 8);
        __m128i u16 = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<int64_t>(bytes)), zero);
        __m128 lo = _mm_cvtepi32_ps(_mm_unpacklo_epi16(u16, zero));
        __m128 hi = _mm_cvtepi32_ps(_mm_unpackhi_epi16(u16, zero));
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(w + i), lo));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(w + i + 4), hi));
    }
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, _mm_add_ps(s0, s1));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + dot_u8_scalar(w + i, code + i, n - i);
}

__attribute__((target("avx2,fma"))) float dot_u8_avx2(const float * w, const uint8_t * code, size_t n) {
    __m256 s0 = _mm256_setzero_ps();
    __m256 s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(code + i));
        __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
        __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_unpackhi_epi64(bytes, bytes)));
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), lo, s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), hi, s1);
    }
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, half);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + dot_u8_sse2(w + i, code + i, n - i);
}
#endif

using DotU8Fn = float (*)(const float *, const uint8_t *, size_t);

DotU8Fn pick_dot_u8() {
#if defined(__x86_64__)
    return cpu_has_avx2_fma() ? dot_u8_avx2 : dot_u8_sse2;
#else
    return dot_u8_scalar;
#endif
}

// One vector's int8 code: x ~ scale * code, with |x| and |x - scale * code| for the error bound.
// `bounded` is false for vectors with non-finite or huge (> 1e15) components, whose bounds could
// overflow: searches that meet one take the full float scan.
struct Code {
    float scale = 0;
    float norm = 0;
    float err_norm = 0;
    bool bounded = true;
};

constexpr float kMaxBounded = 1e15f;

Code quantize(const float * x, size_t dim, int8_t * code) {
    float max_abs = 0;
    for (size_t i = 0; i < dim; ++i) {
        if (!(std::fabs(x[i]) <= kMaxBounded)) {  // also catches NaN
            std::memset(code, 0, dim);
            return Code{0, 0, 0, false};
        }
        max_abs = std::max(max_abs, std::fabs(x[i]));
    }
    const float scale = max_abs / 127.0f;
    double norm2 = 0;
    double err2 = 0;
    for (size_t i = 0; i < dim; ++i) {
        long c = scale > 0 ? std::lrint(x[i] / scale) : 0;
        c = std::clamp(c, -127L, 127L);
        code[i] = static_cast<int8_t>(c);
        double e = static_cast<double>(x[i]) - static_cast<double>(scale) * static_cast<double>(c);
        norm2 += static_cast<double>(x[i]) * x[i];
        err2 += e * e;
    }
    // Rounded up so the bound never shrinks below the true error norm.
    return Code{scale, std::nextafter(static_cast<float>(std::sqrt(norm2)), FLT_MAX),
                std::nextafter(static_cast<float>(std::sqrt(err2)), FLT_MAX), true};
}

// The compact copy of a Flat index's vectors, in label order (design note 5).
struct FlatCodes {
    size_t dim = 0;
    std::vector<int8_t> codes;
    std::vector<Code> meta;
    int64_t unbounded = 0;

    size_t size() const { return meta.size(); }

    void append(const float * vectors, size_t n) {
        codes.resize((meta.size() + n) * dim);
        for (size_t i = 0; i < n; ++i) {
            Code c = quantize(vectors + i * dim, dim, &codes[meta.size() * dim]);
            unbounded += c.bounded ? 0 : 1;
            meta.push_back(c);
        }
    }

    // Keeps the labels whose `keep` is true, in order, as FAISS compacts a Flat index.
    void compact(const std::vector<bool> & keep) {
        size_t to = 0;
        unbounded = 0;
        for (size_t from = 0; from < meta.size(); ++from) {
            if (!keep[from]) {
                continue;
            }
            if (to != from) {
                std::memmove(&codes[to * dim], &codes[from * dim], dim);
                meta[to] = meta[from];
            }
            unbounded += meta[to].bounded ? 0 : 1;
            ++to;
        }
        meta.resize(to);
        codes.resize(to * dim);
    }
};

using ScoredLabel = std::pair<float, faiss_idx>;

// Worse = lower score, or equal score and higher slot.
bool better_hit(const ScoredLabel & x, const ScoredLabel & y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
}

// Keeps the k best of the scored labels pushed into it; `sorted()` gives them best first.
class TopK {
  public:
    explicit TopK(size_t k) : k_(k) {}

    void push(const ScoredLabel & hit) {
        if (heap_.size() < k_) {
            heap_.push_back(hit);
            std::push_heap(heap_.begin(), heap_.end(), better_hit);
        } else if (better_hit(hit, heap_.front())) {
            std::pop_heap(heap_.begin(), heap_.end(), better_hit);
            heap_.back() = hit;
            std::push_heap(heap_.begin(), heap_.end(), better_hit);
        }
    }

    std::vector<ScoredLabel> sorted() && {
        std::sort_heap(heap_.begin(), heap_.end(), better_hit);
        return std::move(heap_);
    }

  private:
    size_t k_;
    std::vector<ScoredLabel> heap_;  // a heap whose front is the worst kept hit
};

// Exact top-k inner product over the live slots of a Flat index that `visible` accepts (all when
// null), best first; equal scores keep the lower slot, as a stable scan order would. Scores every
// visible vector with the float kernel: the reference the compact scan must reproduce.
std::vector<ScoredLabel> flat_search_full(const faiss::IndexFlat & flat, const std::vector<int64_t> & slots,
                                          const ChunkIdSet * visible, const float * query, size_t k) {
    static const DotFn dot = pick_dot();
    const auto dim = static_cast<size_t>(flat.d);
    const float * xb = flat.get_xb();
    TopK top(k);
    const auto n = static_cast<size_t>(flat.ntotal);
    for (size_t label = 0; label < n && label < slots.size(); ++label) {
        int64_t chunk_id = slots[label];
        if (chunk_id < 0 || (visible != nullptr && !visible->contains(chunk_id))) {
            continue;
        }
        top.push(ScoredLabel{dot(xb + label * dim, query, dim), static_cast<faiss_idx>(label)});
    }
    return std::move(top).sorted();
}

// The same top k through the compact codes (design note 5): bounds from the int8 scan, exact
// float scores for the labels whose upper bound reaches the k-th best lower bound.
std::vector<ScoredLabel> flat_search(const faiss::IndexFlat & flat, const FlatCodes & compact,
                                     const std::vector<int64_t> & slots, const ChunkIdSet * visible,
                                     const float * query, size_t k) {
    static const DotFn dot = pick_dot();
    static const DotI8Fn dot_i8 = pick_dot_i8();
    const auto dim = static_cast<size_t>(flat.d);
    const auto n = std::min(static_cast<size_t>(flat.ntotal), slots.size());
    thread_local std::vector<int8_t> query_code;
    query_code.resize(dim);
    const Code q = quantize(query, dim, query_code.data());
    if (!q.bounded || compact.unbounded > 0 || compact.size() != static_cast<size_t>(flat.ntotal) ||
        compact.dim != dim) {
        return flat_search_full(flat, slots, visible, query, k);
    }
    // Float rounding of the exact kernel and of the approximation, relative to |x| |q|: well
    // above dimension * FLT_EPSILON, the worst case of a float dot product.
    const float slack = static_cast<float>(4 * dim + 16) * FLT_EPSILON * q.norm;
    // Lower bounds of the k best so far, a min-heap: its front only rises, so a label whose upper
    // bound is below it now is below the final threshold too.
    thread_local std::vector<float> lowers;
    thread_local std::vector<std::pair<float, faiss_idx>> candidates;  // (upper bound, label)
    lowers.clear();
    candidates.clear();
    auto threshold = [&] {
        return lowers.size() < k ? -FLT_MAX : lowers.front();
    };
    const int8_t * codes = compact.codes.data();
    for (size_t label = 0; label < n; ++label) {
        int64_t chunk_id = slots[label];
        if (chunk_id < 0 || (visible != nullptr && !visible->contains(chunk_id))) {
            continue;
        }
        const Code & c = compact.meta[label];
        float approx = c.scale * q.scale * static_cast<float>(dot_i8(codes + label * dim, query_code.data(), dim));
        float bound = c.err_norm * q.norm + (c.norm + c.err_norm) * q.err_norm + slack * c.norm;
        float upper = approx + bound;
        if (upper < threshold()) {
            continue;
        }
        candidates.emplace_back(upper, static_cast<faiss_idx>(label));
        float lower = approx - bound;
        if (lowers.size() < k) {
            lowers.push_back(lower);
            std::push_heap(lowers.begin(), lowers.end(), std::greater<>());
        } else if (lower > lowers.front()) {
            std::pop_heap(lowers.begin(), lowers.end(), std::greater<>());
            lowers.back() = lower;
            std::push_heap(lowers.begin(), lowers.end(), std::greater<>());
        }
    }
    const float cut = threshold();
    const float * xb = flat.get_xb();
    TopK top(k);
    for (const auto & [upper, label] : candidates) {
        if (upper >= cut) {
            top.push(ScoredLabel{dot(xb + static_cast<size_t>(label) * dim, query, dim), label});
        }
    }
    return std::move(top).sorted();
}

// The parts of an IVF,SQ8 index that ivf_sq8_search reads (design note 6); null members when the
// index is another kind, or an IVF,SQ8 laid out otherwise than the inner-product, per-dimension
// 8-bit, in-memory-lists form VectorIndex builds: those searches stay with FAISS.
struct IvfSq8View {
    const faiss::IndexIVFScalarQuantizer * ivf = nullptr;
    const faiss::IndexFlat * centroids = nullptr;
    const faiss::ArrayInvertedLists * lists = nullptr;

    explicit IvfSq8View(const faiss::Index * index) {
        const auto * sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(index);
        if (sq == nullptr || !sq->is_trained || sq->metric_type != faiss::METRIC_INNER_PRODUCT ||
            sq->sq.qtype != faiss::ScalarQuantizer::QT_8bit || sq->code_size != static_cast<size_t>(sq->d) ||
            sq->sq.trained.size() != 2 * static_cast<size_t>(sq->d)) {
            return;
        }
        const auto * flat = dynamic_cast<const faiss::IndexFlat *>(sq->quantizer);
        const auto * array = dynamic_cast<const faiss::ArrayInvertedLists *>(sq->invlists);
        if (flat == nullptr || flat->metric_type != faiss::METRIC_INNER_PRODUCT || flat->d != sq->d ||
            flat->ntotal != static_cast<faiss_idx>(sq->nlist) || array == nullptr || array->nlist != sq->nlist) {
            return;
        }
        ivf = sq;
        centroids = flat;
        lists = array;
    }

    bool usable() const { return ivf != nullptr; }
};

// The chunk id of every entry of every inverted list, in the lists' order (design note 6): the scan
// reads them in sequence instead of looking each label up in slots, whose random reads cost more
// than scoring the codes at a million vectors. Derived data, kept in step by sync() after every
// change to the lists.
struct ListChunks {
    std::vector<std::vector<int64_t>> of_list;

    // FAISS only appends to a list when adding and only shrinks it (moving its last entries into the
    // holes) when removing, and sync() runs after each add and each remove: a list that grew gained
    // a tail, a list that shrank is read again, a list of unchanged length is unchanged.
    void sync(const IvfSq8View & view, const std::vector<int64_t> & slots) {
        if (!view.usable()) {
            of_list.clear();
            return;
        }
        of_list.resize(view.ivf->nlist);
        for (size_t list = 0; list < of_list.size(); ++list) {
            const std::vector<faiss_idx> & labels = view.lists->ids[list];
            std::vector<int64_t> & chunk_ids = of_list[list];
            size_t from = chunk_ids.size() <= labels.size() ? chunk_ids.size() : 0;
            chunk_ids.resize(labels.size());
            for (size_t j = from; j < labels.size(); ++j) {
                const auto label = static_cast<size_t>(labels[j]);
                chunk_ids[j] = labels[j] >= 0 && label < slots.size() ? slots[label] : -1;
            }
        }
    }

    // Whether sync() has run since the lists last changed length (a cheap check before each search).
    bool matches(const IvfSq8View & view) const {
        if (of_list.size() != view.ivf->nlist) {
            return false;
        }
        for (size_t list = 0; list < of_list.size(); ++list) {
            if (of_list[list].size() != view.lists->ids[list].size()) {
                return false;
            }
        }
        return true;
    }
};

// Top k of an IVF,SQ8 index by inner product over the `nprobe` lists whose centroids score highest,
// restricted to live slots that `visible` accepts (all when null); the ranking FAISS's
// IndexIVF::search gives, with the flat path's tie rule (design note 6).
std::vector<ScoredLabel> ivf_sq8_search(const IvfSq8View & view, const ListChunks & chunks, const ChunkIdSet * visible,
                                        const float * query, size_t k, size_t nprobe) {
    static const DotFn dot = pick_dot();
    static const DotU8Fn dot_u8 = pick_dot_u8();
    const faiss::IndexIVFScalarQuantizer & ivf = *view.ivf;
    const auto dim = static_cast<size_t>(ivf.d);
    const size_t nlist = ivf.nlist;
    nprobe = std::min(nprobe, nlist);
    // The probed lists: highest centroid inner product first (ties: lower list number).
    thread_local std::vector<ScoredLabel> ranked;
    ranked.clear();
    const float * centroid = view.centroids->get_xb();
    for (size_t list = 0; list < nlist; ++list) {
        ranked.emplace_back(dot(centroid + list * dim, query, dim), static_cast<faiss_idx>(list));
    }
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(nprobe), ranked.end(), better_hit);
    // FAISS decodes component i of a code as vmin[i] + (code[i] + 0.5) / 255 * vdiff[i] (trained holds
    // vmin[d] then vdiff[d]), a residual from the list's centroid when by_residual. Its inner product
    // with the query is therefore bias + sum w[i] * code[i], plus the centroid's score.
    const float * vmin = ivf.sq.trained.data();
    const float * vdiff = vmin + dim;
    thread_local std::vector<float> weights;
    weights.resize(dim);
    float bias = 0;
    for (size_t i = 0; i < dim; ++i) {
        const float step = vdiff[i] / 255.0f;
        weights[i] = query[i] * step;
        bias += query[i] * (vmin[i] + 0.5f * step);
    }
    TopK top(k);
    for (size_t p = 0; p < nprobe; ++p) {
        const auto list = static_cast<size_t>(ranked[p].second);
        const float base = bias + (ivf.by_residual ? ranked[p].first : 0.0f);
        const std::vector<faiss_idx> & labels = view.lists->ids[list];
        const std::vector<int64_t> & chunk_ids = chunks.of_list[list];
        const uint8_t * codes = view.lists->codes[list].data();
        for (size_t j = 0; j < labels.size(); ++j) {
            const int64_t chunk_id = chunk_ids[j];
            if (chunk_id < 0 || (visible != nullptr && !visible->contains(chunk_id))) {
                continue;
            }
            top.push(ScoredLabel{base + dot_u8(weights.data(), codes + j * dim, dim), labels[j]});
        }
    }
    return std::move(top).sorted();
}

}  // namespace

std::string VectorIndex::factory_for(int64_t n, int dimension) {
    return resolve_factory("auto", n, dimension);
}

std::string ReconcileReport::to_string() const {
    return std::string(created ? "built from the store: " : "") + std::to_string(added) + " vectors added, " +
           std::to_string(removed) + " removed" +
           (stale_files_removed > 0 ? ", " + std::to_string(stale_files_removed) + " stale temporary files deleted"
                                    : "");
}

struct VectorIndex::Impl {
    EmbedderIdentity identity;
    std::string factory;
    Kind kind = Kind::kFlat;
    std::unique_ptr<faiss::Index> index;
    std::vector<int64_t> slots;
    std::unordered_map<int64_t, int64_t> slot_of;
    int64_t live = 0;
    FlatCodes compact;                        // Flat only: the int8 copy searches read first (design note 5)
    std::atomic<bool> faiss_ivf_scan{false};  // IVF,SQ8 searches through FAISS (set_faiss_ivf_scan)
    ListChunks list_chunks;                   // IVF,SQ8 only: chunk ids in inverted-list order (design note 6)

    void sync_list_chunks() {
        if (kind == Kind::kIvf) {
            list_chunks.sync(IvfSq8View(index.get()), slots);
        }
    }

    // The index ivf_sq8_search answers for (design note 6); unusable when FAISS searches instead.
    IvfSq8View own_ivf_scan() const {
        if (kind != Kind::kIvf || faiss_ivf_scan.load(std::memory_order_relaxed)) {
            return IvfSq8View(nullptr);
        }
        IvfSq8View view(index.get());
        return view.usable() && list_chunks.matches(view) ? view : IvfSq8View(nullptr);
    }
    mutable std::shared_mutex mu;

    Status classify() {
        if (auto * flat = dynamic_cast<faiss::IndexFlat *>(index.get()); flat != nullptr) {
            kind = Kind::kFlat;
            compact = FlatCodes{};
            compact.dim = static_cast<size_t>(flat->d);
            compact.append(flat->get_xb(), static_cast<size_t>(flat->ntotal));
        } else if (auto * hnsw = dynamic_cast<faiss::IndexHNSW *>(index.get()); hnsw != nullptr) {
            kind = Kind::kHnsw;
            // FAISS 1.7.3 does not take the search depth from SearchParametersHNSW alone; set it here too.
            hnsw->hnsw.efSearch = kHnswEfSearch;
        } else if (auto * ivf = dynamic_cast<faiss::IndexIVF *>(index.get()); ivf != nullptr) {
            kind = Kind::kIvf;
            // index_factory turns on polysemous training for PQ codes; it serves Hamming-distance
            // search, which we never use, and takes minutes of simulated annealing per training.
            if (auto * ivfpq = dynamic_cast<faiss::IndexIVFPQ *>(ivf); ivfpq != nullptr) {
                ivfpq->do_polysemous_training = false;
            }
        } else {
            return Error(ErrorCode::kUnsupported,
                         "vector index type '" + factory + "' is not supported (use Flat, HNSW<M> or IVF<n>,...)");
        }
        return {};
    }

    void rebuild_slot_map() {
        slot_of.clear();
        live = 0;
        for (size_t label = 0; label < slots.size(); ++label) {
            if (slots[label] >= 0) {
                slot_of[slots[label]] = static_cast<int64_t>(label);
                ++live;
            }
        }
    }

    int64_t remove_locked(std::span<const int64_t> chunk_ids) {
        std::vector<faiss_idx> labels;
        for (int64_t id : chunk_ids) {
            auto it = slot_of.find(id);
            if (it != slot_of.end()) {
                labels.push_back(it->second);
            }
        }
        if (labels.empty()) {
            return 0;
        }
        if (kind == Kind::kFlat || kind == Kind::kIvf) {
            faiss::IDSelectorBatch sel(labels.size(), labels.data());
            index->remove_ids(sel);
        }
        for (faiss_idx label : labels) {
            slots[static_cast<size_t>(label)] = -1;
        }
        if (kind == Kind::kFlat) {
            std::vector<bool> keep(slots.size());
            for (size_t label = 0; label < slots.size(); ++label) {
                keep[label] = slots[label] >= 0;
            }
            compact.compact(keep);
            slots.erase(std::remove(slots.begin(), slots.end(), int64_t{-1}), slots.end());
        }
        rebuild_slot_map();
        sync_list_chunks();
        return static_cast<int64_t>(labels.size());
    }

    // IVF k-means and PQ codebooks are trained on at most kTrainSample vectors taken at an even
    // stride: as good a fit for clustered data as the whole batch, at a fraction of the time and
    // of the memory FAISS needs for residuals.
    void train_on_sample(faiss_idx n, const float * vectors) {
        const auto dim = static_cast<size_t>(identity.dimension);
        auto * ivf = dynamic_cast<faiss::IndexIVF *>(index.get());
        auto want = std::max<faiss_idx>(kTrainSample, ivf != nullptr ? 64 * static_cast<faiss_idx>(ivf->nlist) : 0);
        if (n <= want) {
            index->train(n, vectors);
            return;
        }
        std::vector<float> sample(static_cast<size_t>(want) * dim);
        for (faiss_idx i = 0; i < want; ++i) {
            auto from = static_cast<size_t>(i * n / want);
            std::memcpy(&sample[static_cast<size_t>(i) * dim], vectors + from * dim, dim * sizeof(float));
        }
        index->train(want, sample.data());
    }

    Status add_locked(std::span<const int64_t> chunk_ids, std::span<const float> vectors) {
        const auto dim = static_cast<size_t>(identity.dimension);
        if (vectors.size() != chunk_ids.size() * dim) {
            return Error(ErrorCode::kInvalidArgument, "add vectors: " + std::to_string(vectors.size()) +
                                                          " floats for " + std::to_string(chunk_ids.size()) +
                                                          " chunks of dimension " + std::to_string(dim));
        }
        if (chunk_ids.empty()) {
            return {};
        }
        std::unordered_set<int64_t> unique(chunk_ids.begin(), chunk_ids.end());
        if (unique.size() != chunk_ids.size()) {
            return Error(ErrorCode::kInvalidArgument, "add vectors: duplicate chunk ids in one batch");
        }
        remove_locked(chunk_ids);
        const auto n = static_cast<faiss_idx>(chunk_ids.size());
        try {
            if (!index->is_trained) {
                auto * ivf = dynamic_cast<faiss::IndexIVF *>(index.get());
                if (ivf != nullptr && static_cast<size_t>(n) < ivf->nlist) {
                    return Error(ErrorCode::kInvalidArgument, "vector index " + factory + " needs at least " +
                                                                  std::to_string(ivf->nlist) +
                                                                  " vectors to train, got " + std::to_string(n));
                }
                train_on_sample(n, vectors.data());
            }
            auto first = static_cast<faiss_idx>(slots.size());
            if (kind == Kind::kIvf) {
                std::vector<faiss_idx> labels(static_cast<size_t>(n));
                for (faiss_idx i = 0; i < n; ++i) {
                    labels[static_cast<size_t>(i)] = first + i;
                }
                index->add_with_ids(n, vectors.data(), labels.data());
            } else {
                index->add(n, vectors.data());
                if (kind == Kind::kFlat) {
                    compact.append(vectors.data(), static_cast<size_t>(n));
                }
            }
        } catch (const std::exception & e) {
            return Error(ErrorCode::kInternal, "add vectors to " + factory + ": " + e.what());
        }
        for (int64_t id : chunk_ids) {
            slot_of[id] = static_cast<int64_t>(slots.size());
            slots.push_back(id);
            ++live;
        }
        sync_list_chunks();
        return {};
    }
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::VectorIndex(VectorIndex &&) noexcept = default;
VectorIndex & VectorIndex::operator=(VectorIndex &&) noexcept = default;
VectorIndex::~VectorIndex() = default;

Result<VectorIndex> VectorIndex::create(const EmbedderIdentity & identity, std::string_view factory) {
    if (identity.dimension <= 0) {
        return Error(ErrorCode::kInvalidArgument,
                     "vector index: embedder " + identity.to_string() + " has no dimension");
    }
    auto impl = std::make_unique<Impl>();
    impl->identity = identity;
    impl->factory = resolve_factory(factory, 0, identity.dimension);
    try {
        impl->index.reset(faiss::index_factory(identity.dimension, impl->factory.c_str(), faiss::METRIC_INNER_PRODUCT));
    } catch (const std::exception & e) {
        return Error(ErrorCode::kUnsupported, "vector index type '" + impl->factory + "': " + e.what());
    }
    SB_TRY(impl->classify());
    return VectorIndex(std::move(impl));
}

Result<VectorIndex> VectorIndex::load(const std::filesystem::path & path, const EmbedderIdentity & expected) {
    const std::string where = "vector index " + path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return Error(ErrorCode::kNotFound, where + ": no such file");
    }
    SB_ASSIGN_OR_RETURN(std::string bytes, core::read_file(path));
    auto corrupt = [&](const std::string & why) {
        return Error(ErrorCode::kCorruptInput, where + " is damaged (" + why + "); " + rebuild_hint());
    };
    if (bytes.size() < kMagic.size() + 8 || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
        return corrupt("bad magic or truncated header");
    }
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data() + kMagic.size(), 8);
    size_t header_at = kMagic.size() + 8;
    if (header_len > bytes.size() - header_at) {
        return corrupt("header runs past the end of the file");
    }
    auto header = core::Json::parse(std::string_view(bytes).substr(header_at, header_len));
    if (!header.ok() || !header->is_object()) {
        return corrupt("header is not a JSON object");
    }
    std::string_view payload = std::string_view(bytes).substr(header_at + header_len);
    if (core::sha256_hex(payload) != header->get_string("payload_sha256")) {
        return corrupt("payload checksum mismatch, " + std::to_string(payload.size()) + " payload bytes");
    }
    EmbedderIdentity stored{header->get_string("embedder"), header->get_string("embedder_version"),
                            static_cast<int>(header->get_int("dimension"))};
    if (!(stored == expected)) {
        return Error(ErrorCode::kUnsupported, where + " was built with embedder " + stored.to_string() +
                                                  " but the configured embedder is " + expected.to_string() +
                                                  "; re-embed the corpus: " + rebuild_hint());
    }
    int64_t n_slots = header->get_int("slots", -1);
    if (n_slots < 0 || static_cast<uint64_t>(n_slots) > payload.size() / 8) {
        return corrupt("slot count out of range");
    }
    auto impl = std::make_unique<Impl>();
    impl->identity = stored;
    impl->factory = header->get_string("factory");
    impl->slots.resize(static_cast<size_t>(n_slots));
    if (n_slots > 0) {  // an empty index has no slot storage: memcpy to its null data() is undefined
        std::memcpy(impl->slots.data(), payload.data(), static_cast<size_t>(n_slots) * 8);
    }
    SpanReader reader;
    reader.data = payload.substr(static_cast<size_t>(n_slots) * 8);
    try {
        impl->index.reset(faiss::read_index(&reader));
    } catch (const std::exception & e) {
        return corrupt(std::string("FAISS cannot read it: ") + e.what());
    }
    if (impl->index == nullptr || impl->index->d != stored.dimension) {
        return corrupt("index dimension does not match the header");
    }
    SB_TRY(impl->classify());
    impl->rebuild_slot_map();
    impl->sync_list_chunks();
    auto expected_total = impl->kind == Kind::kIvf ? impl->live : n_slots;
    if (impl->index->ntotal != expected_total) {
        return corrupt("index holds " + std::to_string(impl->index->ntotal) + " vectors, header says " +
                       std::to_string(expected_total));
    }
    return VectorIndex(std::move(impl));
}

Status VectorIndex::save(const std::filesystem::path & path) const {
    std::shared_lock lock(impl_->mu);
    // The header names the payload checksum, which is known only once FAISS has written the
    // payload: write a placeholder of the same length and patch it (design note 3).
    const std::string placeholder(64, '0');
    core::Json header = core::Json::object();
    header["embedder"] = impl_->identity.name;
    header["embedder_version"] = impl_->identity.version;
    header["dimension"] = impl_->identity.dimension;
    header["factory"] = impl_->factory;
    header["slots"] = static_cast<int64_t>(impl_->slots.size());
    header["vectors"] = impl_->live;
    header["payload_sha256"] = placeholder;
    const std::string header_text = header.dump();
    const size_t sha_at = header_text.find(placeholder);
    SB_CHECK(sha_at != std::string::npos);
    std::string bytes(kMagic);
    uint64_t header_len = header_text.size();
    bytes.append(reinterpret_cast<const char *>(&header_len), 8);
    bytes += header_text;
    const size_t payload_at = bytes.size();
    bytes.append(reinterpret_cast<const char *>(impl_->slots.data()), impl_->slots.size() * 8);
    StringWriter writer;
    writer.out = &bytes;
    try {
        faiss::write_index(impl_->index.get(), &writer);
    } catch (const std::exception & e) {
        return Error(ErrorCode::kInternal, "serialise vector index for " + path.string() + ": " + e.what());
    }
    const std::string sha = core::sha256_hex(std::string_view(bytes).substr(payload_at));
    bytes.replace(kMagic.size() + 8 + sha_at, sha.size(), sha);
    auto st = core::write_file_atomic(path, bytes);
    if (!st.ok()) {
        return std::move(st).error().with_context("save vector index");
    }
    return {};
}

Result<ReconcileReport> VectorIndex::reconcile(const Store & store, const Embedder & embedder) {
    if (!(embedder.identity() == impl_->identity)) {
        return Error(ErrorCode::kUnsupported, "reconcile: vector index uses " + impl_->identity.to_string() +
                                                  ", embedder is " + embedder.identity().to_string());
    }
    SB_ASSIGN_OR_RETURN(std::vector<int64_t> active, store.active_chunk_ids());
    std::unique_lock lock(impl_->mu);
    ReconcileReport report;
    std::unordered_set<int64_t> active_set(active.begin(), active.end());
    std::vector<int64_t> stale;
    for (const auto & [id, slot] : impl_->slot_of) {
        if (active_set.count(id) == 0) {
            stale.push_back(id);
        }
    }
    report.removed = impl_->remove_locked(stale);
    std::vector<int64_t> missing;
    for (int64_t id : active) {
        if (impl_->slot_of.count(id) == 0) {
            missing.push_back(id);
        }
    }
    // IVF trains on its first batch, so an untrained index gets every missing vector at once.
    size_t batch = impl_->index->is_trained ? kEmbedBatch : std::max<size_t>(missing.size(), 1);
    for (size_t at = 0; at < missing.size(); at += batch) {
        std::vector<int64_t> ids(missing.begin() + static_cast<std::ptrdiff_t>(at),
                                 missing.begin() + static_cast<std::ptrdiff_t>(std::min(missing.size(), at + batch)));
        SB_ASSIGN_OR_RETURN(std::vector<std::string> texts, store.chunk_texts(ids));
        std::vector<float> vectors;
        for (size_t t = 0; t < texts.size(); t += kEmbedBatch) {
            auto end = std::min(texts.size(), t + kEmbedBatch);
            SB_ASSIGN_OR_RETURN(std::vector<float> part,
                                embedder.embed_batch(std::span<const std::string>(texts.data() + t, end - t)));
            vectors.insert(vectors.end(), part.begin(), part.end());
        }
        SB_TRY(impl_->add_locked(ids, vectors));
        report.added += static_cast<int64_t>(ids.size());
    }
    return report;
}

int64_t VectorIndex::remove_stale_temporaries(const std::filesystem::path & path) {
    // core::write_file_atomic writes "<name>.tmp.<pid>.<n>" beside the target; a save killed before
    // its rename leaves one behind. Only the owner of the data directory saves, so at open every
    // such file is garbage.
    const std::string prefix = path.filename().string() + ".tmp.";
    std::error_code ec;
    int64_t removed = 0;
    for (const auto & entry : std::filesystem::directory_iterator(
             path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), ec)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0 && std::filesystem::remove(entry.path(), ec)) {
            SB_LOG_WARN("vector index: removed %s left by an interrupted save", entry.path().c_str());
            ++removed;
        }
    }
    return removed;
}

Result<VectorIndex> VectorIndex::open(const std::filesystem::path & path, const Store & store,
                                      const Embedder & embedder, ReconcileReport * report) {
    int64_t stale = remove_stale_temporaries(path);
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    Result<VectorIndex> index = exists ? load(path, embedder.identity()) : create(embedder.identity(), "Flat");
    if (!index.ok()) {
        return std::move(index).error();
    }
    SB_ASSIGN_OR_RETURN(ReconcileReport r, index->reconcile(store, embedder));
    r.created = !exists;
    r.stale_files_removed = stale;
    if (r.created || r.added > 0 || r.removed > 0 || r.stale_files_removed > 0) {
        SB_LOG_INFO("vector index %s: %s", path.c_str(), r.to_string().c_str());
    }
    if (report != nullptr) {
        *report = r;
    }
    return index;
}

Result<VectorIndex> VectorIndex::rebuild(const Store & store, const Embedder & embedder, std::string_view factory) {
    SB_ASSIGN_OR_RETURN(std::vector<int64_t> active, store.active_chunk_ids());
    std::string resolved = resolve_factory(factory, static_cast<int64_t>(active.size()), embedder.identity().dimension);
    SB_ASSIGN_OR_RETURN(VectorIndex index, create(embedder.identity(), resolved));
    SB_ASSIGN_OR_RETURN([[maybe_unused]] ReconcileReport report, index.reconcile(store, embedder));
    return index;
}

Status VectorIndex::add(std::span<const int64_t> chunk_ids, std::span<const float> vectors) {
    std::unique_lock lock(impl_->mu);
    return impl_->add_locked(chunk_ids, vectors);
}

int64_t VectorIndex::remove(std::span<const int64_t> chunk_ids) {
    std::unique_lock lock(impl_->mu);
    return impl_->remove_locked(chunk_ids);
}

namespace {

// A slot is selected when it is live and its chunk is in the allowed set (design note 1).
struct AllowedChunks final : faiss::IDSelector {
    const std::vector<int64_t> * slots = nullptr;
    const ChunkIdSet * allowed = nullptr;

    bool is_member(idx_t label) const override {
        if (label < 0 || static_cast<size_t>(label) >= slots->size()) {
            return false;
        }
        int64_t chunk_id = (*slots)[static_cast<size_t>(label)];
        return chunk_id >= 0 && (allowed == nullptr || allowed->contains(chunk_id));
    }
};

}  // namespace

Result<std::vector<VectorHit>> VectorIndex::search(std::span<const float> query, int k,
                                                   const std::vector<int64_t> * allowed) const {
    if (allowed == nullptr) {
        return search_impl(query, k, nullptr);
    }
    ChunkIdSet set(*allowed);
    return search_impl(query, k, &set);
}

Result<std::vector<VectorHit>> VectorIndex::search(std::span<const float> query, int k,
                                                   const ChunkIdSet & allowed) const {
    return search_impl(query, k, &allowed);
}

Result<std::vector<VectorHit>> VectorIndex::search_impl(std::span<const float> query, int k,
                                                        const ChunkIdSet * allowed) const {
    std::shared_lock lock(impl_->mu);
    std::vector<VectorHit> hits;
    if (query.size() != static_cast<size_t>(impl_->identity.dimension)) {
        return Error(ErrorCode::kInvalidArgument, "vector search: query has " + std::to_string(query.size()) +
                                                      " dimensions, index has " +
                                                      std::to_string(impl_->identity.dimension));
    }
    if (k <= 0 || impl_->live == 0 || (allowed != nullptr && allowed->size() == 0)) {
        return hits;
    }
    if (impl_->kind == Kind::kFlat) {
        auto * flat = dynamic_cast<faiss::IndexFlat *>(impl_->index.get());
        for (const auto & [score, label] :
             flat_search(*flat, impl_->compact, impl_->slots, allowed, query.data(), static_cast<size_t>(k))) {
            hits.push_back(VectorHit{impl_->slots[static_cast<size_t>(label)], score});
        }
        return hits;
    }
    if (IvfSq8View view = impl_->own_ivf_scan(); view.usable()) {
        for (const auto & [score, label] :
             ivf_sq8_search(view, impl_->list_chunks, allowed, query.data(), static_cast<size_t>(k), kIvfProbes)) {
            hits.push_back(VectorHit{impl_->slots[static_cast<size_t>(label)], score});
        }
        return hits;
    }
    // Without a filter and without tombstones every stored vector qualifies and the selector is skipped.
    bool tombstones = impl_->kind == Kind::kHnsw && impl_->live != static_cast<int64_t>(impl_->slots.size());
    bool need_selector = allowed != nullptr || tombstones;
    AllowedChunks selector;
    selector.slots = &impl_->slots;
    selector.allowed = allowed;
    faiss::SearchParameters flat_params;
    faiss::SearchParametersHNSW hnsw_params;
    faiss::SearchParametersIVF ivf_params;
    faiss::SearchParameters * params = &flat_params;
    if (impl_->kind == Kind::kHnsw) {
        hnsw_params.efSearch = kHnswEfSearch;
        params = &hnsw_params;
    } else if (impl_->kind == Kind::kIvf) {
        auto * ivf = dynamic_cast<faiss::IndexIVF *>(impl_->index.get());
        ivf_params.nprobe = std::min<size_t>(ivf->nlist, kIvfProbes);
        params = &ivf_params;
    }
    params->sel = need_selector ? &selector : nullptr;
    int64_t at_most = allowed != nullptr ? std::min(impl_->live, allowed->size()) : impl_->live;
    auto kk = static_cast<faiss_idx>(std::min<int64_t>(k, at_most));
    std::vector<float> distances(static_cast<size_t>(kk));
    std::vector<faiss_idx> labels(static_cast<size_t>(kk), -1);
    try {
        impl_->index->search(1, query.data(), kk, distances.data(), labels.data(), params);
    } catch (const std::exception & e) {
        return Error(ErrorCode::kInternal, std::string("vector search in ") + impl_->factory + ": " + e.what());
    }
    for (faiss_idx i = 0; i < kk; ++i) {
        faiss_idx label = labels[static_cast<size_t>(i)];
        if (label < 0 || static_cast<size_t>(label) >= impl_->slots.size()) {
            continue;
        }
        int64_t chunk_id = impl_->slots[static_cast<size_t>(label)];
        if (chunk_id >= 0) {
            hits.push_back(VectorHit{chunk_id, distances[static_cast<size_t>(i)]});
        }
    }
    return hits;
}

bool VectorIndex::contains(int64_t chunk_id) const {
    std::shared_lock lock(impl_->mu);
    return impl_->slot_of.count(chunk_id) != 0;
}

int64_t VectorIndex::size() const {
    std::shared_lock lock(impl_->mu);
    return impl_->live;
}

int64_t VectorIndex::tombstones() const {
    std::shared_lock lock(impl_->mu);
    return impl_->kind == Kind::kHnsw ? static_cast<int64_t>(impl_->slots.size()) - impl_->live : 0;
}

std::vector<int64_t> VectorIndex::chunk_ids() const {
    std::shared_lock lock(impl_->mu);
    std::vector<int64_t> ids;
    ids.reserve(impl_->slot_of.size());
    for (const auto & entry : impl_->slot_of) {
        ids.push_back(entry.first);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

const EmbedderIdentity & VectorIndex::identity() const {
    return impl_->identity;
}

std::string VectorIndex::factory() const {
    return impl_->factory;
}

void VectorIndex::set_faiss_ivf_scan(bool on) {
    impl_->faiss_ivf_scan.store(on, std::memory_order_relaxed);
}

std::string VectorIndex::search_kernel() const {
    std::shared_lock lock(impl_->mu);
    if (impl_->kind == Kind::kFlat) {
        return "strongbox-flat";
    }
    return impl_->own_ivf_scan().usable() ? "strongbox-ivf-sq8" : "faiss";
}

}  // namespace strongbox::retrieval
