// dvrctl network add | set-acl | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kNetworkAddHelp =
    "Creates the network ID (a Network object, sent in an UpsertRequest). Repeating an\n"
    "identical add succeeds; an add that differs from the existing network fails unless\n"
    "--replace is given.\n"
    "\n"
    "A tenant network is an overlay network: VXLAN with the VNI --segmentation-id between\n"
    "hosts. An external network (--external, where floating IPs and routers' gateways live)\n"
    "is a provider network instead: flat (untagged) or vlan on a physical network, which\n"
    "each host maps to one of its dataplane ports ('host set --physnet').\n"
    "\n"
    "Options:\n"
    "  --segmentation-id N  the VXLAN VNI that carries the network between hosts (required\n"
    "                       for an overlay network; a flat network takes none; for a vlan\n"
    "                       network it is the VLAN id, like --vlan)\n"
    "  --external           an external network (default: not external)\n"
    "  --provider overlay|flat|vlan\n"
    "                       how the network is carried (default: overlay, or vlan with\n"
    "                       --vlan)\n"
    "  --physnet NAME       the physical network of a flat or vlan network, e.g. physnet1\n"
    "  --vlan N             the VLAN id (1-4094) of a vlan network; implies --provider vlan\n"
    "  --tenant T           the owning tenant's id\n"
    "  --name N             a display name\n"
    "  --mtu N              the network's MTU (default: 0, dvrd's default)\n"
    "  --acl ACL            the network ACL ('acl add') that filters the traffic routed into\n"
    "                       and out of the network (default: none)\n"
    "  --flood all|off|HOST[,HOST...]\n"
    "                       which other hosts get the network's broadcast and\n"
    "                       unknown-unicast frames (its local ports always do; ARP is\n"
    "                       answered locally): all (default) every remote host with a VM\n"
    "                       port on the network; off none; HOST,... only these remote\n"
    "                       hosts ('remote-host add'), e.g. a central DHCP server's\n"
    "  --replace            overwrite an existing network with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kNetworkSetAclHelp =
    "Attaches the network ACL ACL to the network NETWORK, or with 'none' detaches its ACL:\n"
    "reads the network from dvrd (a ListRequest), changes network_acl_id and writes it back\n"
    "(an UpsertRequest with replace). Fails with NOT_FOUND when there is no such network or\n"
    "ACL.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kNetworkRemoveHelp =
    "Removes the network ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also remove what depends on it (e.g. its subnets, their router\n"
    "                interfaces, its VM ports) instead of failing\n"
    "  --missing-ok  succeed when there is no such network\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kNetworkListHelp =
    "Lists the networks, one per row: ID TENANT NAME EXTERNAL (yes or no) PROVIDER (overlay,\n"
    "flat or vlan) PHYSNET (the physical network of a flat or vlan network) SEG-ID (the VXLAN\n"
    "VNI of an overlay network, the VLAN id of a vlan network) MTU ACL (the network ACL)\n"
    "FLOOD (where broadcast and unknown-unicast frames are replicated: all, off, or the\n"
    "listed remote hosts, comma-separated). '-' marks an empty value.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_network_add(Session& session, const Invocation& inv);
int run_network_set_acl(Session& session, const Invocation& inv);
int run_network_remove(Session& session, const Invocation& inv);
int run_network_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
