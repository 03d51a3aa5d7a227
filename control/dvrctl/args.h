// Parsing of a command's own arguments: positional words and --options.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace dvrctl {

struct OptionSpec {
  std::string_view name;    // "--xconnect"
  bool takes_value;         // "--xconnect PEER" or "--xconnect=PEER"
  bool repeatable = false;  // may be given more than once ("--ip A --ip B"); else twice is an error
};

class ParsedArgs {
 public:
  std::vector<std::string> positional;

  bool has(std::string_view option) const { return options_.contains(std::string(option)); }
  // The option's value (the last one of a repeatable option); nullopt when not given.
  std::optional<std::string> value(std::string_view option) const;
  // Every value of the option in command-line order; empty when not given.
  std::vector<std::string> values(std::string_view option) const;

 private:
  friend ParsedArgs parse_args(const Invocation&, std::initializer_list<OptionSpec>,
                               std::initializer_list<std::string_view>, size_t);
  std::map<std::string, std::vector<std::string>> options_;
};

// Parses inv.args against `options`; words after "--" are positional. Requires one positional
// word per entry of `required` (their names, e.g. "NAME", for the error message) and at most
// `max_positional` in all. Throws UsageError naming inv.name.
ParsedArgs parse_args(const Invocation& inv, std::initializer_list<OptionSpec> options,
                      std::initializer_list<std::string_view> required, size_t max_positional);

inline constexpr size_t kUnlimited = static_cast<size_t>(-1);

// True for "-h" and "--help" (the dispatcher handles them before a command runs).
bool is_help_flag(std::string_view arg);

}  // namespace dvrctl
