// dvrctl router add | set-admin | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kRouterAddHelp =
    "Creates the router ID (a Router object, sent in an UpsertRequest). Repeating an identical\n"
    "add succeeds; an add that differs from the existing router fails unless --replace is\n"
    "given.\n"
    "\n"
    "Options:\n"
    "  --tenant T                   the owning tenant's id\n"
    "  --name N                     a display name\n"
    "  --admin-down                 create it administratively down (default: up)\n"
    "  --distributed true|false     route on every host (true) or centrally (false); when\n"
    "                               not given, dvrd's host default applies (see 'host set')\n"
    "  --external-network NET       the router's external gateway network (an external\n"
    "                               network, 'network add --external'); default: none\n"
    "  --external-gateway-ip IP     the router's address on that network (the default SNAT\n"
    "                               address unless 'snat add --snat-ip' says otherwise)\n"
    "  --snat, --no-snat            whether VMs without a floating IP reach the external\n"
    "                               network through default SNAT (default: --snat when\n"
    "                               --external-network is given); 'snat add' chooses the host\n"
    "                               that runs it\n"
    "  --replace                    overwrite an existing router with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRouterSetAdminHelp =
    "Sets the administrative state of the router ID to up or down: reads the router from\n"
    "dvrd (a ListRequest), changes admin_state_up and writes it back (an UpsertRequest with\n"
    "replace). Fails with NOT_FOUND when there is no such router.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRouterRemoveHelp =
    "Removes the router ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also remove what depends on it (e.g. its interfaces and static routes)\n"
    "                instead of failing\n"
    "  --missing-ok  succeed when there is no such router\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRouterListHelp =
    "Lists the routers, one per row: ID TENANT NAME ADMIN (up or down) DISTRIBUTED (yes, no\n"
    "or default: dvrd's host default applies) EXT-NETWORK EXT-GATEWAY-IP (the external\n"
    "gateway: the network and the router's address on it) SNAT (whether default SNAT is on;\n"
    "'-' without an external network). Then, if any router has interfaces, one row\n"
    "per interface: ROUTER INTERFACE SUBNET CIDR GATEWAY-IP (the subnet's) GATEWAY-MAC.\n"
    "'-' marks an empty value.\n"
    "\n"
    "With --json, prints the ObjectList of the routers only (see 'interface list' and\n"
    "'subnet list' for the rest).\n";

int run_router_add(Session& session, const Invocation& inv);
int run_router_set_admin(Session& session, const Invocation& inv);
int run_router_remove(Session& session, const Invocation& inv);
int run_router_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
