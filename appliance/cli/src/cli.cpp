#include "strongbox/cli/cli.h"

#include "args.h"
#include "commands.h"

#include <cstdio>
#include <string>
#include <vector>

namespace strongbox::appliance {

std::vector<Command> user_commands();  // commands_users.cpp: user, group, grant, token

namespace {

const std::vector<Command> & commands() {
    static const std::vector<Command> kCommands = [] {
        std::vector<Command> all = all_commands();
        for (Command & c : user_commands()) {
            all.push_back(std::move(c));
        }
        return all;
    }();
    return kCommands;
}

std::string usage() {
    std::string out = "Strongbox: ask questions about your own documents and logs, with every answer cited.\n\n"
                      "usage: strongbox [--data-dir DIR] <command> [options]\n\ncommands:\n";
    for (const Command & c : commands()) {
        std::string name = "  " + c.name;
        name.resize(std::max<size_t>(name.size() + 2, 18), ' ');
        out += name + c.summary + "\n";
    }
    out += "\nThe data directory is --data-dir, else $STRONGBOX_DATA, else ./strongbox-data.\n"
           "Run 'strongbox <command> --help' for the options of a command.\n";
    return out;
}

}  // namespace

int run_cli(int argc, char ** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string data_dir;
    // Global options come before the command name.
    while (!args.empty() && args.front().rfind("--", 0) == 0) {
        const std::string a = args.front();
        if (a == "--help") {
            std::fputs(usage().c_str(), stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("strongbox %s\n", kStrongboxVersion);
            return 0;
        }
        if (a == "--data-dir" && args.size() >= 2) {
            data_dir = args[1];
            args.erase(args.begin(), args.begin() + 2);
        } else if (a.rfind("--data-dir=", 0) == 0) {
            data_dir = a.substr(11);
            args.erase(args.begin());
        } else {
            break;  // maybe a command option placed first; the command parser reports it
        }
    }
    if (args.empty()) {
        std::fputs(usage().c_str(), stderr);
        return kExitUsage;
    }
    std::string name = args.front();
    args.erase(args.begin());
    // Two-word commands ("audit export", "model info").
    for (const Command & c : commands()) {
        const bool two_words = c.name.find(' ') != std::string::npos;
        if (two_words && !args.empty() && c.name == name + " " + args.front()) {
            args.erase(args.begin());
            return run_command(c, args, data_dir);
        }
    }
    for (const Command & c : commands()) {
        if (c.name == name) {
            return run_command(c, args, data_dir);
        }
    }
    // "strongbox audit" alone: list its subcommands.
    std::string group_help;
    for (const Command & c : commands()) {
        if (c.name.rfind(name + " ", 0) == 0) {
            group_help += "  strongbox " + c.name + "    " + c.summary + "\n";
        }
    }
    if (!group_help.empty()) {
        std::fprintf(stderr, "usage:\n%s", group_help.c_str());
        return kExitUsage;
    }
    std::fprintf(stderr, "strongbox: unknown command '%s'\n\n%s", name.c_str(), usage().c_str());
    return kExitUsage;
}

int run_command(const Command & command, const std::vector<std::string> & argv, const std::string & data_dir) {
    std::vector<OptionSpec> specs = command.options;
    specs.push_back({"help", "", "show this help"});
    specs.push_back({"data-dir", "DIR", "where Strongbox keeps its data"});
    auto parsed = Args::parse(argv, specs);
    auto print_help = [&](FILE * to) {
        std::fprintf(to, "usage: strongbox %s %s\n\n%s\n\noptions:\n%s", command.name.c_str(), command.usage.c_str(),
                     command.summary.c_str(), format_options(specs).c_str());
    };
    if (!parsed.ok()) {
        std::fprintf(stderr, "strongbox %s: %s\n\n", command.name.c_str(), parsed.error().message().c_str());
        print_help(stderr);
        return kExitUsage;
    }
    if (parsed->has("help")) {
        print_help(stdout);
        return 0;
    }
    CommandContext ctx{*parsed, resolve_data_dir(parsed->get("data-dir", data_dir))};
    return command.run(ctx);
}

}  // namespace strongbox::appliance
