#include "global_options.h"

#include <charconv>
#include <cmath>

#include "client.h"
#include "errors.h"

namespace dvrctl {

namespace {

constexpr double kMaxTimeoutSeconds = 86'400;

std::chrono::milliseconds parse_timeout(const std::string& text) {
  double seconds = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > kMaxTimeoutSeconds) {
    throw UsageError("--timeout: '" + text +
                     "' is not a number of seconds (more than 0, at most 86400)");
  }
  const auto ms = static_cast<long long>(std::ceil(seconds * 1000));
  return std::chrono::milliseconds(ms < 1 ? 1 : ms);
}

// Splits "--name=value" into name and value; `has_value` says whether there was a '='.
std::string_view option_name(std::string_view arg, std::string& value, bool& has_value) {
  const size_t eq = arg.find('=');
  has_value = arg.starts_with("--") && eq != std::string_view::npos;
  if (!has_value) return arg;
  value = std::string(arg.substr(eq + 1));
  return arg.substr(0, eq);
}

}  // namespace

bool is_global_option(std::string_view arg) {
  std::string value;
  bool has_value = false;
  const std::string_view name = option_name(arg, value, has_value);
  return name == "--socket" || name == "--json" || name == "--timeout" || name == "--version";
}

GlobalOptions parse_global_options(const std::vector<std::string>& args, size_t& command_start) {
  GlobalOptions opts;
  bool socket_given = false;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;

    std::string value;
    bool has_value = false;
    const std::string_view name = option_name(arg, value, has_value);
    const auto take_value = [&]() {
      if (has_value) return;
      if (i + 1 >= args.size()) throw UsageError("option " + std::string(name) + " needs a value");
      value = args[++i];
    };
    const auto no_value = [&]() {
      if (has_value) throw UsageError("option " + std::string(name) + " takes no value");
    };

    if (name == "-h" || name == "--help") {
      no_value();
      opts.help = true;
      command_start = i + 1;
      return opts;
    }
    if (name == "--version") {
      no_value();
      opts.version = true;
      command_start = i + 1;
      return opts;
    }
    if (name == "--json") {
      no_value();
      opts.json = true;
    } else if (name == "--socket") {
      take_value();
      if (value.empty()) throw UsageError("--socket: the path is empty");
      opts.socket_path = value;
      socket_given = true;
    } else if (name == "--timeout") {
      take_value();
      opts.timeout = parse_timeout(value);
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (!socket_given) opts.socket_path = dvr::default_socket_path();
  command_start = i;
  return opts;
}

}  // namespace dvrctl
