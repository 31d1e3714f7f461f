// Command-line parsing for the strongbox binary: "--name value", "--name=value", boolean
// "--flag", and positionals; "--" ends options. Unknown options are errors naming the option.
#pragma once

#include "strongbox/core/result.h"

#include <map>
#include <string>
#include <vector>

namespace strongbox::appliance {

struct OptionSpec {
    std::string name;        // without dashes
    std::string value_name;  // empty for boolean flags
    std::string help;
};

class Args {
  public:
    static core::Result<Args> parse(const std::vector<std::string> & argv, const std::vector<OptionSpec> & specs);

    bool has(const std::string & name) const { return values_.count(name) > 0; }

    std::string get(const std::string & name, const std::string & fallback = "") const;
    // The option as a number; kInvalidArgument naming the option and the text when it is not one
    // (`--temperature warm`), or when it lies outside [min, max].
    core::Result<int> get_int(const std::string & name, int fallback) const;
    core::Result<double> get_double(const std::string & name, double fallback, double min, double max) const;

    const std::vector<std::string> & positionals() const { return positionals_; }

  private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positionals_;
};

// "  --data-dir DIR      where Strongbox keeps its data" lines for --help.
std::string format_options(const std::vector<OptionSpec> & specs);

}  // namespace strongbox::appliance
