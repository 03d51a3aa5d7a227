// dvrctl interface add | remove | list (router interfaces)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kInterfaceAddHelp =
    "Attaches a router to a subnet as the router interface ID (a RouterInterface object, sent\n"
    "in an UpsertRequest). Repeating an identical add succeeds; an add that differs from the\n"
    "existing interface fails unless --replace is given.\n"
    "\n"
    "Options:\n"
    "  --router R    the router (required)\n"
    "  --subnet S    the subnet (required)\n"
    "  --mac MAC     the gateway MAC the router answers ARP with on the subnet (required)\n"
    "  --replace     overwrite an existing interface with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kInterfaceRemoveHelp =
    "Removes the router interface ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also remove what depends on it (e.g. the router's static routes whose\n"
    "                next hop is on the interface's subnet) instead of failing\n"
    "  --missing-ok  succeed when there is no such interface\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kInterfaceListHelp =
    "Lists the router interfaces, one per row: ID ROUTER SUBNET GATEWAY-MAC. '-' marks an\n"
    "empty value. 'router list' shows them with their subnets' CIDR and gateway.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_interface_add(Session& session, const Invocation& inv);
int run_interface_remove(Session& session, const Invocation& inv);
int run_interface_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
