// Fuzz target for the admin settings: any bytes as the settings file the store opens, and as the
// JSON body of PUT /api/v1/settings. Input: byte 0 even = the bytes are the file, odd = an update.
//   - open() of any file either fails naming the file or yields only known fields of the right
//     type within their ranges (a damaged or foreign file never injects a value);
//   - update() applies whole or not at all: a refusal names at least one field with its reason
//     (SettingsChange::refused) and leaves version, values and the file unchanged;
//     an accepted change bumps the version by one, and reopening the file gives back exactly the
//     store's current() (what was saved is what is in force);
//   - apply_stored_settings() of accepted values keeps top_k and the caps in their ranges.
#include "fuzz_targets.h"
#include "settings_store.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/core/file.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

namespace strongbox::fuzz {
namespace {

namespace fs = std::filesystem;
namespace sa = strongbox::appliance;

// A directory of this process, removed at exit.
struct Scratch {
    Scratch() {
        // tmpfs when there is one: every accepted update is written with fsync.
        const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        path = base / ("sb_settings_fuzz_" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path path;
};

const fs::path & scratch() {
    static const Scratch dir;
    return dir.path;
}

bool in(const core::Json & v, int64_t lo, int64_t hi) {
    return v.is_int() && v.as_int() >= lo && v.as_int() <= hi;
}

// What every store holds, whatever file it came from.
void check_values(const core::Json & current) {
    const core::Json * s = current.find("settings");
    require(s != nullptr && s->is_object());
    const core::Json defaults = sa::SettingsStore::defaults();
    require(s->size() == defaults.size());
    for (const auto & [name, value] : s->as_object()) {
        require(defaults.contains(name));
    }
    require(in(*s->find("top_k"), 1, 50));
    const core::Json & coverage = *s->find("min_question_coverage");
    require(coverage.is_number() && coverage.as_double() >= 0 && coverage.as_double() <= 1);
    require(in(*s->find("max_prompt_tokens"), 128, 32768));
    require(in(*s->find("max_new_tokens"), 16, 4096));
    require(in(*s->find("deadline_ms"), 1000, 600000));
    require(in(*s->find("daily_user_tokens"), 0, 1000000000));
    require(s->find("flag_unsupported")->is_bool());
    require(in(*s->find("max_upload_bytes"), 1024, int64_t{4} << 30));
    require(in(*s->find("session_hours"), 1, 720));
    const core::Json & ocr = *s->find("ocr_language");
    require(ocr.is_string() && !ocr.as_string().empty() && ocr.as_string().size() <= 64);

    sa::Settings applied;
    sa::apply_stored_settings(*s, applied);
    require(applied.top_k >= 1 && applied.top_k <= 50);
    require(applied.min_question_coverage >= 0 && applied.min_question_coverage <= 1);
    require(applied.caps.max_new_tokens >= 16 && applied.caps.max_new_tokens <= 4096);
    require(applied.session_hours >= 1 && applied.session_hours <= 720);
}

}  // namespace

int settings_update(const uint8_t * data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
    const fs::path path = scratch() / "settings.json";
    std::error_code ec;
    fs::remove(path, ec);

    if ((data[0] & 1) == 0) {
        require(core::write_file_atomic(path, bytes).ok());
        auto store = sa::SettingsStore::open(path);
        if (!store.ok()) {
            require(store.error().message().find(path.string()) != std::string::npos);
            return 0;
        }
        check_values((*store)->current());
        return 0;
    }

    auto parsed = core::Json::parse(bytes);
    if (!parsed.ok()) {
        return 0;
    }
    auto store = std::move(sa::SettingsStore::open(path)).value();
    const core::Json before = store->current();
    auto change = store->update(*parsed);
    require(change.ok());  // a fresh temporary file: storing cannot fail here
    if (!change->refused.empty()) {
        for (const auto & [field, why] : change->refused) {
            require(!field.empty() && !why.empty());
        }
        require(change->new_version == change->old_version);
        require(store->current() == before);
        require(!fs::exists(path));
        return 0;
    }
    require(change->old_version == 0 && change->new_version == 1 && store->version() == 1);
    check_values(store->current());
    auto reopened = sa::SettingsStore::open(path);
    require(reopened.ok());
    // Compared as text: 0.0 saved is read back as the integer 0, the same setting.
    require((*reopened)->current().dump() == store->current().dump());
    return 0;
}

}  // namespace strongbox::fuzz

#ifdef SB_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    return strongbox::fuzz::settings_update(data, size);
}
#endif
