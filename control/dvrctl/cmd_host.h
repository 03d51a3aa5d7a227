// dvrctl host set
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kHostSetHelp =
    "Sets this host's identity in dvrd (a HostSetRequest). dvrctl starts from dvrd's current\n"
    "identity and changes only what the options say; 'version' shows the current host id,\n"
    "agent mode and physical networks, 'underlay show' the current overlay.\n"
    "\n"
    "The overlay (VXLAN to other hosts) needs an uplink, a tunnel IP with its prefix length\n"
    "and a DVR MAC together: dvrd refuses a partial set and names what is missing.\n"
    "\n"
    "Options:\n"
    "  --host-id ID                      the management plane's name for this host\n"
    "  --dvr-mac MAC                     the host's DVR MAC, the source MAC of routed\n"
    "                                    packets it sends over the overlay\n"
    "  --tunnel-ip IP[/LEN]              the host's VXLAN underlay address on the uplink;\n"
    "                                    /LEN (1-32) also sets the uplink's on-link subnet\n"
    "                                    (a bare IP keeps the current length)\n"
    "  --uplink PORT                     the dataplane port ('port list') facing the underlay;\n"
    "                                    dvrd answers ARP and ping for the tunnel IP on it\n"
    "  --underlay-route CIDR=NEXTHOP     reach tunnel IPs in CIDR through NEXTHOP, an address\n"
    "                                    in the uplink's subnet, e.g. 0.0.0.0/0=192.0.2.254;\n"
    "                                    repeatable; replaces every current route\n"
    "  --no-underlay-routes              remove every underlay route\n"
    "  --vxlan-port N                    the VXLAN UDP port (default: 0, meaning 4789)\n"
    "  --no-overlay                      turn the overlay off: clears the uplink, the prefix\n"
    "                                    length, the underlay routes and the VXLAN port (the\n"
    "                                    tunnel IP and the DVR MAC stay)\n"
    "  --distributed-default true|false  whether routers that do not say are distributed\n"
    "                                    (dvrd starts with its --router-mode)\n"
    "  --snat-node                       this host may run centralized default SNAT\n"
    "  --agent-mode dvr|dvr_snat|legacy  the host's north-south role: dvr (a compute host:\n"
    "                                    distributed routers and the floating IPs of its\n"
    "                                    VMs), dvr_snat (as dvr, and may also run routers'\n"
    "                                    default SNAT and centralized routers), legacy (routes\n"
    "                                    only the centralized routers bound to it); while\n"
    "                                    never set, dvrd takes dvr_snat on a SNAT node and\n"
    "                                    dvr elsewhere\n"
    "  --physnet NAME=PORT               the dataplane port ('port list') that reaches the\n"
    "                                    physical network NAME (Neutron's bridge_mappings),\n"
    "                                    e.g. physnet1=ext0; repeatable; replaces every\n"
    "                                    current mapping\n"
    "  --no-physnets                     remove every physical network mapping\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

int run_host_set(Session& session, const Invocation& inv);

}  // namespace dvrctl
