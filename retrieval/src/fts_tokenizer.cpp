#include "fts_tokenizer.h"

#include "strongbox/retrieval/analyzer.h"

#include <sqlite3.h>

#include <new>

namespace strongbox::retrieval::detail {
namespace {

using core::Error;
using core::ErrorCode;

// The tokenizer has no options and no state; FTS5 still wants an object per table.
struct Instance {};

int create(void *, const char **, int n_args, Fts5Tokenizer ** out) {
    if (n_args != 0) {
        return SQLITE_ERROR;
    }
    *out = reinterpret_cast<Fts5Tokenizer *>(new (std::nothrow) Instance);
    return *out == nullptr ? SQLITE_NOMEM : SQLITE_OK;
}

void destroy(Fts5Tokenizer * tokenizer) {
    delete reinterpret_cast<Instance *>(tokenizer);
}

int tokenize(Fts5Tokenizer *, void * ctx, int flags, const char * text, int n_text,
             int (*on_token)(void *, int, const char *, int, int, int)) {
    const std::string_view input(text, n_text > 0 ? static_cast<size_t>(n_text) : 0);
    if ((flags & FTS5_TOKENIZE_QUERY) != 0) {
        size_t i = 0;
        while (i < input.size()) {
            while (i < input.size() && input[i] == ' ') {
                ++i;
            }
            const size_t start = i;
            while (i < input.size() && input[i] != ' ') {
                ++i;
            }
            if (i > start) {
                const int rc = on_token(ctx, 0, input.data() + start, static_cast<int>(i - start),
                                        static_cast<int>(start), static_cast<int>(i));
                if (rc != SQLITE_OK) {
                    return rc;
                }
            }
        }
        return SQLITE_OK;
    }
    try {
        for (const Term & t : analyze(input)) {
            const int rc =
                on_token(ctx, t.colocated ? FTS5_TOKEN_COLOCATED : 0, t.text.data(), static_cast<int>(t.text.size()),
                         static_cast<int>(t.begin), static_cast<int>(t.end));
            if (rc != SQLITE_OK) {
                return rc;
            }
        }
    } catch (const std::bad_alloc &) {
        return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

}  // namespace

core::Result<void> register_fts_tokenizer(sqlite3 * db) {
    fts5_api * api = nullptr;
    sqlite3_stmt * stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kUnsupported, "FTS5 tokenizer: this SQLite has no FTS5");
    }
    sqlite3_bind_pointer(stmt, 1, static_cast<void *>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (api == nullptr || api->iVersion < 2) {
        return Error(ErrorCode::kUnsupported, "FTS5 tokenizer: FTS5 API unavailable");
    }
    fts5_tokenizer methods{&create, &destroy, &tokenize};
    if (api->xCreateTokenizer(api, kFtsTokenizerName, nullptr, &methods, nullptr) != SQLITE_OK) {
        return Error(ErrorCode::kInternal, "FTS5 tokenizer: cannot register the analyzer");
    }
    return {};
}

}  // namespace strongbox::retrieval::detail
