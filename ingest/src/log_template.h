// Log template mining: groups log messages that were printed by the same statement and recovers
// the statement's constant text ("session opened for user <*> by (uid=<*>)") and each message's
// variable parts (its parameters).
//
// Design notes:
//  1. Messages are split on blanks into words, and every word is masked before mining. The
//     variable part of a word becomes "<*>": a word holding a digit (numbers, IPs, ports, block
//     ids, hex addresses, sizes, times, versions), a long hex string, an absolute path, a URL, an
//     e-mail address, a dotted host name, a weekday or month name, a size unit (KB, MB) or a
//     word longer than 64 bytes. Only the variable part is masked: "(uid=0)" -> "(uid=<*>)",
//     "core.2275" -> "core.<*>", "[10.0.0.1]" -> "[<*>]", and an empty bracket pair "()" ->
//     "(<*>)" (an empty value is still a value). A run of masked words of the same kind
//     ("blk_1 blk_2 blk_3") is one "<*>", so lists of any length share a template.
//  2. Messages whose masked words are identical form one group straight away.
//  3. Groups of the same length are then merged position by position: when, with every other
//     word equal, a position takes at least `min_distinct_values` different words (or one of
//     the groups already has "<*>" there), the position is a parameter and the groups merge.
//     This tells "session opened for user <*>" (many users) from the two distinct statements
//     "... failures for root" / "... failure for root" that Drain-style similarity merges, and
//     it needs no similarity threshold tuned per system. Repeated until nothing changes.
//  4. Grouping happens in finish(), after the last message, so every message of a document is
//     reported against its group's final template. Parameters are read back by aligning a
//     message's words with that template.
//
// Measured on loghub-2k (bench/ingest/log_parsing_bench.cpp), grouping accuracy is at or above
// Drain's published figures on all seven systems.
//
// Thread-safety: a TemplateMiner is not thread-safe; use one per document.
// Errors: none; every message gets a group (an empty message gets the empty template).
//
//   TemplateMiner miner;
//   size_t a = miner.add("session opened for user root");
//   ...  // more messages
//   miner.finish();
//   size_t g = miner.group_of(a);
//   std::string t = miner.template_text(g);            // "session opened for user <*>"
//   auto params = miner.parameters(g, "session opened for user root");  // {"root"}
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::ingest {

struct TemplateMinerOptions {
    size_t min_distinct_values = 4;  // distinct words that make a position a parameter
    size_t max_words = 256;          // longer messages: the rest is one trailing "<*>" word
    size_t max_rounds = 16;          // merge passes; real logs settle in two or three
};

class TemplateMiner {
  public:
    explicit TemplateMiner(TemplateMinerOptions options = {});
    ~TemplateMiner();
    TemplateMiner(TemplateMiner &&) noexcept;
    TemplateMiner & operator=(TemplateMiner &&) noexcept;

    // Adds one message; returns its index (0, 1, 2, ... in order of adding).
    size_t add(std::string_view message);

    // Groups everything added so far. Adding more afterwards needs another finish().
    void finish();

    // After finish(): group ids are 0, 1, 2, ... in order of first appearance.
    size_t group_of(size_t message_index) const;
    size_t group_count() const;
    size_t group_size(size_t group) const;
    std::string template_text(size_t group) const;

    // The words of `message` at the template's variable positions (for a partly masked word such
    // as "rhost=<*>", only the variable part).
    std::vector<std::string> parameters(size_t group, std::string_view message) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The masked form of one word as used for mining: "10.0.0.1" -> "<*>", "rhost=10.0.0.1" ->
// "rhost=<*>", "[preauth]" -> "[preauth]", "(uid=0)" -> "(uid=<*>)", "core.2275" -> "core.<*>".
std::string mask_log_word(std::string_view word);

}  // namespace strongbox::ingest
