#include "ip4_input.h"

#include <rte_ip.h>

#include "../ip4_checks.h"
#include "../packet.h"

namespace dvr::dp {

void Ip4InputStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    const PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork) {
      batch.keep(out, i);
      continue;
    }
    if (const DropReason r = check_ipv4(batch.pkts[i], meta, l3->routers[meta.router]);
        r != DropReason::kCount) {
      ctx.drop_routed(batch.pkts[i], batch.rx_port, meta.router, r);
      continue;
    }
    batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
