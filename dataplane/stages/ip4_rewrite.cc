#include "ip4_rewrite.h"

#include <cstring>

#include "../icmp.h"
#include "../overlay/vxlan_encap.h"
#include "../packet.h"

namespace dvr::dp {

namespace {

// A packet routed to a VM on another host: it leaves with this host's DVR MAC as its source (the
// gateway MAC exists on every host; the receiving host puts it back), encapsulated towards the
// VM's host. False when it was dropped: an oversized packet with DF set gets "fragmentation
// needed" with the overlay's MTU (RFC 1191); without DF it is dropped and counted the same way
// (dvrd does not fragment).
bool to_remote_host(rte_mbuf* m, const PacketMeta& meta, const NextHop& nh, uint16_t rx,
                    WorkerContext& ctx) {
  const L3State& l3 = *ctx.l3();
  const UnderlayState* u = ctx.config().underlay;
  rte_ipv4_hdr* ip = ipv4_of(m, meta);
  if (u != nullptr && u->uplink != kNoPort && rte_pktmbuf_pkt_len(m) > u->max_inner_frame()) {
    const auto mtu = static_cast<uint16_t>(u->max_inner_frame() - meta.l3_offset);
    if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0) {
      drop_with_icmp_error(m, meta, rx, ctx, DropReason::kOverlayMtuExceeded, kIcmpDestUnreachable,
                           kIcmpCodeFragmentationNeeded, mtu);
    } else {
      ctx.drop_routed(m, rx, meta.router, DropReason::kOverlayMtuExceeded);
    }
    return false;
  }
  decrement_ttl(ip);
  rte_ether_hdr* eth = eth_of(m);
  eth->src_addr = l3.routers[meta.router].centralized ? nh.src_mac : l3.dvr_mac;
  std::memcpy(eth->dst_addr.addr_bytes, meta.dst_mac, sizeof(meta.dst_mac));
  const EncapResult r = vxlan_output(ctx, m, nh.vtep, l3.networks[nh.network].vni);
  if (r != EncapResult::kQueued) {
    ctx.drop_routed(m, rx, meta.router, encap_drop_reason(r));
    return false;
  }
  return true;
}

}  // namespace

void Ip4RewriteStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  uint16_t out = 0;
  // The routed counter is added once per run of packets of one router, not once per packet.
  uint16_t counted_router = kNoIndex;
  uint64_t run = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    const PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork) {
      batch.keep(out, i);
      continue;
    }
    rte_mbuf* m = batch.pkts[i];
    const NextHop& nh = l3->next_hops[meta.next_hop];
    if (meta.out_port == kNoPort) {
      if (!to_remote_host(m, meta, nh, batch.rx_port, ctx)) continue;
    } else {
      decrement_ttl(ipv4_of(m, meta));
      rte_ether_hdr* eth = eth_of(m);
      eth->src_addr = nh.src_mac;
      std::memcpy(eth->dst_addr.addr_bytes, meta.dst_mac, sizeof(meta.dst_mac));
      ctx.transmit(m, meta.out_port);
    }
    if (meta.router != counted_router) {
      if (run > 0) ctx.counters().routers[counted_router].routed.add(run);
      counted_router = meta.router;
      run = 0;
    }
    ++run;
  }
  if (run > 0) ctx.counters().routers[counted_router].routed.add(run);
  batch.count = out;
}

}  // namespace dvr::dp
