// dvrd's command line: dvrd's own options, then `--`, then EAL arguments passed through as-is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dataplane.h"

namespace dvr {

struct DaemonOptions {
  std::string socket_path = "/run/dvrd/dvrd.sock";
  bool dev_mode = false;
  std::string host_id;                 // empty: the machine's hostname
  bool distributed_default = true;     // Router.distributed when a router leaves it unset
  std::vector<std::string> port_defs;  // --port NAME=TYPE[,key=value...]
  dp::DataplaneOptions dataplane;
  std::vector<std::string> eal_args;  // everything after "--"
  bool show_help = false;
  bool show_version = false;
};

// Parses argv. On error returns nullopt and sets `error` to one line (without the program name).
std::optional<DaemonOptions> parse_daemon_options(int argc, const char* const* argv,
                                                  std::string& error);

// The argv handed to rte_eal_init: program name, what development mode implies (unless the
// operator already said otherwise), then the operator's EAL arguments.
std::vector<std::string> eal_arguments(const DaemonOptions& opts);

std::string daemon_usage();

}  // namespace dvr
