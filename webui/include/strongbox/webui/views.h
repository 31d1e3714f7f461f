// What the web UI's services return (service.h): plain structs the appliance fills and webui
// encodes as API.md shows them (json_encoding.cpp), so the API's shape is decided in one place and
// a field the service forgets is a compile error, not a missing key.
#pragma once

#include "strongbox/core/json.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strongbox::webui {

// ---- query ---------------------------------------------------------------------------------------

struct DocumentRef {
    int64_t id = 0;
    std::string name;  // file name
    std::string collection;
};

struct SearchHit {
    int64_t chunk_id = 0;
    std::string location;  // "report.pdf p. 3"
    std::string snippet;
    double score = 0;
    DocumentRef document;
};

struct AskedQuestion {
    std::string question;
    std::string at;  // ISO 8601
    int64_t audit_id = 0;
};

// ---- documents -----------------------------------------------------------------------------------

struct CollectionEntry {
    std::string name;
    std::string access;  // "read" | "write" | "admin"
    int64_t documents = 0;
};

struct DocumentEntry {
    int64_t id = 0;
    std::string path;
    std::string name;
    std::string collection;
    std::string sha256;
    int64_t version = 0;
    std::string status;  // "active" | "superseded" | "deleted"
    int64_t chunks = 0;
    int64_t pages = 0;
    std::string media_type;
    int64_t size_bytes = 0;
    std::string ingested_at;
    std::vector<std::string> warnings;
};

struct UploadFile {
    std::string name;
    std::string state;
    int64_t pages_done = 0;
    int64_t pages_total = 0;
    std::string error;
};

struct UploadJob {
    std::string job_id;
    std::string state;  // "queued" | "running" | "done" | "failed"
    std::string collection;
    std::string created_at;
    std::vector<UploadFile> files;
};

struct QuarantinedFile {
    std::string name;
    std::string sha256;
    std::string reason;
    std::string at;
    std::string collection;
    std::string job;
};

// ---- audit ---------------------------------------------------------------------------------------

struct AuditEntry {
    int64_t id = 0;
    std::string at;
    std::string kind;
    std::string actor;
    std::string summary;  // one line for the list
};

struct AuditPage {
    std::vector<AuditEntry> records;  // newest first, at most the filter's limit
    int64_t total = 0;                // records matching the filters
};

// A whole record. Its body is the document the trail signed, kind by kind, so it stays JSON.
struct AuditRecordDetail {
    int64_t id = 0;
    std::string at;
    std::string kind;
    std::string actor;
    core::Json body;
    std::string prev_hash;
    std::string hash;
};

// ---- administration ------------------------------------------------------------------------------

struct DiskState {
    bool read_only = false;
    std::string reason;  // when read_only
    std::string since;   // when read_only
    uint64_t reserve_bytes = 0;
    std::optional<uint64_t> free_bytes;  // unknown when the file system cannot say
    std::optional<uint64_t> total_bytes;
};

// What shaped this appliance's answers, hashed (provisioning's hidden salt) and its fingerprint.
struct SaltParts {
    std::string model_sha256;
    std::string prompts_sha256;
    std::string tokenizer_sha256;
    std::string settings_sha256;
    std::string index_params_sha256;
    std::string fingerprint;
};

struct Health {
    bool ok = true;  // false: "degraded", store_error says why
    std::string store_error;
    std::string data_dir;
    int64_t documents = 0;
    int64_t chunks = 0;
    std::optional<int64_t> audit_records;
    std::string embedder;  // identity of the embedding model
    std::string analyzer;  // text analyzer version
    std::string answerer;  // "extractive" | "generative (<model file>)"
    DiskState disk;
};

struct Readiness {
    bool ready = false;
    DiskState disk;  // read-only (disk full) is still ready: search, answers and the trail work
    SaltParts salt;
};

struct SelftestCheckResult {
    std::string name;
    std::string status;  // "pass" | "fail" | "skip"
    std::string detail;
};

struct SelftestResult {
    bool passed = false;
    std::vector<SelftestCheckResult> checks;
    std::string at;  // ISO 8601
};

struct AdminStatus {
    std::string answerer;
    std::string model_file;  // "" without a model
    std::string embedder;
    int64_t documents = 0;
    int64_t chunks = 0;
    int64_t vectors = 0;
    int64_t collections = 0;
    DiskState disk;
    SaltParts salt;
    std::optional<int64_t> audit_records;
    std::string audit_key_fingerprint;
    std::optional<SelftestResult> last_selftest;  // none until the first run
};

// One setting as the admin page shows it: declared once in the appliance's settings table.
struct SettingField {
    std::string name;
    std::string type;  // "int" | "number" | "bool" | "string"
    core::Json default_value;
    std::optional<double> min;  // int and number only
    std::optional<double> max;
    std::string unit;
    std::string applies;  // "next_job" | "next_start"
    std::string label_en, label_ko;
    std::string help_en, help_ko;
};

struct SettingsView {
    int64_t version = 0;
    core::Json values;  // name -> value (each of its field's type)
    std::vector<SettingField> fields;
};

// The outcome of a settings change: refused field by field (nothing changed), or applied.
struct SettingsUpdate {
    std::map<std::string, std::string> refused;  // field -> why
    SettingsView settings;                       // after the change, when nothing was refused
    std::vector<std::string> restart_required;   // changed settings that apply at the next start
};

struct InstalledUpdate {
    std::string version;
    int64_t security_version = 0;
    std::string slot;  // "A" | "B"
    int64_t signatures = 0;
    std::string salt_fingerprint;
    std::string message;
};

}  // namespace strongbox::webui
