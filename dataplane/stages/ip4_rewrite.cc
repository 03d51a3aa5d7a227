#include "ip4_rewrite.h"

#include <cstring>

#include "../packet.h"

namespace dvr::dp {

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
    decrement_ttl(ipv4_of(m, meta));
    rte_ether_hdr* eth = eth_of(m);
    eth->src_addr = l3->next_hops[meta.next_hop].src_mac;
    std::memcpy(eth->dst_addr.addr_bytes, meta.dst_mac, sizeof(meta.dst_mac));
    if (meta.router != counted_router) {
      if (run > 0) ctx.counters().routers[counted_router].routed.add(run);
      counted_router = meta.router;
      run = 0;
    }
    ++run;
    ctx.transmit(m, meta.out_port);
  }
  if (run > 0) ctx.counters().routers[counted_router].routed.add(run);
  batch.count = out;
}

}  // namespace dvr::dp
