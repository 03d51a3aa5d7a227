#include "uplink_input.h"

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "../arp_reply.h"
#include "../filter_engine.h"
#include "../hash_batch.h"
#include "../icmp.h"
#include "../ip4_checks.h"
#include "../overlay/flood.h"
#include "../overlay/vxlan_encap.h"
#include "../packet.h"

namespace dvr::dp {

namespace {

constexpr uint16_t kInnerMinFrame = sizeof(rte_ether_hdr);
constexpr uint16_t kVxlanHeadersAfterIp = sizeof(rte_udp_hdr) + 8;  // UDP + VXLAN

// ARP on the uplink: a request for our tunnel IP is answered in place; a reply to it goes to the
// control thread, which resolves underlay neighbours; the rest is not ours.
void underlay_arp(rte_mbuf* m, const PacketMeta& meta, uint16_t rx, const UnderlayState& u,
                  WorkerContext& ctx) {
  uint32_t target = 0;
  const DropReason r = arp_request_check(m, meta.l3_offset, target);
  if (r == DropReason::kArpMalformed) {
    ctx.drop(m, rx, r);
    return;
  }
  const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, meta.l3_offset);
  if (rte_be_to_cpu_32(arp->arp_data.arp_tip) != u.tunnel_ip) {
    ctx.drop(m, rx, DropReason::kUnderlayArpIgnored);
    return;
  }
  if (r == DropReason::kArpNotRequest) {
    if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) &&
        arp->arp_data.arp_sip != arp->arp_data.arp_tip) {
      ctx.punt(m, rx, PuntReason::kUnderlayArp);
    } else {
      ctx.drop(m, rx, DropReason::kUnderlayArpIgnored);
    }
    return;
  }
  rte_ether_addr mine;
  std::memcpy(mine.addr_bytes, u.uplink_mac, sizeof(mine.addr_bytes));
  arp_make_reply(m, meta.l3_offset, mine);
  ctx.counters().arp_replies.inc();
  ctx.transmit(m, rx);
}

// ARP that came over the overlay (from a VTEP without an ARP responder, e.g. a plain Linux vxlan
// device): answered here from the network's neighbor table and sent back to the host that
// asked, like local ARP; never flooded. Consumes `m`.
void overlay_arp(rte_mbuf* m, const PacketMeta& meta, uint16_t rx, uint16_t vtep, const L3State& l3,
                 WorkerContext& ctx) {
  uint32_t target = 0;
  if (const DropReason r = arp_request_check(m, meta.l3_offset, target); r != DropReason::kCount) {
    ctx.drop(m, rx, r);
    return;
  }
  const rte_ether_addr* answer = arp_owner(l3, meta.network, target);
  if (answer == nullptr) {
    ctx.drop(m, rx, DropReason::kArpUnknownTarget);
    return;
  }
  arp_make_reply(m, meta.l3_offset, *answer);
  const EncapResult e = vxlan_output(ctx, m, vtep, l3.networks[meta.network].vni);
  if (e != EncapResult::kQueued) {
    ctx.drop(m, rx, encap_drop_reason(e));
    return;
  }
  ctx.counters().arp_replies.inc();
}

// What an IPv4 packet on the uplink is; kCount means VXLAN to decapsulate.
DropReason classify_ipv4(rte_mbuf* m, PacketMeta& meta, const UnderlayState& u) {
  if (const DropReason r = check_ipv4_to_host(m, meta); r != DropReason::kCount) return r;
  const rte_ipv4_hdr* ip = ipv4_of(m, meta);
  if (rte_be_to_cpu_32(ip->dst_addr) != u.tunnel_ip) return DropReason::kUnderlayNotLocal;
  if (ip->next_proto_id != IPPROTO_UDP) return DropReason::kUnderlayUnsupported;
  const uint32_t l4 = meta.l3_offset + sizeof(rte_ipv4_hdr);
  if (rte_pktmbuf_data_len(m) < l4 + sizeof(rte_udp_hdr)) return DropReason::kVxlanMalformed;
  const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, l4);
  if (rte_be_to_cpu_16(udp->dst_port) != u.udp_port) return DropReason::kUnderlayUnsupported;
  // The inner frame must be whole and contiguous: its headers are rewritten in place.
  const uint16_t ip_len = rte_be_to_cpu_16(ip->total_length);
  if (ip_len < sizeof(rte_ipv4_hdr) + kVxlanHeadersAfterIp + kInnerMinFrame ||
      rte_pktmbuf_data_len(m) < l4 + kVxlanHeadersAfterIp + kInnerMinFrame ||
      rte_be_to_cpu_16(udp->dgram_len) != ip_len - sizeof(rte_ipv4_hdr)) {
    return DropReason::kVxlanMalformed;
  }
  const auto* vx = rte_pktmbuf_mtod_offset(m, const uint8_t*, l4 + sizeof(rte_udp_hdr));
  if ((vx[0] & kVxlanFlagVniValid) == 0) return DropReason::kVxlanMalformed;
  return DropReason::kCount;
}

// The gateway of `net` whose subnet holds `dst`, or nullptr.
const Gateway* gateway_for(const NetworkState& net, uint32_t dst) {
  for (uint8_t g = 0; g < net.gateway_count; ++g) {
    const Gateway& gw = net.gateways[g];
    if ((dst & gw.mask) == (gw.ip & gw.mask)) return &gw;
  }
  return nullptr;
}

}  // namespace

void UplinkInputStage::process(Batch& batch, WorkerContext& ctx) {
  const UnderlayState* u = ctx.config().underlay;
  const L3State* l3 = ctx.l3();
  if (u == nullptr || l3 == nullptr || batch.rx_port != u->uplink) return;
  const uint16_t rx = batch.rx_port;

  // Pass 1: the underlay's own traffic is handled here; VXLAN packets queue for two bulk
  // lookups, the sender's tunnel IP and the VNI.
  HashBatch senders, vnis;
  for (uint16_t i = 0; i < batch.count; ++i) {
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    if (meta.ethertype == RTE_ETHER_TYPE_ARP) {
      underlay_arp(m, meta, rx, *u, ctx);
      continue;
    }
    if (meta.ethertype != RTE_ETHER_TYPE_IPV4) {
      ctx.drop(m, rx, DropReason::kUnderlayUnsupported);
      continue;
    }
    const DropReason r = classify_ipv4(m, meta, *u);
    if (r == DropReason::kUnderlayUnsupported && is_icmp_echo_request(m, meta)) {
      // The reply's source MAC is the request's destination: make that ours (a broadcast
      // destination must not become a source).
      std::memcpy(eth_of(m)->dst_addr.addr_bytes, u->uplink_mac, sizeof(u->uplink_mac));
      send_echo_reply(m, meta, rx, ctx);
      continue;
    }
    if (r != DropReason::kCount) {
      ctx.drop(m, rx, r);
      continue;
    }
    const rte_ipv4_hdr* ip = ipv4_of(m, meta);
    const auto* vx = reinterpret_cast<const uint8_t*>(ip + 1) + sizeof(rte_udp_hdr);
    senders.add(rte_be_to_cpu_32(ip->src_addr), i);
    vnis.add(uint64_t{vx[4]} << 16 | uint64_t{vx[5]} << 8 | vx[6], i);
  }
  senders.lookup(l3->vtep_by_ip);
  vnis.lookup(l3->vni_networks);

  // Pass 2: decapsulate; a frame another host routed gets the gateway MAC back in place of that
  // host's DVR MAC; then one bulk L2 lookup for the unicast ones.
  HashBatch fdb;
  uint16_t network_of[kBurstSize];
  bool to_route[kBurstSize] = {};
  for (uint16_t j = 0; j < senders.size(); ++j) {
    const uint16_t i = senders.packet(j);
    rte_mbuf* m = batch.pkts[i];
    const void* vtep_data = senders.value<void>(j);
    const void* net_data = vnis.value<void>(j);
    if (vtep_data == nullptr) {
      ctx.drop(m, rx, DropReason::kVxlanUnknownVtep);
      continue;
    }
    if (net_data == nullptr) {
      ctx.drop(m, rx, DropReason::kVxlanUnknownVni);
      continue;
    }
    // Hash values hold small integers, not pointers (see tenant_forwarding.cc).
    const auto vtep = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(vtep_data) - 1);
    const auto network = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(net_data) - 1);
    // The outer packet may carry Ethernet padding: the inner frame ends where the UDP payload
    // does.
    const uint32_t inner_len = rte_be_to_cpu_16(ipv4_of(m, batch.meta[i])->total_length) -
                               sizeof(rte_ipv4_hdr) - kVxlanHeadersAfterIp;
    rte_pktmbuf_adj(m, static_cast<uint16_t>(batch.meta[i].l3_offset + sizeof(rte_ipv4_hdr) +
                                             kVxlanHeadersAfterIp));
    if (rte_pktmbuf_pkt_len(m) > inner_len) rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - inner_len);
    ctx.counters().vxlan_decapsulated.inc();

    PacketMeta& meta = batch.meta[i];
    rte_ether_hdr* eth = eth_of(m);
    meta.ethertype = rte_be_to_cpu_16(eth->ether_type);
    meta.l3_offset = sizeof(rte_ether_hdr);
    meta.network = network;
    network_of[i] = network;
    const NetworkState& net = l3->networks[network];
    if (vtep < l3->vteps.size() &&
        rte_is_same_ether_addr(&eth->src_addr, &l3->vteps[vtep].dvr_mac)) {
      // Routed by the sending host: give the frame the source MAC the destination VM knows.
      if (meta.ethertype != RTE_ETHER_TYPE_IPV4 ||
          rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) {
        ctx.drop(m, rx, DropReason::kVxlanMalformed);
        continue;
      }
      if (rte_is_same_ether_addr(&eth->dst_addr, &l3->dvr_mac)) {
        // Addressed to our DVR MAC: the sender routed it to this host for its router's default
        // SNAT (nat44-out). The router is the one of the source's subnet.
        const Gateway* src_gw = gateway_for(net, rte_be_to_cpu_32(ipv4_of(m, meta)->src_addr));
        if (src_gw == nullptr) {
          ctx.drop(m, rx, DropReason::kVxlanNotLocal);
          continue;
        }
        meta.router = src_gw->router;
        meta.gateway = static_cast<uint8_t>(src_gw - net.gateways.data());
        meta.flags |= kMetaRouted | kMetaForSnat;
        to_route[i] = true;
        continue;
      }
      const Gateway* gw = gateway_for(net, rte_be_to_cpu_32(ipv4_of(m, meta)->dst_addr));
      if (gw == nullptr) {
        ctx.drop(m, rx, DropReason::kVxlanNotLocal);
        continue;
      }
      eth->src_addr = gw->mac;
    }
    if (const int g = net.gateway_index(eth->dst_addr); g >= 0) {
      // To a gateway of a centralized router this host hosts: the sender's host only switched
      // the frame here; route it.
      meta.router = net.gateways[g].router;
      meta.gateway = static_cast<uint8_t>(g);
      meta.flags |= kMetaRouted;
      to_route[i] = true;
      continue;
    }
    if (meta.ethertype == RTE_ETHER_TYPE_ARP) {
      overlay_arp(m, meta, rx, vtep, *l3, ctx);
      continue;
    }
    if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
      flood_frame(ctx, m, meta, rx, network, /*to_remote=*/false, DropReason::kBroadcastNotFlooded);
      continue;
    }
    fdb.add(l2_key(network, eth->dst_addr), i);
  }
  fdb.lookup(l3->l2);

  // Pass 3: deliver to the local port; never back into the overlay (split horizon).
  FilterJob filtered[kBurstSize];
  uint16_t n_filtered = 0;
  for (uint16_t j = 0; j < fdb.size(); ++j) {
    const uint16_t i = fdb.packet(j);
    rte_mbuf* m = batch.pkts[i];
    const L2Entry* e = fdb.value<L2Entry>(j);
    if (e == nullptr) {
      flood_frame(ctx, m, batch.meta[i], rx, network_of[i], /*to_remote=*/false,
                  DropReason::kUnknownUnicast);
    } else if (e->port == kNoPort) {
      ctx.drop(m, rx, DropReason::kVxlanNotLocal);
    } else if (l3->ports[e->port].sg_ingress != nullptr) {
      filtered[n_filtered++] = FilterJob{i, kNoNetwork, e->port};
    } else {
      ctx.transmit(m, e->port);
    }
  }
  if (n_filtered > 0) {
    const uint16_t passed =
        run_filters(batch, ctx, kNoNetwork, filtered, n_filtered, /*source_checked=*/true);
    for (uint16_t j = 0; j < passed; ++j)
      ctx.transmit(batch.pkts[filtered[j].pkt], filtered[j].out_port);
  }
  // Only frames to route here (for our SNAT, or to a centralized router we host) go on.
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (to_route[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
