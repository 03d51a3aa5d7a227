#include "external_resolver.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>

#include "arp_reply.h"
#include "nat/external_neighbors.h"
#include "u64_hash.h"
#include "underlay/neighbor_status.h"

namespace dvr {

namespace v1 = api::v1;

ExternalResolver::ExternalResolver(dp::Dataplane& dp, NeighborTimers timers)
    : dp_(dp), timers_(timers) {}

uint64_t ExternalResolver::now_ms() const {
  return steady_now_ms();
}

void ExternalResolver::configure(const std::vector<ExternalView>& externals) {
  all_ = externals;
  std::map<uint16_t, Net> next;
  for (const ExternalView& v : externals) {
    if (!v.served) continue;
    auto old = nets_.find(v.network);
    // Same port, VLAN and gateway address: what was learnt still holds.
    const bool keep = old != nets_.end() && old->second.view.port == v.port &&
                      old->second.view.vlan == v.vlan &&
                      old->second.view.gateway_ip == v.gateway_ip &&
                      old->second.view.gateway_mac == v.gateway_mac;
    Net n = keep ? std::move(old->second) : Net(timers_);
    // Addresses served here for the first time are announced (gratuitous ARP): the upstream
    // router and the other hosts must learn that they moved to this host's MAC.
    std::set<uint32_t> before;
    if (keep) {
      before.insert(n.view.floating_ips.begin(), n.view.floating_ips.end());
      before.insert(n.view.snat_ips.begin(), n.view.snat_ips.end());
    }
    n.view = v;
    for (const auto* list : {&v.floating_ips, &v.snat_ips}) {
      for (uint32_t ip : *list) {
        if (!before.contains(ip)) n.announce[ip] = kGratuitousArps;
      }
    }
    std::erase_if(n.announce, [&](const auto& a) {
      return std::find(v.floating_ips.begin(), v.floating_ips.end(), a.first) ==
                 v.floating_ips.end() &&
             std::find(v.snat_ips.begin(), v.snat_ips.end(), a.first) == v.snat_ips.end();
    });
    n.next_announce_ms = 0;
    set_wanted(n);
    next.emplace(v.network, std::move(n));
  }
  nets_ = std::move(next);
  publish();
  tick();  // ask and announce right away
}

void ExternalResolver::set_wanted(Net& n) {
  std::set<uint32_t> wanted = n.on_demand;
  if (n.view.upstream_ip != 0) wanted.insert(n.view.upstream_ip);
  n.table.set_wanted(wanted);
}

void ExternalResolver::send_arp(const Net& n, uint32_t sender_ip, uint32_t target_ip) {
  rte_mbuf* m = dp_.alloc_mbuf();
  if (m == nullptr) return;  // the pool is exhausted; the next tick asks again
  rte_ether_addr mine, broadcast, unknown{};
  std::copy(n.view.gateway_mac.begin(), n.view.gateway_mac.end(), mine.addr_bytes);
  std::memset(broadcast.addr_bytes, 0xff, sizeof(broadcast.addr_bytes));
  if (!dp::arp_build(m, RTE_ARP_OP_REQUEST, broadcast, mine, sender_ip, unknown, target_ip)) {
    rte_pktmbuf_free(m);
    return;
  }
  if (n.view.vlan != 0) {
    m->vlan_tci = n.view.vlan;
    if (rte_vlan_insert(&m) != 0) {
      rte_pktmbuf_free(m);
      return;
    }
  }
  dp_.send_from_control(n.view.port, m);  // a full queue frees it
}

void ExternalResolver::on_arp(const rte_mbuf* m, uint16_t port) {
  uint16_t offset = sizeof(rte_ether_hdr);
  uint16_t vlan = 0;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
    const auto* tag = reinterpret_cast<const rte_vlan_hdr*>(eth + 1);
    vlan = rte_be_to_cpu_16(tag->vlan_tci) & 0x0FFF;
    offset += sizeof(rte_vlan_hdr);
  }
  if (rte_pktmbuf_data_len(m) < offset + sizeof(rte_arp_hdr)) return;
  for (auto& [idx, n] : nets_) {
    if (n.view.port != port || n.view.vlan != vlan) continue;
    const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, offset);
    Mac mac;
    std::memcpy(mac.data(), &arp->arp_data.arp_sha, mac.size());  // packed: bytes
    if (!is_unicast_mac(mac)) return;
    // Only addresses we asked for are learnt (NeighborTable ignores the rest).
    if (n.table.on_reply(rte_be_to_cpu_32(arp->arp_data.arp_sip), mac, now_ms())) publish();
    return;
  }
}

void ExternalResolver::on_resolve(const rte_mbuf* m) {
  const uint32_t ip = m->hash.fdir.lo;
  auto it = nets_.find(static_cast<uint16_t>(m->hash.fdir.hi));
  if (it == nets_.end()) return;
  Net& n = it->second;
  if (n.table.find(ip) != nullptr || n.on_demand.size() >= kMaxOnDemand) return;
  n.on_demand.insert(ip);
  set_wanted(n);
  bool changed = false;
  tick_net(n, now_ms(), changed);
  if (changed) publish();
}

void ExternalResolver::tick_net(Net& n, uint64_t now, bool& changed) {
  for (uint32_t ip : n.table.tick(now, changed)) send_arp(n, n.view.gateway_ip, ip);
  // On-demand addresses that never answered are forgotten (a later packet asks again).
  std::vector<uint32_t> failed;
  for (uint32_t ip : n.on_demand) {
    const NeighborTable::Entry* e = n.table.find(ip);
    if (e != nullptr && !e->has_mac && e->probes > timers_.max_probes) failed.push_back(ip);
  }
  if (!failed.empty()) {
    for (uint32_t ip : failed) n.on_demand.erase(ip);
    set_wanted(n);
  }
  if (!n.announce.empty() && now >= n.next_announce_ms) {
    for (auto it = n.announce.begin(); it != n.announce.end();) {
      send_arp(n, it->first, it->first);  // gratuitous: sender = target = the address
      it = --it->second == 0 ? n.announce.erase(it) : std::next(it);
    }
    n.next_announce_ms = now + 1000;
  }
}

void ExternalResolver::tick() {
  const uint64_t now = now_ms();
  bool changed = false;
  for (auto& [idx, n] : nets_) tick_net(n, now, changed);
  if (changed) publish();
}

void ExternalResolver::publish() {
  auto st = std::make_shared<dp::ExternalNeighbors>();
  size_t count = 0;
  for (const auto& [idx, n] : nets_) count += n.table.entries().size();
  st->entries.reserve(count);  // hash values point into it
  st->macs = dp::make_u64_hash("dvr_extnb_" + std::to_string(serial_++), count);
  const uint16_t networks = nets_.empty() ? 0 : static_cast<uint16_t>(nets_.rbegin()->first + 1);
  st->upstream.resize(networks);
  st->upstream_known.resize(networks);
  for (const auto& [idx, n] : nets_) {
    for (const auto& [ip, e] : n.table.entries()) {
      if (!e.has_mac) continue;
      rte_ether_addr a;
      std::copy(e.mac.begin(), e.mac.end(), a.addr_bytes);
      if (ip == n.view.upstream_ip) {
        st->upstream[idx] = a;
        st->upstream_known[idx] = 1;
      }
      st->entries.push_back(a);
      const uint64_t key = dp::neighbor_key(idx, ip);
      rte_hash_add_key_data(st->macs, &key, &st->entries.back());
    }
  }
  dp_.set_external_neighbors(std::move(st));
}

v1::ExternalStatus ExternalResolver::status() const {
  v1::ExternalStatus s;
  const uint64_t now = now_ms();
  for (const ExternalView& v : all_) {
    v1::ExternalNetworkStatus* ns = s.add_networks();
    ns->set_network_id(v.network_id);
    ns->set_physical_network(v.physical_network);
    ns->set_port(v.port_name);
    ns->set_port_present(v.port != dp::kNoPort);
    ns->set_vlan(v.vlan);
    if (v.gateway_ip != 0) {
      ns->set_gateway_ip(format_ipv4(v.gateway_ip));
      ns->set_gateway_mac(format_mac(v.gateway_mac));
    }
    if (v.upstream_ip != 0) ns->set_upstream_ip(format_ipv4(v.upstream_ip));
    for (uint32_t ip : v.floating_ips) ns->add_floating_ips(format_ipv4(ip));
    for (uint32_t ip : v.snat_ips) ns->add_snat_ips(format_ipv4(ip));
    auto it = nets_.find(v.network);
    if (!v.served || it == nets_.end()) continue;
    append_neighbor_rows(it->second.table, now, ns->mutable_neighbors());
  }
  return s;
}

}  // namespace dvr
