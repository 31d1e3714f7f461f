// Uploads and the files behind stored documents: staging an upload, the background job that
// ingests it, quarantining files ingest refuses, and finding the bytes a document came from.
//
// Layout under the data directory:
//   staging/<job>-<name>            an upload waiting for the worker (written atomically)
//   staging/<job>.job               the accepted job (collection, account, file names), removed when
//                                   the job ends; `strongbox serve` resumes the jobs it finds
//   documents/<collection>/<name>   the current bytes of an uploaded document (its store path)
//   sources/<sha256>                every ingested upload's bytes, so older versions still render
//   quarantine/<sha256>             the bytes of every file ingest refused
//
// Thread-safety: start_upload() may run on any thread; run_upload_job() runs on the job worker.
#pragma once

#include "strongbox/appliance/jobs.h"
#include "strongbox/core/result.h"
#include "strongbox/retrieval/store.h"

#include <cstddef>
#include <filesystem>
#include <string>

namespace strongbox::appliance {

class Appliance;

inline constexpr size_t kUploadQueueCapacity = 64;

// A file name safe to keep under documents/<collection>/: the last path component, 1..200 bytes
// of valid UTF-8 without control characters, not starting with '.'.
core::Result<std::string> upload_file_name(const std::string & name);

// Stages `bytes` and records a job that ingests them into `collection` on behalf of `actor`,
// without queueing it. kNotFound for an unknown collection, kInvalidArgument for a bad name or size.
core::Result<Job> stage_upload(Appliance & app, const std::string & collection, const std::string & file_name,
                               const std::string & bytes, const std::string & actor);

// stage_upload, then queues the job; kResourceExhausted (and nothing kept) when the queue is full.
// Returns the job id.
core::Result<std::string> start_upload(Appliance & app, const std::string & collection, const std::string & file_name,
                                       const std::string & bytes, const std::string & actor);

// Queues again, oldest first, the upload jobs a stop or crash interrupted, under their own ids,
// and removes what no job names from staging/ (uploads never accepted, temporary files). Call it
// before accepting uploads. Returns how many jobs were queued; one the queue has no room for,
// and all of them while the appliance is read-only, wait for the next start.
core::Result<size_t> resume_uploads(Appliance & app);

// The job worker's body: moves each staged file into place and ingests it, reporting per file.
void run_upload_job(Appliance & app, const Job & job);

// Copies `path` to quarantine/<sha256> and records why; false when either step failed (logged).
bool quarantine_file(Appliance & app, const std::filesystem::path & path, const std::string & sha256,
                     const std::string & reason, const std::string & collection, const std::string & job);

// A file holding exactly the bytes `doc` was ingested from: its path when still unchanged there
// (`verify`: by sha256, else by size), else the kept copy under sources/. kNotFound with a
// message saying the source is gone otherwise.
core::Result<std::filesystem::path> locate_source(Appliance & app, const retrieval::DocumentInfo & doc, bool verify);

}  // namespace strongbox::appliance
