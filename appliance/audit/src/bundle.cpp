#include "bundle.h"

#include "archive.h"
#include "chain.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/text.h"

#include <map>
#include <set>
#include <sstream>

namespace strongbox::appliance {
namespace {

constexpr const char * kManifest = "manifest.json";
constexpr const char * kSignature = "manifest.sig";
constexpr const char * kRecords = "records.jsonl";
constexpr const char * kExcerpts = "excerpts.jsonl";
constexpr const char * kCsv = "records.csv";

std::string quoted(const std::string & s) {
    std::string out;
    core::append_json_string(out, s);
    return out;
}

// Lines of a JSON-lines member; false when the member does not end with a newline (cut short).
bool split_lines(std::string_view text, std::vector<std::string_view> & lines) {
    lines.clear();
    if (text.empty()) {
        return true;
    }
    if (text.back() != '\n') {
        return false;
    }
    size_t start = 0;
    while (start < text.size()) {
        const size_t nl = text.find('\n', start);
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return true;
}

std::string csv_field(const std::string & raw) {
    std::string s = raw;
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) {
        s.insert(s.begin(), '\'');
    }
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
        return s;
    }
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    out += '"';
    return out;
}

std::string cited_sources(const core::Json & body) {
    std::string out;
    const core::Json * citations = body.find("citations");
    if (citations == nullptr || !citations->is_array()) {
        return out;
    }
    for (const core::Json & c : citations->as_array()) {
        if (!out.empty()) {
            out += "; ";
        }
        out += "[" + std::to_string(c.get_int("number")) + "] " + c.get_string("location");
    }
    return out;
}

// What the verifier needs from one line of records.jsonl.
struct ParsedRecord {
    AuditRecord record;
    size_t line = 0;
};

bool parse_record_line(const core::Json & j, AuditRecord & r, std::string & bad_field) {
    const core::Json * id = j.find("id");
    if (id == nullptr || !id->is_int()) {
        bad_field = "id";
        return false;
    }
    r.id = id->as_int();
    for (auto [name, out] : {std::pair<const char *, std::string *>{"at", &r.at},
                             {"kind", &r.kind},
                             {"actor", &r.actor},
                             {"prev_hash", &r.prev_hash},
                             {"hash", &r.hash}}) {
        const core::Json * v = j.find(name);
        if (v == nullptr || !v->is_string()) {
            bad_field = name;
            return false;
        }
        *out = v->as_string();
    }
    const core::Json * body = j.find("record");
    if (body == nullptr || !body->is_object()) {
        bad_field = "record";
        return false;
    }
    r.body = *body;
    if (j.as_object().size() != 7) {
        bad_field = "(an extra field)";
        return false;
    }
    return true;
}

// The first line where two texts differ, 1-based; 0 when equal.
size_t first_difference_line(std::string_view a, std::string_view b) {
    size_t line = 1;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (a[i] != b[i]) {
            return line;
        }
        line += a[i] == '\n' ? 1 : 0;
    }
    return a.size() == b.size() ? 0 : line;
}

core::Json manifest_entry(const AuditRecord & r) {
    core::Json e = core::Json::object();
    e["id"] = r.id;
    e["at"] = r.at;
    e["kind"] = r.kind;
    e["actor"] = r.actor;
    e["body_sha256"] = core::sha256_hex(r.body.dump());
    e["prev_hash"] = r.prev_hash;
    e["hash"] = r.hash;
    return e;
}

class Verifier {
  public:
    Verifier(std::string_view bundle, std::string_view public_key_hex) : bundle_(bundle), key_text_(public_key_hex) {}

    BundleVerification run() {
        check();
        out_.ok = out_.problems.empty();
        return std::move(out_);
    }

  private:
    void problem(std::string text) { out_.problems.push_back(std::move(text)); }

    void check() {
        auto key = parse_public_key(key_text_);
        if (!key.ok()) {
            problem("public key: " + key.error().message());
            return;
        }
        key_ = *key;
        auto members = read_archive(bundle_);
        if (!members.ok()) {
            problem(members.error().message());
            return;
        }
        for (ArchiveMember & m : *members) {
            members_[m.name] = std::move(m.bytes);
        }
        for (const char * required : {kManifest, kSignature}) {
            if (members_.count(required) == 0) {
                problem("member '" + std::string(required) + "' is missing");
                return;
            }
        }
        if (!check_manifest()) {
            return;
        }
        check_records();
        check_members();
        check_derived();
        check_page_images();
        check_completeness();
    }

    bool check_manifest() {
        const std::string & manifest_bytes = members_[kManifest];
        auto parsed = core::Json::parse(manifest_bytes);
        if (!parsed.ok() || !parsed->is_object()) {
            problem("manifest.json is not a JSON object (" +
                    (parsed.ok() ? std::string("wrong type") : parsed.error().message()) + ")");
            return false;
        }
        manifest_ = std::move(parsed).value();
        out_.key_fingerprint = manifest_.get_string("key_fingerprint");
        const std::string given = key_fingerprint(key_);
        if (out_.key_fingerprint != given) {
            problem("wrong key: the bundle names signing key " + out_.key_fingerprint +
                    " but the given public key has fingerprint " + given);
        }
        // Exactly 128 hex digits and a newline: manifest.sig is not itself listed in the manifest, so no byte
        // of it may be left unchecked.
        const std::string & sig = members_[kSignature];
        if (sig.size() != 129 || sig.back() != '\n') {
            problem("manifest.sig: expected 128 hex digits and a newline, found " + std::to_string(sig.size()) +
                    " bytes; nothing in this bundle can be trusted");
        } else if (auto st =
                       verify_signature(key_, kBundleDomain, manifest_bytes, std::string_view(sig).substr(0, 128));
                   !st.ok()) {
            problem("manifest.sig: " + st.error().message() + "; nothing in this bundle can be trusted");
        }
        if (manifest_.get_string("format") != kBundleFormat) {
            problem("manifest.json: field 'format' is '" + manifest_.get_string("format") + "', expected " +
                    kBundleFormat);
        }
        if (const core::Json * head = manifest_.find("chain_head"); head != nullptr && head->is_object()) {
            out_.head_id = head->get_int("id");
            out_.head_hash = head->get_string("hash");
        } else {
            problem("manifest.json: field 'chain_head' is missing");
        }
        if (const core::Json * f = manifest_.find("filters"); f != nullptr) {
            out_.filters = *f;
        }
        const core::Json * index = manifest_.find("records");
        if (index == nullptr || !index->is_array()) {
            problem("manifest.json: field 'records' is missing");
            return false;
        }
        for (const core::Json & e : index->as_array()) {
            const int64_t id = e.get_int("id", -1);
            if (!index_.emplace(id, &e).second) {
                problem("manifest.json: record " + std::to_string(id) + " is listed twice");
            }
            index_order_.push_back(id);
        }
        return true;
    }

    void check_records() {
        auto it = members_.find(kRecords);
        if (it == members_.end()) {
            problem("member 'records.jsonl' is missing");
            return;
        }
        std::vector<std::string_view> lines;
        if (!split_lines(it->second, lines)) {
            problem("records.jsonl: the last line has no newline (the member was cut short)");
        }
        bool has_prev = false;
        int64_t prev_id = 0;
        std::string prev_hash;
        for (size_t i = 0; i < lines.size(); ++i) {
            // Until the line parses, name the record the signed manifest lists at this position.
            std::string where = "records.jsonl line " + std::to_string(i + 1);
            if (i < index_order_.size()) {
                where += " (record " + std::to_string(index_order_[i]) + " in the manifest)";
            }
            auto j = core::Json::parse(lines[i]);
            if (!j.ok() || !j->is_object()) {
                problem(where + ": not a JSON object (" + (j.ok() ? std::string("wrong type") : j.error().message()) +
                        ")");
                continue;
            }
            AuditRecord r;
            std::string bad_field;
            if (!parse_record_line(*j, r, bad_field)) {
                problem(where + ": field '" + bad_field + "' is missing, mistyped or unexpected");
                continue;
            }
            const std::string label =
                "record " + std::to_string(r.id) + " (records.jsonl line " + std::to_string(i + 1) + ")";
            if (j->dump() != lines[i]) {
                problem(label + ": bytes differ from the canonical form (the line was edited)");
            }
            if (!seen_.insert(r.id).second) {
                problem(label + " appears twice");
            }
            if (has_prev && r.id <= prev_id) {
                problem(label + " is out of order: it comes after record " + std::to_string(prev_id) +
                        " (records were reordered)");
            }
            const std::string body_text = r.body.dump();
            compare_with_manifest(r, body_text, label);
            if (chain_hash(r.prev_hash, r.kind, r.at, r.actor, body_text) != r.hash) {
                problem(label + ": its contents do not match its hash (the record was altered after it was written)");
            }
            if (has_prev && r.id == prev_id + 1 && r.prev_hash != prev_hash) {
                problem(label + " does not follow record " + std::to_string(prev_id) +
                        ": its prev_hash is not that record's hash");
            }
            if (r.kind == audit_kind::kCheckpoint) {
                if (auto st = verify_checkpoint(r, key_); !st.ok()) {
                    problem(st.error().message());
                }
            }
            has_prev = true;
            prev_id = r.id;
            prev_hash = r.hash;
            records_.push_back(std::move(r));
        }
        for (int64_t id : index_order_) {
            if (seen_.count(id) == 0) {
                problem("record " + std::to_string(id) +
                        " is listed in the signed manifest but missing from records.jsonl (removed)");
            }
        }
        out_.records = records_.size();
    }

    void compare_with_manifest(const AuditRecord & r, const std::string & body_text, const std::string & label) {
        auto e = index_.find(r.id);
        if (e == index_.end()) {
            problem(label + " is not in the signed manifest (the record was added or its field 'id' was altered)");
            return;
        }
        const core::Json & entry = *e->second;
        for (auto [field, value] : {std::pair<const char *, const std::string *>{"at", &r.at},
                                    {"kind", &r.kind},
                                    {"actor", &r.actor},
                                    {"prev_hash", &r.prev_hash},
                                    {"hash", &r.hash}}) {
            if (entry.get_string(field) != *value) {
                problem(label + ": field '" + field + "' was altered (the signed manifest says " +
                        quoted(entry.get_string(field)) + ", the record says " + quoted(*value) + ")");
            }
        }
        if (entry.get_string("body_sha256") != core::sha256_hex(body_text)) {
            problem(label + ": field 'record' (the body: question, answer, citations, ...) was altered");
        }
    }

    void check_members() {
        const core::Json * listed = manifest_.find("members");
        if (listed == nullptr || !listed->is_array()) {
            problem("manifest.json: field 'members' is missing");
            return;
        }
        std::set<std::string> names;
        for (const core::Json & m : listed->as_array()) {
            const std::string name = m.get_string("name");
            names.insert(name);
            auto it = members_.find(name);
            if (it == members_.end()) {
                problem("member '" + name + "' is listed in the manifest but missing from the bundle");
            } else if (static_cast<int64_t>(it->second.size()) != m.get_int("size", -1) ||
                       core::sha256_hex(it->second) != m.get_string("sha256")) {
                problem("member '" + name + "': size or sha256 does not match the manifest (the member was changed)");
            }
        }
        for (const auto & [name, bytes] : members_) {
            if (name != kManifest && name != kSignature && names.count(name) == 0) {
                problem("member '" + name + "' is not listed in the manifest (it was added)");
            }
        }
    }

    // excerpts.jsonl and records.csv are views of the records: regenerate and compare.
    void check_derived() {
        size_t n = 0;
        const std::string excerpts = excerpts_jsonl(records_, &n);
        if (auto it = members_.find(kExcerpts); it != members_.end()) {
            if (size_t line = first_difference_line(it->second, excerpts); line > 0) {
                problem("excerpts.jsonl line " + std::to_string(line) +
                        ": does not match the quote and provenance recorded in the answer it cites");
            }
        }
        std::ostringstream csv;
        write_records_csv(csv, records_);
        if (auto it = members_.find(kCsv); it != members_.end()) {
            if (size_t line = first_difference_line(it->second, csv.str()); line > 0) {
                problem("records.csv line " + std::to_string(line) + ": does not match records.jsonl");
            }
        }
    }

    // Each listed page image must be a PNG of the size the manifest says, of a scanned citation of
    // an exported answer on the page and source the manifest names; each scanned citation has an
    // image or a note saying why not. The member bytes themselves are covered by check_members().
    void check_page_images() {
        const core::Json * listed = manifest_.find("page_images");
        if (listed == nullptr) {
            return;  // bundles written before page images existed
        }
        if (!listed->is_array()) {
            problem("manifest.json: field 'page_images' is not a list");
            return;
        }
        std::map<std::pair<int64_t, int64_t>, const core::Json *> scanned;
        for (const AuditRecord & r : records_) {
            const core::Json * citations = r.body.find("citations");
            if (r.kind != audit_kind::kAsk || citations == nullptr || !citations->is_array()) {
                continue;
            }
            for (const core::Json & c : citations->as_array()) {
                if (const core::Json * p = c.find("provenance"); p != nullptr && is_scanned(*p)) {
                    scanned[{r.id, c.get_int("number")}] = p;
                }
            }
        }
        std::set<std::pair<int64_t, int64_t>> covered;
        for (const core::Json & e : listed->as_array()) {
            const std::string member = e.get_string("member");
            const std::pair<int64_t, int64_t> key{e.get_int("record_id"), e.get_int("number")};
            const std::string label = "page image '" + member + "' (record " + std::to_string(key.first) +
                                      ", citation " + std::to_string(key.second) + ")";
            covered.insert(key);
            auto it = scanned.find(key);
            if (it == scanned.end()) {
                problem(label + ": no scanned citation of an exported answer has that record and number");
            } else if (it->second->get_string("source_sha256") != e.get_string("source_sha256") ||
                       it->second->get_int("page") != e.get_int("page")) {
                problem(label + ": source or page differs from the citation's provenance");
            }
            auto m = members_.find(member);
            int w = 0;
            int h = 0;
            if (m != members_.end() &&
                (!png_dimensions(m->second, w, h) || w != e.get_int("width") || h != e.get_int("height"))) {
                problem(label + ": not a PNG of the size the manifest lists");
            }
        }
        if (const core::Json * notes = manifest_.find("page_images_missing"); notes != nullptr && notes->is_array()) {
            for (const core::Json & n : notes->as_array()) {
                covered.insert({n.get_int("record_id"), n.get_int("number")});
            }
        }
        for (const auto & [key, provenance] : scanned) {
            if (covered.count(key) == 0) {
                problem("record " + std::to_string(key.first) + " citation " + std::to_string(key.second) +
                        " is from a scanned page but has neither a page image nor a note why not");
            }
        }
    }

    void check_completeness() {
        if (!out_.problems.empty() || records_.empty() || (out_.filters.is_object() && out_.filters.size() > 0)) {
            return;
        }
        bool consecutive = records_.front().prev_hash == kGenesisHash && records_.front().id == 1;
        for (size_t i = 1; i < records_.size() && consecutive; ++i) {
            consecutive = records_[i].id == records_[i - 1].id + 1;
        }
        out_.complete = consecutive && records_.back().id == out_.head_id && records_.back().hash == out_.head_hash;
    }

    std::string_view bundle_;
    std::string_view key_text_;
    PublicKey key_{};
    std::map<std::string, std::string> members_;
    core::Json manifest_;
    std::map<int64_t, const core::Json *> index_;
    std::vector<int64_t> index_order_;
    std::set<int64_t> seen_;
    std::vector<AuditRecord> records_;
    BundleVerification out_;
};

}  // namespace

core::Json filters_json(const AuditFilter & f) {
    core::Json j = core::Json::object();
    for (auto [name, value] : {std::pair<const char *, const std::string *>{"since", &f.since},
                               {"until", &f.until},
                               {"kind", &f.kind},
                               {"user", &f.actor},
                               {"document", &f.document},
                               {"question", &f.question}}) {
        if (!value->empty()) {
            j[name] = *value;
        }
    }
    return j;
}

std::string excerpts_jsonl(const std::vector<AuditRecord> & records, size_t * count) {
    std::string out;
    size_t n = 0;
    for (const AuditRecord & r : records) {
        const core::Json * citations = r.body.find("citations");
        if (r.kind != audit_kind::kAsk || citations == nullptr || !citations->is_array()) {
            continue;
        }
        for (const core::Json & c : citations->as_array()) {
            core::Json e = core::Json::object();
            e["record_id"] = r.id;
            e["number"] = c.get_int("number");
            e["chunk_id"] = c.get_int("chunk_id");
            e["quote"] = c.get_string("quote");
            e["location"] = c.get_string("location");
            const core::Json * p = c.find("provenance");
            e["provenance"] = p != nullptr ? *p : core::Json::object();
            out += e.dump();
            out += '\n';
            ++n;
        }
    }
    if (count != nullptr) {
        *count = n;
    }
    return out;
}

void write_records_csv(std::ostream & out, const std::vector<AuditRecord> & records) {
    out << "id,at,kind,user,question,answer,cited_sources,hash\r\n";
    for (const AuditRecord & r : records) {
        out << r.id << ',' << csv_field(r.at) << ',' << csv_field(r.kind) << ',' << csv_field(r.actor) << ','
            << csv_field(r.body.get_string("question")) << ',' << csv_field(r.body.get_string("answer")) << ','
            << csv_field(cited_sources(r.body)) << ',' << csv_field(r.hash) << "\r\n";
    }
}

BuiltBundle build_bundle(const BundleInput & in, const SigningKey & key) {
    BuiltBundle built;
    std::string records;
    core::Json index = core::Json::array();
    for (const AuditRecord & r : in.records) {
        records += to_json(r).dump();
        records += '\n';
        index.push_back(manifest_entry(r));
    }
    const std::string excerpts = excerpts_jsonl(in.records, &built.excerpts);
    std::ostringstream csv;
    write_records_csv(csv, in.records);

    std::vector<ArchiveMember> members = {{kRecords, records}, {kExcerpts, excerpts}, {kCsv, csv.str()}};
    core::Json page_images = core::Json::array();
    for (const PageImage & p : in.page_images.images) {
        members.push_back({p.member, p.png});
        page_images.push_back(to_json(p));
    }
    core::Json missing = core::Json::array();
    for (const PageImageNote & n : in.page_images.notes) {
        missing.push_back(to_json(n));
    }
    core::Json listed = core::Json::array();
    for (const ArchiveMember & m : members) {
        core::Json e = core::Json::object();
        e["name"] = m.name;
        e["size"] = static_cast<int64_t>(m.bytes.size());
        e["sha256"] = core::sha256_hex(m.bytes);
        listed.push_back(std::move(e));
    }
    core::Json manifest = core::Json::object();
    manifest["format"] = kBundleFormat;
    manifest["created_at"] = in.created_at;
    manifest["exported_by"] = in.exported_by;
    manifest["filters"] = filters_json(in.filter);
    core::Json head = core::Json::object();
    head["id"] = in.head_id;
    head["hash"] = in.head_hash;
    manifest["chain_head"] = std::move(head);
    manifest["genesis_hash"] = kGenesisHash;
    manifest["key_fingerprint"] = key_fingerprint(key.public_key());
    manifest["public_key"] = public_key_hex(key.public_key());
    manifest["members"] = std::move(listed);
    manifest["record_count"] = static_cast<int64_t>(in.records.size());
    manifest["records"] = std::move(index);
    manifest["page_images"] = std::move(page_images);
    manifest["page_images_missing"] = std::move(missing);
    const std::string manifest_bytes = manifest.dump(1) + "\n";
    const std::string signature = key.sign(kBundleDomain, manifest_bytes) + "\n";

    std::vector<ArchiveMember> all = {{kManifest, manifest_bytes}, {kSignature, signature}};
    all.insert(all.end(), members.begin(), members.end());
    built.bytes = write_archive(all, in.created_unix);
    return built;
}

BundleVerification verify_bundle(std::string_view bundle_bytes, std::string_view public_key_hex) {
    return Verifier(bundle_bytes, public_key_hex).run();
}

core::Result<BundleVerification> verify_bundle_file(const std::filesystem::path & bundle,
                                                    const std::filesystem::path & public_key_file) {
    SB_ASSIGN_OR_RETURN(PublicKey key, read_public_key_file(public_key_file));
    auto bytes = core::read_file(bundle);
    if (!bytes.ok()) {
        return std::move(bytes).error().with_context("read bundle " + bundle.string());
    }
    return verify_bundle(*bytes, public_key_hex(key));
}

}  // namespace strongbox::appliance
