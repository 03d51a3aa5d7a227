// The options given before the command: --socket, --json, --timeout, --help, --version.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dvrctl {

struct GlobalOptions {
  std::string socket_path;  // filled with dvr::default_socket_path() when not given
  bool json = false;
  std::chrono::milliseconds timeout{10'000};
  bool help = false;     // -h/--help: print the global help and stop
  bool version = false;  // --version: print dvrctl's version and stop
};

// Parses args (argv without the program name) up to the first word that is not an option.
// Sets `command_start` to the index of that word. Throws UsageError.
GlobalOptions parse_global_options(const std::vector<std::string>& args, size_t& command_start);

// True if `arg` (e.g. "--json" or "--socket=/x") names a global option; used to explain that
// global options go before the command.
bool is_global_option(std::string_view arg);

}  // namespace dvrctl
