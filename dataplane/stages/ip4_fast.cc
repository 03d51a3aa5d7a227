#include "ip4_fast.h"

#include <rte_prefetch.h>

#include "../filter_engine.h"
#include "../ip4_checks.h"
#include "../overlay/vxlan_encap.h"
#include "../packet.h"
#include "../port_security.h"
#include "../route_table/route_table.h"

namespace dvr::dp {

void Ip4FastStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr || ctx.config().ports[batch.rx_port].xconnect_configured) return;
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
    // ip4-fast runs first, before eth-input: it reads the Ethernet header itself (untagged IPv4
    // only) and leaves everything else to eth-input and the staged chain.
    if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) continue;
    const rte_ether_hdr* eth = eth_of(m);
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) continue;
    PacketMeta& meta = batch.meta[i];
    meta.ethertype = RTE_ETHER_TYPE_IPV4;
    meta.l3_offset = sizeof(rte_ether_hdr);
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

  // Pass 2: one bulk lookup; what resolves to a local VM is sent, through the filters when any
  // applies (they may drop it: then it is consumed too).
  uint32_t hops[kBurstSize];
  l3->routers[router].table->lookup_bulk(dst, hops, n);
  // Filters on the source side apply to the whole burst; the destination side's are a flag of
  // the next hop.
  const bool src_filtered = binding.sg_egress != nullptr || net.acl_egress != nullptr;
  bool sent[kBurstSize] = {};
  const NextHop* nh_of[kBurstSize];
  FilterJob jobs[kBurstSize];
  uint16_t n_jobs = 0;
  uint16_t n_send = 0;
  uint16_t send[kBurstSize];  // indices into cand/headers
  uint16_t consumed = 0;      // sent, or dropped by a filter
  for (uint16_t j = 0; j < n; ++j) {
    if (hops[j] >= l3->next_hops.size()) continue;  // kNoRoute included
    const NextHop& nh = l3->next_hops[hops[j]];
    if (nh.kind != NextHopKind::kGateway || !nh.resolved) continue;
    // A VM on another host: taken here when the overlay carries the packet as it is; anything
    // else (unresolved underlay, too big: an ICMP error) is for the staged chain.
    if (nh.port == kNoPort &&
        (nh.vtep == kNoIndex ||
         !vxlan_path_ready(ctx, nh.vtep, rte_pktmbuf_pkt_len(batch.pkts[cand[j]])))) {
      continue;
    }
    nh_of[j] = &nh;
    const uint16_t i = cand[j];
    sent[i] = true;
    ++consumed;
    if (src_filtered || nh.dst_filtered) {
      batch.meta[i].router = router;                       // for the drop counters
      jobs[n_jobs++] = FilterJob{j, nh.network, nh.port};  // pkt: the candidate index here
    } else {
      send[n_send++] = j;
    }
  }
  if (n_jobs > 0) {
    // run_filters works on batch indices: translate, filter, translate back.
    for (uint16_t k = 0; k < n_jobs; ++k) jobs[k].pkt = cand[jobs[k].pkt];
    uint16_t cand_of[kBurstSize];
    for (uint16_t j = 0; j < n; ++j) cand_of[cand[j]] = j;
    const uint16_t passed = run_filters(batch, ctx, binding.network, jobs, n_jobs);
    for (uint16_t k = 0; k < passed; ++k) send[n_send++] = cand_of[jobs[k].pkt];
  }
  uint64_t routed = n_send;
  for (uint16_t s = 0; s < n_send; ++s) {
    const uint16_t j = send[s];
    const NextHop& nh = *nh_of[j];
    decrement_ttl(headers[j]);
    // The Ethernet header sits right before the IP header (l3_offset was checked to be 14).
    auto* eth = reinterpret_cast<rte_ether_hdr*>(headers[j]) - 1;
    eth->dst_addr = nh.dst_mac;
    rte_mbuf* m = batch.pkts[cand[j]];
    if (nh.port != kNoPort) {
      eth->src_addr = nh.src_mac;
      ctx.transmit(m, nh.port);
      continue;
    }
    // To another host: this host's DVR MAC as source (docs/overlay.md), then VXLAN.
    eth->src_addr = l3->routers[router].centralized ? nh.src_mac : l3->dvr_mac;
    const EncapResult r = vxlan_output(ctx, m, nh.vtep, l3->networks[nh.network].vni);
    if (r != EncapResult::kQueued) {
      ctx.drop_routed(m, batch.rx_port, router, encap_drop_reason(r));
      --routed;
    }
  }
  if (routed > 0) ctx.counters().routers[router].routed.add(routed);
  if (consumed == 0) return;
  if (consumed == batch.count) {  // the common case: nothing is left for the staged chain
    batch.count = 0;
    return;
  }

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (!sent[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
