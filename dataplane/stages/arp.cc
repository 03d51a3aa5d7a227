#include "arp.h"

#include "../arp_reply.h"

namespace dvr::dp {

void ArpStage::process(Batch& batch, WorkerContext& ctx) {
  if (batch.arp_frames == 0) return;
  const L3State* l3 = ctx.l3();
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    rte_mbuf* m = batch.pkts[i];
    const PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork || meta.ethertype != RTE_ETHER_TYPE_ARP) {
      batch.keep(out, i);
      continue;
    }
    uint32_t target = 0;
    if (const DropReason r = arp_request_check(m, meta.l3_offset, target);
        r != DropReason::kCount) {
      ctx.drop(m, batch.rx_port, r);
      continue;
    }
    const rte_ether_addr* answer = arp_owner(*l3, meta.network, target);
    if (answer == nullptr) {
      ctx.drop(m, batch.rx_port, DropReason::kArpUnknownTarget);
      continue;
    }
    // The reply goes back where the request came from.
    arp_make_reply(m, meta.l3_offset, *answer);
    ctx.counters().arp_replies.inc();
    ctx.transmit(m, batch.rx_port);
  }
  batch.count = out;
}

}  // namespace dvr::dp
