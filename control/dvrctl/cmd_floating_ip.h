// dvrctl floating-ip add | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kFloatingIpAddHelp =
    "Creates the floating IP ID (a FloatingIp object, sent in an UpsertRequest): the address\n"
    "FLOATING-IP on the router's external network is translated to and from FIXED-IP, an\n"
    "address of the VM port VMPORT, in both directions. Repeating an identical add succeeds;\n"
    "an add that differs from the existing floating IP fails unless --replace is given. dvrd\n"
    "checks the addresses and the references.\n"
    "\n"
    "Options:\n"
    "  --router R          the router whose external network the address is on (required)\n"
    "  --floating-ip IP    the external address (required)\n"
    "  --fixed-ip IP       the VM's address it maps to (required)\n"
    "  --vm-port VMPORT    the VM port ('vm-port add') that has FIXED-IP (required)\n"
    "  --replace           overwrite an existing floating IP with different contents, e.g.\n"
    "                      to move it to another VM port\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kFloatingIpRemoveHelp =
    "Removes the floating IP ID.\n"
    "\n"
    "Options:\n"
    "  --missing-ok  succeed when there is no such floating IP\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kFloatingIpListHelp =
    "Lists the floating IPs, one per row: ID ROUTER FLOATING-IP FIXED-IP VM-PORT. 'external\n"
    "show' shows which of them this host serves.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_floating_ip_add(Session& session, const Invocation& inv);
int run_floating_ip_remove(Session& session, const Invocation& inv);
int run_floating_ip_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
