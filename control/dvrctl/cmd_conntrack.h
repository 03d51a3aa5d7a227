// dvrctl conntrack show | stats (the security groups' connection-tracking table)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kConntrackShowHelp =
    "Shows the connections the security groups admitted (a ConntrackRequest), one per row:\n"
    "PORT (the VM's dataplane port, the entry's zone) PROTO SOURCE and DESTINATION (as the\n"
    "connection's first packet had them: IP:PORT for tcp and udp, 'IP (id N)' for an ICMP\n"
    "echo) STATE (new, replied, syn_sent, syn_recv, established, fin_wait, time_wait, close)\n"
    "ADMITTED (whether the port's ingress or egress rules admitted it) AGE IDLE EXPIRES (in\n"
    "seconds). Then a summary: how many entries were shown of those that matched, and the\n"
    "table's live entries and capacity.\n"
    "\n"
    "Options (filters; all given must match):\n"
    "  --port NAME       connections of the VM on this dataplane port\n"
    "  --ip A.B.C.D      connections with this address at either end\n"
    "  --protocol P      tcp, udp, icmp or a protocol number 0-255\n"
    "  --l4-port N       tcp or udp connections with this port at either end\n"
    "  --state S         connections in this state\n"
    "  --limit N         show at most N entries (default: 1000)\n"
    "\n"
    "With --json, prints the ConntrackTable message.\n";

inline constexpr std::string_view kConntrackStatsHelp =
    "Shows the connection-tracking table's counters (from a StatsRequest): its capacity\n"
    "(dvrd --conntrack-size), the live entries, and the entries expired since dvrd started.\n"
    "Then, per worker: WORKER LCORE CREATED (connections the worker admitted into the table)\n"
    "REVOKED (established connections it cut because the rules changed).\n"
    "\n"
    "With --json, prints the Stats message.\n";

int run_conntrack_show(Session& session, const Invocation& inv);
int run_conntrack_stats(Session& session, const Invocation& inv);

}  // namespace dvrctl
