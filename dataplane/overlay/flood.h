// Flooding inside a tenant network: broadcast, multicast and unknown-unicast frames go to the
// network's other local ports and are head-end replicated to the remote hosts the network's BUM
// policy names (Network.bum_flooding). Runs on workers.
#pragma once

#include <cstdint>

#include "../batch.h"
#include "../worker_context.h"

struct rte_mbuf;

namespace dvr::dp {

// Floods frame `m` of `network`, received on `rx_port`, whose source side has already been
// judged by the filters. Copies to local ports with security groups are judged by those ports'
// ingress rules. `to_remote`: replicate to remote hosts too (never for a frame that came from
// the overlay: split horizon). Consumes `m`; when there is nowhere to send it, it is dropped as
// `nowhere`.
void flood_frame(WorkerContext& ctx, rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port,
                 uint16_t network, bool to_remote, DropReason nowhere);

}  // namespace dvr::dp
