#include "strongbox/appliance/fingerprint.h"

#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <algorithm>
#include <vector>

namespace strongbox::appliance {

namespace fs = std::filesystem;

core::Result<std::string> hash_prompt_tree(const fs::path & dir) {
    if (!fs::is_directory(dir)) {
        return core::Error(core::ErrorCode::kNotFound, "hash prompt templates: no folder at " + dir.string());
    }
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->is_regular_file()) {
            files.push_back(fs::relative(it->path(), dir));
        }
    }
    if (ec) {
        return core::Error(core::ErrorCode::kIoError, "hash prompt templates in " + dir.string() + ": " + ec.message());
    }
    std::sort(files.begin(), files.end());
    std::string listing;
    for (const auto & f : files) {
        SB_ASSIGN_OR_RETURN(std::string sha, core::sha256_file_hex(dir / f));
        listing += f.generic_string() + '\0' + sha + '\n';
    }
    return core::sha256_hex(listing);
}

std::string settings_sha256(const core::Json & settings) {
    return core::sha256_hex(settings.dump());
}

std::string index_params_sha256(const std::string & embedder_identity, const std::string & analyzer_version) {
    core::Json j = core::Json::object();
    j["analyzer"] = analyzer_version;
    j["embedder"] = embedder_identity;
    return core::sha256_hex(j.dump());
}

core::Result<std::string> canonical_json_file_sha256(const fs::path & path) {
    SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
    auto j = core::Json::parse(text);
    if (!j.ok()) {
        return std::move(j).error().with_context("hash " + path.string() + " as canonical JSON");
    }
    return core::sha256_hex(j->dump());
}

core::Json salt_to_json(const provisioning::HiddenSalt & salt) {
    core::Json j = core::Json::object();
    j["model_sha256"] = salt.model_sha256;
    j["prompts_sha256"] = salt.prompts_sha256;
    j["tokenizer_sha256"] = salt.tokenizer_sha256;
    j["settings_sha256"] = salt.settings_sha256;
    j["index_params_sha256"] = salt.index_params_sha256;
    j["fingerprint"] = provisioning::salt_fingerprint(salt);
    return j;
}

std::vector<std::string> salt_mismatches(const provisioning::HiddenSalt & expected,
                                         const provisioning::HiddenSalt & running) {
    std::vector<std::string> out;
    for (auto [name, want, have] :
         {std::tuple<const char *, const std::string *, const std::string *>{"model", &expected.model_sha256,
                                                                             &running.model_sha256},
          {"prompts", &expected.prompts_sha256, &running.prompts_sha256},
          {"tokenizer", &expected.tokenizer_sha256, &running.tokenizer_sha256},
          {"settings", &expected.settings_sha256, &running.settings_sha256},
          {"index parameters", &expected.index_params_sha256, &running.index_params_sha256}}) {
        if (!want->empty() && *want != *have) {
            out.push_back(std::string(name) + " (running " + (have->empty() ? "none" : have->substr(0, 12)) +
                          ", manifest " + want->substr(0, 12) + ")");
        }
    }
    return out;
}

core::Result<int64_t> record_model_change(AuditLog & audit, const std::string & model_sha256,
                                          const std::string & model_file, const std::string & actor) {
    SB_ASSIGN_OR_RETURN(std::optional<AuditRecord> last, audit.last(audit_kind::kModelChange));
    const std::string previous = last ? last->body.get_string("model_sha256") : std::string();
    if (previous == model_sha256) {
        return int64_t{0};
    }
    core::Json body = core::Json::object();
    body["model_sha256"] = model_sha256;
    body["model_file"] = model_file;
    body["previous_model_sha256"] = previous;
    return audit.append(audit_kind::kModelChange, actor, body);
}

}  // namespace strongbox::appliance
