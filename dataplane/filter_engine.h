// Network ACLs and security groups, applied to packets whose destination is known: after the
// route lookup (routed packets) or the L2 lookup (switched frames). Runs on workers.
//
// Order: the source network's egress ACL, the destination network's ingress ACL (routed packets
// only), then the source VM's egress security groups and the destination VM's ingress security
// groups (every IPv4 packet, routed or switched). The first filter that denies drops the packet
// under its own reason. See docs/security.md.
#pragma once

#include <cstdint>

#include "batch.h"
#include "worker_context.h"

namespace dvr::dp {

struct FilterJob {
  uint16_t pkt;       // index into the batch
  uint16_t dst_net;   // routed: the egress network; kNoNetwork for a switched frame
  uint16_t out_port;  // the local dataplane port the packet is for
};

// True if any filter can apply to packets from the batch's rx port to `dst_net` / `out_port`:
// traffic between unfiltered ports and networks skips the engine entirely.
inline bool filter_applies(const L3State& l3, uint16_t rx_port, uint16_t src_net, uint16_t dst_net,
                           uint16_t out_port) {
  if (l3.ports[rx_port].sg_egress != nullptr) return true;
  if (out_port < l3.ports.size() && l3.ports[out_port].sg_ingress != nullptr) return true;
  if (dst_net == kNoNetwork) return false;  // switched: ACLs see routed traffic only
  return (src_net != kNoNetwork && l3.networks[src_net].acl_egress != nullptr) ||
         l3.networks[dst_net].acl_ingress != nullptr;
}

// Judges `jobs[0..n)` (all of `batch`, whose rx port is bound to network `src_net`, or
// kNoNetwork for frames from the overlay): drops and counts what a filter denies, and compacts
// `jobs` to the survivors, in order. Returns how many survive. `source_checked`: the source side
// (egress ACL and security groups) already judged these packets (flood copies, frames from the
// overlay); only the destination side's filters apply.
uint16_t run_filters(Batch& batch, WorkerContext& ctx, uint16_t src_net, FilterJob* jobs,
                     uint16_t n, bool source_checked = false);

}  // namespace dvr::dp
