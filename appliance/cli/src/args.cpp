#include "args.h"

#include <charconv>
#include <cstdio>

namespace strongbox::appliance {

core::Result<Args> Args::parse(const std::vector<std::string> & argv, const std::vector<OptionSpec> & specs) {
    Args args;
    bool options_done = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string & a = argv[i];
        if (options_done || a.size() < 2 || a.rfind("--", 0) != 0) {
            if (a == "-h") {
                args.values_["help"] = "";
                continue;
            }
            args.positionals_.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        std::string name = a.substr(2);
        std::string value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            inline_value = true;
        }
        const OptionSpec * spec = nullptr;
        for (const OptionSpec & s : specs) {
            if (s.name == name) {
                spec = &s;
            }
        }
        if (spec == nullptr) {
            return core::Error(core::ErrorCode::kInvalidArgument, "unknown option --" + name);
        }
        if (!spec->value_name.empty() && !inline_value) {
            if (i + 1 >= argv.size()) {
                return core::Error(core::ErrorCode::kInvalidArgument, "option --" + name + " needs a value (" +
                                                                          spec->value_name + ")");
            }
            value = argv[++i];
        } else if (spec->value_name.empty() && inline_value) {
            return core::Error(core::ErrorCode::kInvalidArgument, "option --" + name + " takes no value");
        }
        args.values_[name] = value;
    }
    return args;
}

std::string Args::get(const std::string & name, const std::string & fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

core::Result<int> Args::get_int(const std::string & name, int fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    int v = 0;
    const std::string & s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "option --" + name + " expects a number, got '" + s + "'");
    }
    return v;
}

core::Result<double> Args::get_double(const std::string & name, double fallback, double min, double max) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    double v = 0;
    const std::string & s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "option --" + name + " expects a number, got '" + s + "'");
    }
    if (!(v >= min && v <= max)) {
        char range[64];
        std::snprintf(range, sizeof range, "%g and %g", min, max);
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "option --" + name + " must be between " + range + ", got " + s);
    }
    return v;
}

std::string format_options(const std::vector<OptionSpec> & specs) {
    std::string out;
    for (const OptionSpec & s : specs) {
        std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
        if (left.size() < 26) {
            left.resize(26, ' ');
        } else {
            left += "  ";
        }
        out += left + s.help + "\n";
    }
    return out;
}

}  // namespace strongbox::appliance
