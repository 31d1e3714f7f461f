// The daemon's side of one worker request, shared by extraction (extract_worker.cpp) and page
// rendering (page_render.cpp): starts strongbox-extract under `limits`, sends `request`, and
// returns the value its final line carries under `result_key`. Failures read "<what>: <reason>".
#pragma once

#include "strongbox/core/json.h"
#include "strongbox/core/result.h"
#include "strongbox/extract/extract_worker.h"

#include <string>

namespace strongbox::appliance {

core::Result<core::Json> run_worker(const std::string & what, core::Json request, const std::string & result_key,
                                    const ExtractLimits & limits);

}  // namespace strongbox::appliance
