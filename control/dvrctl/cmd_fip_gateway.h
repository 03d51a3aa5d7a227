// dvrctl fip-gateway add | remove | list (the hosts' floating-IP gateway ports)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kFipGatewayAddHelp =
    "Creates the floating-IP gateway ID (a FloatingIpGateway object, sent in an\n"
    "UpsertRequest; Neutron's floating IP agent gateway port): the address and MAC of the\n"
    "host HOST on the external network NET. The floating IPs and SNAT addresses a host serves\n"
    "answer ARP with this MAC, and the host resolves its external neighbours from this\n"
    "address. One per external network and host; gateways of other hosts are only recorded.\n"
    "Repeating an identical add succeeds; an add that differs from the existing gateway fails\n"
    "unless --replace is given. dvrd checks the addresses and the references.\n"
    "\n"
    "Options:\n"
    "  --network NET  the external network ('network add --external') (required)\n"
    "  --host HOST    the host it belongs to (required)\n"
    "  --ip IP        the host's address, inside one of the network's subnets (required)\n"
    "  --mac MAC      the host's MAC on the network (required)\n"
    "  --replace      overwrite an existing gateway with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kFipGatewayRemoveHelp =
    "Removes the floating-IP gateway ID.\n"
    "\n"
    "Options:\n"
    "  --missing-ok  succeed when there is no such gateway\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kFipGatewayListHelp =
    "Lists the floating-IP gateways, one per row: ID NETWORK HOST IP MAC.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_fip_gateway_add(Session& session, const Invocation& inv);
int run_fip_gateway_remove(Session& session, const Invocation& inv);
int run_fip_gateway_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
