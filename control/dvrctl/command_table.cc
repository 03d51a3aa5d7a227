#include "command.h"

#include "cmd_host.h"
#include "cmd_interface.h"
#include "cmd_neighbor.h"
#include "cmd_network.h"
#include "cmd_port.h"
#include "cmd_route.h"
#include "cmd_router.h"
#include "cmd_stats.h"
#include "cmd_subnet.h"
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
       "ID [--tenant T] [--name N] [--admin-down] [--distributed true|false] [--replace]",
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
       "ID --segmentation-id N [--tenant T] [--name N] [--mtu N] [--replace]",
       "create a network",
       kNetworkAddHelp,
       run_network_add},
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
       "[--no-port-security] [--port DATAPLANE_PORT] [--host HOST] [--replace]",
       "create a VM port",
       kVmPortAddHelp,
       run_vm_port_add},
      {{"vm-port", "remove"},
       "ID [--cascade] [--missing-ok]",
       "remove a VM port",
       kVmPortRemoveHelp,
       run_vm_port_remove},
      {{"vm-port", "list"}, "", "list the VM ports", kVmPortListHelp, run_vm_port_list},
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
      {{"host", "set"},
       "--host-id ID [--dvr-mac MAC] [--tunnel-ip IP] [--distributed-default true|false] "
       "[--snat-node]",
       "set this host's identity",
       kHostSetHelp,
       run_host_set},
      {{"stats"},
       "[--port NAME]",
       "show port, worker, punt and router counters",
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
