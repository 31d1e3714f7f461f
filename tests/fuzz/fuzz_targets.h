// Entry points of the fuzz targets in tests/fuzz/*_fuzz.cpp, shared by the libFuzzer programs
// (built with -DSB_FUZZ=ON and clang, which define SB_LIBFUZZER) and by the corpus replay in the
// ordinary test run (tests/<module>/fuzz_corpus_test.cpp), so both exercise exactly the same code.
// Each returns 0 and aborts when an invariant of its parser breaks; what each checks is written
// at the top of its file. Run them all with tests/fuzz/campaign.sh.
#pragma once

#include "require.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace strongbox::fuzz {

// core::Json::parse on any bytes, then dump, re-parse and pretty-print (json_fuzz.cpp).
int json_text(const uint8_t * data, size_t size);

// One HTTP request (method, path, query, headers, body, credentials) through webui::Handler
// (webui_fuzz.cpp).
int webui_request(const uint8_t * data, size_t size);

// Any JSON as a settings update, into a store in a scratch directory (settings_fuzz.cpp).
int settings_update(const uint8_t * data, size_t size);

// Any bytes as an audit bundle, verified against the key that signed the seed bundle
// (audit_bundle_fuzz.cpp).
int audit_bundle(const uint8_t * data, size_t size);
// The public key that signed the genuine bundles of tests/fuzz/corpus/audit_bundle.
inline constexpr const char * kAuditSeedKey = "36c6a45892dd91e3d40f1c4676a0449efe6add283fffff70ae4d1c9b6dd97a91";

// Any bytes as text for the SentencePiece, byte-level BPE and WordPiece tokenizers
// (tokenizer_fuzz.cpp).
int tokenizer_text(const uint8_t * data, size_t size);

// Directory of a target's corpus in the source tree: tests/fuzz/corpus/<name>.
inline std::filesystem::path corpus_dir(const std::string & name) {
    return std::filesystem::path(SB_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus" / name;
}

}  // namespace strongbox::fuzz
