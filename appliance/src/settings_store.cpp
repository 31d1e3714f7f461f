#include "settings_store.h"

#include "model_embedder.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/file.h"

#include <cmath>
#include <functional>
#include <map>

namespace strongbox::appliance {
namespace {

// Returns "" when the value is acceptable, else why not.
using Check = std::function<std::string(const core::Json &)>;

Check int_in(int64_t lo, int64_t hi) {
    return [lo, hi](const core::Json & v) -> std::string {
        if (!v.is_int()) {
            return "must be a whole number";
        }
        if (v.as_int() < lo || v.as_int() > hi) {
            return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
        }
        return "";
    };
}

Check number_in(double lo, double hi) {
    return [lo, hi](const core::Json & v) -> std::string {
        if (!v.is_number() || !std::isfinite(v.as_double())) {
            return "must be a number";
        }
        if (v.as_double() < lo || v.as_double() > hi) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "must be between %g and %g", lo, hi);
            return buf;
        }
        return "";
    };
}

Check boolean() {
    return [](const core::Json & v) -> std::string { return v.is_bool() ? "" : "must be true or false"; };
}

// Tesseract language codes joined by '+': "eng", "eng+kor".
Check ocr_languages() {
    return [](const core::Json & v) -> std::string {
        if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 64) {
            return "must be Tesseract language codes such as \"eng\" or \"eng+kor\"";
        }
        for (char c : v.as_string()) {
            if (!((c >= 'a' && c <= 'z') || c == '_' || c == '+')) {
                return "must be Tesseract language codes such as \"eng\" or \"eng+kor\"";
            }
        }
        return "";
    };
}

// "" (the built-in embedder) or the absolute path of a .gguf file; a change must also name a
// readable BERT sentence-embedding model (check_embedding_model_file).
bool embedding_model_path_form(const core::Json & v) {
    if (!v.is_string() || v.as_string().size() > 4096) {
        return false;
    }
    const std::filesystem::path path(v.as_string());
    return path.empty() || (path.is_absolute() && path.extension() == ".gguf");
}

Check embedding_model() {
    return [](const core::Json & v) -> std::string {
        if (!embedding_model_path_form(v)) {
            return "must be the absolute path of a .gguf file, or \"\" for the built-in embedder";
        }
        return v.as_string().empty() ? "" : check_embedding_model_file(v.as_string());
    };
}

const std::map<std::string, Check, std::less<>> & fields() {
    static const std::map<std::string, Check, std::less<>> kFields = {
        {"top_k", int_in(1, 50)},
        {"min_question_coverage", number_in(0, 1)},
        {"max_prompt_tokens", int_in(128, 32768)},
        {"max_new_tokens", int_in(16, 4096)},
        {"deadline_ms", int_in(1000, 600000)},
        {"daily_user_tokens", int_in(0, 1000000000)},
        {"flag_unsupported", boolean()},
        {"max_upload_bytes", int_in(1024, int64_t{4} << 30)},
        {"ocr_language", ocr_languages()},
        {"session_hours", int_in(1, 720)},
        {"audit_retention_days", int_in(0, 36500)},
        {"embedding_model", embedding_model()},
    };
    return kFields;
}

}  // namespace

void apply_stored_settings(const core::Json & stored, Settings & settings) {
    settings.top_k = static_cast<int>(stored.get_int("top_k", settings.top_k));
    settings.min_question_coverage = stored.get_double("min_question_coverage", settings.min_question_coverage);
    settings.caps.max_prompt_tokens = stored.get_int("max_prompt_tokens", settings.caps.max_prompt_tokens);
    settings.caps.max_new_tokens = stored.get_int("max_new_tokens", settings.caps.max_new_tokens);
    settings.caps.deadline_ms = stored.get_int("deadline_ms", settings.caps.deadline_ms);
    settings.caps.daily_user_tokens = stored.get_int("daily_user_tokens", settings.caps.daily_user_tokens);
    settings.verifier.remove_unsupported = !stored.get_bool("flag_unsupported", !settings.verifier.remove_unsupported);
}

core::Json SettingsStore::defaults() {
    core::Json j = core::Json::object();
    j["top_k"] = 5;
    j["min_question_coverage"] = 0.5;
    j["max_prompt_tokens"] = 1536;
    j["max_new_tokens"] = 256;
    j["deadline_ms"] = 60000;
    j["daily_user_tokens"] = 200000;
    j["flag_unsupported"] = false;
    j["max_upload_bytes"] = int64_t{256} << 20;
    j["ocr_language"] = "eng";
    j["session_hours"] = 12;
    j["audit_retention_days"] = 0;
    j["embedding_model"] = "";
    return j;
}

core::Result<std::unique_ptr<SettingsStore>> SettingsStore::open(const std::filesystem::path & path) {
    core::Json settings = defaults();
    int64_t version = 0;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
        auto doc = core::Json::parse(text);
        if (!doc.ok() || !doc->is_object() || !doc->contains("settings") || !(*doc)["settings"].is_object()) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               path.string() + ": not a settings file ({\"version\":n,\"settings\":{...}})");
        }
        version = doc->get_int("version", 0);
        // Known fields with valid values override the defaults; anything else is ignored, so a
        // file written by a newer Strongbox still opens.
        for (const auto & [name, value] : (*doc)["settings"].as_object()) {
            auto f = fields().find(name);
            bool valid = f != fields().end() && f->second(value).empty();
            if (name == "embedding_model") {
                // A saved model path stays even when its file has gone since: opening the appliance
                // then fails naming the missing model, instead of quietly switching to the built-in
                // embedder and asking for a re-embed.
                valid = embedding_model_path_form(value);
            }
            if (valid) {
                settings[name] = value;
            }
        }
    }
    return std::unique_ptr<SettingsStore>(new SettingsStore(path, std::move(settings), version));
}

core::Json SettingsStore::current() const {
    std::lock_guard lock(mu_);
    core::Json j = core::Json::object();
    j["settings"] = settings_;
    j["version"] = version_;
    return j;
}

int64_t SettingsStore::version() const {
    std::lock_guard lock(mu_);
    return version_;
}

core::Json SettingsStore::get(std::string_view field) const {
    std::lock_guard lock(mu_);
    const core::Json * v = settings_.find(field);
    return v != nullptr ? *v : core::Json();
}

core::Result<SettingsChange> SettingsStore::update(const core::Json & changes) {
    std::lock_guard lock(mu_);
    core::Json errors = core::Json::object();
    if (!changes.is_object()) {
        errors["settings"] = "must be a JSON object";
    }
    const core::Json * wanted = changes.is_object() ? changes.find("settings") : nullptr;
    const core::Json & members = wanted != nullptr ? *wanted : changes;
    if (wanted != nullptr && !wanted->is_object()) {
        errors["settings"] = "must be a JSON object";
    }
    if (const core::Json * v = changes.is_object() ? changes.find("version") : nullptr; v != nullptr) {
        if (!v->is_int() || v->as_int() != version_) {
            errors["version"] = "the settings changed since version " + (v->is_int() ? std::to_string(v->as_int()) : v->dump()) +
                                " (now " + std::to_string(version_) + "); reload and apply again";
        }
    }
    core::Json next = settings_;
    if (errors.as_object().empty() && members.is_object()) {
        for (const auto & [name, value] : members.as_object()) {
            if (wanted == nullptr && name == "version") {
                continue;
            }
            auto f = fields().find(name);
            if (f == fields().end()) {
                errors[name] = "is not a setting";
                continue;
            }
            if (std::string why = f->second(value); !why.empty()) {
                errors[name] = why;
                continue;
            }
            next[name] = value;
        }
    }
    if (!errors.as_object().empty()) {
        core::Json body = core::Json::object();
        body["fields"] = std::move(errors);
        return core::Error(core::ErrorCode::kInvalidArgument, body.dump());
    }
    SettingsChange change;
    change.old_version = version_;
    change.old_settings = settings_;
    change.new_version = version_ + 1;
    change.new_settings = next;
    core::Json file = core::Json::object();
    file["version"] = change.new_version;
    file["settings"] = next;
    if (auto st = core::write_file_atomic(path_, file.dump(2) + "\n"); !st.ok()) {
        return std::move(st).error().with_context("save settings to " + path_.string());
    }
    settings_ = std::move(next);
    version_ = change.new_version;
    return change;
}

}  // namespace strongbox::appliance
