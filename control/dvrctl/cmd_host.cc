#include "cmd_host.h"

#include <charconv>
#include <string>
#include <utility>

#include "args.h"
#include "errors.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

// "CIDR=NEXTHOP"; dvrd checks the addresses.
v1::UnderlayRoute parse_underlay_route(const Invocation& inv, const std::string& text) {
  const size_t eq = text.find('=');
  v1::UnderlayRoute route;
  if (eq != std::string::npos) {
    route.set_destination(text.substr(0, eq));
    route.set_nexthop(text.substr(eq + 1));
  }
  if (route.destination().empty() || route.nexthop().empty()) {
    throw UsageError(inv.name + ": --underlay-route: '" + text + "' is not CIDR=NEXTHOP",
                     "dvrctl " + inv.name);
  }
  return route;
}

// "IP" or "IP/LEN": sets the tunnel IP and, with /LEN, the prefix length.
void set_tunnel_ip(const Invocation& inv, const std::string& text, v1::HostIdentity& host) {
  const size_t slash = text.find('/');
  const std::string ip = text.substr(0, slash);
  if (ip.empty()) {
    throw UsageError(inv.name + ": --tunnel-ip: '" + text + "' is not IP or IP/LEN",
                     "dvrctl " + inv.name);
  }
  host.set_tunnel_ip(ip);
  if (slash == std::string::npos) return;
  const std::string len = text.substr(slash + 1);
  uint32_t value = 0;
  const char* end = len.data() + len.size();
  const auto [ptr, ec] = std::from_chars(len.data(), end, value);
  if (len.empty() || ec != std::errc() || ptr != end || value < 1 || value > 32) {
    throw UsageError(inv.name + ": --tunnel-ip: '" + text +
                         "' has a prefix length that is not a number from 1 to 32",
                     "dvrctl " + inv.name);
  }
  host.set_tunnel_prefix_length(value);
}

v1::AgentMode parse_agent_mode(const Invocation& inv, const std::string& text) {
  if (text == "dvr") return v1::AGENT_MODE_DVR;
  if (text == "dvr_snat") return v1::AGENT_MODE_DVR_SNAT;
  if (text == "legacy") return v1::AGENT_MODE_LEGACY;
  throw UsageError(inv.name + ": --agent-mode: '" + text + "' is not dvr, dvr_snat or legacy",
                   "dvrctl " + inv.name);
}

// "NAME=PORT"; appends the mapping to host.physnet_ports. A NAME given twice is refused here;
// dvrd checks the rest.
void add_physnet(const Invocation& inv, const std::string& text, v1::HostIdentity& host) {
  const size_t eq = text.find('=');
  v1::PhysnetPort mapping;
  if (eq != std::string::npos) {
    mapping.set_physical_network(text.substr(0, eq));
    mapping.set_port(text.substr(eq + 1));
  }
  if (mapping.physical_network().empty() || mapping.port().empty()) {
    throw UsageError(inv.name + ": --physnet: '" + text + "' is not NAME=PORT",
                     "dvrctl " + inv.name);
  }
  for (const v1::PhysnetPort& p : host.physnet_ports()) {
    if (p.physical_network() == mapping.physical_network()) {
      throw UsageError(inv.name + ": --physnet: physical network '" + mapping.physical_network() +
                           "' given twice",
                       "dvrctl " + inv.name);
    }
  }
  *host.add_physnet_ports() = std::move(mapping);
}

}  // namespace

int run_host_set(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--host-id", true},
                                      {"--dvr-mac", true},
                                      {"--tunnel-ip", true},
                                      {"--uplink", true},
                                      {"--underlay-route", true, true},
                                      {"--no-underlay-routes", false},
                                      {"--vxlan-port", true},
                                      {"--no-overlay", false},
                                      {"--distributed-default", true},
                                      {"--snat-node", false},
                                      {"--agent-mode", true},
                                      {"--physnet", true, true},
                                      {"--no-physnets", false}},
                                     {}, 0);
  const std::string help_for = "dvrctl " + inv.name;
  if (args.has("--underlay-route") && args.has("--no-underlay-routes")) {
    throw UsageError(inv.name + ": give --underlay-route or --no-underlay-routes, not both",
                     help_for);
  }
  if (args.has("--physnet") && args.has("--no-physnets")) {
    throw UsageError(inv.name + ": give --physnet or --no-physnets, not both", help_for);
  }
  if (args.has("--no-overlay")) {
    for (const char* option : {"--uplink", "--underlay-route", "--vxlan-port"}) {
      if (args.has(option)) {
        throw UsageError(inv.name + ": give --no-overlay or " + option + ", not both", help_for);
      }
    }
    if (args.value("--tunnel-ip").value_or("").find('/') != std::string::npos) {
      throw UsageError(
          inv.name + ": --no-overlay clears the prefix length; give --tunnel-ip without /LEN",
          help_for);
    }
  }
  // Every value is checked before dvrd is asked for the current identity: `given` holds the
  // parsed options.
  v1::HostIdentity given;
  if (const auto ip = args.value("--tunnel-ip")) set_tunnel_ip(inv, *ip, given);
  for (const std::string& route : args.values("--underlay-route")) {
    *given.add_underlay_routes() = parse_underlay_route(inv, route);
  }
  const auto vxlan_port = u32_option(args, inv, "--vxlan-port");
  const auto distributed = bool_option(args, inv, "--distributed-default");
  if (args.has("--host-id")) given.set_host_id(required_option(args, inv, "--host-id"));
  if (args.has("--uplink")) given.set_uplink_port(required_option(args, inv, "--uplink"));
  if (const auto mode = args.value("--agent-mode")) {
    given.set_agent_mode(parse_agent_mode(inv, *mode));
  }
  for (const std::string& physnet : args.values("--physnet")) add_physnet(inv, physnet, given);

  // Start from dvrd's current identity, so that options left out keep their values (a host
  // update must not silently flip, say, the routers' distributed default).
  v1::Request req;
  v1::HostIdentity& host = *req.mutable_host_set()->mutable_host();
  host = session.hello().host();
  if (args.has("--host-id")) host.set_host_id(given.host_id());
  if (const auto mac = args.value("--dvr-mac")) host.set_dvr_mac(*mac);
  if (args.has("--no-overlay")) {
    host.clear_uplink_port();
    host.clear_tunnel_prefix_length();
    host.clear_underlay_routes();
    host.clear_vxlan_udp_port();
  }
  if (args.has("--tunnel-ip")) {
    host.set_tunnel_ip(given.tunnel_ip());
    if (given.tunnel_prefix_length() != 0) {
      host.set_tunnel_prefix_length(given.tunnel_prefix_length());
    }
  }
  if (args.has("--uplink")) host.set_uplink_port(given.uplink_port());
  if (args.has("--no-underlay-routes")) host.clear_underlay_routes();
  if (args.has("--underlay-route")) *host.mutable_underlay_routes() = given.underlay_routes();
  if (vxlan_port) host.set_vxlan_udp_port(*vxlan_port);
  if (distributed) host.set_distributed_default(*distributed);
  if (args.has("--snat-node")) host.set_snat_node(true);
  if (args.has("--agent-mode")) host.set_agent_mode(given.agent_mode());
  if (args.has("--no-physnets")) host.clear_physnet_ports();
  if (args.has("--physnet")) *host.mutable_physnet_ports() = given.physnet_ports();
  print_bodyless_response(session, session.call(std::move(req)));
  return 0;
}

}  // namespace dvrctl
