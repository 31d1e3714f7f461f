// ingest, ask, serve, status: the commands staff and admins use every day.

#include "commands.h"
#include "daemon_client.h"
#include "progress.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/webui/server.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>

namespace strongbox::appliance {
namespace {

// Options that choose how answers are made, shared by ask and serve.
const std::vector<OptionSpec> kAnswerOptions = {
    {"model", "FILE", "answer with this local GGUF model (default: the extractive answerer)"},
    {"prompts", "DIR", "prompt templates directory (default: the installed ones)"},
    {"threads", "N", "CPU threads for the model (default 2)"},
    {"max-prompt-tokens", "N", "cap on the evidence given to the model (default 1536)"},
    {"max-new-tokens", "N", "cap on generated tokens (default 256)"},
    {"deadline-ms", "MS", "wall-clock cap per question (default 60000)"},
    {"daily-user-tokens", "N", "per-user daily token quota, 0 = unlimited (default 200000)"},
    {"flag-unsupported", "", "show unsupported sentences flagged instead of removing them"},
};

core::Result<std::unique_ptr<Appliance>> open_appliance(const CommandContext & ctx, const std::string & holder) {
    Settings settings;
    settings.data_dir = ctx.data_dir;
    settings.holder = holder;
    const Args & a = ctx.args;
    settings.model_path = a.get("model");
    settings.prompt_dir = a.get("prompts");
    SB_ASSIGN_OR_RETURN(settings.model_threads, a.get_int("threads", settings.model_threads));
    SB_ASSIGN_OR_RETURN(settings.caps.max_prompt_tokens, a.get_int("max-prompt-tokens", 1536));
    SB_ASSIGN_OR_RETURN(settings.caps.max_new_tokens, a.get_int("max-new-tokens", 256));
    SB_ASSIGN_OR_RETURN(settings.caps.deadline_ms, a.get_int("deadline-ms", 60000));
    SB_ASSIGN_OR_RETURN(settings.caps.daily_user_tokens, a.get_int("daily-user-tokens", 200000));
    settings.verifier.remove_unsupported = !a.has("flag-unsupported");
    return Appliance::open(settings);
}

std::vector<OptionSpec> with_answer_options(std::vector<OptionSpec> options) {
    options.insert(options.end(), kAnswerOptions.begin(), kAnswerOptions.end());
    return options;
}

std::string short_hash(const std::string & sha) {
    return sha.substr(0, 12);
}

void print_answer(const core::Answer & a) {
    std::printf("%s\n", a.text().c_str());
    if (a.refused) {
        return;
    }
    std::printf("\nSources:\n");
    for (const core::Citation & c : a.citations) {
        std::printf("  [%d] %s  (%s, sha256 %s)\n", c.number, core::describe_location(c.provenance).c_str(),
                    c.provenance.source_path.c_str(), short_hash(c.provenance.source_sha256).c_str());
        std::printf("      \"%s\"\n", c.quote.c_str());
    }
    std::printf("\n(%s answer, %.0f ms%s)\n", a.answerer.c_str(), a.latency_ms,
                a.audit_id > 0 ? (", audit record " + std::to_string(a.audit_id)).c_str() : "");
}

int run_ingest(const CommandContext & ctx) {
    if (ctx.args.positionals().empty()) {
        return fail("ingest", "give at least one file or folder to ingest");
    }
    auto app = open_appliance(ctx, "strongbox ingest");
    if (!app.ok()) {
        return fail("ingest", app.error().message());
    }
    std::vector<std::filesystem::path> inputs(ctx.args.positionals().begin(), ctx.args.positionals().end());
    std::unique_ptr<ProgressBar> progress;
    IngestReport report = (*app)->ingest(inputs, [&](size_t done, size_t total, const IngestFileResult & r) {
        if (!progress) {
            progress = std::make_unique<ProgressBar>("ingest", total);
        }
        using Outcome = IngestFileResult::Outcome;
        std::string line;
        switch (r.outcome) {
            case Outcome::kAdded: line = "added      " + r.path.string() + " (" + std::to_string(r.chunks) + " chunks)"; break;
            case Outcome::kNewVersion:
                line = "new version " + r.path.string() + " (" + std::to_string(r.chunks) + " chunks)";
                break;
            case Outcome::kUnchanged: line = "unchanged  " + r.path.string(); break;
            case Outcome::kFailed: line = "error: " + r.error; break;
        }
        progress->message(line);
        for (const std::string & w : r.warnings) {
            progress->message("warning: " + r.path.string() + ": " + w);
        }
        progress->update(done, r.path.filename().string());
    });
    if (progress) {
        progress->finish();
    }
    using Outcome = IngestFileResult::Outcome;
    const size_t failed = report.count(Outcome::kFailed);
    std::fprintf(stderr, "ingest %s: %zu added, %zu new versions, %zu unchanged, %zu failed\n", report.job_id.c_str(),
                 report.count(Outcome::kAdded), report.count(Outcome::kNewVersion), report.count(Outcome::kUnchanged),
                 failed);
    if (failed == 0) {
        return kExitOk;
    }
    return failed == report.files.size() ? kExitFailure : kExitPartial;
}

int run_remove(const CommandContext & ctx) {
    if (ctx.args.positionals().empty()) {
        return fail("remove", "give the path of at least one ingested file");
    }
    auto app = open_appliance(ctx, "strongbox remove");
    if (!app.ok()) {
        return fail("remove", app.error().message());
    }
    int failed = 0;
    for (const std::string & path : ctx.args.positionals()) {
        if (auto st = (*app)->remove(path, "cli"); !st.ok()) {
            std::fprintf(stderr, "error: %s: %s\n", path.c_str(), st.error().message().c_str());
            ++failed;
        } else {
            std::fprintf(stderr, "removed    %s\n", path.c_str());
        }
    }
    if (failed == 0) {
        return kExitOk;
    }
    return static_cast<size_t>(failed) == ctx.args.positionals().size() ? kExitFailure : kExitPartial;
}

int run_ask(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    if (pos.empty()) {
        return fail("ask", "give the question, e.g. strongbox ask \"How long are backups kept?\"");
    }
    std::string question;
    for (const std::string & p : pos) {
        question += (question.empty() ? "" : " ") + p;
    }
    auto top_k = ctx.args.get_int("top-k", 5);
    if (!top_k.ok()) {
        return fail("ask", top_k.error().message());
    }
    const std::string user = ctx.args.get("user", "cli");
    core::Result<core::Answer> answer = core::Error(core::ErrorCode::kInternal, "not asked");
    auto app = open_appliance(ctx, "strongbox ask");
    if (app.ok()) {
        answer = (*app)->ask(question, user, "cli", *top_k);
    } else if (app.error().code() == core::ErrorCode::kUnavailable) {
        // A running daemon owns the data directory: ask it instead.
        answer = ask_daemon(ctx.data_dir, question, user, *top_k);
    } else {
        return fail("ask", app.error().message());
    }
    if (!answer.ok()) {
        return fail("ask", answer.error().message());
    }
    if (ctx.args.has("json")) {
        std::printf("%s\n", core::to_json(*answer).dump(2).c_str());
    } else {
        print_answer(*answer);
    }
    return kExitOk;
}

int run_serve(const CommandContext & ctx) {
    webui::ServerOptions options;
    options.host = ctx.args.get("host", "127.0.0.1");
    auto port = ctx.args.get_int("port", 8080);
    if (!port.ok()) {
        return fail("serve", port.error().message());
    }
    options.port = *port;
    // Block the stop signals before any thread starts so only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto app = open_appliance(ctx, "strongbox serve");
    if (!app.ok()) {
        return fail("serve", app.error().message());
    }
    auto service = make_web_service(**app);
    webui::Server server(*service, options);
    if (auto st = server.start(); !st.ok()) {
        return fail("serve", st.error().message());
    }
    const std::string url = "http://" + options.host + ":" + std::to_string(server.port()) + "/";
    if (auto st = write_daemon_file(ctx.data_dir, url); !st.ok()) {
        return fail("serve", st.error().message());
    }
    std::printf("Strongbox is serving %s on %s (Ctrl-C to stop)\n", ctx.data_dir.string().c_str(), url.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "strongbox serve: stopping\n");
    server.stop();
    // Sign the chain head so an auditor can pin everything answered in this run.
    if (auto st = (*app)->audit().checkpoint(); !st.ok()) {
        std::fprintf(stderr, "strongbox serve: audit checkpoint failed: %s\n", st.error().message().c_str());
    }
    remove_daemon_file(ctx.data_dir);
    return kExitOk;
}

int run_status(const CommandContext & ctx) {
    auto app = open_appliance(ctx, "strongbox status");
    if (!app.ok()) {
        return fail("status", app.error().message());
    }
    std::printf("%s\n", (*app)->health().dump(2).c_str());
    return kExitOk;
}

}  // namespace

std::vector<Command> document_commands() {
    return {
        {"ingest",
         "PATH...",
         "Ingest files and folders (PDF incl. scans, logs, text, Markdown, HTML, CSV, DOCX) with provenance",
         {},
         run_ingest},
        {"remove", "PATH...", "Remove ingested files from search (kept for the audit trail, deletion recorded)", {},
         run_remove},
        {"ask",
         "QUESTION",
         "Answer a question from the ingested documents, citing the passages it rests on",
         with_answer_options({{"json", "", "print the answer, citations and provenance as JSON"},
                              {"top-k", "N", "passages to consider (default 5)"},
                              {"user", "NAME", "who is asking, for the audit trail (default cli)"}}),
         run_ask},
        {"serve",
         "",
         "Serve the web UI and the HTTP API",
         with_answer_options({{"host", "ADDR", "address to listen on (default 127.0.0.1)"},
                              {"port", "PORT", "port (default 8080; 0 picks one)"}}),
         run_serve},
        {"status", "", "Show what is stored: documents, chunks, audit records", {}, run_status},
    };
}

int fail(const std::string & command, const std::string & message) {
    std::fprintf(stderr, "strongbox %s: %s\n", command.c_str(), message.c_str());
    return kExitFailure;
}

std::vector<Command> all_commands() {
    std::vector<Command> all = document_commands();
    for (auto group : {audit_commands(), model_commands(), image_commands(), eval_commands()}) {
        all.insert(all.end(), group.begin(), group.end());
    }
    return all;
}

}  // namespace strongbox::appliance
