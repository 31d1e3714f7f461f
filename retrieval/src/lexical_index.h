// In-memory postings over the FTS5 terms of every chunk, for exact BM25 top-k with dynamic pruning.
//
// Design notes:
// 1. Derived, never authoritative. The postings are built from the `chunks` table (heading and
//    body, analyzed by the text analyzer that also tokenizes chunks_fts, so a term here is exactly
//    an FTS5 term) and extended after each committed insert. Nothing is persisted, so a
//    crash cannot leave them out of step with the database: the next open rebuilds them.
// 2. Chunks are immutable and their ids only grow (design note 2 of store.cpp), so new postings
//    are appended and every list stays in chunk-id order. Chunks that leave search (superseded or
//    removed) are dropped with remove(): each block holding one is re-encoded in place, which
//    never makes it longer, and the bytes it frees are reclaimed once they are half of a list.
//    Correctness does not depend on it: the per-filter visible set excludes inactive chunks before
//    anything is scored or counted, exactly as the FTS5 path does; removal only frees memory and
//    keeps inactive chunks out of the traversal.
// 3. Scores are those of sb_bm25 (store.cpp): same statistics, same formula, same summation order
//    over the query's phrases, so they are bit-identical to the exhaustive FTS5 ranking, and ties
//    break by ascending chunk id as its ORDER BY does.
// 4. Pruning is MaxScore over doc-ordered postings: each term has an upper bound on what it can
//    add to a score (from the largest weighted frequency and the shortest body in its postings,
//    per block of kBlockSize). Once the top-k is full, terms whose bounds together cannot lift a
//    chunk above the k-th score stop driving the traversal; they are only probed, by skipping
//    whole blocks, for chunks the other terms found, and a probe stops as soon as the chunk cannot
//    reach the k-th score. Chunks that cannot enter the top-k are never scored.
#pragma once

#include "strongbox/core/result.h"
#include "strongbox/retrieval/store.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace strongbox::retrieval::detail {

// BM25 parameters shared by sb_bm25 (the FTS5 auxiliary function) and the postings path.
inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;
// An occurrence in the heading column counts as this many occurrences in the body.
inline constexpr uint32_t kHeadingWeight = 3;

// One query phrase as sb_bm25 sees it: its idf and the index term it consists of.
struct ScoredPhrase {
    uint32_t term = 0;
    double idf = 0;
};

class LexicalIndex {
  public:
    static constexpr uint32_t kBlockSize = 128;

    // Appends one chunk: its terms (heading and body, colocated ones included) and the number
    // of positions of its body (FTS5's column size). Ids must grow; returns false (and changes
    // nothing) otherwise.
    bool add(int64_t chunk_id, const std::vector<std::string> & heading_terms,
             const std::vector<std::string> & body_terms, uint32_t body_len);

    // Drops chunks from the postings: each entry is a chunk id with the terms it was added with
    // (heading and body, any order, repeats allowed). Chunks or terms the index does not hold are
    // ignored. Returns the number of postings removed.
    int64_t remove(const std::vector<std::pair<int64_t, std::vector<std::string>>> & chunks);

    // The term id of `term`, or -1 when no chunk ever contained it.
    int64_t find(std::string_view term) const;

    // Number of visible chunks that contain the term.
    int64_t visible_df(uint32_t term, const ChunkIdSet & visible) const;

    // The `limit` best visible chunks by sb_bm25 over `phrases` (in query order), best first, ties
    // by ascending id.
    std::vector<LexicalHit> top_k(const std::vector<ScoredPhrase> & phrases, const ChunkIdSet & visible, double avg_len,
                                  int limit) const;

    int64_t postings() const { return n_postings_; }
    size_t memory_bytes() const;

  private:
    struct Block {
        uint32_t base = 0;     // chunk id the first gap is relative to
        uint32_t last = 0;     // chunk id of the last posting
        uint32_t offset = 0;   // into Postings::bytes
        uint32_t n = 0;        // postings in the block
        uint32_t max_tf = 0;   // largest weighted frequency
        uint32_t min_len = 0;  // shortest body
    };
    struct Postings {
        std::vector<uint8_t> bytes;  // per posting: varint id gap, varint weighted frequency
        std::vector<Block> blocks;   // in id order; the last one's bytes end `bytes`
        uint32_t last = 0;
        int64_t count = 0;
        size_t holes = 0;  // bytes freed by removals inside `bytes`, not yet reclaimed
    };
    struct Cursor;

    // Removes the ascending `ids` from one term's postings; returns how many it held.
    int64_t remove_from(Postings & p, const uint32_t * ids, size_t n_ids);

    struct TermHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> terms_;
    std::vector<Postings> postings_;
    std::vector<uint32_t> body_len_;  // by chunk id: body tokens, as FTS5's column size
    int64_t last_chunk_ = -1;
    int64_t n_postings_ = 0;
};

}  // namespace strongbox::retrieval::detail
