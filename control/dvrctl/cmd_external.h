// dvrctl external show
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kExternalShowHelp =
    "Shows the external networks as this host's dvrd sees them (an ExternalRequest). For each\n"
    "network, a summary: the network, its physical network, the dataplane port this host\n"
    "reaches it through ('host set --physnet') and whether that port exists in the dataplane,\n"
    "the VLAN (or untagged), this host's floating-IP gateway address and MAC on it\n"
    "('fip-gateway add'), the upstream IP (the subnet's gateway, where off-subnet traffic\n"
    "goes), and the floating IPs and SNAT addresses this host serves on it (answers ARP for\n"
    "and translates here).\n"
    "\n"
    "Then the network's neighbours, resolved by ARP from the gateway address, one per row:\n"
    "IP MAC STATE (incomplete, reachable, stale, failed) AGE (seconds since the last reply)\n"
    "PROBES (requests sent since the last reply). '-' marks an empty value. Says 'no external\n"
    "networks' when dvrd reports none.\n"
    "\n"
    "With --json, prints the ExternalStatus message.\n";

int run_external_show(Session& session, const Invocation& inv);

}  // namespace dvrctl
