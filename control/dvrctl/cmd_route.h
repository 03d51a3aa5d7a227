// dvrctl route add | remove | list (static routes) and route show (a router's route table)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kRouteAddHelp =
    "Creates the static route ID on a router (a StaticRoute object, sent in an\n"
    "UpsertRequest). Repeating an identical add succeeds; an add that differs from the\n"
    "existing route fails unless --replace is given. dvrd checks the prefix and that the\n"
    "next hop is on one of the router's subnets.\n"
    "\n"
    "Options:\n"
    "  --router R          the router (required)\n"
    "  --destination CIDR  the destination prefix, e.g. 192.168.0.0/16 (required)\n"
    "  --nexthop IP        the next hop (required)\n"
    "  --replace           overwrite an existing route with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRouteRemoveHelp =
    "Removes the static route ID.\n"
    "\n"
    "Options:\n"
    "  --missing-ok  succeed when there is no such route\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRouteListHelp =
    "Lists the static routes, one per row: ID ROUTER DESTINATION NEXTHOP. '-' marks an empty\n"
    "value. 'route show' shows a router's whole route table instead.\n"
    "\n"
    "Options:\n"
    "  --router R  only the routes of router R\n"
    "\n"
    "With --json, prints the ObjectList message (with --router, only R's routes).\n";

inline constexpr std::string_view kRouteShowHelp =
    "Shows the route table dvrd computed for the router ROUTER (connected, static and other\n"
    "routes), one route per row: PREFIX ORIGIN (connected, static, ...) NEXTHOP (empty for\n"
    "connected routes) EGRESS-SUBNET NEXTHOP-MAC (empty while the next hop is unresolved).\n"
    "'-' marks an empty value.\n"
    "\n"
    "With --json, prints the RouteTable message.\n";

int run_route_add(Session& session, const Invocation& inv);
int run_route_remove(Session& session, const Invocation& inv);
int run_route_list(Session& session, const Invocation& inv);
int run_route_show(Session& session, const Invocation& inv);

}  // namespace dvrctl
