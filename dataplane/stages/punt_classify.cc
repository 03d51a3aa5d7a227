#include "punt_classify.h"

#include <rte_ether.h>

namespace dvr::dp {

void PuntClassifyStage::process(Batch& batch, WorkerContext& ctx) {
  if (batch.arp_frames == 0) return;
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (batch.meta[i].ethertype == RTE_ETHER_TYPE_ARP) {
      ctx.punt(batch.pkts[i], batch.rx_port, PuntReason::kArp);
    } else {
      batch.keep(out, i);
    }
  }
  batch.count = out;
}

}  // namespace dvr::dp
