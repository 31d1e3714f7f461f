// What the daemon and its strongbox-extract workers agree on (see extract_worker.h, design
// note 2): the descriptor the worker writes its lines to, its exit codes, the operations a request
// names, and how the ingest options travel. Header-only, because the worker links ingest and core
// only, not the appliance library.
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/ingest/ingest.h"

#include <string>

namespace strongbox::appliance::extract_protocol {

inline constexpr int kResultFd = 3;          // progress and result lines, one JSON object each
inline constexpr int kExitOutOfMemory = 86;  // an allocation failed under the memory limit
inline constexpr int kExitUsage = 64;        // bad command line: the daemon and worker disagree
inline constexpr const char * kWorkerName = "strongbox-extract";

// Every request may name "scratch", a directory the daemon made for it: the only place the
// worker may write, and its TMPDIR. The request's "op". extract: {"path","options"} -> {"document":{...}}. page_size:
// {"path","page"}
// -> {"page":{"width","height"}}. page_png: {"path","page","dpi"} and region_png: {"path","page",
// "dpi","region":[x0,y0,x1,y1],"grey":bool} -> {"image":{"png":base64,"width","height","dpi"}}.
// sandbox_probe: {"path","port"} -> {"sandbox":{"no_new_privs","network_namespace","landlock_abi",
// "seccomp","skipped","open","socket","connect","fork"}}: the confinement the worker runs under,
// and what became of opening `path`, a TCP connection to 127.0.0.1:`port` and a fork ("ok" or the
// error's name), tried from inside it.
inline constexpr const char * kOpExtract = "extract";
inline constexpr const char * kOpPageSize = "page_size";
inline constexpr const char * kOpPagePng = "page_png";
inline constexpr const char * kOpRegionPng = "region_png";
inline constexpr const char * kOpSandboxProbe = "sandbox_probe";

// The options that shape extraction; the progress callback stays with the daemon.
inline core::Json options_to_json(const ingest::IngestOptions & o) {
    core::Json j = core::Json::object();
    j["max_chunk_chars"] = static_cast<int64_t>(o.max_chunk_chars);
    j["log_lines_per_chunk"] = static_cast<int64_t>(o.log_lines_per_chunk);
    j["ingest_job"] = o.ingest_job;
    j["ocr_language"] = o.ocr_language;
    j["ocr_dpi"] = o.ocr_dpi;
    j["pdf_password"] = o.pdf_password;
    j["ocr_enabled"] = o.ocr_enabled;
    j["ocr_workers"] = o.ocr_workers;
    j["ocr_low_confidence"] = o.ocr_low_confidence;
    j["tessdata_dir"] = o.tessdata_dir;
    j["max_pages"] = o.max_pages;
    return j;
}

inline ingest::IngestOptions options_from_json(const core::Json & j) {
    ingest::IngestOptions o;
    o.max_chunk_chars = static_cast<size_t>(j.get_int("max_chunk_chars", static_cast<int64_t>(o.max_chunk_chars)));
    o.log_lines_per_chunk =
        static_cast<size_t>(j.get_int("log_lines_per_chunk", static_cast<int64_t>(o.log_lines_per_chunk)));
    o.ingest_job = j.get_string("ingest_job");
    o.ocr_language = j.get_string("ocr_language", o.ocr_language);
    o.ocr_dpi = static_cast<int>(j.get_int("ocr_dpi", o.ocr_dpi));
    o.pdf_password = j.get_string("pdf_password");
    o.ocr_enabled = j.get_bool("ocr_enabled", o.ocr_enabled);
    o.ocr_workers = static_cast<int>(j.get_int("ocr_workers", o.ocr_workers));
    o.ocr_low_confidence = j.get_double("ocr_low_confidence", o.ocr_low_confidence);
    o.tessdata_dir = j.get_string("tessdata_dir");
    o.max_pages = static_cast<int>(j.get_int("max_pages", o.max_pages));
    return o;
}

}  // namespace strongbox::appliance::extract_protocol
