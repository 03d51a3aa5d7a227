#include "args.h"

#include "errors.h"
#include "global_options.h"

namespace dvrctl {

std::optional<std::string> ParsedArgs::value(std::string_view option) const {
  const auto it = options_.find(std::string(option));
  if (it == options_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::values(std::string_view option) const {
  const auto it = options_.find(std::string(option));
  if (it == options_.end()) return {};
  return it->second;
}

bool is_help_flag(std::string_view arg) {
  return arg == "-h" || arg == "--help";
}

ParsedArgs parse_args(const Invocation& inv, std::initializer_list<OptionSpec> options,
                      std::initializer_list<std::string_view> required, size_t max_positional) {
  const std::string help_for = "dvrctl " + inv.name;
  ParsedArgs out;
  bool options_ended = false;
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& arg = inv.args[i];
    if (options_ended || arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    const size_t eq = arg.starts_with("--") ? arg.find('=') : std::string::npos;
    const std::string name = arg.substr(0, eq);
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& o : options) {
      if (o.name == name) spec = &o;
    }
    if (spec == nullptr) {
      if (is_global_option(arg)) {
        throw UsageError(inv.name + ": " + name + " is a global option; give it before the command",
                         "dvrctl");
      }
      throw UsageError(inv.name + ": unknown option '" + arg + "'", help_for);
    }
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < inv.args.size()) {
        value = inv.args[++i];
      } else {
        throw UsageError(inv.name + ": option " + name + " needs a value", help_for);
      }
    } else if (eq != std::string::npos) {
      throw UsageError(inv.name + ": option " + name + " takes no value", help_for);
    }
    std::vector<std::string>& given = out.options_[name];
    if (!given.empty() && !spec->repeatable) {
      throw UsageError(inv.name + ": option " + name + " given twice", help_for);
    }
    given.push_back(std::move(value));
  }
  if (out.positional.size() < required.size()) {
    throw UsageError(inv.name + ": missing " + std::string(required.begin()[out.positional.size()]),
                     help_for);
  }
  if (out.positional.size() > max_positional) {
    throw UsageError(inv.name + ": unexpected argument '" + out.positional[max_positional] + "'",
                     help_for);
  }
  return out;
}

}  // namespace dvrctl
