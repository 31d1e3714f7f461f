// The FTS5 tokenizer "strongbox": chunks_fts indexes documents with the text analyzer
// (analyzer.h), so an FTS5 term is exactly an analyzer term.
//
// Documents are analyzed; the parts of an identifier are colocated with the whole, so FTS5's
// column sizes count positions, as count_positions() does. Query strings are never analyzed:
// the store builds every FTS5 query from analyzer terms, one quoted term per phrase, and the
// tokenizer passes each whitespace-separated piece through as it is. (Analyzing a stem again
// could change it.)
#pragma once

#include "strongbox/core/result.h"

struct sqlite3;

namespace strongbox::retrieval::detail {

inline constexpr const char * kFtsTokenizerName = "strongbox";

// Registers the tokenizer on one connection; every connection that reads or writes chunks_fts
// needs it.
core::Result<void> register_fts_tokenizer(sqlite3 * db);

}  // namespace strongbox::retrieval::detail
