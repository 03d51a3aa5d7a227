// dvrctl underlay show
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kUnderlayShowHelp =
    "Shows the overlay's underlay as dvrd sees it (an UnderlayRequest). First a summary: the\n"
    "uplink port and whether it exists in the dataplane, its MAC and MTU, this host's tunnel\n"
    "IP with its prefix length, the VXLAN UDP port, and the overlay MTU (the largest inner\n"
    "IPv4 packet the overlay carries: the uplink's MTU minus 50 bytes of VXLAN headers).\n"
    "Says 'no overlay configured' when 'host set' gave no uplink.\n"
    "\n"
    "Then the underlay neighbours dvrd resolves by ARP on the uplink (the next hops towards\n"
    "the remote hosts), one per row: IP MAC STATE (incomplete, reachable, stale) AGE (seconds\n"
    "since the last reply) PROBES (requests sent since the last reply).\n"
    "\n"
    "Then the path to every remote host ('remote-host add'), one per row: HOST TUNNEL-IP\n"
    "NEXTHOP (the neighbour it is reached through; '-' when no underlay route covers it)\n"
    "NEXTHOP-MAC RESOLVED (no: frames for the host are dropped as underlay_unresolved). '-'\n"
    "marks an empty value.\n"
    "\n"
    "With --json, prints the UnderlayStatus message.\n";

int run_underlay_show(Session& session, const Invocation& inv);

}  // namespace dvrctl
