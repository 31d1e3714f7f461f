// JSON encoding of the API: error bodies, what the services return (views.h), users and tokens,
// server-sent events. API.md documents every shape written here.
#include "handler_impl.h"

namespace strongbox::webui {

int status_for(core::ErrorCode code) {
    switch (code) {
    case core::ErrorCode::kInvalidArgument:
        return 400;
    case core::ErrorCode::kNotFound:
        return 404;
    case core::ErrorCode::kPermissionDenied:
        return 403;
    case core::ErrorCode::kAlreadyExists:
        return 409;
    case core::ErrorCode::kResourceExhausted:
        return 429;
    case core::ErrorCode::kUnsupported:
        return 501;
    case core::ErrorCode::kUnavailable:
        return 503;
    default:
        return 500;
    }
}

core::Json error_json(std::string_view code, std::string_view message, std::string_view request_id) {
    core::Json inner = core::Json::object();
    inner["code"] = code;
    inner["message"] = message;
    inner["request_id"] = request_id;
    core::Json outer = core::Json::object();
    outer["error"] = std::move(inner);
    return outer;
}

HttpResponse json_response(int status, const core::Json & body) {
    HttpResponse res;
    res.status = status;
    res.body = body.dump();
    res.set_header("Content-Type", kJsonType);
    return res;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message, std::string_view request_id) {
    return json_response(status, error_json(code, message, request_id));
}

HttpResponse error_response(const core::Error & error, std::string_view request_id) {
    if (error.code() == core::ErrorCode::kReadOnly || error.code() == core::ErrorCode::kDiskFull) {
        return error_response(507, "insufficient_storage", error.message(), request_id);
    }
    return error_response(status_for(error.code()), core::to_string(error.code()), error.message(), request_id);
}

core::Json to_json(const SourceView & view) {
    core::Json j = core::Json::object();
    j["chunk_id"] = view.chunk_id;
    j["location"] = view.location.empty() ? core::describe_location(view.provenance) : view.location;
    j["provenance"] = core::to_json(view.provenance);
    core::Json before = core::Json::array();
    for (const std::string & s : view.before) {
        before.push_back(s);
    }
    core::Json after = core::Json::array();
    for (const std::string & s : view.after) {
        after.push_back(s);
    }
    j["before"] = std::move(before);
    j["passage"] = view.passage;
    j["after"] = std::move(after);
    j["kind"] = view.kind.empty() ? "text" : view.kind;
    if (view.kind == "pdf") {
        j["page_width"] = view.page_width;
        j["page_height"] = view.page_height;
    }
    core::Json boxes = core::Json::array();
    for (const core::Box & b : view.boxes) {
        core::Json box = core::Json::object();
        box["page"] = static_cast<int64_t>(view.provenance.page);
        box["x0"] = b.x0;
        box["y0"] = b.y0;
        box["x1"] = b.x1;
        box["y1"] = b.y1;
        boxes.push_back(std::move(box));
    }
    j["boxes"] = std::move(boxes);
    if (!view.log_template.empty()) {
        j["template"] = view.log_template;
    }
    if (!view.collection.empty()) {
        j["collection"] = view.collection;
    }
    if (view.document_id != 0) {
        j["document_id"] = view.document_id;
    }
    return j;
}

namespace {

template <typename T, typename Encode>
core::Json array_of(const std::vector<T> & items, Encode encode) {
    core::Json out = core::Json::array();
    for (const T & item : items) {
        out.push_back(encode(item));
    }
    return out;
}

core::Json strings(const std::vector<std::string> & items) {
    return array_of(items, [](const std::string & s) { return core::Json(s); });
}

core::Json wrap(const char * key, core::Json value) {
    core::Json out = core::Json::object();
    out[key] = std::move(value);
    return out;
}

core::Json document_entry_json(const DocumentEntry & d) {
    core::Json j = core::Json::object();
    j["id"] = d.id;
    j["path"] = d.path;
    j["name"] = d.name;
    j["collection"] = d.collection;
    j["sha256"] = d.sha256;
    j["version"] = d.version;
    j["status"] = d.status;
    j["chunks"] = d.chunks;
    j["pages"] = d.pages;
    j["media_type"] = d.media_type;
    j["size_bytes"] = d.size_bytes;
    j["ingested_at"] = d.ingested_at;
    j["warnings"] = strings(d.warnings);
    return j;
}

core::Json salt_json(const SaltParts & salt) {
    core::Json j = core::Json::object();
    j["model_sha256"] = salt.model_sha256;
    j["prompts_sha256"] = salt.prompts_sha256;
    j["tokenizer_sha256"] = salt.tokenizer_sha256;
    j["settings_sha256"] = salt.settings_sha256;
    j["index_params_sha256"] = salt.index_params_sha256;
    j["fingerprint"] = salt.fingerprint;
    return j;
}

core::Json settings_values_json(const SettingsView & view) {
    core::Json j = core::Json::object();
    j["settings"] = view.values;
    j["version"] = view.version;
    return j;
}

}  // namespace

core::Json to_json(const std::vector<SearchHit> & hits) {
    return wrap("hits", array_of(hits, [](const SearchHit & h) {
                    core::Json j = core::Json::object();
                    j["chunk_id"] = h.chunk_id;
                    j["location"] = h.location;
                    j["snippet"] = h.snippet;
                    j["score"] = h.score;
                    core::Json doc = core::Json::object();
                    doc["id"] = h.document.id;
                    doc["name"] = h.document.name;
                    doc["collection"] = h.document.collection;
                    j["document"] = std::move(doc);
                    return j;
                }));
}

core::Json to_json(const std::vector<AskedQuestion> & questions) {
    return wrap("questions", array_of(questions, [](const AskedQuestion & q) {
                    core::Json j = core::Json::object();
                    j["question"] = q.question;
                    j["at"] = q.at;
                    j["audit_id"] = q.audit_id;
                    return j;
                }));
}

core::Json to_json(const std::vector<CollectionEntry> & collections) {
    return wrap("collections", array_of(collections, [](const CollectionEntry & c) {
                    core::Json j = core::Json::object();
                    j["name"] = c.name;
                    j["access"] = c.access;
                    j["documents"] = c.documents;
                    return j;
                }));
}

core::Json to_json(const std::vector<DocumentEntry> & documents, const char * key) {
    return wrap(key, array_of(documents, document_entry_json));
}

core::Json to_json(const UploadJob & job) {
    core::Json j = core::Json::object();
    j["job_id"] = job.job_id;
    j["state"] = job.state;
    j["collection"] = job.collection;
    j["created_at"] = job.created_at;
    j["files"] = array_of(job.files, [](const UploadFile & f) {
        core::Json o = core::Json::object();
        o["name"] = f.name;
        o["state"] = f.state;
        o["pages_done"] = f.pages_done;
        o["pages_total"] = f.pages_total;
        o["error"] = f.error;
        return o;
    });
    return j;
}

core::Json to_json(const std::vector<QuarantinedFile> & files) {
    return wrap("files", array_of(files, [](const QuarantinedFile & f) {
                    core::Json j = core::Json::object();
                    j["name"] = f.name;
                    j["sha256"] = f.sha256;
                    j["reason"] = f.reason;
                    j["at"] = f.at;
                    j["collection"] = f.collection;
                    j["job"] = f.job;
                    return j;
                }));
}

core::Json to_json(const AuditPage & page) {
    core::Json out = wrap("records", array_of(page.records, [](const AuditEntry & e) {
                              core::Json j = core::Json::object();
                              j["id"] = e.id;
                              j["at"] = e.at;
                              j["kind"] = e.kind;
                              j["actor"] = e.actor;
                              j["summary"] = e.summary;
                              return j;
                          }));
    out["total"] = page.total;
    return out;
}

core::Json to_json(const AuditRecordDetail & r) {
    core::Json j = core::Json::object();
    j["id"] = r.id;
    j["at"] = r.at;
    j["kind"] = r.kind;
    j["actor"] = r.actor;
    j["record"] = r.body;
    j["prev_hash"] = r.prev_hash;
    j["hash"] = r.hash;
    return wrap("record", std::move(j));
}

core::Json to_json(const DiskState & disk) {
    core::Json j = core::Json::object();
    j["read_only"] = disk.read_only;
    if (disk.read_only) {
        j["reason"] = disk.reason;
        j["since"] = disk.since;
    }
    j["reserve_bytes"] = disk.reserve_bytes;
    if (disk.free_bytes) {
        j["free_bytes"] = *disk.free_bytes;
    }
    if (disk.total_bytes) {
        j["total_bytes"] = *disk.total_bytes;
    }
    return j;
}

core::Json to_json(const Health & h) {
    core::Json j = core::Json::object();
    j["status"] = h.ok ? "ok" : "degraded";
    j["data_dir"] = h.data_dir;
    if (h.ok) {
        j["documents"] = h.documents;
        j["chunks"] = h.chunks;
    } else {
        j["store_error"] = h.store_error;
    }
    if (h.audit_records) {
        j["audit_records"] = *h.audit_records;
    }
    j["embedder"] = h.embedder;
    j["analyzer"] = h.analyzer;
    j["disk"] = to_json(h.disk);
    j["answerer"] = h.answerer;
    return j;
}

core::Json to_json(const Readiness & r) {
    core::Json j = core::Json::object();
    j["ready"] = r.ready;
    j["disk"] = to_json(r.disk);
    j["read_only"] = r.disk.read_only;
    j["fingerprint"] = r.salt.fingerprint;
    j["salt"] = salt_json(r.salt);
    return j;
}

core::Json to_json(const SelftestResult & r) {
    core::Json j = core::Json::object();
    j["passed"] = r.passed;
    j["checks"] = array_of(r.checks, [](const SelftestCheckResult & c) {
        core::Json e = core::Json::object();
        e["name"] = c.name;
        e["status"] = c.status;
        e["detail"] = c.detail;
        return e;
    });
    core::Json failed = core::Json::array();
    for (const SelftestCheckResult & c : r.checks) {
        if (c.status == "fail") {
            failed.push_back(c.name);
        }
    }
    j["failed"] = std::move(failed);
    j["at"] = r.at;
    return j;
}

core::Json to_json(const AdminStatus & s) {
    core::Json out = core::Json::object();
    core::Json model = core::Json::object();
    model["answerer"] = s.answerer;
    model["file"] = s.model_file;
    model["embedder"] = s.embedder;
    out["model"] = std::move(model);
    core::Json index = core::Json::object();
    index["documents"] = s.documents;
    index["chunks"] = s.chunks;
    index["vectors"] = s.vectors;
    index["collections"] = s.collections;
    out["index"] = std::move(index);
    out["disk"] = to_json(s.disk);
    out["fingerprint"] = s.salt.fingerprint;
    out["salt"] = salt_json(s.salt);
    core::Json audit = core::Json::object();
    audit["records"] = s.audit_records.value_or(0);
    audit["key_fingerprint"] = s.audit_key_fingerprint;
    out["audit"] = std::move(audit);
    out["selftest"] = s.last_selftest ? to_json(*s.last_selftest) : core::Json();
    return out;
}

core::Json to_json(const SettingsView & view) {
    core::Json j = settings_values_json(view);
    j["fields"] = array_of(view.fields, [](const SettingField & f) {
        core::Json o = core::Json::object();
        o["name"] = f.name;
        o["type"] = f.type;
        o["default"] = f.default_value;
        const bool whole = f.type == "int";
        if (f.min) {
            o["min"] = whole ? core::Json(static_cast<int64_t>(*f.min)) : core::Json(*f.min);
        }
        if (f.max) {
            o["max"] = whole ? core::Json(static_cast<int64_t>(*f.max)) : core::Json(*f.max);
        }
        o["unit"] = f.unit;
        o["applies"] = f.applies;
        core::Json label = core::Json::object();
        label["en"] = f.label_en;
        label["ko"] = f.label_ko;
        core::Json help = core::Json::object();
        help["en"] = f.help_en;
        help["ko"] = f.help_ko;
        o["label"] = std::move(label);
        o["help"] = std::move(help);
        return o;
    });
    return j;
}

core::Json to_json(const SettingsUpdate & update) {
    core::Json j = settings_values_json(update.settings);
    j["restart_required"] = strings(update.restart_required);
    return j;
}

core::Json to_json(const InstalledUpdate & u) {
    core::Json j = core::Json::object();
    j["version"] = u.version;
    j["security_version"] = u.security_version;
    j["slot"] = u.slot;
    j["signatures"] = u.signatures;
    j["salt_fingerprint"] = u.salt_fingerprint;
    j["message"] = u.message;
    return j;
}

std::string sse_event(std::string_view name, const core::Json & data) {
    // dump() escapes newlines inside strings, so the payload is always one data: line.
    return "event: " + std::string(name) + "\ndata: " + data.dump() + "\n\n";
}

core::Json user_json(const access::User & u) {
    core::Json j = core::Json::object();
    j["name"] = u.name;
    j["role"] = u.role;
    core::Json groups = core::Json::array();
    for (const std::string & g : u.groups) {
        groups.push_back(g);
    }
    j["groups"] = std::move(groups);
    j["language"] = u.language;
    j["disabled"] = u.disabled;
    j["created_at"] = core::format_iso8601_utc(u.created_at * 1000000);
    return j;
}

core::Json token_json(const access::ApiToken & t) {
    core::Json j = core::Json::object();
    j["id"] = t.id;
    j["name"] = t.name;
    j["user"] = t.user;
    j["created_at"] = core::format_iso8601_utc(t.created_at * 1000000);
    j["last_used_at"] =
        t.last_used_at == 0 ? core::Json() : core::Json(core::format_iso8601_utc(t.last_used_at * 1000000));
    return j;
}

}  // namespace strongbox::webui
