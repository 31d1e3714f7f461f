#include "strongbox/appliance/uploads.h"

#include "settings_store.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/data_dir.h"
#include "strongbox/appliance/local_state.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/log.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <atomic>
#include <tuple>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;

std::string new_upload_id() {
    static std::atomic<uint64_t> counter{0};
    return "upload-" + core::utc_now_compact() + "-" + std::to_string(counter.fetch_add(1) + 1);
}

fs::path staging_dir(Appliance & app) {
    return DataPaths{app.data_dir()}.staging();
}

// staging/<job>.job: what a restart needs to run an accepted upload job again.
fs::path manifest_path(Appliance & app, const std::string & job_id) {
    return staging_dir(app) / (job_id + ".job");
}

JobFile staged_file(Appliance & app, const std::string & job_id, const std::string & name) {
    JobFile f;
    f.name = name;
    f.staged = staging_dir(app) / (job_id + "-" + name);
    return f;
}

core::Json manifest_of(const Job & job) {
    core::Json j = core::Json::object();
    j["job_id"] = job.id;
    j["collection"] = job.collection;
    j["actor"] = job.actor;
    j["created_at"] = job.created_at;
    core::Json names = core::Json::array();
    for (const JobFile & f : job.files) {
        names.push_back(f.name);
    }
    j["files"] = std::move(names);
    return j;
}

void discard_upload(Appliance & app, const Job & job) {
    std::error_code ec;
    for (const JobFile & f : job.files) {
        fs::remove(f.staged, ec);
    }
    fs::remove(manifest_path(app, job.id), ec);
}

core::Result<Job> job_from_manifest(Appliance & app, const fs::path & path) {
    SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
    SB_ASSIGN_OR_RETURN(core::Json j, core::Json::parse(text));
    const core::Json * names = j.find("files");
    Job job;
    job.id = j.get_string("job_id");
    job.collection = j.get_string("collection");
    job.actor = j.get_string("actor");
    job.created_at = j.get_string("created_at");
    if (job.id != path.stem().string() || names == nullptr || !names->is_array()) {
        return core::Error(core::ErrorCode::kCorruptInput, path.string() + ": not an upload job record");
    }
    for (const core::Json & name : names->as_array()) {
        SB_ASSIGN_OR_RETURN(std::string checked, upload_file_name(name.is_string() ? name.as_string() : ""));
        job.files.push_back(staged_file(app, job.id, checked));
    }
    return job;
}

// Keeps `path`'s bytes under sources/<sha256> (a hard link when possible, else a copy).
void keep_source(const fs::path & data_dir, const fs::path & path, const std::string & sha256) {
    const fs::path kept = DataPaths{data_dir}.sources() / sha256;
    std::error_code ec;
    if (fs::exists(kept, ec)) {
        return;
    }
    fs::create_directories(kept.parent_path(), ec);
    fs::create_hard_link(path, kept, ec);
    if (ec) {
        fs::copy_file(path, kept, fs::copy_options::skip_existing, ec);
    }
    if (ec) {
        SB_LOG_WARN("keeping a copy of %s under sources/ failed: %s", path.c_str(), ec.message().c_str());
    }
}

}  // namespace

core::Result<std::string> upload_file_name(const std::string & name) {
    const size_t slash = name.find_last_of("/\\");
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    const auto bad = [&](const std::string & why) {
        return core::Error(core::ErrorCode::kInvalidArgument, "file name \"" + core::sanitize_utf8(name) + "\" " + why);
    };
    if (base.empty() || base.size() > 200) {
        return bad("must be 1 to 200 bytes long");
    }
    if (base.front() == '.') {
        return bad("must not start with '.'");
    }
    if (!core::is_valid_utf8(base)) {
        return bad("is not valid UTF-8");
    }
    for (unsigned char c : base) {
        if (c < 0x20 || c == 0x7f) {
            return bad("must not hold control characters");
        }
    }
    return base;
}

core::Result<Job> stage_upload(Appliance & app, const std::string & collection, const std::string & file_name,
                               const std::string & bytes, const std::string & actor) {
    if (!valid_collection_name(collection) || !app.local_state().has_collection(collection)) {
        return core::Error(core::ErrorCode::kNotFound, "no collection \"" + core::sanitize_utf8(collection) + "\"");
    }
    SB_ASSIGN_OR_RETURN(std::string name, upload_file_name(file_name));
    if (bytes.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, name + ": the upload is empty");
    }
    const core::Json stored_limit = app.settings_store().get("max_upload_bytes");
    const int64_t limit = stored_limit.is_int() ? stored_limit.as_int() : int64_t{256} << 20;
    if (static_cast<int64_t>(bytes.size()) > limit) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           name + ": " + std::to_string(bytes.size()) + " bytes is more than the upload limit of " +
                               std::to_string(limit) + " (setting max_upload_bytes)");
    }
    Job job;
    job.id = new_upload_id();
    job.collection = collection;
    job.actor = actor;
    job.created_at = core::utc_now_iso8601();
    job.files.push_back(staged_file(app, job.id, name));
    std::error_code ec;
    fs::create_directories(staging_dir(app), ec);
    core::Status staged = core::write_file_atomic(job.files.back().staged, bytes);
    if (staged.ok()) {
        staged = core::write_file_atomic(manifest_path(app, job.id), manifest_of(job).dump());
    }
    if (!staged.ok()) {
        discard_upload(app, job);
        return std::move(staged).error().with_context("stage upload " + name);
    }
    return job;
}

core::Result<std::string> start_upload(Appliance & app, const std::string & collection, const std::string & file_name,
                                       const std::string & bytes, const std::string & actor) {
    SB_ASSIGN_OR_RETURN(Job job, stage_upload(app, collection, file_name, bytes, actor));
    const std::string id = job.id;
    if (auto st = app.jobs().submit(job); !st.ok()) {
        discard_upload(app, job);
        return std::move(st).error();
    }
    return id;
}

core::Result<size_t> resume_uploads(Appliance & app) {
    const fs::path dir = staging_dir(app);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return size_t{0};
    }
    // On a full disk every job would fail and be dropped; they wait for a start with room instead.
    if (core::Status writable = app.writable(); !writable.ok()) {
        SB_LOG_WARN("resume uploads: not now: %s", writable.error().message().c_str());
        return size_t{0};
    }
    std::vector<Job> jobs;
    std::vector<std::string> ids;  // of every job record, readable or not: their files stay
    for (const fs::directory_entry & entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".job") {
            continue;
        }
        ids.push_back(entry.path().stem().string());
        if (auto job = job_from_manifest(app, entry.path()); job.ok()) {
            jobs.push_back(std::move(job).value());
        } else {
            SB_LOG_ERROR("resume uploads: %s", job.error().message().c_str());
        }
    }
    if (ec) {
        return core::Error(core::ErrorCode::kIoError, "resume uploads: reading " + dir.string() + ": " + ec.message());
    }
    // What belongs to no job record never reached a client as accepted: interrupted uploads,
    // temporary files of writes and exports.
    for (const fs::directory_entry & entry : fs::directory_iterator(dir, ec)) {
        const std::string file = entry.path().filename().string();
        const bool of_a_job =
            entry.path().extension() == ".job" ||
            std::any_of(ids.begin(), ids.end(), [&](const std::string & id) { return file.starts_with(id + "-"); });
        if (entry.is_regular_file() && !of_a_job) {
            std::error_code removed;
            fs::remove(entry.path(), removed);
        }
    }
    std::sort(jobs.begin(), jobs.end(),
              [](const Job & a, const Job & b) { return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id); });
    size_t resumed = 0;
    for (Job & job : jobs) {
        const std::string id = job.id;
        if (auto st = app.jobs().submit(std::move(job)); !st.ok()) {
            SB_LOG_WARN("resume uploads: job %s waits for the next start: %s", id.c_str(),
                        st.error().message().c_str());
            continue;
        }
        ++resumed;
    }
    return resumed;
}

void run_upload_job(Appliance & app, const Job & job) {
    // Once this returns or throws, the job is over: a restart must not run it again.
    struct Finished {
        fs::path manifest;
        ~Finished() {
            std::error_code ec;
            fs::remove(manifest, ec);
        }
    } finished{manifest_path(app, job.id)};
    const auto fail = [&](size_t i, const std::string & error) {
        app.jobs().update_file(job.id, i, [&](JobFile & f) {
            f.state = "failed";
            f.error = error;
        });
    };
    for (size_t i = 0; i < job.files.size(); ++i) {
        const JobFile & file = job.files[i];
        app.jobs().update_file(job.id, i, [](JobFile & f) { f.state = "running"; });
        const fs::path target = DataPaths{app.data_dir()}.documents() / job.collection / file.name;
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        std::string previous_sha;  // what was at the target before, so a refused upload does not take its place
        if (fs::exists(file.staged, ec)) {
            if (fs::exists(target, ec)) {
                if (auto sha = core::sha256_file_hex(target); sha.ok()) {
                    previous_sha = *sha;
                    keep_source(app.data_dir(), target, previous_sha);
                }
            }
            fs::rename(file.staged, target, ec);
            if (ec) {
                const std::string error = file.name + ": moving the upload into place failed: " + ec.message();
                fs::remove(file.staged, ec);
                fail(i, error);
                continue;
            }
        } else if (!fs::exists(target, ec)) {
            fail(i, file.name + ": the appliance stopped while ingesting this upload and its bytes are gone; "
                                "upload the file again");
            continue;
        }
        // else: a job resumed after a stop that came once the file was in place; ingest it there.
        IngestTarget where;
        where.collection = job.collection;
        where.actor = job.actor;
        where.on_pages = [&](size_t, size_t done, size_t total) {
            app.jobs().update_file(job.id, i, [&](JobFile & f) {
                f.pages_done = static_cast<int64_t>(done);
                f.pages_total = static_cast<int64_t>(total);
            });
        };
        IngestReport report = app.ingest({target}, {}, where);
        IngestFileResult r = report.files.empty() ? IngestFileResult{} : report.files.front();
        if (report.files.empty()) {
            r.error = file.name + ": nothing to ingest";
        }
        if (r.outcome == IngestFileResult::Outcome::kFailed) {
            fs::remove(target, ec);
            if (!previous_sha.empty()) {
                fs::create_hard_link(DataPaths{app.data_dir()}.sources() / previous_sha, target, ec);
            }
        } else if (!r.sha256.empty()) {
            keep_source(app.data_dir(), target, r.sha256);
        }
        // The user knows the file by its name, not by where the appliance keeps it.
        std::string error = r.error;
        const std::string where_kept = target.string();
        for (size_t at = error.find(where_kept); at != std::string::npos; at = error.find(where_kept, at)) {
            error.replace(at, where_kept.size(), file.name);
            at += file.name.size();
        }
        app.jobs().update_file(job.id, i, [&](JobFile & f) {
            f.state = std::string(outcome_name(r.outcome));
            f.error = error;
            if (r.outcome != IngestFileResult::Outcome::kFailed && f.pages_total > 0) {
                f.pages_done = f.pages_total;
            }
        });
    }
}

bool quarantine_file(Appliance & app, const fs::path & path, const std::string & sha256, const std::string & reason,
                     const std::string & collection, const std::string & job) {
    const fs::path kept = DataPaths{app.data_dir()}.quarantine() / sha256;
    std::error_code ec;
    fs::create_directories(kept.parent_path(), ec);
    if (!fs::exists(kept, ec)) {
        fs::copy_file(path, kept, fs::copy_options::skip_existing, ec);
        if (ec) {
            SB_LOG_ERROR("quarantine %s: copying its bytes failed: %s", path.c_str(), ec.message().c_str());
            return false;
        }
    }
    QuarantineRecord record;
    record.name = path.filename().string();
    record.sha256 = sha256;
    record.reason = reason;
    record.at = core::utc_now_iso8601();
    record.collection = collection;
    record.source_path = fs::absolute(path, ec).lexically_normal().string();
    record.job = job;
    if (auto st = app.local_state().add_quarantine(record); !st.ok()) {
        SB_LOG_ERROR("quarantine %s: %s", path.c_str(), st.error().message().c_str());
        return false;
    }
    return true;
}

core::Result<fs::path> locate_source(Appliance & app, const retrieval::DocumentInfo & doc, bool verify) {
    std::error_code ec;
    const fs::path original = doc.path;
    if (fs::is_regular_file(original, ec)) {
        bool same = false;
        if (verify) {
            auto sha = core::sha256_file_hex(original);
            same = sha.ok() && *sha == doc.sha256;
        } else {
            same = static_cast<int64_t>(fs::file_size(original, ec)) == doc.size_bytes && !ec;
        }
        if (same) {
            return original;
        }
    }
    const fs::path kept = DataPaths{app.data_dir()}.sources() / doc.sha256;
    if (!doc.sha256.empty() && fs::is_regular_file(kept, ec)) {
        return kept;
    }
    return core::Error(core::ErrorCode::kNotFound,
                       original.filename().string() + ": the source file " + original.string() +
                           (fs::exists(original, ec) ? " has changed since it was ingested" : " is no longer on disk") +
                           ", so its pages cannot be shown");
}

}  // namespace strongbox::appliance
