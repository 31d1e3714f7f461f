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
    return [](const core::Json & v) -> std::string {
        return v.is_bool() ? "" : "must be true or false";
    };
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

}  // namespace

// The one declaration of every setting: its check, default, unit and labels, and where it lands
// in Settings. Validation, defaults, the stored settings' effect, the restart list and the
// console's labels (GET /api/v1/settings "fields") all read this table.
const std::vector<SettingSpec> & setting_specs() {
    using A = SettingSpec::Applies;
    static const std::vector<SettingSpec> kSpecs = {
        {"top_k",
         "int",
         5,
         1,
         50,
         "passages",
         A::kNextStart,
         {"Passages per answer", "답변당 검토할 구절 수"},
         {"How many retrieved passages the answerer considers for each question.",
          "질문마다 답변에 검토할 검색 구절의 수입니다."},
         [](const core::Json & v, Settings & s) {
             s.top_k = static_cast<int>(v.as_int());
         }},
        {"min_question_coverage",
         "number",
         0.5,
         0,
         1,
         "share",
         A::kNextStart,
         {"Refusal threshold", "답변 거절 기준"},
         {"Share of the question's content words the best passage must hold; below it the answer is "
          "\"not found\".",
          "가장 적합한 구절이 질문의 핵심 단어를 이 비율 이상 담아야 하며, 미만이면 \"찾을 수 없음\"으로 "
          "답합니다."},
         [](const core::Json & v, Settings & s) {
             s.min_question_coverage = v.as_double();
         }},
        {"max_prompt_tokens",
         "int",
         1536,
         128,
         32768,
         "tokens",
         A::kNextStart,
         {"Prompt size limit", "프롬프트 크기 한도"},
         {"Most tokens of question and passages given to a language model.",
          "언어 모델에 넘기는 질문과 구절의 최대 토큰 수입니다."},
         [](const core::Json & v, Settings & s) {
             s.caps.max_prompt_tokens = v.as_int();
         }},
        {"max_new_tokens",
         "int",
         256,
         16,
         4096,
         "tokens",
         A::kNextStart,
         {"Answer length limit", "답변 길이 한도"},
         {"Most tokens a language model may generate for one answer.",
          "언어 모델이 한 답변에 생성할 수 있는 최대 토큰 수입니다."},
         [](const core::Json & v, Settings & s) {
             s.caps.max_new_tokens = v.as_int();
         }},
        {"deadline_ms",
         "int",
         60000,
         1000,
         600000,
         "ms",
         A::kNextStart,
         {"Answer deadline", "답변 제한 시간"},
         {"Longest one answer may take; a model answer is stopped there.",
          "한 답변에 허용되는 최대 시간이며, 넘으면 모델 답변을 멈춥니다."},
         [](const core::Json & v, Settings & s) {
             s.caps.deadline_ms = v.as_int();
         }},
        {"daily_user_tokens",
         "int",
         200000,
         0,
         1000000000,
         "tokens per day",
         A::kNextStart,
         {"Daily model tokens per user", "사용자별 일일 모델 토큰"},
         {"Language-model tokens each user may spend per day; 0 means no limit.",
          "사용자마다 하루에 쓸 수 있는 언어 모델 토큰 수이며, 0이면 제한이 없습니다."},
         [](const core::Json & v, Settings & s) {
             s.caps.daily_user_tokens = v.as_int();
         }},
        {"flag_unsupported",
         "bool",
         false,
         0,
         0,
         "",
         A::kNextStart,
         {"Flag unsupported sentences", "근거 없는 문장 표시"},
         {"Keep generated sentences their citations do not support, marked as unsupported, instead of "
          "removing them.",
          "인용이 뒷받침하지 않는 생성 문장을 지우지 않고 \"근거 없음\"으로 표시해 둡니다."},
         [](const core::Json & v, Settings & s) {
             s.verifier.remove_unsupported = !v.as_bool();
         }},
        {"max_upload_bytes",
         "int",
         int64_t{256} << 20,
         1024,
         static_cast<double>(int64_t{4} << 30),
         "bytes",
         A::kNextJob,
         {"Largest upload", "최대 업로드 크기"},
         {"Largest file an upload from the console or the API may carry.",
          "콘솔이나 API로 올릴 수 있는 가장 큰 파일 크기입니다."},
         nullptr},
        {"max_document_pages",
         "int",
         5000,
         1,
         1000000,
         "pages",
         A::kNextJob,
         {"Most pages per document", "문서당 최대 쪽수"},
         {"A PDF with more pages is refused at ingest, before any page is read.",
          "이보다 쪽수가 많은 PDF는 쪽을 읽기 전에 수집을 거절합니다."},
         nullptr},
        {"max_document_bytes",
         "int",
         int64_t{1} << 30,
         1024,
         static_cast<double>(int64_t{64} << 30),
         "bytes",
         A::kNextJob,
         {"Largest document", "최대 문서 크기"},
         {"A file larger than this is refused at ingest, from the console, the API or the command line.",
          "이보다 큰 파일은 콘솔, API, 명령줄 어디서든 수집을 거절합니다."},
         nullptr},
        {"ocr_language",
         "text",
         "eng",
         0,
         0,
         "",
         A::kNextJob,
         {"OCR languages", "OCR 언어"},
         {"Tesseract languages for scanned pages, joined by +: eng, or eng+kor.",
          "스캔한 페이지에 쓰는 Tesseract 언어이며 +로 잇습니다(eng, eng+kor)."},
         nullptr,
         ocr_languages()},
        {"session_hours",
         "int",
         8,
         1,
         720,
         "hours",
         A::kNextStart,
         {"Session length", "로그인 유지 시간"},
         {"How long a console sign-in lasts before the user signs in again.",
          "콘솔에 로그인한 뒤 다시 로그인해야 할 때까지의 시간입니다."},
         [](const core::Json & v, Settings & s) {
             s.session_hours = static_cast<int>(v.as_int());
         }},
        {"embedding_model",
         "text",
         "",
         0,
         0,
         "",
         A::kNextStart,
         {"Embedding model", "임베딩 모델"},
         {"Absolute path of a BERT sentence-embedding .gguf file for dense search; empty for the built-in "
          "embedder. A change needs the documents embedded again.",
          "밀집 검색에 쓰는 BERT 문장 임베딩 .gguf 파일의 절대 경로이며, 비우면 내장 임베더를 씁니다. 바꾸면 "
          "문서를 다시 임베딩해야 합니다."},
         nullptr,
         embedding_model()},
    };
    return kSpecs;
}

const SettingSpec * find_setting(std::string_view name) {
    for (const SettingSpec & spec : setting_specs()) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

std::string SettingSpec::check_value(const core::Json & v) const {
    std::string why;
    if (type == "int") {
        why = int_in(static_cast<int64_t>(min), static_cast<int64_t>(max))(v);
    } else if (type == "number") {
        why = number_in(min, max)(v);
    } else if (type == "bool") {
        why = boolean()(v);
    } else if (!v.is_string()) {
        why = "must be text";
    }
    return why.empty() && check ? check(v) : why;
}

void apply_stored_settings(const core::Json & stored, Settings & settings) {
    for (const SettingSpec & spec : setting_specs()) {
        const core::Json * v = stored.find(spec.name);
        if (spec.apply && v != nullptr && spec.check_value(*v).empty()) {
            spec.apply(*v, settings);
        }
    }
}

core::Json SettingsStore::defaults() {
    core::Json j = core::Json::object();
    for (const SettingSpec & spec : setting_specs()) {
        j[std::string(spec.name)] = spec.default_value;
    }
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
            const SettingSpec * spec = find_setting(name);
            bool valid = spec != nullptr && spec->check_value(value).empty();
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
    SettingsChange change;
    change.old_version = version_;
    change.new_version = version_;
    std::map<std::string, std::string> & errors = change.refused;
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
            errors["version"] = "the settings changed since version " +
                                (v->is_int() ? std::to_string(v->as_int()) : v->dump()) + " (now " +
                                std::to_string(version_) + "); reload and apply again";
        }
    }
    core::Json next = settings_;
    if (errors.empty() && members.is_object()) {
        for (const auto & [name, value] : members.as_object()) {
            if (wanted == nullptr && name == "version") {
                continue;
            }
            const SettingSpec * spec = find_setting(name);
            if (name.empty()) {
                errors["settings"] = "has a member with an empty name";  // refusals are named by field
                continue;
            }
            if (spec == nullptr) {
                errors[name] = "is not a setting";
                continue;
            }
            if (std::string why = spec->check_value(value); !why.empty()) {
                errors[name] = why;
                continue;
            }
            next[name] = value;
        }
    }
    if (!errors.empty()) {
        return change;
    }
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
