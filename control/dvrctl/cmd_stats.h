// dvrctl stats
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kStatsHelp =
    "Shows dvrd's counters in four parts (more with routers and SNAT), separated by empty\n"
    "lines.\n"
    "\n"
    "Ports: NAME RX-PKTS RX-BYTES TX-PKTS TX-BYTES DROPS (packets dvrd dropped), then the\n"
    "driver's HW-MISSED HW-RX-ERR HW-TX-ERR NOMBUF (losses before dvrd saw the packet).\n"
    "Then, if any port dropped packets, PORT REASON PACKETS for every non-zero drop reason.\n"
    "\n"
    "Workers: WORKER LCORE BUSY% (busy / (busy + idle) cycles) BUSY-CYCLES IDLE-CYCLES POLLS\n"
    "SLEEPS (idle back-off sleeps) PUNTED (packets handed to the control thread) PUNT-FULL\n"
    "(punts lost to a full queue) RXQ (port queues polled) GEN (configuration generation\n"
    "last seen) CT-CREATED (connections admitted into the conntrack table) CT-REVOKED\n"
    "(established connections cut because the rules changed) FCACHE-HIT FCACHE-MISS\n"
    "(filtered packets judged from the verdict cache / by the full filters) VXLAN-ENC\n"
    "(frames encapsulated towards other hosts, flood copies included) VXLAN-DEC (frames\n"
    "decapsulated from them) FLOOD-COPIES (extra copies made to flood broadcast and\n"
    "unknown-unicast frames) NAT-IN (packets translated towards a VM: floating-IP DNAT and\n"
    "SNAT replies) NAT-OUT (translated away from one: floating-IP and default SNAT)\n"
    "SNAT-CREATED (SNAT sessions created) SNAT-REDIR (packets sent over the overlay to their\n"
    "router's SNAT host) NAT-HAIRPIN (packets turned around inside this host because they\n"
    "were addressed to a floating IP or SNAT address it serves). Then, if any worker reports\n"
    "stages, WORKER STAGE PACKETS CYCLES/PKT (0.0 when the stage saw no packets).\n"
    "\n"
    "Punts received by the control thread: REASON PACKETS.\n"
    "\n"
    "The conntrack table: CT-CAPACITY CT-LIVE (entries in use) CT-EXPIRED (entries removed\n"
    "since dvrd started); 'conntrack stats' has the same.\n"
    "\n"
    "Routers, only when dvrd reports any: ROUTER ROUTED (packets routed) DROPS (packets the\n"
    "router dropped, the sum of its drop reasons). Then, if any router dropped packets,\n"
    "ROUTER REASON PACKETS for every non-zero drop reason.\n"
    "\n"
    "SNAT, only when this host runs some router's default SNAT ('snat add'): ROUTER SNAT-IP\n"
    "PORTS (the source ports SNAT gives out) TCP UDP ICMP (live sessions) EXHAUSTED (new\n"
    "connections refused because no port was free) EXPIRED (sessions removed by the control\n"
    "thread's sweep); 'snat sessions' lists the sessions.\n"
    "\n"
    "Options:\n"
    "  --port NAME  only this port's counters\n"
    "\n"
    "With --json, prints the Stats message.\n";

int run_stats(Session& session, const Invocation& inv);

}  // namespace dvrctl
