#include "lexical_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace strongbox::retrieval::detail {

// ---- LexicalIndex ----

namespace {

void put_varint(std::vector<uint8_t> & out, uint32_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}

uint32_t get_varint(const uint8_t *& p) {
    uint32_t v = *p & 0x7F;
    int shift = 7;
    while ((*p++ & 0x80) != 0) {
        v |= static_cast<uint32_t>(*p & 0x7F) << shift;
        shift += 7;
    }
    return v;
}

// sb_bm25's term contribution, written as it is there so the two round identically.
inline double contribution(double idf, double f, double norm) {
    return idf * f * (kBm25K1 + 1.0) / (f + norm);
}

inline double norm_of(double len, double avg_len) {
    return kBm25K1 * (1.0 - kBm25B + kBm25B * len / avg_len);
}

// Bounds are loosened by this much so that rounding in a partial sum can never prune a chunk whose
// exact score would enter the top-k.
constexpr double kBoundSlack = 1e-9;

}  // namespace

bool LexicalIndex::add(int64_t chunk_id, const std::vector<std::string> & heading_terms,
                       const std::vector<std::string> & body_terms, uint32_t body_len) {
    if (chunk_id <= last_chunk_ || chunk_id < 0 || chunk_id > std::numeric_limits<uint32_t>::max()) {
        return false;
    }
    const auto id = static_cast<uint32_t>(chunk_id);
    std::vector<std::pair<uint32_t, uint32_t>> weighted;  // term, weight of one occurrence
    weighted.reserve(heading_terms.size() + body_terms.size());
    auto term_id = [this](const std::string & t) {
        auto it = terms_.find(t);
        if (it != terms_.end()) {
            return it->second;
        }
        auto next = static_cast<uint32_t>(postings_.size());
        terms_.emplace(t, next);
        postings_.emplace_back();
        return next;
    };
    for (const auto & t : heading_terms) {
        weighted.emplace_back(term_id(t), kHeadingWeight);
    }
    for (const auto & t : body_terms) {
        weighted.emplace_back(term_id(t), 1);
    }
    std::sort(weighted.begin(), weighted.end());
    const uint32_t len = body_len;
    for (size_t i = 0; i < weighted.size();) {
        uint32_t term = weighted[i].first;
        uint32_t tf = 0;
        for (; i < weighted.size() && weighted[i].first == term; ++i) {
            tf += weighted[i].second;
        }
        Postings & p = postings_[term];
        if (p.blocks.empty() || p.blocks.back().n == kBlockSize) {
            Block b;
            b.base = p.last;
            b.offset = static_cast<uint32_t>(p.bytes.size());
            b.min_len = std::numeric_limits<uint32_t>::max();
            p.blocks.push_back(b);
        }
        Block & b = p.blocks.back();
        put_varint(p.bytes, id - (b.n == 0 ? b.base : b.last));
        put_varint(p.bytes, tf);
        b.last = id;
        ++b.n;
        b.max_tf = std::max(b.max_tf, tf);
        b.min_len = std::min(b.min_len, len);
        p.last = id;
        ++p.count;
        ++n_postings_;
    }
    if (body_len_.size() <= id) {
        body_len_.resize(std::max<size_t>(id + 1, body_len_.size() * 3 / 2), 0);
    }
    body_len_[id] = len;
    last_chunk_ = chunk_id;
    return true;
}

namespace {

// Bytes of a block's postings, from its offset.
size_t encoded_size(const uint8_t * start, uint32_t n) {
    const uint8_t * at = start;
    for (uint32_t i = 0; i < 2 * n; ++i) {
        get_varint(at);
    }
    return static_cast<size_t>(at - start);
}

}  // namespace

int64_t LexicalIndex::remove(const std::vector<std::pair<int64_t, std::vector<std::string>>> & chunks) {
    std::vector<std::pair<uint32_t, uint32_t>> doomed;  // term, chunk id
    for (const auto & [chunk_id, terms] : chunks) {
        if (chunk_id < 0 || chunk_id > last_chunk_) {
            continue;
        }
        for (const auto & t : terms) {
            auto it = terms_.find(t);
            if (it != terms_.end()) {
                doomed.emplace_back(it->second, static_cast<uint32_t>(chunk_id));
            }
        }
    }
    std::sort(doomed.begin(), doomed.end());
    doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
    std::vector<uint32_t> ids;
    int64_t removed = 0;
    for (size_t i = 0; i < doomed.size();) {
        const uint32_t term = doomed[i].first;
        ids.clear();
        for (; i < doomed.size() && doomed[i].first == term; ++i) {
            ids.push_back(doomed[i].second);
        }
        removed += remove_from(postings_[term], ids.data(), ids.size());
    }
    n_postings_ -= removed;
    return removed;
}

int64_t LexicalIndex::remove_from(Postings & p, const uint32_t * ids, size_t n_ids) {
    uint32_t kept_ids[kBlockSize];
    uint32_t kept_tfs[kBlockSize];
    std::vector<uint8_t> scratch;
    size_t next = 0;  // the first of `ids` not passed yet
    size_t w = 0;     // blocks kept so far
    int64_t removed = 0;
    for (size_t b = 0; b < p.blocks.size(); ++b) {
        Block blk = p.blocks[b];
        if (next < n_ids && ids[next] <= blk.last) {
            uint8_t * start = p.bytes.data() + blk.offset;
            const uint8_t * at = start;
            uint32_t id = blk.base;
            uint32_t kept = 0;
            for (uint32_t i = 0; i < blk.n; ++i) {
                id += get_varint(at);
                const uint32_t tf = get_varint(at);
                while (next < n_ids && ids[next] < id) {
                    ++next;
                }
                if (next < n_ids && ids[next] == id) {
                    ++next;
                    continue;
                }
                kept_ids[kept] = id;
                kept_tfs[kept] = tf;
                ++kept;
            }
            if (kept < blk.n) {
                // Re-encoded in place: dropping a posting merges two gaps into one, never longer.
                scratch.clear();
                uint32_t prev = blk.base;
                blk.max_tf = 0;
                blk.min_len = std::numeric_limits<uint32_t>::max();
                for (uint32_t k = 0; k < kept; ++k) {
                    put_varint(scratch, kept_ids[k] - prev);
                    put_varint(scratch, kept_tfs[k]);
                    prev = kept_ids[k];
                    blk.max_tf = std::max(blk.max_tf, kept_tfs[k]);
                    blk.min_len = std::min(blk.min_len, body_len_[kept_ids[k]]);
                }
                std::copy(scratch.begin(), scratch.end(), start);
                p.holes += static_cast<size_t>(at - start) - scratch.size();
                removed += blk.n - kept;
                blk.n = kept;
                blk.last = kept > 0 ? kept_ids[kept - 1] : blk.base;
            }
        }
        if (blk.n > 0) {
            p.blocks[w++] = blk;  // an emptied block goes; its bytes were counted as holes
        }
    }
    p.blocks.resize(w);
    p.count -= removed;
    if (removed == 0) {
        return 0;
    }
    // add() appends to the last block, so its postings must end the byte array.
    if (p.blocks.empty()) {
        p.bytes.clear();
        p.holes = 0;
        return removed;
    }
    const Block & back = p.blocks.back();
    const size_t end = back.offset + encoded_size(p.bytes.data() + back.offset, back.n);
    p.holes -= p.bytes.size() - end;
    p.bytes.resize(end);
    if (p.holes * 2 > p.bytes.size()) {
        std::vector<uint8_t> packed;
        packed.reserve(p.bytes.size() - p.holes);
        for (Block & blk : p.blocks) {
            const uint8_t * start = p.bytes.data() + blk.offset;
            const size_t size = encoded_size(start, blk.n);
            blk.offset = static_cast<uint32_t>(packed.size());
            packed.insert(packed.end(), start, start + size);
        }
        p.bytes = std::move(packed);
        p.holes = 0;
    }
    return removed;
}

int64_t LexicalIndex::find(std::string_view term) const {
    auto it = terms_.find(term);
    return it == terms_.end() ? -1 : static_cast<int64_t>(it->second);
}

size_t LexicalIndex::memory_bytes() const {
    size_t bytes = body_len_.capacity() * sizeof(uint32_t) + terms_.size() * 64;
    for (const auto & p : postings_) {
        bytes += sizeof(Postings) + p.bytes.capacity() + p.blocks.capacity() * sizeof(Block);
    }
    return bytes;
}

// Walks one term's postings in id order, a block at a time.
struct LexicalIndex::Cursor {
    const Postings * p = nullptr;
    double weight = 0;  // sum of the idf of the query phrases made of this term
    double bound = 0;   // upper bound on weight-scaled contribution, whole list
    size_t slot = 0;    // index into the per-chunk frequency scratch
    size_t block = 0;
    uint32_t n = 0;
    uint32_t pos = 0;
    uint32_t ids[kBlockSize];
    uint32_t tfs[kBlockSize];

    bool done() const { return block >= p->blocks.size(); }
    uint32_t id() const { return ids[pos]; }
    uint32_t tf() const { return tfs[pos]; }

    void decode() {
        const Block & b = p->blocks[block];
        const uint8_t * at = p->bytes.data() + b.offset;
        uint32_t id = b.base;
        for (uint32_t i = 0; i < b.n; ++i) {
            id += get_varint(at);
            ids[i] = id;
            tfs[i] = get_varint(at);
        }
        n = b.n;
        pos = 0;
    }
    void start() {
        block = 0;
        if (!done()) {
            decode();
        }
    }
    void next() {
        if (++pos == n) {
            ++block;
            if (!done()) {
                decode();
            }
        }
    }
    // Moves to the first posting with id >= target (or to the end), skipping whole blocks.
    void seek(uint32_t target) {
        if (done() || id() >= target) {
            return;
        }
        if (p->blocks[block].last < target) {
            const auto & blocks = p->blocks;
            auto it = std::lower_bound(blocks.begin() + static_cast<std::ptrdiff_t>(block) + 1, blocks.end(), target,
                                       [](const Block & b, uint32_t t) { return b.last < t; });
            block = static_cast<size_t>(it - blocks.begin());
            if (done()) {
                return;
            }
            decode();
        }
        while (ids[pos] < target) {
            ++pos;  // the block's last id is >= target, so this stays inside it
        }
    }
};

int64_t LexicalIndex::visible_df(uint32_t term, const ChunkIdSet & visible) const {
    const Postings & p = postings_[term];
    int64_t df = 0;
    for (const Block & b : p.blocks) {
        uint32_t id = b.base;
        const uint8_t * at = p.bytes.data() + b.offset;
        for (uint32_t i = 0; i < b.n; ++i) {
            id += get_varint(at);
            get_varint(at);
            df += visible.contains(id) ? 1 : 0;
        }
    }
    return df;
}

std::vector<LexicalHit> LexicalIndex::top_k(const std::vector<ScoredPhrase> & phrases, const ChunkIdSet & visible,
                                            double avg_len, int limit) const {
    std::vector<LexicalHit> out;
    if (limit <= 0 || phrases.empty()) {
        return out;
    }
    // One cursor per distinct term; a term named by several phrases is scored once per phrase.
    std::vector<std::unique_ptr<Cursor>> cursors;
    std::vector<size_t> slot_of_phrase(phrases.size());
    for (size_t i = 0; i < phrases.size(); ++i) {
        size_t c = 0;
        while (c < cursors.size() && cursors[c]->p != &postings_[phrases[i].term]) {
            ++c;
        }
        if (c == cursors.size()) {
            auto cur = std::make_unique<Cursor>();
            cur->p = &postings_[phrases[i].term];
            cur->slot = c;
            cursors.push_back(std::move(cur));
        }
        cursors[c]->weight += phrases[i].idf;
        slot_of_phrase[i] = c;
    }
    for (auto & c : cursors) {
        double bound = 0;
        for (const Block & b : c->p->blocks) {
            double f = b.max_tf;
            bound = std::max(bound, c->weight * f * (kBm25K1 + 1.0) / (f + norm_of(b.min_len, avg_len)));
        }
        c->bound = bound + kBoundSlack;
        c->start();
    }
    // Ascending bounds: a prefix of this order is the set of non-essential terms.
    std::sort(cursors.begin(), cursors.end(), [](const auto & a, const auto & b) { return a->bound < b->bound; });
    std::vector<double> prefix(cursors.size());
    double sum = 0;
    for (size_t i = 0; i < cursors.size(); ++i) {
        sum += cursors[i]->bound;
        prefix[i] = sum;
    }

    // The running top-k as a heap ordered by `stronger`, so its front is the weakest entry: lowest
    // score, then highest id. Chunks arrive in ascending id order, so a later chunk that only ties
    // the weakest never displaces it, as in ORDER BY score DESC, rowid.
    auto stronger = [](const LexicalHit & a, const LexicalHit & b) {
        return a.score > b.score || (a.score == b.score && a.chunk_id < b.chunk_id);
    };
    std::vector<LexicalHit> heap;
    const auto k = static_cast<size_t>(limit);
    heap.reserve(std::min<size_t>(k, 1 << 16));
    double threshold = 0;  // the k-th score once the heap is full; every match scores above 0
    size_t essential = 0;  // cursors [0, essential) only probe, [essential, end) drive the traversal

    std::vector<uint32_t> tf(cursors.size(), 0);
    std::vector<size_t> touched;
    touched.reserve(cursors.size());
    const auto m = cursors.size();
    while (true) {
        uint32_t id = std::numeric_limits<uint32_t>::max();
        bool any = false;
        for (size_t i = essential; i < m; ++i) {
            if (!cursors[i]->done() && cursors[i]->id() <= id) {
                id = cursors[i]->id();
                any = true;
            }
        }
        if (!any) {
            break;
        }
        for (size_t s : touched) {
            tf[s] = 0;
        }
        touched.clear();
        const bool shown = visible.contains(id);
        const double norm = shown ? norm_of(body_len_[id], avg_len) : 0.0;
        double partial = 0;
        for (size_t i = essential; i < m; ++i) {
            Cursor & c = *cursors[i];
            if (!c.done() && c.id() == id) {
                if (shown) {
                    tf[c.slot] = c.tf();
                    touched.push_back(c.slot);
                    partial += contribution(c.weight, c.tf(), norm);
                }
                c.next();
            }
        }
        if (!shown) {
            continue;
        }
        const bool full = heap.size() == k;
        bool pruned = false;
        for (size_t i = essential; i-- > 0;) {
            if (full && partial + prefix[i] <= threshold) {
                pruned = true;
                break;
            }
            Cursor & c = *cursors[i];
            c.seek(id);
            if (!c.done() && c.id() == id) {
                tf[c.slot] = c.tf();
                touched.push_back(c.slot);
                partial += contribution(c.weight, c.tf(), norm);
            }
        }
        if (pruned) {
            continue;
        }
        // The exact score, phrase by phrase in query order as sb_bm25 sums it.
        double score = 0;
        for (size_t p = 0; p < phrases.size(); ++p) {
            double f = tf[slot_of_phrase[p]];
            if (f > 0) {
                score += contribution(phrases[p].idf, f, norm);
            }
        }
        LexicalHit hit{static_cast<int64_t>(id), score};
        if (!full) {
            heap.push_back(hit);
            std::push_heap(heap.begin(), heap.end(), stronger);
        } else if (stronger(hit, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), stronger);
            heap.back() = hit;
            std::push_heap(heap.begin(), heap.end(), stronger);
        } else {
            continue;
        }
        if (heap.size() == k) {
            threshold = heap.front().score;
            while (essential < m && prefix[essential] <= threshold) {
                ++essential;
            }
        }
    }
    std::sort(heap.begin(), heap.end(), stronger);
    return heap;
}

}  // namespace strongbox::retrieval::detail
