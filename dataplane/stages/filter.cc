#include "filter.h"

#include "../filter_engine.h"

namespace dvr::dp {

void FilterStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  // Routed packets from an unbound port (an external network, or the overlay for SNAT) were
  // judged by their source's filters where they came from: only the destination's apply.
  const bool bound = l3->ports[batch.rx_port].bound;
  const uint16_t src_net = bound ? l3->ports[batch.rx_port].network : kNoNetwork;

  FilterJob jobs[kBurstSize];
  uint16_t n = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    const PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork) continue;  // not routed: not this stage's business
    const uint16_t dst_net = l3->next_hops[meta.next_hop].network;
    if (filter_applies(*l3, batch.rx_port, src_net, dst_net, meta.out_port)) {
      jobs[n++] = FilterJob{i, dst_net, meta.out_port};
    }
  }
  if (n == 0) return;

  // Everything the filters did not pass is gone (dropped and counted by run_filters).
  bool gone[kBurstSize] = {};
  for (uint16_t j = 0; j < n; ++j) gone[jobs[j].pkt] = true;
  const uint16_t passed = run_filters(batch, ctx, src_net, jobs, n, /*source_checked=*/!bound);
  for (uint16_t j = 0; j < passed; ++j) gone[jobs[j].pkt] = false;
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (!gone[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
