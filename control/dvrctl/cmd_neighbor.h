// dvrctl neighbor show
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kNeighborShowHelp =
    "Shows dvrd's neighbor table (the IP to MAC bindings it knows from VM ports and other\n"
    "hosts) of the network NETWORK, or of every network when NETWORK is not given; one\n"
    "binding per row: NETWORK IP MAC VM-PORT HOST. '-' marks an empty value.\n"
    "\n"
    "With --json, prints the NeighborTable message.\n";

int run_neighbor_show(Session& session, const Invocation& inv);

}  // namespace dvrctl
