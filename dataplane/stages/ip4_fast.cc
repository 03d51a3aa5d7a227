#include "ip4_fast.h"

#include <rte_prefetch.h>

#include "../ip4_checks.h"
#include "../packet.h"
#include "../port_security.h"
#include "../route_table/route_table.h"

namespace dvr::dp {

void Ip4FastStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const PortBinding& binding = l3->ports[batch.rx_port];
  if (!binding.bound) return;
  const NetworkState& net = l3->networks[binding.network];

  // Pass 1: the candidates, all for one router (the first one seen; a burst to several routers
  // leaves the others to the staged chain).
  uint32_t dst[kBurstSize];
  uint16_t cand[kBurstSize];
  rte_ipv4_hdr* headers[kBurstSize];  // pass 2 rewrites what pass 1 already located
  uint16_t n = 0;
  uint16_t router = kNoIndex;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (i + 1 < batch.count) rte_prefetch0(rte_pktmbuf_mtod(batch.pkts[i + 1], void*));
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    if (meta.ethertype != RTE_ETHER_TYPE_IPV4 || meta.l3_offset != sizeof(rte_ether_hdr) ||
        rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) {
      continue;
    }
    const rte_ether_hdr* eth = eth_of(m);
    const int g = net.gateway_index(eth->dst_addr);
    if (g < 0) continue;
    const uint16_t r = net.gateways[g].router;
    if (router != kNoIndex && r != router) continue;
    rte_ipv4_hdr* ip = ipv4_of(m, meta);
    if (binding.port_security &&
        (!source_mac_allowed(binding, eth->src_addr) ||
         !source_ip_allowed(binding, eth->src_addr, rte_be_to_cpu_32(ip->src_addr)))) {
      continue;
    }
    if (check_ipv4(m, meta, l3->routers[r]) != DropReason::kCount || ip->time_to_live <= 1) {
      continue;
    }
    router = r;
    dst[n] = rte_be_to_cpu_32(ip->dst_addr);
    headers[n] = ip;
    cand[n++] = i;
  }
  if (n == 0) return;

  // Pass 2: one bulk lookup, then rewrite and send what resolves to a local VM.
  uint32_t hops[kBurstSize];
  l3->routers[router].table->lookup_bulk(dst, hops, n);
  bool sent[kBurstSize] = {};
  uint64_t routed = 0;
  for (uint16_t j = 0; j < n; ++j) {
    if (hops[j] >= l3->next_hops.size()) continue;  // kNoRoute included
    const NextHop& nh = l3->next_hops[hops[j]];
    if (nh.kind != NextHopKind::kGateway || !nh.resolved || nh.port == kNoPort) continue;
    const uint16_t i = cand[j];
    rte_mbuf* m = batch.pkts[i];
    decrement_ttl(headers[j]);
    // The Ethernet header sits right before the IP header (l3_offset was checked to be 14).
    auto* eth = reinterpret_cast<rte_ether_hdr*>(headers[j]) - 1;
    eth->src_addr = nh.src_mac;
    eth->dst_addr = nh.dst_mac;
    ctx.transmit(m, nh.port);
    sent[i] = true;
    ++routed;
  }
  if (routed == 0) return;
  ctx.counters().routers[router].routed.add(routed);

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (!sent[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
