// Settings an admin changes from the web UI, persisted in <data dir>/settings.json as
// {"version":n,"settings":{...}}.
//
// Design notes
// 1. Every field has a type and a range; an update is checked field by field and either applies
//    whole or not at all, with one reason per rejected field (SettingsChange::refused).
// 2. The version increases by one on every applied change; an update may carry the version it
//    was based on, and a stale one is refused so two admins cannot silently overwrite each other.
// 3. The file is replaced atomically (write, fsync, rename): a crash leaves the old or the new
//    settings, never a mix.
// 4. Every setting is declared once, in setting_specs() (settings_store.cpp): its check, default,
//    unit, labels in English and Korean, and when it applies. Answer-shaping fields, the session
//    length and embedding_model apply when the appliance opens (a vector index built with another
//    embedder then refuses to open until the corpus is re-embedded); max_upload_bytes and
//    ocr_language apply to the next job.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace strongbox::appliance {

struct Settings;

// A change applied, or refused field by field (then nothing changed and the versions are equal).
struct SettingsChange {
    std::map<std::string, std::string> refused;  // field -> why
    int64_t old_version = 0;
    int64_t new_version = 0;
    core::Json old_settings;
    core::Json new_settings;
};

class SettingsStore {
  public:
    // Reads the file when present (a damaged one is an error naming it), else starts from the
    // defaults at version 0.
    static core::Result<std::unique_ptr<SettingsStore>> open(const std::filesystem::path & path);

    static core::Json defaults();

    // {"settings":{...},"version":n}
    core::Json current() const;
    int64_t version() const;
    core::Json get(std::string_view field) const;

    // `changes`: members of "settings" (or top-level members) to set, plus an optional "version".
    // A field refused leaves everything unchanged and is named in SettingsChange::refused; errors
    // are failures to store the change.
    core::Result<SettingsChange> update(const core::Json & changes);

  private:
    SettingsStore(std::filesystem::path path, core::Json settings, int64_t version)
        : path_(std::move(path)), settings_(std::move(settings)), version_(version) {}

    std::filesystem::path path_;
    mutable std::mutex mu_;
    core::Json settings_;
    int64_t version_ = 0;
};

// One setting, declared once in setting_specs(): everything else about settings derives from it.
struct SettingSpec {
    enum class Applies { kNextStart, kNextJob };  // read when the appliance opens, or by the next job
    struct Text {
        std::string_view en;
        std::string_view ko;
    };

    std::string_view name;
    std::string_view type;  // "int", "number", "bool", "text"
    core::Json default_value;
    double min = 0;  // int and number: the accepted range, inclusive
    double max = 0;
    std::string_view unit;  // "tokens", "ms", "bytes", "hours", ... ("" for none)
    Applies applies = Applies::kNextStart;
    Text label;
    Text help;
    // Copies a checked value into Settings; null for settings read where they are used.
    std::function<void(const core::Json &, Settings &)> apply;
    // A further check for text settings: "" when acceptable, else why not.
    std::function<std::string(const core::Json &)> check;

    // "" when `value` is acceptable, else why not ("must be between 1 and 50").
    std::string check_value(const core::Json & value) const;
};

const std::vector<SettingSpec> & setting_specs();
const SettingSpec * find_setting(std::string_view name);

// Copies the stored settings that land in Settings onto `settings` (called when the appliance opens).
void apply_stored_settings(const core::Json & stored, Settings & settings);

}  // namespace strongbox::appliance
