#include "tenant_model.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <set>
#include <vector>

#include "filter_rules.h"
#include "model_helpers.h"
#include "net_addr.h"

namespace dvr {

namespace v1 = api::v1;
using namespace model_helpers;  // NOLINT: the model's own vocabulary

namespace {

constexpr uint32_t kMaxSegmentationId = (1u << 24) - 1;  // VXLAN VNI
constexpr int kMaxPortIps = 8;                           // dp::kMaxPortIps
constexpr int kMaxAllowedPairs = 8;                      // dp::kMaxAllowedPairs
constexpr int kMaxGatewaysPerNetwork = 8;                // dp::kMaxGatewaysPerNetwork

uint32_t broadcast_of(const Ipv4Prefix& p) {
  return p.addr | ~p.mask();
}

// Two ids of `ids` whose prefixes overlap, (earlier, later), or nullopt. Prefixes are nested or
// disjoint, so sorted by address an overlap always shows between neighbours: O(n log n).
std::optional<std::pair<std::string, std::string>> first_overlap(
    std::vector<std::string>& ids, const std::map<std::string, Ipv4Prefix>& prefix_of) {
  std::sort(ids.begin(), ids.end(), [&](const std::string& a, const std::string& b) {
    const Ipv4Prefix& pa = prefix_of.at(a);
    const Ipv4Prefix& pb = prefix_of.at(b);
    return pa.addr != pb.addr ? pa.addr < pb.addr : pa.depth < pb.depth;
  });
  for (size_t i = 1; i < ids.size(); ++i) {
    if (prefix_of.at(ids[i - 1]).overlaps(prefix_of.at(ids[i]))) {
      return std::pair{ids[i - 1], ids[i]};
    }
  }
  return std::nullopt;
}

}  // namespace

const char* object_kind_name(v1::ObjectKind kind) {
  switch (kind) {
    case v1::OBJECT_KIND_ROUTER:
      return "router";
    case v1::OBJECT_KIND_NETWORK:
      return "network";
    case v1::OBJECT_KIND_SUBNET:
      return "subnet";
    case v1::OBJECT_KIND_ROUTER_INTERFACE:
      return "router interface";
    case v1::OBJECT_KIND_VM_PORT:
      return "VM port";
    case v1::OBJECT_KIND_STATIC_ROUTE:
      return "static route";
    case v1::OBJECT_KIND_NETWORK_ACL:
      return "network ACL";
    case v1::OBJECT_KIND_SECURITY_GROUP:
      return "security group";
    case v1::OBJECT_KIND_FLOATING_IP:
      return "floating IP";
    case v1::OBJECT_KIND_SNAT_BINDING:
      return "SNAT binding";
    case v1::OBJECT_KIND_REMOTE_HOST:
      return "remote host";
    case v1::OBJECT_KIND_FLOATING_IP_GATEWAY:
      return "floating IP gateway";
    default:
      return "object";
  }
}

TenantModel::TenantModel() {
  host_.set_distributed_default(true);
}

bool TenantModel::supported(v1::ObjectKind kind) {
  switch (kind) {
    case v1::OBJECT_KIND_ROUTER:
    case v1::OBJECT_KIND_NETWORK:
    case v1::OBJECT_KIND_SUBNET:
    case v1::OBJECT_KIND_ROUTER_INTERFACE:
    case v1::OBJECT_KIND_VM_PORT:
    case v1::OBJECT_KIND_STATIC_ROUTE:
    case v1::OBJECT_KIND_NETWORK_ACL:
    case v1::OBJECT_KIND_SECURITY_GROUP:
    case v1::OBJECT_KIND_REMOTE_HOST:
    case v1::OBJECT_KIND_FLOATING_IP:
    case v1::OBJECT_KIND_FLOATING_IP_GATEWAY:
    case v1::OBJECT_KIND_SNAT_BINDING:
      return true;
    default:
      return false;
  }
}

bool TenantModel::distributed(const v1::Router& r) const {
  return r.has_distributed() ? r.distributed() : host_.distributed_default();
}

const v1::VmPort* TenantModel::port_bound_to(const std::string& dataplane_port) const {
  if (dataplane_port.empty()) return nullptr;
  for (const auto& [id, p] : vm_ports_) {
    if (p.dataplane_port() == dataplane_port) return &p;
  }
  return nullptr;
}

const v1::RemoteHost* TenantModel::remote_host_of(const v1::VmPort& p) const {
  if (!p.dataplane_port().empty() || p.host_id().empty() || p.host_id() == host_.host_id()) {
    return nullptr;
  }
  auto it = remote_hosts_.find(p.host_id());
  return it == remote_hosts_.end() ? nullptr : &it->second;
}

std::optional<ModelError> TenantModel::set_host(const v1::HostIdentity& host) {
  v1::HostIdentity h = host;
  if (!h.has_distributed_default()) h.set_distributed_default(host_.distributed_default());
  if (!h.dvr_mac().empty()) {
    std::string mac = h.dvr_mac();
    if (auto e = normalize_mac(mac, "host DVR MAC")) return e;
    h.set_dvr_mac(mac);
  }
  if (!h.tunnel_ip().empty()) {
    const auto ip = parse_ipv4(h.tunnel_ip());
    if (!ip || !unicast_ipv4(*ip)) {
      return invalid("host tunnel IP " + q(h.tunnel_ip()) + " is not a unicast IPv4 address");
    }
    h.set_tunnel_ip(format_ipv4(*ip));
  }
  const bool overlay =
      !h.uplink_port().empty() || h.tunnel_prefix_length() != 0 || h.underlay_routes_size() > 0;
  if (overlay) {
    std::vector<std::string> missing;
    if (h.uplink_port().empty()) missing.push_back("an uplink port");
    if (h.tunnel_ip().empty()) missing.push_back("a tunnel IP");
    if (h.tunnel_prefix_length() == 0) missing.push_back("the tunnel IP's prefix length");
    if (h.dvr_mac().empty()) missing.push_back("a DVR MAC");
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size(); ++i) {
        list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
      }
      return invalid(
          "the overlay needs an uplink port, a tunnel IP with its prefix length and "
          "a DVR MAC together; missing: " +
          list);
    }
    if (h.tunnel_prefix_length() < 1 || h.tunnel_prefix_length() > 32) {
      return invalid("tunnel prefix length " + std::to_string(h.tunnel_prefix_length()) +
                     " is outside 1..32");
    }
  }
  if (h.vxlan_udp_port() > 65535) {
    return invalid("VXLAN UDP port " + std::to_string(h.vxlan_udp_port()) + " is outside 1..65535");
  }
  if (overlay) {
    const Ipv4Prefix onlink =
        Ipv4Prefix::of(*parse_ipv4(h.tunnel_ip()), static_cast<uint8_t>(h.tunnel_prefix_length()));
    if (!host_address_in(onlink, *parse_ipv4(h.tunnel_ip()))) {
      return invalid("host tunnel IP " + h.tunnel_ip() +
                     " is the network or broadcast address of " + format_prefix(onlink));
    }
    std::set<std::string> destinations;
    for (auto& r : *h.mutable_underlay_routes()) {
      const auto dst = parse_ipv4_prefix(r.destination(), true);
      if (!dst) {
        return invalid("underlay route " + q(r.destination()) +
                       " is not an IPv4 prefix with its host bits zero");
      }
      r.set_destination(format_prefix(*dst));
      if (!destinations.insert(r.destination()).second) {
        return invalid("underlay route " + r.destination() + " is given twice");
      }
      const auto nh = parse_ipv4(r.nexthop());
      if (!nh || !host_address_in(onlink, *nh) || format_ipv4(*nh) == h.tunnel_ip()) {
        return invalid("underlay route " + r.destination() + ": next hop " + q(r.nexthop()) +
                       " is not another address inside the uplink's subnet " +
                       format_prefix(onlink));
      }
    }
  }
  TenantModel next = *this;
  next.host_ = h;
  if (auto e = next.validate()) return e;
  host_ = h;
  return std::nullopt;
}

std::optional<ModelError> TenantModel::upsert(
    const google::protobuf::RepeatedPtrField<v1::Object>& objs, bool replace) {
  TenantModel next = *this;
  for (const v1::Object& obj : objs) {
    if (auto e = next.upsert_one(obj, replace)) return e;
  }
  if (auto e = next.validate()) return e;
  *this = std::move(next);
  return std::nullopt;
}

std::optional<ModelError> TenantModel::upsert_one(const v1::Object& obj, bool replace) {
  switch (obj.kind_case()) {
    case v1::Object::kRouter:
      return put(routers_, obj.router(), replace, "router");
    case v1::Object::kNetwork: {
      v1::Network n = obj.network();
      if (n.mtu() == 0) n.set_mtu(1500);
      if (!v1::BumFlooding_IsValid(n.bum_flooding())) {
        return invalid("network " + q(n.id()) + ": unknown BUM flooding mode " +
                       std::to_string(n.bum_flooding()));
      }
      return put(networks_, n, replace, "network");
    }
    case v1::Object::kSubnet: {
      v1::Subnet s = obj.subnet();
      const auto p = parse_ipv4_prefix(s.cidr(), true);
      if (!p || p->depth < 1 || p->depth > 30) {
        return invalid("subnet " + q(s.id()) + ": " + q(s.cidr()) +
                       " is not an IPv4 network from /1 to /30 with its host bits zero");
      }
      s.set_cidr(format_prefix(*p));
      if (s.gateway_ip().empty()) s.set_gateway_ip(format_ipv4(p->addr + 1));
      return put(subnets_, s, replace, "subnet");
    }
    case v1::Object::kRouterInterface: {
      v1::RouterInterface ri = obj.router_interface();
      std::string mac = ri.gateway_mac();
      if (auto e = normalize_mac(mac, "router interface " + q(ri.id()))) return e;
      ri.set_gateway_mac(mac);
      return put(interfaces_, ri, replace, "router interface");
    }
    case v1::Object::kVmPort: {
      v1::VmPort p = obj.vm_port();
      std::string mac = p.mac();
      if (auto e = normalize_mac(mac, "VM port " + q(p.id()))) return e;
      p.set_mac(mac);
      for (auto& pair : *p.mutable_allowed_address_pairs()) {
        if (pair.mac().empty()) continue;
        std::string pm = pair.mac();
        if (auto e = normalize_mac(pm, "VM port " + q(p.id()) + " allowed address pair")) return e;
        pair.set_mac(pm);
      }
      return put(vm_ports_, p, replace, "VM port");
    }
    case v1::Object::kStaticRoute: {
      v1::StaticRoute r = obj.static_route();
      const auto p = parse_ipv4_prefix(r.destination(), true);
      if (!p) {
        return invalid("static route " + q(r.id()) + ": " + q(r.destination()) +
                       " is not an IPv4 prefix with its host bits zero");
      }
      r.set_destination(format_prefix(*p));
      return put(routes_, r, replace, "static route");
    }
    case v1::Object::kNetworkAcl: {
      std::vector<AclRuleSpec> rules;
      if (auto e = parse_network_acl(obj.network_acl(), &rules)) return invalid(*e);
      return put(acls_, obj.network_acl(), replace, "network ACL");
    }
    case v1::Object::kSecurityGroup: {
      std::vector<SgRuleSpec> rules;
      if (auto e = parse_security_group(obj.security_group(), &rules)) return invalid(*e);
      return put(groups_, obj.security_group(), replace, "security group");
    }
    case v1::Object::kRemoteHost: {
      v1::RemoteHost h = obj.remote_host();
      const std::string who = "remote host " + q(h.host_id());
      if (h.host_id().empty()) return invalid("remote host without a host id");
      std::string mac = h.dvr_mac();
      if (auto e = normalize_mac(mac, who + " DVR MAC")) return e;
      h.set_dvr_mac(mac);
      const auto ip = parse_ipv4(h.tunnel_ip());
      if (!ip || !unicast_ipv4(*ip)) {
        return invalid(who + ": tunnel IP " + q(h.tunnel_ip()) + " is not a unicast IPv4 address");
      }
      h.set_tunnel_ip(format_ipv4(*ip));
      return put_as(remote_hosts_, h.host_id(), h, replace, "remote host");
    }
    case v1::Object::kFloatingIp:
    case v1::Object::kFloatingIpGateway:
    case v1::Object::kSnatBinding:
      return upsert_north_south(obj, replace);
    case v1::Object::KIND_NOT_SET:
      return invalid("an object with no kind set");
    default: {
      // Name the object too, when its kind has an id.
      std::string id;
      const auto* field = obj.GetDescriptor()->FindFieldByNumber(obj.kind_case());
      const auto& inner = obj.GetReflection()->GetMessage(obj, field);
      if (const auto* id_field = inner.GetDescriptor()->FindFieldByName("id")) {
        id = " ('" + inner.GetReflection()->GetString(inner, id_field) + "')";
      }
      return ModelError{v1::STATUS_UNIMPLEMENTED,
                        std::string("this dvrd does not implement ") +
                            object_kind_name(static_cast<v1::ObjectKind>(obj.kind_case())) +
                            " objects yet" + id};
    }
  }
}

std::optional<ModelError> TenantModel::remove(v1::ObjectKind kind, const std::string& id,
                                              bool cascade, bool missing_ok) {
  if (!supported(kind)) {
    return ModelError{v1::STATUS_UNIMPLEMENTED, std::string("this dvrd does not implement ") +
                                                    object_kind_name(kind) + " objects yet"};
  }
  TenantModel next = *this;
  if (auto e = next.remove_one(kind, id, cascade)) {
    if (e->status == v1::STATUS_NOT_FOUND && missing_ok) return std::nullopt;
    return e;
  }
  // A cascade that took VM ports (with a network, subnet or remote host) takes their floating
  // IPs too.
  if (cascade) {
    std::erase_if(next.fips_,
                  [&](const auto& f) { return !next.vm_ports_.contains(f.second.vm_port_id()); });
  }
  if (auto e = next.validate()) return e;
  *this = std::move(next);
  return std::nullopt;
}

std::optional<ModelError> TenantModel::remove_one(v1::ObjectKind kind, const std::string& id,
                                                  bool cascade) {
  const std::string what = std::string(object_kind_name(kind)) + " " + q(id);
  auto dependants = [&](auto& map, auto pred) {
    std::vector<std::string> ids;
    for (const auto& [oid, o] : map) {
      if (pred(o)) ids.push_back(oid);
    }
    return ids;
  };
  auto refuse_or_cascade = [&](auto& map, const std::vector<std::string>& ids,
                               const char* dep_kind) -> std::optional<ModelError> {
    if (ids.empty()) return std::nullopt;
    if (!cascade) {
      return conflict(what + " still has " + std::to_string(ids.size()) + " " + dep_kind +
                      "(s), e.g. " + q(ids.front()) + "; delete them first or ask for a cascade");
    }
    for (const auto& d : ids) map.erase(d);
    return std::nullopt;
  };

  switch (kind) {
    case v1::OBJECT_KIND_ROUTER: {
      if (!routers_.contains(id)) return not_found("no " + what);
      const auto ifs = dependants(interfaces_, [&](const auto& o) { return o.router_id() == id; });
      const auto rts = dependants(routes_, [&](const auto& o) { return o.router_id() == id; });
      const auto fips = dependants(fips_, [&](const auto& o) { return o.router_id() == id; });
      const auto snat = dependants(snat_, [&](const auto& o) { return o.router_id() == id; });
      if (auto e = refuse_or_cascade(interfaces_, ifs, "interface")) return e;
      if (auto e = refuse_or_cascade(routes_, rts, "static route")) return e;
      if (auto e = refuse_or_cascade(fips_, fips, "floating IP")) return e;
      if (auto e = refuse_or_cascade(snat_, snat, "SNAT binding")) return e;
      routers_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_NETWORK: {
      if (!networks_.contains(id)) return not_found("no " + what);
      const auto ports = dependants(vm_ports_, [&](const auto& o) { return o.network_id() == id; });
      const auto subs = dependants(subnets_, [&](const auto& o) { return o.network_id() == id; });
      if (auto e = refuse_or_cascade(vm_ports_, ports, "VM port")) return e;
      const auto gws =
          dependants(fip_gateways_, [&](const auto& o) { return o.network_id() == id; });
      if (auto e = refuse_or_cascade(fip_gateways_, gws, "floating IP gateway")) return e;
      for (const auto& s : subs) {
        if (!cascade) break;
        if (auto e = remove_one(v1::OBJECT_KIND_SUBNET, s, true)) return e;
      }
      if (auto e = refuse_or_cascade(subnets_, subs, "subnet")) return e;
      networks_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_SUBNET: {
      auto it = subnets_.find(id);
      if (it == subnets_.end()) return not_found("no " + what);
      const auto prefix = parse_ipv4_prefix(it->second.cidr());
      const std::string net = it->second.network_id();
      const auto ifs = dependants(interfaces_, [&](const auto& o) { return o.subnet_id() == id; });
      const auto ports = dependants(vm_ports_, [&](const v1::VmPort& p) {
        if (p.network_id() != net) return false;
        for (const auto& ip : p.fixed_ips()) {
          if (auto a = parse_ipv4(ip); a && prefix->contains(*a)) return true;
        }
        return false;
      });
      for (const auto& i : ifs) {
        if (!cascade) break;
        if (auto e = remove_one(v1::OBJECT_KIND_ROUTER_INTERFACE, i, true)) return e;
      }
      if (auto e = refuse_or_cascade(interfaces_, ifs, "router interface")) return e;
      if (auto e = refuse_or_cascade(vm_ports_, ports, "VM port")) return e;
      subnets_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_ROUTER_INTERFACE: {
      auto it = interfaces_.find(id);
      if (it == interfaces_.end()) return not_found("no " + what);
      const v1::RouterInterface ri = it->second;
      std::optional<Ipv4Prefix> prefix;
      if (auto s = subnets_.find(ri.subnet_id()); s != subnets_.end()) {
        prefix = parse_ipv4_prefix(s->second.cidr());
      }
      // Static routes whose gateway is reachable only through this interface.
      const auto rts = dependants(routes_, [&](const v1::StaticRoute& r) {
        const auto nh = parse_ipv4(r.nexthop());
        return r.router_id() == ri.router_id() && prefix && nh && prefix->contains(*nh);
      });
      if (auto e = refuse_or_cascade(routes_, rts, "static route")) return e;
      interfaces_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_VM_PORT: {
      if (!vm_ports_.contains(id)) return not_found("no " + what);
      const auto fips = dependants(fips_, [&](const auto& o) { return o.vm_port_id() == id; });
      if (auto e = refuse_or_cascade(fips_, fips, "floating IP")) return e;
      vm_ports_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_FLOATING_IP:
    case v1::OBJECT_KIND_FLOATING_IP_GATEWAY:
    case v1::OBJECT_KIND_SNAT_BINDING:
      return remove_north_south(kind, id);
    case v1::OBJECT_KIND_STATIC_ROUTE:
      if (routes_.erase(id) == 0) return not_found("no " + what);
      return std::nullopt;
    case v1::OBJECT_KIND_NETWORK_ACL: {
      if (!acls_.contains(id)) return not_found("no " + what);
      // A cascade detaches the ACL from its networks (they fall back to no filtering).
      const auto nets =
          dependants(networks_, [&](const auto& o) { return o.network_acl_id() == id; });
      if (!nets.empty() && !cascade) {
        return conflict(what + " is attached to " + std::to_string(nets.size()) +
                        " network(s), e.g. " + q(nets.front()) +
                        "; detach it first or ask for a cascade");
      }
      for (const auto& n : nets) networks_[n].clear_network_acl_id();
      acls_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_SECURITY_GROUP: {
      if (!groups_.contains(id)) return not_found("no " + what);
      // A cascade removes the group from its member ports and drops rules that name it.
      const auto members = dependants(vm_ports_, [&](const v1::VmPort& p) {
        return std::find(p.security_group_ids().begin(), p.security_group_ids().end(), id) !=
               p.security_group_ids().end();
      });
      const auto referrers = dependants(groups_, [&](const v1::SecurityGroup& g) {
        if (g.id() == id) return false;
        for (const auto& r : g.rules()) {
          if (r.remote_group_id() == id) return true;
        }
        return false;
      });
      if (!cascade && (!members.empty() || !referrers.empty())) {
        return conflict(what + " is still used by " + std::to_string(members.size()) +
                        " VM port(s) and named as remote group by " +
                        std::to_string(referrers.size()) +
                        " other group(s); remove those uses first or ask for a cascade");
      }
      for (const auto& m : members) {
        auto* ids = vm_ports_[m].mutable_security_group_ids();
        ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
      }
      for (const auto& g : referrers) {
        auto* rs = groups_[g].mutable_rules();
        for (int i = rs->size() - 1; i >= 0; --i) {
          if (rs->Get(i).remote_group_id() == id) rs->DeleteSubrange(i, 1);
        }
      }
      groups_.erase(id);
      return std::nullopt;
    }
    case v1::OBJECT_KIND_REMOTE_HOST: {
      if (!remote_hosts_.contains(id)) return not_found("no " + what);
      const auto ports = dependants(vm_ports_, [&](const v1::VmPort& p) {
        return p.dataplane_port().empty() && p.host_id() == id;
      });
      const auto nets = dependants(networks_, [&](const v1::Network& n) {
        return std::find(n.bum_flood_hosts().begin(), n.bum_flood_hosts().end(), id) !=
               n.bum_flood_hosts().end();
      });
      if (!cascade && !nets.empty()) {
        return conflict(what + " is named in the BUM flood list of network " + q(nets.front()) +
                        "; change that network first or ask for a cascade");
      }
      if (auto e = refuse_or_cascade(vm_ports_, ports, "VM port")) return e;
      const auto snat = dependants(snat_, [&](const auto& o) { return o.host_id() == id; });
      if (auto e = refuse_or_cascade(snat_, snat, "SNAT binding")) return e;
      for (const auto& n : nets) {
        auto* hosts = networks_[n].mutable_bum_flood_hosts();
        hosts->erase(std::remove(hosts->begin(), hosts->end(), id), hosts->end());
      }
      remote_hosts_.erase(id);
      return std::nullopt;
    }
    default:
      return invalid("unknown object kind");
  }
}

std::optional<ModelError> TenantModel::validate_overlay() const {
  const std::string& local_ip = host_.tunnel_ip();
  const std::string& local_mac = host_.dvr_mac();
  std::map<std::string, std::string> ip_owner, mac_owner;
  for (const auto& [id, h] : remote_hosts_) {
    const std::string who = "remote host " + q(id);
    if (id == host_.host_id()) return conflict(who + " has this host's own host id");
    if (!local_ip.empty() && h.tunnel_ip() == local_ip) {
      return conflict(who + " has this host's tunnel IP " + local_ip);
    }
    if (!local_mac.empty() && h.dvr_mac() == local_mac) {
      return conflict(who + " has this host's DVR MAC " + local_mac);
    }
    if (auto [it, fresh] = ip_owner.emplace(h.tunnel_ip(), id); !fresh) {
      return conflict(who + ": tunnel IP " + h.tunnel_ip() + " is already remote host " +
                      q(it->second) + "'s");
    }
    if (auto [it, fresh] = mac_owner.emplace(h.dvr_mac(), id); !fresh) {
      return conflict(who + ": DVR MAC " + h.dvr_mac() + " is already remote host " +
                      q(it->second) + "'s");
    }
  }
  for (const auto& [id, n] : networks_) {
    const std::string who = "network " + q(id);
    if (n.bum_flooding() != v1::BUM_FLOODING_LISTED && n.bum_flood_hosts_size() > 0) {
      return invalid(who + " lists BUM flood hosts but does not flood to listed hosts");
    }
    for (const auto& h : n.bum_flood_hosts()) {
      if (!remote_hosts_.contains(h)) {
        return not_found(who + " floods to unknown remote host " + q(h));
      }
    }
  }
  // A DVR MAC marks a frame as routed by that host: no VM may have one.
  for (const auto& [id, p] : vm_ports_) {
    const std::string who = "VM port " + q(id);
    if (!local_mac.empty() && p.mac() == local_mac) {
      return conflict(who + ": MAC " + p.mac() + " is this host's DVR MAC");
    }
    if (auto it = mac_owner.find(p.mac()); it != mac_owner.end()) {
      return conflict(who + ": MAC " + p.mac() + " is the DVR MAC of remote host " + q(it->second));
    }
    if (!p.dataplane_port().empty() && !p.host_id().empty() && p.host_id() != host_.host_id()) {
      return invalid(who + " is attached to dataplane port " + q(p.dataplane_port()) +
                     " here but says it lives on host " + q(p.host_id()));
    }
    if (p.dataplane_port().empty() && !p.host_id().empty() && p.host_id() != host_.host_id() &&
        !remote_hosts_.contains(p.host_id())) {
      return not_found(who + " lives on unknown remote host " + q(p.host_id()) +
                       " (add the remote host first)");
    }
    if (!host_.uplink_port().empty() && p.dataplane_port() == host_.uplink_port()) {
      return conflict(who + " is attached to " + q(p.dataplane_port()) +
                      ", the overlay's uplink port");
    }
  }
  return std::nullopt;
}

std::optional<ModelError> TenantModel::validate() const {
  if (auto e = validate_overlay()) return e;
  if (auto e = validate_north_south()) return e;
  // Networks: the segmentation id is the VXLAN VNI between hosts, so it must be unique.
  std::map<uint32_t, std::string> network_of_vni;
  for (const auto& [id, n] : networks_) {
    // Provider (flat/VLAN) networks have a VLAN id instead: north_south_rules.cc.
    if (n.provider_type() == v1::PROVIDER_TYPE_OVERLAY) {
      if (n.segmentation_id() == 0 || n.segmentation_id() > kMaxSegmentationId) {
        return invalid("network " + q(id) + ": segmentation id " +
                       std::to_string(n.segmentation_id()) + " is outside 1.." +
                       std::to_string(kMaxSegmentationId));
      }
      if (auto [it, fresh] = network_of_vni.emplace(n.segmentation_id(), id); !fresh) {
        return conflict("network " + q(id) + ": segmentation id " +
                        std::to_string(n.segmentation_id()) + " is already used by network " +
                        q(it->second));
      }
    }
    if (n.mtu() < 68 || n.mtu() > 9216) {
      return invalid("network " + q(id) + ": MTU " + std::to_string(n.mtu()) +
                     " is outside 68..9216");
    }
    if (!n.network_acl_id().empty() && !acls_.contains(n.network_acl_id())) {
      return not_found("network " + q(id) + " refers to unknown network ACL " +
                       q(n.network_acl_id()));
    }
  }

  // Security groups: a remote group must exist.
  for (const auto& [id, g] : groups_) {
    for (const auto& r : g.rules()) {
      if (!r.remote_group_id().empty() && !groups_.contains(r.remote_group_id())) {
        return not_found("security group " + q(id) + " rule " + q(r.id()) +
                         " refers to unknown remote group " + q(r.remote_group_id()));
      }
    }
  }

  // Subnets: on an existing network, gateway inside, no overlap within the network.
  std::map<std::string, Ipv4Prefix> prefix_of;
  std::map<std::string, uint32_t> gateway_of;
  std::map<std::string, std::vector<std::string>> subnets_of_network;
  for (const auto& [id, s] : subnets_) {
    if (!networks_.contains(s.network_id())) {
      return not_found("subnet " + q(id) + " refers to unknown network " + q(s.network_id()));
    }
    const Ipv4Prefix p = *parse_ipv4_prefix(s.cidr());
    const auto gw = parse_ipv4(s.gateway_ip());
    if (!gw || !p.contains(*gw) || *gw == p.addr || *gw == broadcast_of(p)) {
      return invalid("subnet " + q(id) + ": gateway " + q(s.gateway_ip()) +
                     " is not a host address inside " + s.cidr());
    }
    prefix_of[id] = p;
    gateway_of[id] = *gw;
    subnets_of_network[s.network_id()].push_back(id);
  }
  for (auto& [net, ids] : subnets_of_network) {
    if (auto clash = first_overlap(ids, prefix_of)) {
      return conflict("subnet " + q(clash->second) + " (" + subnets_.at(clash->second).cidr() +
                      ") overlaps subnet " + q(clash->first) + " (" +
                      subnets_.at(clash->first).cidr() + ") on network " + q(net));
    }
  }

  // Router interfaces: existing router and subnet, one router per subnet, no overlapping
  // subnets on one router, gateway MACs unique per network.
  std::map<std::string, std::string> router_of_subnet;
  std::map<std::string, int> gateways_per_network;
  std::map<std::string, std::vector<std::string>> subnets_of_router;
  std::map<std::pair<std::string, std::string>, std::string> mac_owner;  // (network, mac) -> who
  for (const auto& [id, ri] : interfaces_) {
    if (!routers_.contains(ri.router_id())) {
      return not_found("router interface " + q(id) + " refers to unknown router " +
                       q(ri.router_id()));
    }
    auto s = subnets_.find(ri.subnet_id());
    if (s == subnets_.end()) {
      return not_found("router interface " + q(id) + " refers to unknown subnet " +
                       q(ri.subnet_id()));
    }
    if (auto [it, fresh] = router_of_subnet.emplace(ri.subnet_id(), id); !fresh) {
      return conflict("subnet " + q(ri.subnet_id()) + " is already attached by router interface " +
                      q(it->second));
    }
    subnets_of_router[ri.router_id()].push_back(ri.subnet_id());
    const std::string& net = s->second.network_id();
    if (++gateways_per_network[net] > kMaxGatewaysPerNetwork) {
      return ModelError{v1::STATUS_RESOURCE_EXHAUSTED, "network " + q(net) + " has more than " +
                                                           std::to_string(kMaxGatewaysPerNetwork) +
                                                           " router interfaces"};
    }
    if (auto [it, fresh] =
            mac_owner.emplace(std::pair{net, ri.gateway_mac()}, "router interface " + q(id));
        !fresh) {
      return conflict("MAC " + ri.gateway_mac() + " is used twice on network " + q(net) + " (" +
                      it->second + ")");
    }
  }
  for (auto& [router, ids] : subnets_of_router) {
    if (auto clash = first_overlap(ids, prefix_of)) {
      return conflict("router " + q(router) + ": subnet " + subnets_.at(clash->second).cidr() +
                      " overlaps " + subnets_.at(clash->first).cidr() + " already attached to it");
    }
  }

  // VM ports: existing network, IPs host addresses inside the network's subnets, unique MAC and
  // IP per network, one VM port per dataplane port.
  std::map<std::pair<std::string, uint32_t>, std::string> ip_owner;
  std::map<std::string, std::string> dataplane_owner;
  for (const auto& [id, p] : vm_ports_) {
    const std::string who = "VM port " + q(id);
    if (!networks_.contains(p.network_id())) {
      return not_found(who + " refers to unknown network " + q(p.network_id()));
    }
    if (p.fixed_ips_size() > kMaxPortIps) {
      return invalid(who + " has more than " + std::to_string(kMaxPortIps) + " fixed IPs");
    }
    if (p.allowed_address_pairs_size() > kMaxAllowedPairs) {
      return invalid(who + " has more than " + std::to_string(kMaxAllowedPairs) +
                     " allowed address pairs");
    }
    if (auto [it, fresh] = mac_owner.emplace(std::pair{p.network_id(), p.mac()}, who); !fresh) {
      return conflict("MAC " + p.mac() + " of " + who + " is already used on network " +
                      q(p.network_id()) + " by " + it->second);
    }
    for (const auto& ip_text : p.fixed_ips()) {
      const auto ip = parse_ipv4(ip_text);
      if (!ip) return invalid(who + ": " + q(ip_text) + " is not an IPv4 address");
      const std::string* home = nullptr;
      for (const auto& sid : subnets_of_network[p.network_id()]) {
        if (prefix_of.at(sid).contains(*ip)) home = &sid;
      }
      if (home == nullptr) {
        return invalid(who + ": " + ip_text + " is outside every subnet of network " +
                       q(p.network_id()));
      }
      const Ipv4Prefix& hp = prefix_of.at(*home);
      if (*ip == hp.addr || *ip == broadcast_of(hp)) {
        return invalid(who + ": " + ip_text + " is the network or broadcast address of subnet " +
                       q(*home));
      }
      if (*ip == gateway_of.at(*home)) {
        return conflict(who + ": " + ip_text + " is the gateway address of subnet " + q(*home));
      }
      if (auto [it, fresh] = ip_owner.emplace(std::pair{p.network_id(), *ip}, who); !fresh) {
        return conflict("IP " + ip_text + " of " + who + " is already used on network " +
                        q(p.network_id()) + " by " + it->second);
      }
    }
    for (const auto& pair : p.allowed_address_pairs()) {
      if (!parse_ipv4_prefix(pair.ip_prefix())) {
        return invalid(who + ": allowed address pair " + q(pair.ip_prefix()) +
                       " is not an IPv4 address or prefix");
      }
    }
    std::set<std::string> groups;
    for (const auto& g : p.security_group_ids()) {
      if (!groups_.contains(g)) return not_found(who + " refers to unknown security group " + q(g));
      if (!groups.insert(g).second)
        return invalid(who + " lists security group " + q(g) + " twice");
    }
    if (!p.dataplane_port().empty()) {
      if (auto [it, fresh] = dataplane_owner.emplace(p.dataplane_port(), id); !fresh) {
        return conflict("dataplane port " + q(p.dataplane_port()) +
                        " is already bound to VM port " + q(it->second));
      }
    }
  }

  // Static routes: existing router, next hop a host on one of its subnets other than itself.
  for (const auto& [id, r] : routes_) {
    if (!routers_.contains(r.router_id())) {
      return not_found("static route " + q(id) + " refers to unknown router " + q(r.router_id()));
    }
    const auto nh = parse_ipv4(r.nexthop());
    if (!nh) {
      return invalid("static route " + q(id) + ": next hop " + q(r.nexthop()) +
                     " is not an IPv4 address");
    }
    const std::string* via = nullptr;
    for (const auto& sid : subnets_of_router[r.router_id()]) {
      if (prefix_of.at(sid).contains(*nh)) via = &sid;
    }
    if (via == nullptr) {
      return invalid("static route " + q(id) + ": next hop " + r.nexthop() +
                     " is not on any subnet attached to router " + q(r.router_id()));
    }
    const Ipv4Prefix& vp = prefix_of.at(*via);
    if (*nh == gateway_of.at(*via) || *nh == vp.addr || *nh == broadcast_of(vp)) {
      return invalid("static route " + q(id) + ": next hop " + r.nexthop() +
                     " is the router's own, the network or the broadcast address of subnet " +
                     q(*via));
    }
  }
  return std::nullopt;
}

v1::ObjectList TenantModel::list(v1::ObjectKind kind) const {
  v1::ObjectList out;
  auto add_all = [&](const auto& map, auto setter) {
    for (const auto& [id, o] : map) *(out.add_objects()->*setter)() = o;
  };
  switch (kind) {
    // Objects come back as stored (an unset `distributed` stays unset), so that what an agent
    // lists can be sent back unchanged.
    case v1::OBJECT_KIND_ROUTER:
      add_all(routers_, &v1::Object::mutable_router);
      break;
    case v1::OBJECT_KIND_NETWORK:
      add_all(networks_, &v1::Object::mutable_network);
      break;
    case v1::OBJECT_KIND_SUBNET:
      add_all(subnets_, &v1::Object::mutable_subnet);
      break;
    case v1::OBJECT_KIND_ROUTER_INTERFACE:
      add_all(interfaces_, &v1::Object::mutable_router_interface);
      break;
    case v1::OBJECT_KIND_VM_PORT:
      add_all(vm_ports_, &v1::Object::mutable_vm_port);
      break;
    case v1::OBJECT_KIND_STATIC_ROUTE:
      add_all(routes_, &v1::Object::mutable_static_route);
      break;
    case v1::OBJECT_KIND_NETWORK_ACL:
      add_all(acls_, &v1::Object::mutable_network_acl);
      break;
    case v1::OBJECT_KIND_SECURITY_GROUP:
      add_all(groups_, &v1::Object::mutable_security_group);
      break;
    case v1::OBJECT_KIND_REMOTE_HOST:
      add_all(remote_hosts_, &v1::Object::mutable_remote_host);
      break;
    case v1::OBJECT_KIND_FLOATING_IP:
      add_all(fips_, &v1::Object::mutable_floating_ip);
      break;
    case v1::OBJECT_KIND_FLOATING_IP_GATEWAY:
      add_all(fip_gateways_, &v1::Object::mutable_floating_ip_gateway);
      break;
    case v1::OBJECT_KIND_SNAT_BINDING:
      add_all(snat_, &v1::Object::mutable_snat_binding);
      break;
    default:
      break;
  }
  return out;
}

}  // namespace dvr
