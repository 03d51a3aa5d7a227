#include "nat44_out.h"

#include <rte_cycles.h>
#include <rte_ip.h>

#include <cstring>

#include "../hash_batch.h"
#include "../nat/nat_rewrite.h"
#include "../nat/snat_pool.h"
#include "../overlay/vxlan_encap.h"
#include "../packet.h"

namespace dvr::dp {

namespace {

// Default SNAT on this host: the session of the VM's endpoint (created on the first packet).
DropReason snat_outbound(rte_ipv4_hdr* ip, uint32_t avail, SnatPool& pool, uint32_t now_ms,
                         WorkerContext& ctx) {
  rte_ipv4_hdr* inner = nullptr;
  uint32_t inner_avail = 0;
  NatProto proto;
  uint16_t port = 0;
  if (icmp_error_quote(ip, avail, inner, inner_avail)) {
    // The VM reports an error about a packet it received through SNAT: that packet's
    // destination is the VM's endpoint, whose session must exist.
    const NatPorts q = nat_ports(inner, inner_avail);
    if (!q.has_ports || !nat_proto_of(inner->next_proto_id, proto) ||
        !pool.find_outbound(proto, rte_be_to_cpu_32(inner->dst_addr), q.dst, port)) {
      return DropReason::kNatUntranslatable;
    }
    nat_rewrite_quoted(ip, avail, NatSide::kDestination, pool.snat_ip(), true, port);
    nat_rewrite(ip, avail, NatSide::kSource, pool.snat_ip(), false, 0);
    return DropReason::kCount;
  }
  const NatPorts p = nat_ports(ip, avail);
  if (!p.has_ports || !nat_proto_of(ip->next_proto_id, proto)) {
    return DropReason::kNatUntranslatable;
  }
  switch (pool.outbound(proto, rte_be_to_cpu_32(ip->src_addr), p.src, p.tcp_flags, now_ms, port)) {
    case SnatPool::Result::kExhausted:
      return DropReason::kSnatPortsExhausted;
    case SnatPool::Result::kCreated:
      ctx.counters().snat_sessions_created.inc();
      break;
    case SnatPool::Result::kFound:
      break;
  }
  nat_rewrite(ip, avail, NatSide::kSource, pool.snat_ip(), true, port);
  return DropReason::kCount;
}

// No floating IP, and the router's SNAT lives on another host: route the packet there over the
// overlay, addressed to that host's DVR MAC (docs/north-south.md). False when it was dropped.
DropReason redirect_to_snat_host(rte_mbuf* m, const PacketMeta& meta, const RouterState& r,
                                 WorkerContext& ctx) {
  const L3State& l3 = *ctx.l3();
  const UnderlayState* u = ctx.config().underlay;
  if (u != nullptr && u->uplink != kNoPort && rte_pktmbuf_pkt_len(m) > u->max_inner_frame()) {
    return DropReason::kOverlayMtuExceeded;
  }
  decrement_ttl(ipv4_of(m, meta));
  rte_ether_hdr* eth = eth_of(m);
  eth->src_addr = l3.dvr_mac;
  eth->dst_addr = l3.vteps[r.snat_vtep].dvr_mac;
  const EncapResult e = vxlan_output(ctx, m, r.snat_vtep, l3.networks[meta.network].vni);
  if (e != EncapResult::kQueued) return encap_drop_reason(e);
  ctx.counters().snat_redirected.inc();
  return DropReason::kCount;
}

// Gives the frame its external Ethernet header: from our gateway MAC, to `dst`, tagged with the
// network's VLAN if it has one. False when the mbuf has no headroom for the tag.
bool external_l2(rte_mbuf* m, PacketMeta& meta, const NetworkState& net,
                 const rte_ether_addr& dst) {
  if (net.vlan != 0) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_vlan_hdr)));
    if (eth == nullptr) return false;
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* vlan = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
    vlan->vlan_tci = rte_cpu_to_be_16(net.vlan);
    vlan->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    meta.l3_offset = sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr);
  }
  rte_ether_hdr* eth = eth_of(m);
  eth->src_addr = net.ext_gateway_mac;
  eth->dst_addr = dst;
  return true;
}

// Sends a translated packet to its external next hop `next_ip` (host order), whose MAC is `mac`;
// without a MAC the packet is dropped and the control thread asked to resolve it (as with any
// router's incomplete neighbour entry without a queue).
void send_external(rte_mbuf* m, PacketMeta& meta, uint16_t network, uint32_t next_ip,
                   const rte_ether_addr* mac, uint16_t rx, WorkerContext& ctx) {
  const NetworkState& net = ctx.l3()->networks[network];
  if (mac == nullptr) {
    m->hash.fdir.lo = next_ip;
    m->hash.fdir.hi = network;
    ctx.count_drop(rx, meta.router, DropReason::kExternalUnresolved);
    ctx.punt(m, net.ext_port, PuntReason::kExternalResolve);
    return;
  }
  if (!external_l2(m, meta, net, *mac)) {
    ctx.drop_routed(m, rx, meta.router, DropReason::kEncapNoHeadroom);
    return;
  }
  ctx.counters().routers[meta.router].routed.inc();
  ctx.transmit(m, net.ext_port);
}

}  // namespace

void Nat44OutStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const uint16_t rx = batch.rx_port;

  // Pass 1: the packets for the external network; their floating IPs in one bulk lookup.
  HashBatch fips;
  bool external[kBurstSize];
  for (uint16_t i = 0; i < batch.count; ++i) {
    external[i] = (batch.meta[i].flags & kMetaExternal) != 0;
    if (!external[i]) continue;
    const uint32_t src = rte_be_to_cpu_32(ipv4_of(batch.pkts[i], batch.meta[i])->src_addr);
    fips.add(neighbor_key(batch.meta[i].router, src), i);
  }
  if (fips.size() == 0) return;
  fips.lookup(l3->fip_by_fixed);

  // Pass 2: translate (or send to the SNAT host). What goes beyond the upstream router leaves
  // now; on-link destinations wait for one bulk lookup that tells which are addresses this host
  // serves.
  const auto now_ms = static_cast<uint32_t>(rte_rdtsc() / ctx.config().tsc_per_ms);
  const ExternalNeighbors* nb = ctx.config().ext_neighbors;
  HashBatch local;
  uint16_t network_of[kBurstSize];
  for (uint16_t j = 0; j < fips.size(); ++j) {
    const uint16_t i = fips.packet(j);
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    const RouterState& r = l3->routers[meta.router];
    const ExtAddr* fip = fips.value<ExtAddr>(j);
    rte_ipv4_hdr* ip = ipv4_of(m, meta);
    const uint32_t avail = rte_pktmbuf_data_len(m) - meta.l3_offset;
    const uint16_t network = fip != nullptr ? fip->network : r.ext_network;
    DropReason drop = DropReason::kCount;
    if (fip == nullptr && r.snat_pool == kNoIndex) {
      // Not translated here.
      if ((meta.flags & kMetaForSnat) != 0) {
        drop = DropReason::kSnatNotHosted;  // never back over the overlay
      } else if (!r.snat_enabled) {
        drop = DropReason::kSnatDisabled;
      } else if (r.snat_vtep == kNoIndex) {
        drop = DropReason::kNoSnatHost;
      } else {
        drop = redirect_to_snat_host(m, meta, r, ctx);
        if (drop == DropReason::kCount) continue;
      }
    } else if (network >= l3->networks.size() || !l3->networks[network].external) {
      drop = DropReason::kNoExternalPath;
    } else if (fip != nullptr) {
      // An ICMP error the VM sends quotes a packet addressed to its fixed IP.
      nat_rewrite_quoted(ip, avail, NatSide::kDestination, fip->outside_ip, false, 0);
      nat_rewrite(ip, avail, NatSide::kSource, fip->outside_ip, false, 0);
    } else {
      drop = snat_outbound(ip, avail, *l3->snat_pools[r.snat_pool], now_ms, ctx);
    }
    if (drop != DropReason::kCount) {
      ctx.drop_routed(m, rx, meta.router, drop);
      continue;
    }
    ctx.counters().nat_outbound.inc();
    decrement_ttl(ip);
    network_of[i] = network;
    const NetworkState& net = l3->networks[network];
    const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
    if ((dst & net.ext_mask) == net.ext_subnet) {
      local.add(neighbor_key(network, dst), i);  // on-link: ours (hairpin) or a neighbour's
    } else {
      // Beyond the upstream router: the common case, and no hash lookup.
      send_external(m, meta, network, net.upstream_ip,
                    nb != nullptr ? nb->upstream_of(network) : nullptr, rx, ctx);
    }
  }
  local.lookup(l3->ext_addrs);

  // Pass 3, on-link destinations: hairpin what is ours; the rest goes to its neighbour.
  HashBatch next;
  for (uint16_t j = 0; j < local.size(); ++j) {
    const uint16_t i = local.packet(j);
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    const NetworkState& net = l3->networks[network_of[i]];
    if (local.value<ExtAddr>(j) != nullptr) {
      if (!external_l2(m, meta, net, net.ext_gateway_mac)) {
        ctx.drop_routed(m, rx, meta.router, DropReason::kEncapNoHeadroom);
      } else {
        ctx.counters().routers[meta.router].routed.inc();
        ctx.loopback(m, net.ext_port, meta.router);
      }
      continue;
    }
    next.add(neighbor_key(network_of[i], rte_be_to_cpu_32(ipv4_of(m, meta)->dst_addr)), i);
  }
  next.lookup(nb != nullptr ? nb->macs : nullptr);
  for (uint16_t j = 0; j < next.size(); ++j) {
    const uint16_t i = next.packet(j);
    rte_mbuf* m = batch.pkts[i];
    send_external(m, batch.meta[i], network_of[i],
                  rte_be_to_cpu_32(ipv4_of(m, batch.meta[i])->dst_addr),
                  next.value<rte_ether_addr>(j), rx, ctx);
  }

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (!external[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
