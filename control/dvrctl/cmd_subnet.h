// dvrctl subnet add | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kSubnetAddHelp =
    "Creates the subnet ID on a network (a Subnet object, sent in an UpsertRequest).\n"
    "Repeating an identical add succeeds; an add that differs from the existing subnet fails\n"
    "unless --replace is given. dvrd checks the CIDR, the gateway and the network.\n"
    "\n"
    "Options:\n"
    "  --network NET   the network it belongs to (required)\n"
    "  --cidr CIDR     its prefix, e.g. 10.0.1.0/24 (required)\n"
    "  --gateway IP    the gateway address routers answer on\n"
    "  --replace       overwrite an existing subnet with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSubnetRemoveHelp =
    "Removes the subnet ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also remove what depends on it (the router interfaces on it and the VM\n"
    "                ports with an address in it) instead of failing\n"
    "  --missing-ok  succeed when there is no such subnet\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSubnetListHelp =
    "Lists the subnets, one per row: ID NETWORK CIDR GATEWAY. '-' marks an empty value.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_subnet_add(Session& session, const Invocation& inv);
int run_subnet_remove(Session& session, const Invocation& inv);
int run_subnet_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
