#include "xconnect.h"

namespace dvr::dp {

void XconnectStage::process(Batch& batch, WorkerContext& ctx) {
  // The whole burst comes from one port, so the decision is made once per burst.
  const PortRuntime& rx = ctx.config().ports[batch.rx_port];
  if (!rx.xconnect_configured) return;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (rx.xconnect == kNoPort) {
      ctx.drop(batch.pkts[i], batch.rx_port, DropReason::kXconnectPeerDown);
    } else {
      ctx.transmit(batch.pkts[i], rx.xconnect);
    }
  }
  batch.count = 0;
}

}  // namespace dvr::dp
