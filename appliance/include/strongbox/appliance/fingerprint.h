// The "hidden salt" of an answer as the running appliance sees it: hashes of what shapes an answer
// besides the documents (model file, prompt templates, tokenizer, settings, index parameters).
// The image manifest pins the same five hashes (`strongbox image bundle`); both sides hash the
// same way through these functions, so /readyz, every answer's audit record and the behaviour
// check can compare what is running with what was signed.
//
// How each part is hashed (lowercase hex sha256; empty when the part is absent):
//   model         the model file's bytes (empty for the extractive answerer)
//   prompts       the template folder: sorted relative names, each with its file's sha256
//   tokenizer     a separate tokenizer file's bytes (empty: the model file carries its vocabulary)
//   settings      the canonical JSON of the settings that shape answers (Settings::to_json())
//   index_params  the canonical JSON {"analyzer": "<version>", "embedder": "<identity>"}: how
//                 the index matches words and the embedding space
//
// Thread-safety: pure functions, except that the file hashes read the file system.
// Errors: kNotFound / kIoError naming the file or folder.
//
//   SB_ASSIGN_OR_RETURN(std::string prompts, hash_prompt_tree(find_prompt_dir({})));
//   salt.settings_sha256 = settings_sha256(settings.to_json());
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/provisioning/bundle.h"

#include <filesystem>
#include <string>

namespace strongbox::appliance {

class AuditLog;

core::Result<std::string> hash_prompt_tree(const std::filesystem::path & dir);

std::string settings_sha256(const core::Json & settings);
std::string index_params_sha256(const std::string & embedder_identity, const std::string & analyzer_version);

// The hash of a settings or index-parameters JSON file as the appliance would compute it from
// the same values: whitespace and key order do not matter.
core::Result<std::string> canonical_json_file_sha256(const std::filesystem::path & path);

// {"model_sha256":...,"prompts_sha256":...,"tokenizer_sha256":...,"settings_sha256":...,
//  "index_params_sha256":...,"fingerprint":...}
core::Json salt_to_json(const provisioning::HiddenSalt & salt);

// Names of the parts `expected` pins (non-empty) that `running` does not match, e.g.
// "model (running 3fa1... , manifest 9c02...)"; empty when everything pinned matches.
std::vector<std::string> salt_mismatches(const provisioning::HiddenSalt & expected,
                                         const provisioning::HiddenSalt & running);

// Appends a "model_change" record when `model_sha256` differs from the model of the last such
// record (no record counts as no model). Returns the new record's id, or 0 when nothing changed.
core::Result<int64_t> record_model_change(AuditLog & audit, const std::string & model_sha256,
                                          const std::string & model_file, const std::string & actor);

}  // namespace strongbox::appliance
