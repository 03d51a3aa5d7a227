// The tenant model's north-south objects and rules: external (provider) networks, routers'
// external gateways, floating IPs, floating-IP gateways, SNAT bindings, and the host's agent
// mode and physnet mappings. See docs/north-south.md.
#include <set>

#include "model_helpers.h"
#include "tenant_model.h"

namespace dvr {

namespace v1 = api::v1;
using namespace model_helpers;  // NOLINT: the model's own vocabulary

namespace {

constexpr uint32_t kMaxVlan = 4094;
constexpr uint32_t kDefaultSnatPortMin = 1024, kDefaultSnatPortMax = 65535;

}  // namespace

v1::AgentMode TenantModel::agent_mode() const {
  if (host_.agent_mode() != v1::AGENT_MODE_UNSPECIFIED) return host_.agent_mode();
  return host_.snat_node() ? v1::AGENT_MODE_DVR_SNAT : v1::AGENT_MODE_DVR;
}

std::string TenantModel::snat_host_of(const std::string& router_id) const {
  auto it = snat_.find(router_id);
  return it == snat_.end() ? std::string{} : it->second.host_id();
}

bool TenantModel::routes_here(const v1::Router& r) const {
  const bool bound_here = !host_.host_id().empty() && snat_host_of(r.id()) == host_.host_id();
  if (agent_mode() == v1::AGENT_MODE_LEGACY) return !distributed(r) && bound_here;
  return distributed(r) || bound_here;
}

std::string TenantModel::snat_ip_of(const v1::SnatBinding& b) const {
  if (!b.snat_ip().empty()) return b.snat_ip();
  auto r = routers_.find(b.router_id());
  return r == routers_.end() ? std::string{} : r->second.external_gateway_ip();
}

const v1::FloatingIpGateway* TenantModel::local_fip_gateway(const std::string& network_id) const {
  for (const auto& [id, g] : fip_gateways_) {
    if (g.network_id() == network_id && !host_.host_id().empty() && g.host_id() == host_.host_id())
      return &g;
  }
  return nullptr;
}

std::optional<ModelError> TenantModel::upsert_north_south(const v1::Object& obj, bool replace) {
  auto canonical_ip = [](std::string& text, const std::string& what) -> std::optional<ModelError> {
    const auto ip = parse_ipv4(text);
    if (!ip) return invalid(what + ": " + q(text) + " is not an IPv4 address");
    text = format_ipv4(*ip);
    return std::nullopt;
  };
  switch (obj.kind_case()) {
    case v1::Object::kFloatingIp: {
      v1::FloatingIp f = obj.floating_ip();
      const std::string who = "floating IP " + q(f.id());
      if (auto e = canonical_ip(*f.mutable_floating_ip(), who)) return e;
      if (auto e = canonical_ip(*f.mutable_fixed_ip(), who + " fixed IP")) return e;
      return put(fips_, f, replace, "floating IP");
    }
    case v1::Object::kFloatingIpGateway: {
      v1::FloatingIpGateway g = obj.floating_ip_gateway();
      const std::string who = "floating IP gateway " + q(g.id());
      if (auto e = canonical_ip(*g.mutable_ip(), who)) return e;
      std::string mac = g.mac();
      if (auto e = normalize_mac(mac, who)) return e;
      g.set_mac(mac);
      if (g.host_id().empty()) return invalid(who + " names no host");
      return put(fip_gateways_, g, replace, "floating IP gateway");
    }
    case v1::Object::kSnatBinding: {
      v1::SnatBinding b = obj.snat_binding();
      const std::string who = "SNAT binding of router " + q(b.router_id());
      if (b.host_id().empty()) return invalid(who + " names no host");
      if (!b.snat_ip().empty()) {
        if (auto e = canonical_ip(*b.mutable_snat_ip(), who + " SNAT IP")) return e;
      }
      if (b.ports().min() == 0 && b.ports().max() == 0) {
        b.mutable_ports()->set_min(kDefaultSnatPortMin);
        b.mutable_ports()->set_max(kDefaultSnatPortMax);
      }
      if (b.ports().min() < 1 || b.ports().max() > 65535 || b.ports().min() > b.ports().max()) {
        return invalid(who + ": port range " + std::to_string(b.ports().min()) + "-" +
                       std::to_string(b.ports().max()) + " is not within 1-65535 with min <= max");
      }
      return put_as(snat_, b.router_id(), b, replace, "SNAT binding");
    }
    default:
      return invalid("not a north-south object");
  }
}

std::optional<ModelError> TenantModel::remove_north_south(v1::ObjectKind kind,
                                                          const std::string& id) {
  const std::string what = std::string(object_kind_name(kind)) + " " + q(id);
  size_t erased = 0;
  if (kind == v1::OBJECT_KIND_FLOATING_IP) erased = fips_.erase(id);
  if (kind == v1::OBJECT_KIND_FLOATING_IP_GATEWAY) erased = fip_gateways_.erase(id);
  if (kind == v1::OBJECT_KIND_SNAT_BINDING) erased = snat_.erase(id);
  if (erased == 0) return not_found("no " + what);
  return std::nullopt;
}

std::optional<ModelError> TenantModel::validate_north_south() const {
  // The host: agent mode and physnet mappings.
  if (!v1::AgentMode_IsValid(host_.agent_mode())) {
    return invalid("unknown agent mode " + std::to_string(host_.agent_mode()));
  }
  std::set<std::string> physnets;
  std::map<std::string, std::string> physnet_of_port;
  for (const auto& m : host_.physnet_ports()) {
    if (m.physical_network().empty() || m.port().empty()) {
      return invalid("a physnet mapping needs a physical network and a port");
    }
    if (!physnets.insert(m.physical_network()).second) {
      return invalid("physical network " + q(m.physical_network()) + " is mapped twice");
    }
    // Frames on a port are told apart by VLAN only: one physical network per port.
    if (auto [it, fresh] = physnet_of_port.emplace(m.port(), m.physical_network()); !fresh) {
      return conflict("physical networks " + q(it->second) + " and " + q(m.physical_network()) +
                      " are both mapped to port " + q(m.port()));
    }
    if (!host_.uplink_port().empty() && m.port() == host_.uplink_port()) {
      return conflict("physical network " + q(m.physical_network()) + " is mapped to " +
                      q(m.port()) + ", the overlay's uplink port");
    }
    if (const v1::VmPort* p = port_bound_to(m.port())) {
      return conflict("physical network " + q(m.physical_network()) + " is mapped to " +
                      q(m.port()) + ", which VM port " + q(p->id()) + " is attached to");
    }
  }

  // Networks: external ones are flat or VLAN on a physical network; tenant ones are overlay.
  std::map<std::pair<std::string, uint32_t>, std::string> segment_owner;
  for (const auto& [id, n] : networks_) {
    const std::string who = "network " + q(id);
    if (!v1::ProviderType_IsValid(n.provider_type())) {
      return invalid(who + ": unknown provider type " + std::to_string(n.provider_type()));
    }
    const bool provider = n.provider_type() != v1::PROVIDER_TYPE_OVERLAY;
    if (n.external() != provider) {
      return invalid(who + (n.external()
                                ? " is external: it must be a flat or VLAN provider network"
                                : " is a provider network: dvrd serves those only as external "
                                  "networks (tenant networks are overlay)"));
    }
    if (!provider) continue;
    if (n.physical_network().empty()) return invalid(who + " names no physical network");
    const uint32_t vlan = n.segmentation_id();
    if (n.provider_type() == v1::PROVIDER_TYPE_VLAN && (vlan < 1 || vlan > kMaxVlan)) {
      return invalid(who + ": VLAN id " + std::to_string(vlan) + " is outside 1.." +
                     std::to_string(kMaxVlan));
    }
    if (n.provider_type() == v1::PROVIDER_TYPE_FLAT && vlan != 0) {
      return invalid(who + " is flat but has segmentation id " + std::to_string(vlan));
    }
    if (auto [it, fresh] = segment_owner.emplace(std::pair{n.physical_network(), vlan}, id);
        !fresh) {
      return conflict(who + " uses " +
                      (vlan == 0 ? "the untagged (flat) segment" : "VLAN " + std::to_string(vlan)) +
                      " of physical network " + q(n.physical_network()) + ", as network " +
                      q(it->second) + " does");
    }
  }
  for (const auto& [id, p] : vm_ports_) {
    auto n = networks_.find(p.network_id());
    if (n != networks_.end() && n->second.external()) {
      return invalid("VM port " + q(id) + " is on external network " + q(p.network_id()) +
                     " (VMs attach to tenant networks; they reach external ones through a "
                     "router)");
    }
  }
  for (const auto& [id, ri] : interfaces_) {
    auto s = subnets_.find(ri.subnet_id());
    if (s == subnets_.end()) continue;
    auto n = networks_.find(s->second.network_id());
    if (n != networks_.end() && n->second.external()) {
      return invalid("router interface " + q(id) + " is on external network " + q(n->first) +
                     " (a router reaches it through its external gateway)");
    }
  }

  // Every address on an external network has one owner: a router's gateway, a floating IP, a
  // host's floating-IP gateway or a SNAT address.
  std::map<std::pair<std::string, uint32_t>, std::string> addr_owner;
  auto claim = [&](const std::string& network, const std::string& ip_text,
                   const std::string& who) -> std::optional<ModelError> {
    const auto ip = parse_ipv4(ip_text);
    if (!ip) return invalid(who + ": " + q(ip_text) + " is not an IPv4 address");
    const v1::Subnet* home = nullptr;
    for (const auto& [sid, s] : subnets_) {
      if (s.network_id() == network && parse_ipv4_prefix(s.cidr())->contains(*ip)) home = &s;
    }
    if (home == nullptr) {
      return invalid(who + ": " + ip_text + " is outside every subnet of network " + q(network));
    }
    if (!host_address_in(*parse_ipv4_prefix(home->cidr()), *ip) || ip_text == home->gateway_ip()) {
      return invalid(who + ": " + ip_text + " is the network, broadcast or gateway address of " +
                     home->cidr());
    }
    if (auto [it, fresh] = addr_owner.emplace(std::pair{network, *ip}, who); !fresh) {
      if (it->second == who) return std::nullopt;
      return conflict(who + ": " + ip_text + " is already " + it->second + "'s");
    }
    return std::nullopt;
  };

  for (const auto& [id, r] : routers_) {
    const std::string who = "router " + q(id);
    if (r.external_network_id().empty()) {
      if (!r.external_gateway_ip().empty() || r.enable_snat()) {
        return invalid(who + " has an external gateway IP or SNAT but no external network");
      }
      continue;
    }
    auto n = networks_.find(r.external_network_id());
    if (n == networks_.end()) {
      return not_found(who + " refers to unknown external network " + q(r.external_network_id()));
    }
    if (!n->second.external()) {
      return invalid(who + ": network " + q(n->first) + " is not external");
    }
    if (r.external_gateway_ip().empty()) return invalid(who + " has no external gateway IP");
    if (auto e = claim(n->first, r.external_gateway_ip(), who)) return e;
  }
  std::set<std::pair<std::string, std::string>> gateway_of_host;
  for (const auto& [id, g] : fip_gateways_) {
    const std::string who = "floating IP gateway " + q(id);
    auto n = networks_.find(g.network_id());
    if (n == networks_.end())
      return not_found(who + " refers to unknown network " + q(g.network_id()));
    if (!n->second.external())
      return invalid(who + ": network " + q(n->first) + " is not external");
    if (!gateway_of_host.insert({g.network_id(), g.host_id()}).second) {
      return conflict(who + ": host " + q(g.host_id()) + " already has a floating IP gateway on " +
                      "network " + q(g.network_id()));
    }
    if (auto e = claim(g.network_id(), g.ip(), who)) return e;
  }
  std::set<std::pair<std::string, std::string>> fixed_owner;  // (router, fixed IP)
  for (const auto& [id, f] : fips_) {
    const std::string who = "floating IP " + q(id);
    auto r = routers_.find(f.router_id());
    if (r == routers_.end())
      return not_found(who + " refers to unknown router " + q(f.router_id()));
    if (r->second.external_network_id().empty()) {
      return invalid(who + ": router " + q(f.router_id()) + " has no external gateway");
    }
    if (auto e = claim(r->second.external_network_id(), f.floating_ip(), who)) return e;
    auto p = vm_ports_.find(f.vm_port_id());
    if (p == vm_ports_.end())
      return not_found(who + " refers to unknown VM port " + q(f.vm_port_id()));
    if (std::find(p->second.fixed_ips().begin(), p->second.fixed_ips().end(), f.fixed_ip()) ==
        p->second.fixed_ips().end()) {
      return invalid(who + ": " + f.fixed_ip() + " is not a fixed IP of VM port " +
                     q(f.vm_port_id()));
    }
    bool attached = false;
    const uint32_t fixed = *parse_ipv4(f.fixed_ip());
    for (const auto& [iid, ri] : interfaces_) {
      auto sub = subnets_.find(ri.subnet_id());
      if (ri.router_id() != f.router_id() || sub == subnets_.end()) continue;  // (checked later)
      const v1::Subnet& s = sub->second;
      attached |=
          s.network_id() == p->second.network_id() && parse_ipv4_prefix(s.cidr())->contains(fixed);
    }
    if (!attached) {
      return invalid(who + ": " + f.fixed_ip() + " is not on a subnet attached to router " +
                     q(f.router_id()));
    }
    if (!fixed_owner.insert({f.router_id(), f.fixed_ip()}).second) {
      return conflict(who + ": " + f.fixed_ip() + " already has a floating IP on router " +
                      q(f.router_id()));
    }
  }
  for (const auto& [router_id, b] : snat_) {
    const std::string who = "SNAT binding of router " + q(router_id);
    auto r = routers_.find(router_id);
    if (r == routers_.end()) return not_found(who + " refers to unknown router");
    const bool here = !host_.host_id().empty() && b.host_id() == host_.host_id();
    if (!here && !remote_hosts_.contains(b.host_id())) {
      return not_found(who + " names unknown host " + q(b.host_id()) +
                       " (neither this host nor a remote host)");
    }
    if (here) {
      const v1::AgentMode mode = agent_mode();
      const bool centralized = !distributed(r->second);
      if (mode == v1::AGENT_MODE_DVR || (mode == v1::AGENT_MODE_LEGACY && !centralized)) {
        return conflict(who + ": this host's agent mode (" + v1::AgentMode_Name(mode) +
                        ") cannot host " + (centralized ? "routers" : "SNAT") + "; use dvr_snat" +
                        (centralized ? " or legacy" : ""));
      }
    }
    if (!b.snat_ip().empty() && r->second.external_network_id().empty()) {
      return invalid(who + " gives a SNAT IP but the router has no external gateway");
    }
    if (!b.snat_ip().empty() && b.snat_ip() != r->second.external_gateway_ip()) {
      if (auto e = claim(r->second.external_network_id(), b.snat_ip(), who)) return e;
    }
  }
  return std::nullopt;
}

}  // namespace dvr
