// Isolated extraction: the parsers we did not write (Poppler and Tesseract for PDFs, Poco's Zip
// and XML for DOCX) read untrusted bytes, so they run in a `strongbox-extract` worker process,
// one per file, under memory, CPU-time and file-size limits and a wall-clock deadline. A crash,
// hang or runaway allocation there fails that one file with a reason that names it; the daemon
// and the rest of the ingest carry on. Our own parsers (logs, text, Markdown, HTML, CSV) stay
// in-process.
//
// Design notes
// 1. The worker is started with posix_spawn (never a bare fork of the multi-threaded daemon) and
//    sets its own rlimits before it touches the file: RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE and
//    RLIMIT_CORE=0. The parent enforces the wall clock with SIGKILL: `timeout_s`, extended by
//    `timeout_per_page_s` per page once the worker has reported the page count.
// 2. Protocol, worker to parent on a pipe: one JSON object per line. {"progress":[done,total]}
//    per page, then exactly one {"document":{...}} or {"error":{"code":N,"message":"..."}},
//    then exit 0. Anything else (no final line, a torn line, a non-zero exit) is a failure.
// 3. The worker's stderr is captured (its tail only) so a library's last words ("Out of memory"
//    before an abort) can explain a death by signal.
// 4. Its output is bounded: never more than its address space, and once it has reported the page
//    count, 16 MiB plus 1 MiB per page; a worker past the bound is killed (a protocol error).
//
// Thread-safety: extract_isolated() may run concurrently on different files; the progress
// callback is called on the calling thread.
// Errors: the worker's own extraction errors come back unchanged (code and message); isolation
// failures are kResourceExhausted (memory, CPU, file size), kDeadlineExceeded (wall clock),
// kInternal (crash, protocol) or kUnavailable (no worker binary), each naming the file.
//
//   strongbox::appliance::ExtractLimits limits;
//   limits.memory_mib = 1024;
//   auto doc = strongbox::appliance::extract_isolated("scan.pdf", ingest_options, limits);
#pragma once

#include "strongbox/core/document.h"
#include "strongbox/core/result.h"
#include "strongbox/ingest/ingest.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct ExtractLimits {
    bool enabled = true;             // false: every kind is extracted in-process
    std::filesystem::path worker;    // empty: strongbox-extract beside the running executable
    size_t memory_mib = 4096;        // address space of a worker (RLIMIT_AS)
    int cpu_s = 3600;                // CPU time of a worker, all its threads together
    size_t file_size_mib = 16;       // largest file a worker may write (it has no reason to)
    double timeout_s = 120;          // wall clock of a worker, plus, once its page count is
    double timeout_per_page_s = 60;  // known, this much per page
};

// Whether files of this kind are parsed by third-party code and so go to a worker.
bool needs_isolation(ingest::SourceKind kind);

// The worker binary `limits` names, or strongbox-extract beside /proc/self/exe.
std::filesystem::path extract_worker_path(const ExtractLimits & limits);

// The environment a worker starts with ("NAME=value" entries): the variables parsing needs
// (locale, temp and font cache locations, Tesseract's data, OpenMP, Strongbox's log level and the
// sanitizers' options), never the rest of the daemon's, which may hold secrets.
std::vector<std::string> extract_worker_environment();

// ingest::extract_file(), in a worker when the file's kind needs it (and limits.enabled).
core::Result<core::ExtractedDocument> extract_isolated(const std::filesystem::path & path,
                                                       const ingest::IngestOptions & options,
                                                       const ExtractLimits & limits);

}  // namespace strongbox::appliance
