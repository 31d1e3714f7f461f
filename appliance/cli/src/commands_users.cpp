// strongbox user/group/grant/token: the web console's accounts, edited on the box itself. They work
// on <data dir>/accounts.db directly (SQLite lets them run beside a serving daemon), so the first
// admin can be made before the console is ever opened, and a locked-out admin can get back in.
//
// Read-only mode (the data directory's disk is full, read_only.h): every change is refused before
// it starts, exit 4 with the reason, as ingest and the web console refuse theirs. Revocations are
// not: `token revoke` and `user disable` only take access away, in a row or two written into the
// space the reserve freed, and a leaked token or a departed user must be stoppable whatever the
// disk holds. A write that finds the disk full anyway also exits 4 and turns the data directory
// read-only for every process.
#include "commands.h"

#include "strongbox/access/accounts.h"
#include "strongbox/appliance/appliance.h"
#include "strongbox/appliance/read_only.h"
#include "strongbox/core/clock.h"
#include "strongbox/core/file.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <termios.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

core::Result<std::unique_ptr<access::Accounts>> open_accounts(const CommandContext & ctx) {
    std::error_code ec;
    std::filesystem::create_directories(ctx.data_dir, ec);
    if (ec) {
        return core::Error(core::ErrorCode::kIoError, "create " + ctx.data_dir.string() + ": " + ec.message());
    }
    return access::Accounts::open(DataPaths{ctx.data_dir}.accounts());
}

// The data directory's disk guard, as the daemon keeps it: the reserve file is the mark across
// processes, so a daemon's read-only mode holds here too (read_only.h note 4).
std::unique_ptr<DiskGuard> disk_guard(const CommandContext & ctx) {
    auto disk = std::make_unique<DiskGuard>(ctx.data_dir, Settings{}.disk_reserve_bytes);
    disk->start();
    return disk;
}

// kExitOk when `command` may change accounts, else prints the read-only refusal: kExitReadOnly.
int refuse_when_read_only(DiskGuard & disk, const std::string & command) {
    if (core::Status writable = disk.writable(); !writable.ok()) {
        fail(command, writable.error().message());
        return kExitReadOnly;
    }
    return kExitOk;
}

// A failed accounts write: kExitReadOnly when the disk filled up under it (entering read-only
// mode), kExitFailure otherwise.
int write_failed(const std::string & command, const core::Error & error, DiskGuard * disk = nullptr) {
    fail(command, error.message());
    if (is_disk_full(error)) {
        if (disk != nullptr) {
            disk->note_failure(error);
        }
        return kExitReadOnly;
    }
    return kExitFailure;
}

std::string strip_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

// From --password-file (its first line), else one line of standard input, read without echo when
// it is a terminal. Never from the command line, where other users could see it in `ps`.
core::Result<std::string> read_password(const CommandContext & ctx, const std::string & prompt) {
    if (ctx.args.has("password-file")) {
        SB_ASSIGN_OR_RETURN(std::string text, core::read_file(ctx.args.get("password-file")));
        return strip_newline(text.substr(0, text.find('\n')));
    }
    const bool tty = ::isatty(STDIN_FILENO) != 0;
    termios saved{};
    if (tty) {
        std::fprintf(stderr, "%s", prompt.c_str());
        std::fflush(stderr);
        tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::fprintf(stderr, "\n");
    }
    line = strip_newline(line);
    if (line.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "no password given (use --password-file or standard input)");
    }
    return line;
}

std::vector<std::string> comma_list(const std::string & text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) {
            out.push_back(item);
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

int needs_positionals(const CommandContext & ctx, size_t n, const std::string & command, const std::string & usage) {
    if (ctx.args.positionals().size() != n) {
        std::fprintf(stderr, "usage: strongbox %s %s\n", command.c_str(), usage.c_str());
        return kExitUsage;
    }
    return kExitOk;
}

int run_user_add(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "user add", "NAME --role admin|staff|auditor [--group G[,G2]]"); rc != 0) {
        return rc;
    }
    access::User u;
    u.name = ctx.args.positionals()[0];
    u.role = ctx.args.get("role", "staff");
    u.groups = comma_list(ctx.args.get("group"));
    u.language = ctx.args.get("language", "en");
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("user add", accounts.error());
    }
    auto disk = disk_guard(ctx);
    if (int rc = refuse_when_read_only(*disk, "user add"); rc != kExitOk) {
        return rc;  // before asking for a password that could not be stored
    }
    auto password = read_password(ctx, "Password for " + u.name + ": ");
    if (!password.ok()) {
        return fail("user add", password.error());
    }
    if (auto st = (*accounts)->add_user(u, *password); !st.ok()) {
        return write_failed("user add", st.error(), disk.get());
    }
    std::printf("added %s (%s)\n", u.name.c_str(), u.role.c_str());
    return kExitOk;
}

int run_user_list(const CommandContext & ctx) {
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("user list", accounts.error());
    }
    auto users = (*accounts)->users();
    if (!users.ok()) {
        return fail("user list", users.error());
    }
    for (const access::User & u : *users) {
        std::string groups;
        for (const std::string & g : u.groups) {
            groups += (groups.empty() ? "" : ",") + g;
        }
        std::printf("%-24s %-8s %-3s %-9s %s\n", u.name.c_str(), u.role.c_str(), u.language.c_str(),
                    u.disabled ? "disabled" : "active", groups.empty() ? "-" : groups.c_str());
    }
    return kExitOk;
}

int run_user_passwd(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "user passwd", "NAME"); rc != 0) {
        return rc;
    }
    const std::string name = ctx.args.positionals()[0];
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("user passwd", accounts.error());
    }
    auto disk = disk_guard(ctx);
    if (int rc = refuse_when_read_only(*disk, "user passwd"); rc != kExitOk) {
        return rc;
    }
    auto password = read_password(ctx, "New password for " + name + ": ");
    if (!password.ok()) {
        return fail("user passwd", password.error());
    }
    access::UserChange change;
    change.password = *password;
    if (auto st = (*accounts)->update_user(name, change); !st.ok()) {
        return write_failed("user passwd", st.error(), disk.get());
    }
    std::printf("password of %s changed; their sessions are signed out\n", name.c_str());
    return kExitOk;
}

int run_user_disable(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "user disable", "NAME [--enable]"); rc != 0) {
        return rc;
    }
    const std::string name = ctx.args.positionals()[0];
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("user disable", accounts.error());
    }
    access::UserChange change;
    change.disabled = !ctx.args.has("enable");
    std::unique_ptr<DiskGuard> disk;
    if (!*change.disabled) {  // enabling gives access back: a change like any other
        disk = disk_guard(ctx);
        if (int rc = refuse_when_read_only(*disk, "user disable --enable"); rc != kExitOk) {
            return rc;
        }
    }
    if (auto st = (*accounts)->update_user(name, change); !st.ok()) {
        return write_failed("user disable", st.error(), disk.get());
    }
    std::printf("%s %s\n", name.c_str(), *change.disabled ? "disabled; sessions and tokens stop working" : "enabled");
    return kExitOk;
}

int run_group_add(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "group add", "NAME"); rc != 0) {
        return rc;
    }
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("group add", accounts.error());
    }
    auto disk = disk_guard(ctx);
    if (int rc = refuse_when_read_only(*disk, "group add"); rc != kExitOk) {
        return rc;
    }
    if (auto st = (*accounts)->add_group(ctx.args.positionals()[0]); !st.ok()) {
        return write_failed("group add", st.error(), disk.get());
    }
    std::printf("added group %s\n", ctx.args.positionals()[0].c_str());
    return kExitOk;
}

int run_grant(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 3, "grant", "GROUP COLLECTION read|write|none"); rc != 0) {
        return rc;
    }
    const auto & p = ctx.args.positionals();
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("grant", accounts.error());
    }
    auto disk = disk_guard(ctx);
    if (int rc = refuse_when_read_only(*disk, "grant"); rc != kExitOk) {
        return rc;
    }
    if (auto st = (*accounts)->set_grant(p[0], p[1], p[2]); !st.ok()) {
        return write_failed("grant", st.error(), disk.get());
    }
    std::printf("%s: %s on %s\n", p[0].c_str(), p[2].c_str(), p[1].c_str());
    return kExitOk;
}

int run_token_create(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "token create", "USER [--name NAME]"); rc != 0) {
        return rc;
    }
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("token create", accounts.error());
    }
    auto disk = disk_guard(ctx);
    if (int rc = refuse_when_read_only(*disk, "token create"); rc != kExitOk) {
        return rc;
    }
    auto token = (*accounts)->create_token(ctx.args.positionals()[0], ctx.args.get("name", "cli"));
    if (!token.ok()) {
        return write_failed("token create", token.error(), disk.get());
    }
    // The token itself goes to stdout alone, so scripts can capture it; it is never shown again.
    std::fprintf(stderr, "token %lld for %s (shown once; store it now):\n", static_cast<long long>(token->id),
                 token->user.c_str());
    std::printf("%s\n", token->token.c_str());
    return kExitOk;
}

int run_token_list(const CommandContext & ctx) {
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("token list", accounts.error());
    }
    auto tokens = (*accounts)->tokens(ctx.args.get("user"));
    if (!tokens.ok()) {
        return fail("token list", tokens.error());
    }
    for (const access::ApiToken & t : *tokens) {
        const std::string used = t.last_used_at == 0 ? "never" : core::format_iso8601_utc(t.last_used_at * 1000000);
        std::printf("%-6lld %-24s %-24s created %s, last used %s\n", static_cast<long long>(t.id), t.user.c_str(),
                    t.name.c_str(), core::format_iso8601_utc(t.created_at * 1000000).c_str(), used.c_str());
    }
    return kExitOk;
}

int run_token_revoke(const CommandContext & ctx) {
    if (int rc = needs_positionals(ctx, 1, "token revoke", "ID"); rc != 0) {
        return rc;
    }
    int64_t id = 0;
    try {
        id = std::stoll(ctx.args.positionals()[0]);
    } catch (const std::exception &) {
        return fail("token revoke", "token id must be a number, got " + ctx.args.positionals()[0]);
    }
    auto accounts = open_accounts(ctx);
    if (!accounts.ok()) {
        return fail("token revoke", accounts.error());
    }
    if (auto st = (*accounts)->revoke_token(id); !st.ok()) {
        return write_failed("token revoke", st.error());
    }
    std::printf("revoked token %lld\n", static_cast<long long>(id));
    return kExitOk;
}

const OptionSpec kPasswordFile{"password-file", "FILE", "read the password from FILE's first line (else stdin)"};

}  // namespace

std::vector<Command> user_commands();  // registered in cli.cpp

std::vector<Command> user_commands() {
    return {
        {"user add",
         "NAME --role admin|staff|auditor [--group G[,G2]]",
         "Add a web console user",
         {{"role", "ROLE", "admin, staff (default) or auditor"},
          {"group", "G[,G2]", "groups the user belongs to (created when missing)"},
          {"language", "en|ko", "console language (default en)"},
          kPasswordFile},
         run_user_add},
        {"user list", "", "List web console users, their roles, groups and state", {}, run_user_list},
        {"user passwd", "NAME", "Set a user's password (signs out their sessions)", {kPasswordFile}, run_user_passwd},
        {"user disable",
         "NAME [--enable]",
         "Disable a user (sessions and tokens stop at once), or --enable again",
         {{"enable", "", "enable the user instead"}},
         run_user_disable},
        {"group add", "NAME", "Add a group of users", {}, run_group_add},
        {"grant",
         "GROUP COLLECTION read|write|none",
         "Grant a group read or write on a collection (none removes it)",
         {},
         run_grant},
        {"token create",
         "USER [--name NAME]",
         "Create an API token for scripts (printed once)",
         {{"name", "NAME", "what the token is for (default cli)"}},
         run_token_create},
        {"token list",
         "[--user USER]",
         "List API tokens (never the tokens themselves)",
         {{"user", "USER", "only this user's tokens"}},
         run_token_list},
        {"token revoke", "ID", "Revoke an API token", {}, run_token_revoke},
    };
}

}  // namespace strongbox::appliance
