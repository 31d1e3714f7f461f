// Isolated extraction: PDFs and DOCX files parsed in a real strongbox-extract worker under its
// limits, against real fixtures. A worker that runs out of memory, time or luck fails its file
// alone, with a reason that names it, and the ingest goes on.

#include "strongbox/extract/extract_worker.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/local_state.h"
#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "appliance/test_support.h"
#include <signal.h>
#include <unistd.h>

using namespace strongbox;
using appliance::IngestFileResult;
using appliance::testing::TempDir;

namespace {

namespace fs = std::filesystem;

const fs::path kIngestData = fs::path(SB_TEST_DATA_DIR) / "ingest";
const fs::path kWorker = fs::path(SB_BINARY_DIR) / "appliance" / "strongbox-extract";

appliance::ExtractLimits worker_limits() {
    appliance::ExtractLimits limits;
    limits.worker = kWorker;
    return limits;
}

std::unique_ptr<appliance::Appliance> open_app(const fs::path & dir, const appliance::ExtractLimits & limits) {
    appliance::Settings s;
    s.data_dir = dir;
    s.extract = limits;
    auto app = appliance::Appliance::open(s);
    REQUIRE_MESSAGE(app.ok(), app.error().to_string());
    return std::move(app).value();
}

ingest::IngestOptions test_options() {
    ingest::IngestOptions o;
    o.ingest_job = "ingest-isolation-test";
    o.ocr_workers = 1;
    return o;
}

// Running strongbox-extract children of this process, from /proc/<pid>/stat ("pid (comm) S ppid").
std::vector<pid_t> running_workers() {
    std::vector<pid_t> out;
    for (const auto & entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t open = stat.find('(');
        const size_t close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) {
            continue;
        }
        std::istringstream rest(stat.substr(close + 1));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        // comm is cut to 15 characters; before exec the child still carries the test's name.
        if (ppid == ::getpid() && stat.substr(open + 1, close - open - 1) == "strongbox-extra" && state != 'Z') {
            out.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return out;
}

void check_same_document(const core::ExtractedDocument & isolated, const core::ExtractedDocument & direct) {
    CHECK(isolated.source_path == direct.source_path);
    CHECK(isolated.sha256 == direct.sha256);
    CHECK(isolated.size_bytes == direct.size_bytes);
    CHECK(isolated.media_type == direct.media_type);
    CHECK(isolated.page_count == direct.page_count);
    CHECK(isolated.warnings == direct.warnings);
    REQUIRE(isolated.chunks.size() == direct.chunks.size());
    for (size_t i = 0; i < direct.chunks.size(); ++i) {
        core::Chunk a = isolated.chunks[i];
        const core::Chunk & b = direct.chunks[i];
        // The extraction time is the one field that differs between two runs.
        CHECK(a.provenance.ingested_at.size() == b.provenance.ingested_at.size());
        a.provenance.ingested_at = b.provenance.ingested_at;
        CHECK(a.text == b.text);
        CHECK(a.provenance == b.provenance);
        CHECK(a.metadata.dump() == b.metadata.dump());
    }
}

}  // namespace

TEST_CASE("a PDF, a scanned PDF and a DOCX extracted in the worker equal in-process extraction chunk for chunk") {
    for (const char * name : {"tagged.pdf", "phototest-scan.pdf", "manual.docx"}) {
        CAPTURE(name);
        ingest::IngestOptions options = test_options();
        size_t pages_reported = 0;
        options.progress = [&](size_t done, size_t total) {
            CHECK(done <= total);
            pages_reported = done;
        };
        auto isolated = appliance::extract_isolated(kIngestData / name, options, worker_limits());
        options.progress = nullptr;
        auto direct = ingest::extract_file(kIngestData / name, options);
        REQUIRE_MESSAGE(isolated.ok(), isolated.error().to_string());
        REQUIRE(direct.ok());
        REQUIRE_FALSE(direct->chunks.empty());
        check_same_document(*isolated, *direct);
        if (std::string_view(name).ends_with(".pdf")) {
            CHECK(pages_reported == static_cast<size_t>(direct->page_count));  // progress crossed the pipe
        }
    }
    // An extraction error comes back as the worker found it, naming the file.
    auto corrupt = appliance::extract_isolated(fs::path(SB_TEST_DATA_DIR) / "ingest" / "invalid.pdf", test_options(),
                                               worker_limits());
    auto corrupt_direct = ingest::extract_file(kIngestData / "invalid.pdf", test_options());
    REQUIRE_FALSE(corrupt.ok());
    CHECK(corrupt.error().code() == corrupt_direct.error().code());
    CHECK(corrupt.error().message() == corrupt_direct.error().message());
}

TEST_CASE("a worker over its memory limit fails that file as out of memory and the next file still goes in") {
    TempDir dir("sb_isolation_oom");
    appliance::ExtractLimits limits = worker_limits();
    // A text PDF needs under 80 MiB of address space here, OCR of this 300 dpi page over 130.
    limits.memory_mib = 100;
    auto app = open_app(dir.path / "data", limits);
    const fs::path scan = kIngestData / "phototest-scan.pdf";
    auto report = app->ingest({scan, kIngestData / "tagged.pdf"}, nullptr);
    REQUIRE(report.files.size() == 2);
    const IngestFileResult & failed = report.files[0];
    CHECK(failed.outcome == IngestFileResult::Outcome::kFailed);
    CHECK_MESSAGE(failed.error.find(scan.string() + ": extraction ran out of memory (limit 100 MiB)") !=
                      std::string::npos,
                  failed.error);
    CHECK(failed.quarantined);
    CHECK(report.files[1].outcome == IngestFileResult::Outcome::kAdded);
    CHECK(report.files[1].chunks > 0);

    auto quarantined = app->local_state().quarantine();
    REQUIRE(quarantined.ok());
    REQUIRE(quarantined->size() == 1);
    CHECK((*quarantined)[0].name == "phototest-scan.pdf");
    CHECK((*quarantined)[0].reason == failed.error);
    auto docs = app->retriever().store().list_documents();
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK(fs::path((*docs)[0].path).filename() == "tagged.pdf");
}

TEST_CASE("a worker past its wall-clock deadline is stopped and its file fails as timed out") {
    TempDir dir("sb_isolation_timeout");
    appliance::ExtractLimits limits = worker_limits();
    limits.timeout_s = 0.25;
    limits.timeout_per_page_s = 0;
    auto app = open_app(dir.path / "data", limits);
    const fs::path scan = kIngestData / "phototest-scan.pdf";
    const auto start = std::chrono::steady_clock::now();
    auto report = app->ingest({scan}, nullptr);
    REQUIRE(report.files.size() == 1);
    CHECK(report.files[0].outcome == IngestFileResult::Outcome::kFailed);
    CHECK_MESSAGE(report.files[0].error ==
                      "ingest " + scan.string() + ": extraction timed out after 0.25 s and was stopped",
                  report.files[0].error);
    CHECK(report.files[0].quarantined);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));  // it did not run to the end
    CHECK(running_workers().empty());
}

TEST_CASE("a worker over its CPU-time limit fails its file with that reason") {
    appliance::ExtractLimits limits = worker_limits();
    limits.cpu_s = 1;
    // OCR of this skewed scan takes Tesseract about three seconds of CPU here.
    auto doc = appliance::extract_isolated(kIngestData / "skew.pdf", test_options(), limits);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kResourceExhausted);
    CHECK_MESSAGE(doc.error().message().find("skew.pdf: extraction exceeded the CPU-time limit of 1 s") !=
                      std::string::npos,
                  doc.error().message());
}

TEST_CASE(
    "a worker killed by a signal mid-file fails it as crashed, leaves the store untouched, and the next file goes in") {
    TempDir dir("sb_isolation_crash");
    auto app = open_app(dir.path / "data", worker_limits());
    std::atomic<bool> done{false};
    std::atomic<pid_t> killed{0};
    // Once the first worker has exec'd and started working, it gets the signal a parser bug would raise.
    std::thread killer([&] {
        while (!done && killed == 0) {
            for (pid_t pid : running_workers()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                if (::kill(pid, SIGSEGV) == 0) {
                    killed = pid;
                }
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    const fs::path scan = kIngestData / "phototest-scan.pdf";
    auto report = app->ingest({scan, kIngestData / "tagged.pdf"}, nullptr);
    done = true;
    killer.join();
    REQUIRE(killed != 0);
    REQUIRE(report.files.size() == 2);
    CHECK(report.files[0].outcome == IngestFileResult::Outcome::kFailed);
    CHECK_MESSAGE(report.files[0].error.find("ingest " + scan.string() +
                                             ": the extraction worker crashed (signal 11, SIGSEGV)") == 0,
                  report.files[0].error);
    CHECK(report.files[0].quarantined);
    CHECK(report.files[0].document_id == 0);
    CHECK(report.files[1].outcome == IngestFileResult::Outcome::kAdded);
    auto docs = app->retriever().store().list_documents(true);
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK(fs::path((*docs)[0].path).filename() == "tagged.pdf");
}

TEST_CASE("a missing worker binary fails PDFs with a clear reason, without quarantining them, while text files go in") {
    TempDir dir("sb_isolation_missing");
    appliance::ExtractLimits limits;
    limits.worker = dir.path / "no-such-dir" / "strongbox-extract";
    auto app = open_app(dir.path / "data", limits);
    REQUIRE(core::write_file_atomic(dir.path / "notes.md", "# Cooling\n\nThe chiller is serviced every April.\n").ok());
    const fs::path pdf = kIngestData / "tagged.pdf";
    auto report = app->ingest({pdf, dir.path / "notes.md"}, nullptr);
    REQUIRE(report.files.size() == 2);
    CHECK(report.files[0].outcome == IngestFileResult::Outcome::kFailed);
    CHECK_MESSAGE(report.files[0].error.find("ingest " + pdf.string() + ": the extraction worker " +
                                             limits.worker.string() + " is missing or not executable") == 0,
                  report.files[0].error);
    CHECK_FALSE(report.files[0].quarantined);  // the box is at fault: the file can go in once the worker is back
    CHECK(report.files[1].outcome == IngestFileResult::Outcome::kAdded);
}

TEST_CASE("a worker starts with the variables parsing needs and none of the daemon's others") {
    ::setenv("STRONGBOX_TEST_SECRET", "hunter2", 1);
    ::setenv("LC_STRONGBOX_TEST", "kept", 1);
    const std::vector<std::string> env = appliance::extract_worker_environment();
    ::unsetenv("STRONGBOX_TEST_SECRET");
    ::unsetenv("LC_STRONGBOX_TEST");
    auto has = [&](const std::string & entry) {
        return std::find(env.begin(), env.end(), entry) != env.end();
    };
    CHECK(has("LC_STRONGBOX_TEST=kept"));
    CHECK_FALSE(has("STRONGBOX_TEST_SECRET=hunter2"));
    if (const char * path = std::getenv("PATH")) {
        CHECK(has(std::string("PATH=") + path));
    }
    for (const std::string & entry : env) {
        CHECK(entry.find('=') != std::string::npos);
    }
}

TEST_CASE("a worker that answers outside the protocol fails the file as a protocol error") {
    TempDir dir("sb_isolation_protocol");
    // A program in the worker's place that reads the request and answers with a line that is not JSON.
    const fs::path fake = dir.path / "strongbox-extract";
    REQUIRE(core::write_file_atomic(fake, "#!/bin/sh\ncat >/dev/null\nprintf 'not json\\n' >&3\n").ok());
    fs::permissions(fake, fs::perms::owner_all);
    appliance::ExtractLimits limits;
    limits.worker = fake;
    auto doc = appliance::extract_isolated(kIngestData / "tagged.pdf", test_options(), limits);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kInternal);
    CHECK_MESSAGE(doc.error().message() == "ingest " + (kIngestData / "tagged.pdf").lexically_normal().string() +
                                               ": extraction worker protocol error: a line that is not a JSON object",
                  doc.error().message());
}

TEST_CASE("a worker that says a file has 2 pages and then writes far more than 2 pages' worth is stopped") {
    TempDir dir("sb_isolation_output_bound");
    // 2 pages allow 18 MiB; this worker streams 40 MiB into a line that never ends.
    const fs::path fake = dir.path / "strongbox-extract";
    REQUIRE(core::write_file_atomic(fake,
                                    "#!/bin/sh\ncat >/dev/null\nprintf '{\"progress\":[0,2]}\\n' >&3\n"
                                    "printf '{\"document\":\"' >&3\nhead -c 41943040 /dev/zero | tr '\\\\0' a >&3\n")
                .ok());
    fs::permissions(fake, fs::perms::owner_all);
    appliance::ExtractLimits limits;
    limits.worker = fake;
    auto doc = appliance::extract_isolated(kIngestData / "tagged.pdf", test_options(), limits);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code() == core::ErrorCode::kInternal);
    CHECK_MESSAGE(doc.error().message().find("protocol error: more than 18 MiB of output") != std::string::npos,
                  doc.error().message());
}
