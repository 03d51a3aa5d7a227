#include "tenant_forwarding.h"

#include <rte_hash.h>

#include <set>
#include <stdexcept>

#include "net_addr.h"
#include "u64_hash.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

rte_ether_addr to_ether(const std::string& text) {
  rte_ether_addr a{};
  if (const auto m = parse_mac(text)) std::copy(m->begin(), m->end(), a.addr_bytes);
  return a;
}

}  // namespace

std::optional<uint32_t> IndexMap::get_or_add(const std::string& id, bool& added) {
  added = false;
  if (auto it = map_.find(id); it != map_.end()) return it->second;
  uint32_t idx = 0;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else if (next_ < limit_) {
    idx = next_++;
  } else {
    return std::nullopt;
  }
  map_[id] = idx;
  added = true;
  return idx;
}

std::optional<uint32_t> IndexMap::find(const std::string& id) const {
  auto it = map_.find(id);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void IndexMap::release(const std::string& id) {
  auto it = map_.find(id);
  if (it == map_.end()) return;
  free_.push_back(it->second);
  map_.erase(it);
}

TenantForwarding::TenantForwarding(dp::Dataplane& dp) : dp_(dp), filters_(dp.worker_count()) {}

TenantForwarding::~TenantForwarding() {
  // Workers must not see tables that are about to be freed.
  dp_.set_l3(nullptr);
}

std::optional<ModelError> TenantForwarding::apply(const TenantModel& model,
                                                  const std::string& leaving_port) {
  std::map<std::string, uint16_t> ports;
  for (const dp::PortStatus& st : dp_.list_ports()) {
    if (st.record.spec.name != leaving_port) ports[st.record.spec.name] = st.record.port_id;
  }

  // 0. Network ACLs and security groups, compiled (or reused) before anything is published.
  if (auto e = filters_.compile(model)) return e;

  // 1. Indices for routers and networks.
  for (const auto& [id, r] : model.routers()) {
    bool added = false;
    const auto idx = routers_.get_or_add(id, added);
    if (!idx) {
      return ModelError{v1::STATUS_RESOURCE_EXHAUSTED,
                        "more than " + std::to_string(dp::kMaxRouters) + " routers"};
    }
    if (added) dp_.reset_router_counters(static_cast<uint16_t>(*idx));
  }
  for (const auto& [id, n] : model.networks()) {
    bool added = false;
    if (!networks_.get_or_add(id, added)) {
      return ModelError{v1::STATUS_RESOURCE_EXHAUSTED,
                        "more than " + std::to_string(dp::kMaxNetworks) + " networks"};
    }
  }

  for (const auto& [id, h] : model.remote_hosts()) {
    bool added = false;
    if (!vteps_.get_or_add(id, added)) {
      return ModelError{v1::STATUS_RESOURCE_EXHAUSTED,
                        "more than " + std::to_string(dp::kMaxVteps) + " remote hosts"};
    }
  }
  // Where a VM port lives: a local dataplane port, or a remote host's VTEP.
  auto locate = [&](const v1::VmPort& p, dp::NextHop& hop) {
    auto port = ports.find(p.dataplane_port());
    hop.port = port == ports.end() ? dp::kNoPort : port->second;
    if (const v1::RemoteHost* h = model.remote_host_of(p)) {
      hop.vtep = static_cast<uint16_t>(*vteps_.find(h->host_id()));
    }
  };

  // 2. The next hops the model needs, by a key that identifies them across changes.
  std::map<std::string, NextHopInfo> wanted;
  std::map<std::string, RouteList> routes;  // by router id
  std::map<std::string, std::vector<std::pair<dp::RoutePrefix, std::string>>> route_keys;
  auto subnet_prefix = [&](const std::string& subnet_id) {
    return *parse_ipv4_prefix(model.subnets().at(subnet_id).cidr());
  };
  for (const auto& [id, r] : model.routers()) {
    NextHopInfo local;
    local.hop.kind = dp::NextHopKind::kLocal;
    local.hop.router = static_cast<uint16_t>(*routers_.find(id));
    local.origin = "local";
    wanted["L|" + id] = local;
    route_keys[id];  // every router gets a table, even an empty one
  }
  for (const auto& [id, ri] : model.interfaces()) {
    const v1::Subnet& s = model.subnets().at(ri.subnet_id());
    NextHopInfo c;
    c.hop.kind = dp::NextHopKind::kConnected;
    c.hop.router = static_cast<uint16_t>(*routers_.find(ri.router_id()));
    c.hop.network = static_cast<uint16_t>(*networks_.find(s.network_id()));
    c.hop.src_mac = to_ether(ri.gateway_mac());
    c.origin = "connected";
    c.egress_subnet = s.id();
    wanted["C|" + id] = c;
    const Ipv4Prefix p = subnet_prefix(s.id());
    route_keys[ri.router_id()].push_back({{p.addr, p.depth}, "C|" + id});
    route_keys[ri.router_id()].push_back(
        {{*parse_ipv4(s.gateway_ip()), 32}, "L|" + ri.router_id()});
  }
  // Neighbors by (network, ip), to resolve static-route gateways.
  std::map<std::pair<std::string, uint32_t>, const v1::VmPort*> owner;
  for (const auto& [id, p] : model.vm_ports()) {
    for (const auto& ip : p.fixed_ips()) owner[{p.network_id(), *parse_ipv4(ip)}] = &p;
  }
  // Every VM address on a router's subnets becomes a /32 whose next hop already carries the
  // VM's MAC and port (Neutron DVR's "ARP table" entries as host routes): the route lookup then
  // resolves the neighbor too, and a hit on the connected /24 itself means "no such host".
  std::map<std::string, std::vector<const v1::VmPort*>> ports_of_network;
  for (const auto& [pid, p] : model.vm_ports()) ports_of_network[p.network_id()].push_back(&p);
  for (const auto& [iid, ri] : model.interfaces()) {
    const v1::Subnet& s = model.subnets().at(ri.subnet_id());
    const Ipv4Prefix subnet = subnet_prefix(s.id());
    for (const v1::VmPort* vm : ports_of_network[s.network_id()]) {
      const v1::VmPort& p = *vm;
      for (const auto& ip_text : p.fixed_ips()) {
        const uint32_t ip = *parse_ipv4(ip_text);
        if (!subnet.contains(ip)) continue;
        const std::string key = "H|" + ri.router_id() + "|" + s.network_id() + "|" + ip_text;
        NextHopInfo h;
        h.hop.kind = dp::NextHopKind::kGateway;
        h.hop.router = static_cast<uint16_t>(*routers_.find(ri.router_id()));
        h.hop.network = static_cast<uint16_t>(*networks_.find(s.network_id()));
        h.hop.src_mac = to_ether(ri.gateway_mac());
        h.hop.resolved = true;
        h.hop.dst_mac = to_ether(p.mac());
        locate(p, h.hop);
        h.origin = "neighbor";
        h.nexthop = ip_text;
        h.egress_subnet = s.id();
        wanted[key] = h;
        route_keys[ri.router_id()].push_back({{ip, 32}, key});
      }
    }
  }
  // A router with an external gateway, routed here: its default route leads to nat44-out.
  for (const auto& [id, r] : model.routers()) {
    if (r.external_network_id().empty() || !model.routes_here(r)) continue;
    NextHopInfo x;
    x.hop.kind = dp::NextHopKind::kExternal;
    x.hop.router = static_cast<uint16_t>(*routers_.find(id));
    x.hop.network = static_cast<uint16_t>(*networks_.find(r.external_network_id()));
    x.origin = "external";
    x.nexthop = r.external_gateway_ip();
    wanted["X|" + id] = x;
    route_keys[id].push_back({{0, 0}, "X|" + id});
  }
  for (const auto& [id, sr] : model.static_routes()) {
    const uint32_t gw = *parse_ipv4(sr.nexthop());
    const std::string key = "G|" + sr.router_id() + "|" + sr.nexthop();
    if (!wanted.contains(key)) {
      NextHopInfo g;
      g.hop.kind = dp::NextHopKind::kGateway;
      g.hop.router = static_cast<uint16_t>(*routers_.find(sr.router_id()));
      g.origin = "static";
      g.nexthop = sr.nexthop();
      for (const auto& [iid, ri] : model.interfaces()) {
        if (ri.router_id() != sr.router_id() || !subnet_prefix(ri.subnet_id()).contains(gw))
          continue;
        const v1::Subnet& s = model.subnets().at(ri.subnet_id());
        g.hop.network = static_cast<uint16_t>(*networks_.find(s.network_id()));
        g.hop.src_mac = to_ether(ri.gateway_mac());
        g.egress_subnet = s.id();
        if (auto o = owner.find({s.network_id(), gw}); o != owner.end()) {
          g.hop.resolved = true;
          g.hop.dst_mac = to_ether(o->second->mac());
          locate(*o->second, g.hop);
        }
      }
      wanted[key] = g;
    }
    const Ipv4Prefix p = *parse_ipv4_prefix(sr.destination());
    route_keys[sr.router_id()].push_back({{p.addr, p.depth}, key});
  }

  // 3. Next-hop ids: existing keys keep theirs.
  std::map<uint32_t, NextHopInfo> hops = hops_;  // vanished ids stay readable until phase B
  bool new_ids = false;
  for (auto& [key, info] : wanted) {
    bool added = false;
    const auto id = next_hop_ids_.get_or_add(key, added);
    if (!id) return ModelError{v1::STATUS_RESOURCE_EXHAUSTED, "too many next hops"};
    new_ids |= added;
    hops[*id] = info;
  }
  for (auto& [router, list] : route_keys) {
    RouteList& out = routes[router];
    std::set<std::pair<uint32_t, uint8_t>> seen;
    // The first route for a prefix wins, and static routes ('G' keys) sort last: a static
    // route never overrides a connected, local or neighbor route.
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.second[0] != 'G' && b.second[0] == 'G';
    });
    for (const auto& [prefix, key] : list) {
      if (seen.insert({prefix.addr, prefix.depth}).second) {
        out.push_back({prefix, *next_hop_ids_.find(key)});
      }
    }
  }

  // 4. Tables for new routers, and phase A when route changes may reference new next hops.
  for (const auto& [id, list] : routes) {
    const uint32_t idx = *routers_.find(id);
    if (!tables_.contains(idx)) {
      dp::RouteTableOptions opts;
      opts.qsbr = dp_.qsbr();
      tables_[idx] = std::make_unique<dp::RouterRoutes>("r" + std::to_string(idx), opts);
    }
  }
  if (new_ids) dp_.set_l3(build(model, ports, hops));

  // 5. Route changes, router by router.
  for (const auto& [id, list] : routes) {
    dp::RouterRoutes& table = *tables_.at(*routers_.find(id));
    std::map<std::pair<uint32_t, uint8_t>, dp::NextHopId> want;
    for (const auto& [p, nh] : list) want[{p.addr, p.depth}] = nh;
    std::map<std::pair<uint32_t, uint8_t>, dp::NextHopId> have;
    for (const auto& [p, nh] : table.routes()) have[{p.addr, p.depth}] = nh;
    std::vector<dp::RoutePrefix> dels;
    std::vector<std::pair<dp::RoutePrefix, dp::NextHopId>> adds;
    for (const auto& [key, nh] : have) {
      if (!want.contains(key)) dels.push_back({key.first, key.second});
    }
    for (const auto& [key, nh] : want) {
      auto it = have.find(key);
      if (it == have.end() || it->second != nh) adds.push_back({{key.first, key.second}, nh});
    }
    if (!dels.empty() || !adds.empty()) table.apply(dels, adds);
  }

  // 6. Phase B: the final state, without vanished next hops, routers and networks.
  std::set<std::string> wanted_keys;
  for (const auto& [key, info] : wanted) wanted_keys.insert(key);
  std::vector<std::string> gone_keys;
  for (const auto& [key, id] : next_hop_ids_.all()) {
    if (!wanted_keys.contains(key)) gone_keys.push_back(key);
  }
  for (const auto& key : gone_keys) {
    hops.erase(*next_hop_ids_.find(key));
    next_hop_ids_.release(key);
  }
  std::vector<std::string> gone_routers;
  for (const auto& [id, idx] : routers_.all()) {
    if (!model.routers().contains(id)) gone_routers.push_back(id);
  }
  std::vector<std::string> gone_networks;
  for (const auto& [id, idx] : networks_.all()) {
    if (!model.networks().contains(id)) gone_networks.push_back(id);
  }
  std::vector<std::unique_ptr<dp::RouterRoutes>> retired;
  for (const auto& id : gone_routers) {
    const uint32_t idx = *routers_.find(id);
    retired.push_back(std::move(tables_.at(idx)));
    tables_.erase(idx);
    routers_.release(id);
  }
  for (const auto& id : gone_networks) networks_.release(id);
  std::vector<std::string> gone_vteps;
  for (const auto& [id, idx] : vteps_.all()) {
    if (!model.remote_hosts().contains(id)) gone_vteps.push_back(id);
  }
  for (const auto& id : gone_vteps) vteps_.release(id);
  dp_.set_l3(build(model, ports, hops));
  hops_ = std::move(hops);
  // No worker can hold a replaced table or a deleted router's table any more.
  for (auto& [idx, t] : tables_) t->release_retired();
  retired.clear();
  return std::nullopt;
}

std::shared_ptr<dp::L3State> TenantForwarding::build(const TenantModel& model,
                                                     const std::map<std::string, uint16_t>& ports,
                                                     const std::map<uint32_t, NextHopInfo>& hops) {
  auto st = std::make_shared<dp::L3State>();
  st->networks.resize(networks_.size_bound());
  st->routers.resize(routers_.size_bound());
  st->next_hops.resize(hops.empty() ? 0 : hops.rbegin()->first + 1);
  for (const auto& [id, info] : hops) st->next_hops[id] = info.hop;

  for (const auto& [id, r] : model.routers()) {
    const auto idx = routers_.find(id);
    if (!idx) continue;
    auto t = tables_.find(*idx);
    if (t == tables_.end()) continue;  // created in apply() before any build
    dp::RouterState& rs = st->routers[*idx];
    rs.present = true;
    rs.admin_up = r.admin_state_up();
    rs.centralized = !model.distributed(r) && model.routes_here(r);
    rs.table = t->second->table();
  }
  for (const auto& [id, n] : model.networks()) {
    const auto idx = networks_.find(id);
    if (!idx) continue;
    dp::NetworkState& ns = st->networks[*idx];
    ns.present = true;
    ns.vni = n.segmentation_id();
    ns.mtu = static_cast<uint16_t>(n.mtu());
    filters_.attach_network(n, ns, *st);
  }
  for (const auto& [id, ri] : model.interfaces()) {
    const v1::Subnet& s = model.subnets().at(ri.subnet_id());
    const auto net = networks_.find(s.network_id());
    const auto router = routers_.find(ri.router_id());
    if (!net || !router) continue;
    // A centralized router hosted elsewhere has no gateway here (build_north_south).
    if (!model.routes_here(model.routers().at(ri.router_id()))) continue;
    dp::NetworkState& ns = st->networks[*net];
    dp::Gateway& g = ns.gateways[ns.gateway_count++];
    g.ip = *parse_ipv4(s.gateway_ip());
    g.mask = parse_ipv4_prefix(s.cidr())->mask();
    g.mac = to_ether(ri.gateway_mac());
    g.router = static_cast<uint16_t>(*router);
  }

  size_t n_ips = 0;
  for (const auto& [id, p] : model.vm_ports()) n_ips += static_cast<size_t>(p.fixed_ips_size());
  // Hash values point into these vectors: reserve first, so that they never move.
  // (Gateways of centralized routers hosted elsewhere join both tables: build_north_south.)
  const size_t n_gateways = model.interfaces().size();
  st->neighbor_entries.reserve(n_ips + n_gateways);
  st->l2_entries.reserve(model.vm_ports().size() + n_gateways);
  const std::string serial = std::to_string(hash_serial_++);
  st->neighbors = dp::make_u64_hash("dvr_nb_" + serial, n_ips + n_gateways);
  st->l2 = dp::make_u64_hash("dvr_l2_" + serial, model.vm_ports().size() + n_gateways);

  for (const auto& [id, p] : model.vm_ports()) {
    const auto net = networks_.find(p.network_id());
    if (!net) continue;
    const auto port = ports.find(p.dataplane_port());
    const uint16_t port_id = port == ports.end() ? dp::kNoPort : port->second;
    const rte_ether_addr mac = to_ether(p.mac());
    const auto network = static_cast<uint16_t>(*net);

    dp::L2Entry l2e{port_id, dp::kNoIndex};
    if (const v1::RemoteHost* h = model.remote_host_of(p)) {
      l2e.vtep = static_cast<uint16_t>(*vteps_.find(h->host_id()));
    }
    st->l2_entries.push_back(l2e);
    const uint64_t l2k = dp::l2_key(network, mac);
    rte_hash_add_key_data(st->l2, &l2k, &st->l2_entries.back());
    for (const auto& ip_text : p.fixed_ips()) {
      st->neighbor_entries.push_back({mac, port_id});
      const uint64_t k = dp::neighbor_key(network, *parse_ipv4(ip_text));
      rte_hash_add_key_data(st->neighbors, &k, &st->neighbor_entries.back());
    }

    if (port_id == dp::kNoPort || port_id >= st->ports.size()) continue;
    dp::PortBinding& b = st->ports[port_id];
    b.bound = true;
    b.network = network;
    b.mac = mac;
    b.port_security = p.port_security_enabled();
    filters_.attach_port(p, b, *st);
    for (const auto& ip_text : p.fixed_ips()) b.ips[b.ip_count++] = *parse_ipv4(ip_text);
    for (const auto& pair : p.allowed_address_pairs()) {
      const Ipv4Prefix pre = *parse_ipv4_prefix(pair.ip_prefix());
      dp::AllowedPair& ap = b.pairs[b.pair_count++];
      ap.addr = pre.addr;
      ap.mask = pre.mask();
      ap.any_mac = pair.mac().empty();
      ap.mac = ap.any_mac ? mac : to_ether(pair.mac());
    }
  }
  build_overlay(model, ports, *st);
  build_north_south(model, ports, *st);
  for (dp::NextHop& nh : st->next_hops) {
    if (nh.kind != dp::NextHopKind::kGateway || nh.network >= st->networks.size()) continue;
    nh.dst_filtered = st->networks[nh.network].acl_ingress != nullptr ||
                      (nh.port < st->ports.size() && st->ports[nh.port].sg_ingress != nullptr);
  }
  return st;
}

void TenantForwarding::build_overlay(const TenantModel& model,
                                     const std::map<std::string, uint16_t>& ports,
                                     dp::L3State& st) {
  if (const auto mac = parse_mac(model.host().dvr_mac())) {
    std::copy(mac->begin(), mac->end(), st.dvr_mac.addr_bytes);
  }
  const std::string serial = std::to_string(hash_serial_++);
  st.vni_networks = dp::make_u64_hash("dvr_vni_" + serial, model.networks().size());
  st.vtep_by_ip = dp::make_u64_hash("dvr_vtep_" + serial, model.remote_hosts().size());
  // Hash values are small integers + 1 (a stored 0 would read as "not found").
  auto as_data = [](uint32_t v) { return reinterpret_cast<void*>(uintptr_t{v} + 1); };
  st.vteps.resize(vteps_.size_bound());
  for (const auto& [id, h] : model.remote_hosts()) {
    const uint32_t idx = *vteps_.find(id);
    dp::Vtep& v = st.vteps[idx];
    v.ip = *parse_ipv4(h.tunnel_ip());
    const auto mac = *parse_mac(h.dvr_mac());
    std::copy(mac.begin(), mac.end(), v.dvr_mac.addr_bytes);
    const uint64_t key = v.ip;
    rte_hash_add_key_data(st.vtep_by_ip, &key, as_data(idx));
  }

  // Flood lists: every network's local ports, and the remote hosts its BUM policy names.
  std::map<std::string, std::set<uint16_t>> local_ports, remote_vteps;
  for (const auto& [id, p] : model.vm_ports()) {
    if (auto port = ports.find(p.dataplane_port()); port != ports.end()) {
      local_ports[p.network_id()].insert(port->second);
    } else if (const v1::RemoteHost* h = model.remote_host_of(p)) {
      remote_vteps[p.network_id()].insert(static_cast<uint16_t>(*vteps_.find(h->host_id())));
    }
  }
  for (const auto& [id, n] : model.networks()) {
    const auto idx = networks_.find(id);
    // External (flat/VLAN) networks never cross the overlay: their segmentation id is a VLAN.
    if (!idx || n.external()) continue;
    const uint64_t vni = n.segmentation_id();
    rte_hash_add_key_data(st.vni_networks, &vni, as_data(*idx));
    dp::NetworkState& ns = st.networks[*idx];
    ns.flood_ports_begin = static_cast<uint32_t>(st.flood_ports.size());
    for (uint16_t port : local_ports[id]) st.flood_ports.push_back(port);
    ns.flood_ports_count = static_cast<uint16_t>(st.flood_ports.size() - ns.flood_ports_begin);
    std::set<uint16_t> targets;
    if (n.bum_flooding() == v1::BUM_FLOODING_ALL_HOSTS) {
      targets = remote_vteps[id];
    } else if (n.bum_flooding() == v1::BUM_FLOODING_LISTED) {
      for (const auto& h : n.bum_flood_hosts()) {
        targets.insert(static_cast<uint16_t>(*vteps_.find(h)));
      }
    }
    ns.flood_vteps_begin = static_cast<uint32_t>(st.flood_vteps.size());
    for (uint16_t v : targets) st.flood_vteps.push_back(v);
    ns.flood_vteps_count = static_cast<uint16_t>(st.flood_vteps.size() - ns.flood_vteps_begin);
  }
}

std::vector<RouteView> TenantForwarding::routes_of(const std::string& router_id) const {
  std::vector<RouteView> out;
  const auto idx = routers_.find(router_id);
  if (!idx) return out;
  for (const auto& [p, nh] : tables_.at(*idx)->routes()) {
    RouteView v;
    v.prefix = format_prefix({p.addr, p.depth});
    auto h = hops_.find(nh);
    if (h != hops_.end()) {
      v.origin = h->second.origin;
      v.nexthop = h->second.nexthop;
      v.egress_subnet = h->second.egress_subnet;
      if (h->second.hop.kind == dp::NextHopKind::kGateway && h->second.hop.resolved) {
        Mac m;
        std::copy(std::begin(h->second.hop.dst_mac.addr_bytes),
                  std::end(h->second.hop.dst_mac.addr_bytes), m.begin());
        v.nexthop_mac = format_mac(m);
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace dvr
