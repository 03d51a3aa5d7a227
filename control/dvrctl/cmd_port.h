// dvrctl port add | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kPortAddHelp =
    "Adds a dataplane port named NAME (1 to 32 of A-Z a-z 0-9 _ - .) of type TYPE and prints\n"
    "it as a one-row table like 'port list' (with --json: the PortInfo message).\n"
    "\n"
    "TYPE is one of vhost-user, tap, af-packet, pcap, null, ring, pci (vhost_user and\n"
    "af_packet are accepted too). KEY=VALUE pairs are the driver arguments; the VALUE is\n"
    "everything after the first '='. dvrd checks them; per type:\n"
    "  vhost-user  path=SOCKET (required)\n"
    "  tap         iface=NAME mac=MAC\n"
    "  af-packet   iface=NAME (required)\n"
    "  pcap        rx_pcap= tx_pcap= rx_iface= rx_iface_in= tx_iface= iface= infinite_rx=\n"
    "  null        size= copy= no-rx=\n"
    "  ring        (no arguments)\n"
    "  pci         dev=DDDD:BB:DD.F (required) devargs=DRIVER-ARGUMENTS\n"
    "\n"
    "Options:\n"
    "  --xconnect PEER  send every frame received on this port, unmodified, out of port PEER\n"
    "                   (an L2 patch) instead of through the routing pipeline; the argument\n"
    "                   xconnect=PEER means the same\n";

inline constexpr std::string_view kPortRemoveHelp =
    "Removes the dataplane port NAME.\n"
    "\n"
    "Options:\n"
    "  --missing-ok  succeed when there is no such port\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kPortListHelp =
    "Lists the dataplane ports, one per row: NAME TYPE PORT-ID (the DPDK port id) DEVICE\n"
    "(the DPDK device) DRIVER MAC RXQ TXQ (queue counts) LINK MTU XCONNECT ARGS (the driver\n"
    "arguments as KEY=VALUE,...). '-' marks an empty value.\n"
    "\n"
    "With --json, prints the PortList message.\n";

int run_port_add(Session& session, const Invocation& inv);
int run_port_remove(Session& session, const Invocation& inv);
int run_port_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
