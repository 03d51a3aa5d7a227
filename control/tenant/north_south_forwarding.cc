// The north-south part of the workers' state (docs/north-south.md): which external networks this
// host serves and on which port, the addresses it answers for there (its floating-IP gateway,
// the floating IPs of its VMs, the SNAT addresses it hosts), floating-IP translations, routers'
// SNAT (a local pool or the SNAT host's VTEP), and centralized routers hosted on another host.
#include <rte_hash.h>

#include "tenant_forwarding.h"
#include "u64_hash.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

rte_ether_addr to_ether(const Mac& m) {
  rte_ether_addr a{};
  std::copy(m.begin(), m.end(), a.addr_bytes);
  return a;
}

}  // namespace

void TenantForwarding::build_north_south(const TenantModel& model,
                                         const std::map<std::string, uint16_t>& ports,
                                         dp::L3State& st) {
  const v1::HostIdentity& host = model.host();
  std::map<std::string, std::string> physnet_port;
  for (const auto& m : host.physnet_ports()) physnet_port[m.physical_network()] = m.port();

  // 1. External networks: served when the physnet has a port here and this host has its
  //    floating-IP gateway on the network.
  std::vector<ExternalView> externals;
  std::map<std::string, size_t> external_of;  // network id -> index into externals
  for (const auto& [id, n] : model.networks()) {
    if (!n.external()) continue;
    ExternalView v;
    v.network_id = id;
    v.physical_network = n.physical_network();
    v.network = static_cast<uint16_t>(*networks_.find(id));
    v.vlan = n.provider_type() == v1::PROVIDER_TYPE_VLAN
                 ? static_cast<uint16_t>(n.segmentation_id())
                 : 0;
    if (auto pn = physnet_port.find(n.physical_network()); pn != physnet_port.end()) {
      v.port_name = pn->second;
      if (auto p = ports.find(pn->second); p != ports.end()) v.port = p->second;
    }
    const v1::FloatingIpGateway* gw = model.local_fip_gateway(id);
    if (gw != nullptr) {
      v.gateway_ip = *parse_ipv4(gw->ip());
      v.gateway_mac = *parse_mac(gw->mac());
    }
    v.served = gw != nullptr && v.port != dp::kNoPort && v.port < st.is_ext_port.size();
    if (!v.served) {
      external_of[id] = externals.size();
      externals.push_back(std::move(v));
      continue;
    }
    dp::NetworkState& ns = st.networks[v.network];
    ns.external = true;
    ns.ext_port = v.port;
    ns.vlan = v.vlan;
    ns.ext_gateway_ip = v.gateway_ip;
    ns.ext_gateway_mac = to_ether(v.gateway_mac);
    for (const auto& [sid, s] : model.subnets()) {
      const Ipv4Prefix p = *parse_ipv4_prefix(s.cidr());
      if (s.network_id() != id || !p.contains(v.gateway_ip)) continue;
      ns.ext_subnet = p.addr;
      ns.ext_mask = p.mask();
      ns.upstream_ip = v.upstream_ip = *parse_ipv4(s.gateway_ip());
    }
    st.ext_ports.push_back({v.port, v.vlan, v.network});
    st.is_ext_port[v.port] = true;
    external_of[id] = externals.size();
    externals.push_back(std::move(v));
  }
  auto served = [&](const std::string& network_id) -> ExternalView* {
    auto it = external_of.find(network_id);
    return it == external_of.end() || !externals[it->second].served ? nullptr
                                                                    : &externals[it->second];
  };

  // 2. The addresses answered on external networks, and floating IPs by fixed IP.
  const std::string serial = std::to_string(hash_serial_++);
  const size_t n_addrs = externals.size() + model.routers().size() + model.floating_ips().size();
  st.ext_addr_entries.reserve(n_addrs);  // hash values point into it: it must never move
  st.ext_addrs = dp::make_u64_hash("dvr_ext_" + serial, n_addrs);
  st.fip_by_fixed = dp::make_u64_hash("dvr_fip_" + serial, model.floating_ips().size());
  auto add_addr = [&](const dp::ExtAddr& a) {
    st.ext_addr_entries.push_back(a);
    const uint64_t key = dp::neighbor_key(a.network, a.outside_ip);
    rte_hash_add_key_data(st.ext_addrs, &key, &st.ext_addr_entries.back());
    return &st.ext_addr_entries.back();
  };
  for (const ExternalView& v : externals) {
    if (!v.served) continue;
    dp::ExtAddr a;
    a.kind = dp::ExtAddrKind::kGateway;
    a.network = v.network;
    a.outside_ip = v.gateway_ip;
    add_addr(a);
  }

  // 3. Routers: the external network, and where their SNAT is.
  std::map<std::string, std::shared_ptr<dp::SnatPool>> pools;
  for (const auto& [id, r] : model.routers()) {
    if (r.external_network_id().empty() || !model.routes_here(r)) continue;
    const uint16_t router = static_cast<uint16_t>(*routers_.find(id));
    dp::RouterState& rs = st.routers[router];
    rs.ext_network = static_cast<uint16_t>(*networks_.find(r.external_network_id()));
    rs.snat_enabled = r.enable_snat();
    auto b = model.snat_bindings().find(id);
    if (!r.enable_snat() || b == model.snat_bindings().end()) continue;
    if (b->second.host_id() != host.host_id()) {
      if (auto v = vteps_.find(b->second.host_id())) rs.snat_vtep = static_cast<uint16_t>(*v);
      continue;
    }
    // SNAT is ours: keep the sessions of an unchanged binding, start afresh otherwise.
    const uint32_t snat_ip = *parse_ipv4(model.snat_ip_of(b->second));
    const auto lo = static_cast<uint16_t>(b->second.ports().min());
    const auto hi = static_cast<uint16_t>(b->second.ports().max());
    std::shared_ptr<dp::SnatPool> pool;
    if (auto old = snat_pools_.find(id);
        old != snat_pools_.end() && old->second->snat_ip() == snat_ip &&
        old->second->port_min() == lo && old->second->port_max() == hi) {
      pool = old->second;
    } else {
      pool = std::make_shared<dp::SnatPool>(snat_ip, lo, hi, dp_.conntrack().timeouts());
    }
    pools[id] = pool;
    rs.snat_pool = static_cast<uint16_t>(st.snat_pools.size());
    st.snat_pools.push_back(pool);
    if (ExternalView* v = served(r.external_network_id())) {
      dp::ExtAddr a;
      a.kind = dp::ExtAddrKind::kSnat;
      a.router = router;
      a.network = rs.ext_network;
      a.outside_ip = snat_ip;
      a.pool = rs.snat_pool;
      add_addr(a);
      v->snat_ips.push_back(snat_ip);
    }
  }
  snat_pools_ = std::move(pools);

  // 4. Floating IPs: translated on the host of their VM (a centralized router: on its host).
  for (const auto& [id, f] : model.floating_ips()) {
    const v1::Router& r = model.routers().at(f.router_id());
    ExternalView* v = served(r.external_network_id());
    if (v == nullptr || !model.routes_here(r)) continue;
    const v1::VmPort& p = model.vm_ports().at(f.vm_port_id());
    if (model.distributed(r) && !ports.contains(p.dataplane_port())) continue;
    dp::ExtAddr a;
    a.kind = dp::ExtAddrKind::kFloatingIp;
    a.router = static_cast<uint16_t>(*routers_.find(f.router_id()));
    a.network = v->network;
    a.outside_ip = *parse_ipv4(f.floating_ip());
    a.inside_ip = *parse_ipv4(f.fixed_ip());
    const dp::ExtAddr* entry = add_addr(a);
    const uint64_t key = dp::neighbor_key(a.router, a.inside_ip);
    rte_hash_add_key_data(st.fip_by_fixed, &key, const_cast<dp::ExtAddr*>(entry));
    v->floating_ips.push_back(a.outside_ip);
  }
  externals_ = std::move(externals);

  // 5. Centralized routers hosted on another host: their gateways are that host's, reached over
  //    the overlay like a remote VM (frames to the gateway MAC are switched there, and ARP for
  //    the gateway IP is answered here with that MAC).
  for (const auto& [iid, ri] : model.interfaces()) {
    const v1::Router& r = model.routers().at(ri.router_id());
    if (model.routes_here(r)) continue;
    const v1::Subnet& s = model.subnets().at(ri.subnet_id());
    const auto net = networks_.find(s.network_id());
    if (!net) continue;
    dp::L2Entry e{dp::kNoPort, dp::kNoIndex};
    if (auto v = vteps_.find(model.snat_host_of(r.id()))) e.vtep = static_cast<uint16_t>(*v);
    const rte_ether_addr mac = to_ether(*parse_mac(ri.gateway_mac()));
    st.l2_entries.push_back(e);
    const uint64_t l2k = dp::l2_key(static_cast<uint16_t>(*net), mac);
    rte_hash_add_key_data(st.l2, &l2k, &st.l2_entries.back());
    st.neighbor_entries.push_back({mac, dp::kNoPort});
    const uint64_t nk = dp::neighbor_key(static_cast<uint16_t>(*net), *parse_ipv4(s.gateway_ip()));
    rte_hash_add_key_data(st.neighbors, &nk, &st.neighbor_entries.back());
  }
}

}  // namespace dvr
