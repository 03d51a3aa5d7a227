// dvrctl host set
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kHostSetHelp =
    "Sets this host's identity in dvrd (a HostSetRequest). dvrctl starts from dvrd's current\n"
    "identity and changes only what the options say; 'version' shows the current host id.\n"
    "\n"
    "Options:\n"
    "  --host-id ID                      the management plane's name for this host (required)\n"
    "  --dvr-mac MAC                     the host's DVR MAC, the source MAC of routed\n"
    "                                    packets it sends over the overlay\n"
    "  --tunnel-ip IP                    the host's VXLAN underlay address\n"
    "  --distributed-default true|false  whether routers that do not say are distributed\n"
    "                                    (dvrd starts with its --router-mode)\n"
    "  --snat-node                       this host may run centralized default SNAT\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

int run_host_set(Session& session, const Invocation& inv);

}  // namespace dvrctl
