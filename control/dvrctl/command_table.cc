#include "command.h"

#include "cmd_acl.h"
#include "cmd_conntrack.h"
#include "cmd_external.h"
#include "cmd_fip_gateway.h"
#include "cmd_floating_ip.h"
#include "cmd_host.h"
#include "cmd_interface.h"
#include "cmd_neighbor.h"
#include "cmd_network.h"
#include "cmd_port.h"
#include "cmd_remote_host.h"
#include "cmd_route.h"
#include "cmd_router.h"
#include "cmd_secgroup.h"
#include "cmd_snat.h"
#include "cmd_stats.h"
#include "cmd_subnet.h"
#include "cmd_underlay.h"
#include "cmd_version.h"
#include "cmd_vmport.h"

namespace dvrctl {

std::span<const Command> command_table() {
  static const std::vector<Command> kCommands = {
      {{"version"}, "", "show the versions of dvrd, its API and dvrctl", kVersionHelp, run_version},
      {{"port", "add"},
       "NAME TYPE [KEY=VALUE ...] [--xconnect PEER]",
       "add a dataplane port",
       kPortAddHelp,
       run_port_add},
      {{"port", "remove"},
       "NAME [--missing-ok]",
       "remove a dataplane port",
       kPortRemoveHelp,
       run_port_remove},
      {{"port", "list"}, "", "list the dataplane ports", kPortListHelp, run_port_list},
      {{"router", "add"},
       "ID [--tenant T] [--name N] [--admin-down] [--distributed true|false] "
       "[--external-network NET] [--external-gateway-ip IP] [--snat | --no-snat] [--replace]",
       "create a router",
       kRouterAddHelp,
       run_router_add},
      {{"router", "set-admin"},
       "ID up|down",
       "set a router administratively up or down",
       kRouterSetAdminHelp,
       run_router_set_admin},
      {{"router", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a router",
       kRouterRemoveHelp,
       run_router_remove},
      {{"router", "list"},
       "",
       "list the routers and their interfaces",
       kRouterListHelp,
       run_router_list},
      {{"network", "add"},
       "ID [--segmentation-id N] [--external] [--provider overlay|flat|vlan] [--physnet NAME] "
       "[--vlan N] [--tenant T] [--name N] [--mtu N] [--acl ACL] "
       "[--flood all|off|HOST[,HOST...]] [--replace]",
       "create a network",
       kNetworkAddHelp,
       run_network_add},
      {{"network", "set-acl"},
       "NETWORK ACL|none",
       "attach a network ACL to a network, or detach it",
       kNetworkSetAclHelp,
       run_network_set_acl},
      {{"network", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a network",
       kNetworkRemoveHelp,
       run_network_remove},
      {{"network", "list"}, "", "list the networks", kNetworkListHelp, run_network_list},
      {{"subnet", "add"},
       "ID --network NET --cidr CIDR [--gateway IP] [--replace]",
       "create a subnet on a network",
       kSubnetAddHelp,
       run_subnet_add},
      {{"subnet", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a subnet",
       kSubnetRemoveHelp,
       run_subnet_remove},
      {{"subnet", "list"}, "", "list the subnets", kSubnetListHelp, run_subnet_list},
      {{"interface", "add"},
       "ID --router R --subnet S --mac MAC [--replace]",
       "attach a router to a subnet",
       kInterfaceAddHelp,
       run_interface_add},
      {{"interface", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a router interface",
       kInterfaceRemoveHelp,
       run_interface_remove},
      {{"interface", "list"},
       "",
       "list the router interfaces",
       kInterfaceListHelp,
       run_interface_list},
      {{"vm-port", "add"},
       "ID --network NET --mac MAC --ip IP [--ip IP ...] [--allowed-pair PREFIX[@MAC] ...] "
       "[--no-port-security] [--security-group G ...] [--port DATAPLANE_PORT | --host HOST] "
       "[--replace]",
       "create a VM port",
       kVmPortAddHelp,
       run_vm_port_add},
      {{"vm-port", "set-groups"},
       "VMPORT GROUP[,GROUP...]|none",
       "set a VM port's security groups",
       kVmPortSetGroupsHelp,
       run_vm_port_set_groups},
      {{"vm-port", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a VM port",
       kVmPortRemoveHelp,
       run_vm_port_remove},
      {{"vm-port", "list"}, "", "list the VM ports", kVmPortListHelp, run_vm_port_list},
      {{"acl", "add"},
       "ID [--tenant T] [--default-ingress allow|deny] [--default-egress allow|deny] "
       "[--replace]",
       "create a network ACL",
       kAclAddHelp,
       run_acl_add},
      {{"acl", "set-default"},
       "ID ingress|egress allow|deny",
       "set a network ACL's default action",
       kAclSetDefaultHelp,
       run_acl_set_default},
      {{"acl", "rule", "add"},
       "ACL NUMBER ingress|egress allow|deny [--protocol P] [--source CIDR] "
       "[--destination CIDR] [--source-ports MIN[-MAX]] [--destination-ports MIN[-MAX]] "
       "[--icmp-type T] [--icmp-code C] [--replace]",
       "add a rule to a network ACL",
       kAclRuleAddHelp,
       run_acl_rule_add},
      {{"acl", "rule", "remove"},
       "ACL NUMBER ingress|egress",
       "remove a rule from a network ACL",
       kAclRuleRemoveHelp,
       run_acl_rule_remove},
      {{"acl", "show"},
       "ID",
       "show a network ACL's rules with hit counters",
       kAclShowHelp,
       run_acl_show},
      {{"acl", "list"}, "", "list the network ACLs", kAclListHelp, run_acl_list},
      {{"acl", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a network ACL",
       kAclRemoveHelp,
       run_acl_remove},
      {{"secgroup", "add"},
       "ID [--tenant T] [--replace]",
       "create a security group",
       kSecgroupAddHelp,
       run_secgroup_add},
      {{"secgroup", "rule", "add"},
       "GROUP RULE_ID ingress|egress [--protocol P] [--ports MIN[-MAX]] "
       "[--remote-ip CIDR | --remote-group GROUP] [--icmp-type T] [--icmp-code C] "
       "[--ethertype IPv4|IPv6] [--replace]",
       "add a rule to a security group",
       kSecgroupRuleAddHelp,
       run_secgroup_rule_add},
      {{"secgroup", "rule", "remove"},
       "GROUP RULE_ID",
       "remove a rule from a security group",
       kSecgroupRuleRemoveHelp,
       run_secgroup_rule_remove},
      {{"secgroup", "show"},
       "ID",
       "show a security group's rules and their hits",
       kSecgroupShowHelp,
       run_secgroup_show},
      {{"secgroup", "list"}, "", "list the security groups", kSecgroupListHelp, run_secgroup_list},
      {{"secgroup", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a security group",
       kSecgroupRemoveHelp,
       run_secgroup_remove},
      {{"route", "add"},
       "ID --router R --destination CIDR --nexthop IP [--replace]",
       "create a static route",
       kRouteAddHelp,
       run_route_add},
      {{"route", "remove"},
       "ID [--missing-ok]",
       "remove a static route",
       kRouteRemoveHelp,
       run_route_remove},
      {{"route", "list"}, "[--router R]", "list the static routes", kRouteListHelp, run_route_list},
      {{"route", "show"}, "ROUTER", "show a router's route table", kRouteShowHelp, run_route_show},
      {{"neighbor", "show"},
       "[NETWORK]",
       "show the neighbor (IP to MAC) table",
       kNeighborShowHelp,
       run_neighbor_show},
      {{"conntrack", "show"},
       "[--port NAME] [--ip A.B.C.D] [--protocol P] [--l4-port N] [--state S] [--limit N]",
       "show the security groups' tracked connections",
       kConntrackShowHelp,
       run_conntrack_show},
      {{"conntrack", "stats"},
       "",
       "show the connection-tracking table's counters",
       kConntrackStatsHelp,
       run_conntrack_stats},
      {{"host", "set"},
       "[--host-id ID] [--dvr-mac MAC] [--tunnel-ip IP[/LEN]] [--uplink PORT] "
       "[--underlay-route CIDR=NEXTHOP ... | --no-underlay-routes] [--vxlan-port N] "
       "[--no-overlay] [--distributed-default true|false] [--snat-node] "
       "[--agent-mode dvr|dvr_snat|legacy] [--physnet NAME=PORT ... | --no-physnets]",
       "set this host's identity, overlay, agent mode and physnets",
       kHostSetHelp,
       run_host_set},
      {{"remote-host", "add"},
       "HOST --tunnel-ip IP --dvr-mac MAC [--replace]",
       "make another host of the overlay known",
       kRemoteHostAddHelp,
       run_remote_host_add},
      {{"remote-host", "remove"},
       "HOST [--cascade] [--missing-ok]",
       "remove a remote host",
       kRemoteHostRemoveHelp,
       run_remote_host_remove},
      {{"remote-host", "list"},
       "",
       "list the remote hosts",
       kRemoteHostListHelp,
       run_remote_host_list},
      {{"underlay", "show"},
       "",
       "show the uplink, its neighbours and the remote hosts' paths",
       kUnderlayShowHelp,
       run_underlay_show},
      {{"floating-ip", "add"},
       "ID --router R --floating-ip IP --fixed-ip IP --vm-port VMPORT [--replace]",
       "map an external address to a VM port's address",
       kFloatingIpAddHelp,
       run_floating_ip_add},
      {{"floating-ip", "remove"},
       "ID [--missing-ok]",
       "remove a floating IP",
       kFloatingIpRemoveHelp,
       run_floating_ip_remove},
      {{"floating-ip", "list"},
       "",
       "list the floating IPs",
       kFloatingIpListHelp,
       run_floating_ip_list},
      {{"fip-gateway", "add"},
       "ID --network NET --host HOST --ip IP --mac MAC [--replace]",
       "set a host's address and MAC on an external network",
       kFipGatewayAddHelp,
       run_fip_gateway_add},
      {{"fip-gateway", "remove"},
       "ID [--missing-ok]",
       "remove a floating-IP gateway",
       kFipGatewayRemoveHelp,
       run_fip_gateway_remove},
      {{"fip-gateway", "list"},
       "",
       "list the floating-IP gateways",
       kFipGatewayListHelp,
       run_fip_gateway_list},
      {{"snat", "list"},
       "[--router R]",
       "list which host runs each router's default SNAT",
       kSnatListHelp,
       run_snat_list},
      {{"snat", "add"},
       "ROUTER --host HOST [--snat-ip IP] [--ports MIN-MAX] [--replace]",
       "make a host run a router's default SNAT (or move it there)",
       kSnatAddHelp,
       run_snat_add},
      {{"snat", "remove"},
       "ROUTER [--missing-ok]",
       "remove a router's SNAT binding",
       kSnatRemoveHelp,
       run_snat_remove},
      {{"snat", "sessions"},
       "[--router R] [--limit N]",
       "show the SNAT sessions of this host",
       kSnatSessionsHelp,
       run_snat_sessions},
      {{"external", "show"},
       "",
       "show the external networks, their gateways and neighbours",
       kExternalShowHelp,
       run_external_show},
      {{"stats"},
       "[--port NAME]",
       "show port, worker, punt, router and SNAT counters",
       kStatsHelp,
       run_stats},
  };
  return kCommands;
}

namespace {

bool starts_with(std::span<const std::string> words, const std::vector<std::string_view>& prefix) {
  if (words.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (words[i] != prefix[i]) return false;
  }
  return true;
}

}  // namespace

const Command* find_command(std::span<const std::string> words, size_t& consumed) {
  const Command* best = nullptr;
  for (const Command& cmd : command_table()) {
    if (starts_with(words, cmd.words) &&
        (best == nullptr || cmd.words.size() > best->words.size())) {
      best = &cmd;
    }
  }
  consumed = best == nullptr ? 0 : best->words.size();
  return best;
}

std::vector<const Command*> commands_under(std::span<const std::string> prefix) {
  std::vector<const Command*> out;
  for (const Command& cmd : command_table()) {
    if (cmd.words.size() < prefix.size()) continue;
    bool match = true;
    for (size_t i = 0; i < prefix.size() && match; ++i) match = cmd.words[i] == prefix[i];
    if (match) out.push_back(&cmd);
  }
  return out;
}

std::string command_name(const Command& cmd) {
  std::string out;
  for (std::string_view w : cmd.words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace dvrctl
