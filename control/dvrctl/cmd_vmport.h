// dvrctl vm-port add | set-groups | remove | list
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kVmPortAddHelp =
    "Creates the VM port ID, a VM's attachment to a network (a VmPort object, sent in an\n"
    "UpsertRequest). Repeating an identical add succeeds; an add that differs from the\n"
    "existing port fails unless --replace is given. dvrd checks the addresses and references.\n"
    "\n"
    "Options:\n"
    "  --network NET               the network (required)\n"
    "  --mac MAC                   the VM's MAC (required)\n"
    "  --ip IP                     a fixed IP of the VM (required; repeat for more)\n"
    "  --allowed-pair PREFIX[@MAC] an extra address or CIDR the VM may send from, with the\n"
    "                              MAC it uses (default: the port's MAC); repeatable\n"
    "  --no-port-security          disable anti-spoofing and security groups on the port\n"
    "  --security-group G          a security group ('secgroup add') the port is a member\n"
    "                              of; repeatable. With port security on and at least one\n"
    "                              group, the port admits only what its groups admit\n"
    "  --port DATAPLANE_PORT       the dataplane port ('port list') the VM is attached to on\n"
    "                              this host\n"
    "  --host HOST                 for a VM on another host: the remote host it lives on,\n"
    "                              which dvrd must know ('remote-host add'); frames for the\n"
    "                              VM go over the VXLAN overlay to that host\n"
    "                              (--port and --host exclude each other; with neither,\n"
    "                              frames for the VM are dropped until it is bound)\n"
    "  --replace                   overwrite an existing VM port with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kVmPortSetGroupsHelp =
    "Sets the security groups of the VM port VMPORT to the comma-separated GROUPs, or with\n"
    "'none' takes it out of every group (its traffic is then no longer filtered): reads the\n"
    "port from dvrd (a ListRequest), changes security_group_ids and writes it back (an\n"
    "UpsertRequest with replace). Established connections the new groups do not admit are\n"
    "cut at their next packet. Fails with NOT_FOUND when there is no such port or group.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kVmPortRemoveHelp =
    "Removes the VM port ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     accepted for symmetry; nothing depends on a VM port yet\n"
    "  --missing-ok  succeed when there is no such VM port\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kVmPortListHelp =
    "Lists the VM ports, one per row: ID NETWORK MAC IPS (the fixed IPs, comma-separated)\n"
    "SECURITY (port security on or off) DATAPLANE-PORT HOST GROUPS (the security groups,\n"
    "comma-separated). '-' marks an empty value.\n"
    "\n"
    "With --json, prints the ObjectList message (which also has the allowed address pairs).\n";

int run_vm_port_add(Session& session, const Invocation& inv);
int run_vm_port_set_groups(Session& session, const Invocation& inv);
int run_vm_port_remove(Session& session, const Invocation& inv);
int run_vm_port_list(Session& session, const Invocation& inv);

}  // namespace dvrctl
