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
                return core::Error(core::ErrorCode::kInvalidArgument,
                                   "option --" + name + " needs a value (" + spec->value_name + ")");
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

namespace {

// The whole of `text` as a T, or the error naming the option.
template <typename T>
core::Result<T> parse_number(const std::string & name, const std::string & text) {
    T v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "option --" + name + " expects a number, got '" + text + "'");
    }
    return v;
}

}  // namespace

core::Result<int> Args::get_int(const std::string & name, int fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? core::Result<int>(fallback) : parse_number<int>(name, it->second);
}

core::Result<double> Args::get_double(const std::string & name, double fallback, double min, double max) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
        return fallback;
    }
    SB_ASSIGN_OR_RETURN(double v, parse_number<double>(name, it->second));
    if (!(v >= min && v <= max)) {
        char range[64];
        std::snprintf(range, sizeof range, "%g and %g", min, max);
        return core::Error(core::ErrorCode::kInvalidArgument,
                           "option --" + name + " must be between " + range + ", got " + it->second);
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
