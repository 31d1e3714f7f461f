// ingest, ask, serve, status: the commands staff and admins use every day.

#include "commands.h"
#include "daemon_client.h"
#include "progress.h"

#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/uploads.h"
#include "strongbox/appliance/web_service.h"
#include "strongbox/webui/server.h"
#include "strongbox/webui/tls.h"

#include <array>
#include <cstdio>
#include <filesystem>

#include <signal.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

// Options that choose how answers are made, shared by ask and serve.
const std::vector<OptionSpec> kAnswerOptions = {
    {"model", "FILE", "answer with this local GGUF model (default: the extractive answerer)"},
    {"prompts", "DIR", "prompt templates directory (default: the installed ones)"},
    {"embedding-model", "FILE",
     "BERT sentence-embedding GGUF for dense retrieval (default: the saved setting, "
     "else the built-in embedder); changing it needs a re-embed"},
    {"threads", "N", "CPU threads for the model (default 2)"},
    {"device", "D", "where the model runs: auto (the GPU when it fits, default), cpu or cuda"},
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
    settings.embedding_model_path = a.get("embedding-model");
    SB_ASSIGN_OR_RETURN(settings.model_threads, a.get_int("threads", settings.model_threads));
    settings.model_device = a.get("device", settings.model_device);
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

// The answer's sentences with their markers, each not fully supported one visibly marked.
std::string marked_text(const core::Answer & a) {
    if (a.refused) {
        return a.refusal_reason;
    }
    std::string out;
    for (const core::AnswerSentence & s : a.sentences) {
        out += (out.empty() ? "" : " ") + s.text;
        for (int n : s.citations) {
            out += " [" + std::to_string(n) + "]";
        }
        if (s.support == core::Support::kPartial) {
            out += " (partly supported)";
        } else if (s.support == core::Support::kUnsupported) {
            out += " (unsupported)";
        }
    }
    return out;
}

std::string format_score(double score) {
    std::array<char, 16> buf{};
    std::snprintf(buf.data(), buf.size(), "%.2f", score);
    return buf.data();
}

// "generative (m.gguf); The answer was cut short ..." -> the answerer and the notes after it.
void print_footer(const core::Answer & a) {
    const size_t semi = a.answerer.find("; ");
    const std::string who = a.answerer.substr(0, semi);
    if (semi != std::string::npos) {
        std::printf("\nNote: %s\n", a.answerer.substr(semi + 2).c_str());
    }
    const std::string audit = a.audit_id > 0 ? ", audit record " + std::to_string(a.audit_id) : "";
    if (who == "extractive") {
        // No model wrote this: say so, so nobody mistakes quotes for a generated summary.
        const std::string confidence =
            a.confidence.empty() ? "" : "; " + a.confidence + " confidence (score " + format_score(a.score) + ")";
        std::printf(
            "\n(extractive answer: sentences quoted verbatim from the documents, no language model%s; %.0f ms%s)\n",
            confidence.c_str(), a.latency_ms, audit.c_str());
    } else {
        std::printf("\n(%s answer, %.0f ms%s)\n", who.c_str(), a.latency_ms, audit.c_str());
    }
}

void print_answer(const core::Answer & a) {
    std::printf("%s\n", marked_text(a).c_str());
    if (a.refused) {
        print_footer(a);
        return;
    }
    std::printf("\nSources:\n");
    for (const core::Citation & c : a.citations) {
        std::printf("  [%d] %s  (%s, sha256 %s)\n", c.number, core::describe_location(c.provenance).c_str(),
                    c.provenance.source_path.c_str(), short_hash(c.provenance.source_sha256).c_str());
        std::printf("      \"%s\"\n", c.quote.c_str());
    }
    print_footer(a);
}

int run_ingest(const CommandContext & ctx) {
    if (ctx.args.positionals().empty()) {
        return fail("ingest", "give at least one file or folder to ingest");
    }
    auto app = open_appliance(ctx, "strongbox ingest");
    if (!app.ok()) {
        return fail("ingest", app.error());
    }
    if (core::Status writable = (*app)->writable(); !writable.ok()) {
        fail("ingest", writable.error());
        return kExitReadOnly;
    }
    std::vector<std::filesystem::path> inputs(ctx.args.positionals().begin(), ctx.args.positionals().end());
    std::unique_ptr<ProgressBar> progress;
    IngestTarget target;
    target.collection = ctx.args.get("collection", target.collection);
    target.follow_symlinks = ctx.args.has("follow-symlinks");
    IngestReport report = (*app)->ingest(
        inputs,
        [&](size_t done, size_t total, const IngestFileResult & r) {
            if (!progress) {
                progress = std::make_unique<ProgressBar>("ingest", total);
            }
            using Outcome = IngestFileResult::Outcome;
            std::string line;
            switch (r.outcome) {
            case Outcome::kAdded:
                line = "added      " + r.path.string() + " (" + std::to_string(r.chunks) + " chunks)";
                break;
            case Outcome::kNewVersion:
                line = "new version " + r.path.string() + " (" + std::to_string(r.chunks) + " chunks)";
                break;
            case Outcome::kUnchanged:
                line = "unchanged  " + r.path.string();
                break;
            case Outcome::kFailed:
                line = "error: " + r.error + (r.quarantined ? " (quarantined: strongbox quarantine list)" : "");
                break;
            }
            progress->message(line);
            for (const std::string & w : r.warnings) {
                progress->message("warning: " + r.path.string() + ": " + w);
            }
            progress->update(done, r.path.filename().string());
        },
        target);
    if (progress) {
        progress->finish();
    }
    for (const std::filesystem::path & link : report.skipped_links) {
        std::fprintf(stderr, "skipped    %s: a symbolic link (--follow-symlinks ingests what it points to)\n",
                     link.string().c_str());
    }
    using Outcome = IngestFileResult::Outcome;
    const size_t failed = report.count(Outcome::kFailed);
    std::fprintf(stderr, "ingest %s: %zu added, %zu new versions, %zu unchanged, %zu failed\n", report.job_id.c_str(),
                 report.count(Outcome::kAdded), report.count(Outcome::kNewVersion), report.count(Outcome::kUnchanged),
                 failed);
    if (failed == 0) {
        return kExitOk;
    }
    if (const core::Json disk = (*app)->disk_status(); disk.get_bool("read_only")) {
        fail("ingest", "stopped, the data directory is read-only now (disk full): " + disk.get_string("reason") +
                           ". Files not listed as added were not stored; ingest them again once space is freed.");
        return kExitReadOnly;
    }
    return failed == report.files.size() ? kExitFailure : kExitPartial;
}

int run_remove(const CommandContext & ctx) {
    if (ctx.args.positionals().empty()) {
        return fail("remove", "give the path of at least one ingested file");
    }
    auto app = open_appliance(ctx, "strongbox remove");
    if (!app.ok()) {
        return fail("remove", app.error());
    }
    if (core::Status writable = (*app)->writable(); !writable.ok()) {
        fail("remove", writable.error());
        return kExitReadOnly;
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
        return fail("ask", top_k.error());
    }
    // Who asks: --user, else the invoking login (see daemon_client.h); through a running daemon it
    // must be a Strongbox account that may ask.
    const std::string user = local_user_name(ctx.args.get("user"));
    core::Result<core::Answer> answer = core::Error(core::ErrorCode::kInternal, "not asked");
    auto app = open_appliance(ctx, "strongbox ask");
    // With a model, each sentence is shown as soon as it is generated and verified (flagged when
    // it is not supported); the verified answer with its sources follows. JSON is never streamed.
    bool streamed = false;
    std::function<bool(std::string_view)> on_text;
    if (app.ok() && !ctx.args.has("json") && !(*app)->settings().model_path.empty()) {
        on_text = [&](std::string_view text) {
            if (!streamed) {
                std::printf("Generating (each sentence is verified before it is shown):\n");
            }
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            streamed = true;
            return true;
        };
    }
    if (app.ok()) {
        answer = (*app)->ask(question, user, "cli", *top_k, on_text);
    } else if (app.error().code() == core::ErrorCode::kUnavailable) {
        // A running daemon owns the data directory: ask it instead.
        answer = ask_daemon(ctx.data_dir, question, user, *top_k);
    } else {
        return fail("ask", app.error());
    }
    if (!answer.ok()) {
        return fail("ask", answer.error());
    }
    if (ctx.args.has("json")) {
        std::printf("%s\n", core::to_json(*answer).dump(2).c_str());
    } else {
        if (streamed) {
            std::printf("\n\nVerified answer:\n");
        }
        print_answer(*answer);
    }
    return kExitOk;
}

// HTTPS unless told otherwise: the certificate is made at first start (or the admin's own is used),
// and served whenever the address is not loopback or --tls/--tls-cert asks for it. Plain HTTP
// beyond loopback needs --insecure-http.
core::Status configure_web_security(const CommandContext & ctx, webui::ServerOptions & options) {
    if (ctx.args.has("max-upload-mb")) {
        SB_ASSIGN_OR_RETURN(int mb, ctx.args.get_int("max-upload-mb", 64));
        if (mb < 1 || mb > 4096) {
            return core::Error(core::ErrorCode::kInvalidArgument, "--max-upload-mb must be 1 to 4096");
        }
        options.max_upload_bytes = static_cast<size_t>(mb) * 1024 * 1024;
    }
    options.allow_insecure_http = ctx.args.has("insecure-http");
    const bool own = ctx.args.has("tls-cert") || ctx.args.has("tls-key");
    if (own && !(ctx.args.has("tls-cert") && ctx.args.has("tls-key"))) {
        return core::Error(core::ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
    }
    const std::filesystem::path cert = ctx.args.get("tls-cert", DataPaths{ctx.data_dir}.tls_cert().string());
    const std::filesystem::path key = ctx.args.get("tls-key", DataPaths{ctx.data_dir}.tls_key().string());
    if (!own) {
        std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
        char host[256] = {};
        if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') {
            names.emplace_back(host);
        }
        if (options.host != "0.0.0.0" && options.host != "::" && options.host != "127.0.0.1" &&
            options.host != "localhost") {
            names.push_back(options.host);
        }
        std::error_code ec;
        std::filesystem::create_directories(ctx.data_dir, ec);
        SB_ASSIGN_OR_RETURN(bool made, webui::ensure_self_signed_certificate(cert, key, names));
        if (made) {
            SB_ASSIGN_OR_RETURN(std::string fingerprint, webui::certificate_fingerprint(cert));
            std::printf("Made a self-signed TLS certificate %s (%s)\n", cert.string().c_str(), fingerprint.c_str());
        }
    }
    const bool loopback = options.host == "localhost" || options.host == "::1" || options.host.rfind("127.", 0) == 0;
    if (own || ctx.args.has("tls") || (!loopback && !options.allow_insecure_http)) {
        options.tls_cert = cert;
        options.tls_key = key;
    }
    return core::ok_status();
}

int run_serve(const CommandContext & ctx) {
    webui::ServerOptions options;
    options.host = ctx.args.get("host", "127.0.0.1");
    auto port = ctx.args.get_int("port", 8080);
    if (!port.ok()) {
        return fail("serve", port.error());
    }
    options.port = *port;
    // Admission limits: calls beyond max-concurrent wait in a queue of max-queued; more get 503.
    auto concurrent = ctx.args.get_int("max-concurrent", options.max_threads);
    auto queued = ctx.args.get_int("max-queued", options.max_queued);
    if (!concurrent.ok() || !queued.ok() || *concurrent < 1 || *concurrent > 256 || *queued < 0 || *queued > 4096) {
        return fail("serve", "--max-concurrent must be 1 to 256 and --max-queued 0 to 4096");
    }
    options.max_threads = *concurrent;
    options.max_queued = *queued;
    if (auto st = configure_web_security(ctx, options); !st.ok()) {
        return fail("serve", st.error());
    }
    // Block the stop signals before any thread starts so only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto app = open_appliance(ctx, "strongbox serve");
    if (!app.ok()) {
        return fail("serve", app.error());
    }
    access::AccountsOptions account_options;
    account_options.session_lifetime_s = int64_t{(*app)->settings().session_hours} * 3600;
    auto accounts = access::Accounts::open(DataPaths{ctx.data_dir}.accounts(), account_options);
    if (!accounts.ok()) {
        return fail("serve", accounts.error());
    }
    // One-use tokens of `strongbox ask` commands killed mid-question: nobody holds them any more.
    if (auto stale = revoke_local_tokens(**accounts); !stale.ok()) {
        return fail("serve", stale.error());
    }
    // Uploads accepted before the last stop (or a crash) go in before new ones.
    if (auto resumed = resume_uploads(**app); !resumed.ok()) {
        std::fprintf(stderr, "strongbox serve: %s\n", resumed.error().message().c_str());
    } else if (*resumed > 0) {
        std::printf("Resuming %zu upload job(s) accepted before the last stop\n", *resumed);
    }
    const bool first_start = !(*accounts)->has_users().value_or(true);
    if (first_start) {
        options.setup_code = access::new_setup_code();
    }
    auto service = make_web_service(**app);
    webui::Server server(*service, **accounts, options);
    if (auto st = server.start(); !st.ok()) {
        return fail("serve", st.error());
    }
    const std::string url =
        std::string(server.tls() ? "https://" : "http://") + options.host + ":" + std::to_string(server.port()) + "/";
    if (first_start) {
        // Only someone at the console (or on the box, over loopback) can create the first admin.
        std::printf("No users yet: open %s to create the admin with setup code %s (needed from any other "
                    "machine), or run 'strongbox user add NAME --role admin'\n",
                    url.c_str(), options.setup_code.c_str());
    }
    DaemonInfo daemon;
    daemon.url = local_daemon_url(options.host, server.port(), server.tls());
    daemon.tls_cert = server.tls() ? options.tls_cert : std::filesystem::path();
    if (auto st = write_daemon_file(ctx.data_dir, daemon); !st.ok()) {
        return fail("serve", st.error());
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
        return fail("status", app.error());
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
         {{"collection", "NAME", "collection to ingest into, created when missing (default: default)"},
          {"follow-symlinks", "", "ingest what symbolic links inside the folders point to (skipped otherwise)"}},
         run_ingest},
        {"remove",
         "PATH...",
         "Remove ingested files from search (kept for the audit trail, deletion recorded)",
         {},
         run_remove},
        {"ask", "QUESTION", "Answer a question from the ingested documents, citing the passages it rests on",
         with_answer_options({{"json", "", "print the answer, citations and provenance as JSON"},
                              {"top-k", "N", "passages to consider (default 5)"},
                              {"user", "NAME",
                               "who is asking, named in the audit trail (default: your login name;\n"
                               "                          under sudo, $SUDO_USER). While 'strongbox serve' runs, the\n"
                               "                          question goes through it as the Strongbox account NAME,\n"
                               "                          which must exist and may ask, and only that account's\n"
                               "                          collections are searched; otherwise ask opens the data\n"
                               "                          directory itself and searches all of them"}}),
         run_ask},
        {"serve", "",
         "Serve the web UI and the HTTP API (local 'strongbox ask' goes through it as an account: ask --help)",
         with_answer_options(
             {{"host", "ADDR", "address to listen on (default 127.0.0.1)"},
              {"port", "PORT", "port (default 8080; 0 picks one)"},
              {"tls", "", "serve HTTPS on a loopback address too (always on other addresses)"},
              {"tls-cert", "FILE", "PEM certificate (chain) to serve; default: <data dir>/tls-cert.pem"},
              {"tls-key", "FILE", "its PEM private key; default: <data dir>/tls-key.pem"},
              {"insecure-http", "", "serve plain HTTP on a non-loopback address (not recommended)"},
              {"max-upload-mb", "N", "largest document upload through the web console (default 64)"},
              {"max-concurrent", "N", "questions and searches answered at once (default 4)"},
              {"max-queued", "N", "requests waiting for a slot; beyond that 503 (default 64)"}}),
         run_serve},
        {"status", "", "Show what is stored: documents, chunks, audit records", {}, run_status},
    };
}

int fail(const std::string & command, const std::string & message) {
    std::fprintf(stderr, "strongbox %s: %s\n", command.c_str(), message.c_str());
    return kExitFailure;
}

int exit_code_for(const core::Error & error) {
    const bool no_space = error.code() == core::ErrorCode::kReadOnly || error.code() == core::ErrorCode::kDiskFull;
    return no_space ? kExitReadOnly : kExitFailure;
}

int fail(const std::string & command, const core::Error & error) {
    fail(command, error.message());
    return exit_code_for(error);
}

std::vector<Command> all_commands() {
    std::vector<Command> all = document_commands();
    for (auto group : {audit_commands(), model_commands(), image_commands(), eval_commands(), collection_commands()}) {
        all.insert(all.end(), group.begin(), group.end());
    }
    return all;
}

}  // namespace strongbox::appliance
