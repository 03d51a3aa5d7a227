// VXLAN encapsulation towards a remote host (RFC 7348). Runs on workers.
#pragma once

#include <cstdint>

#include "../worker_context.h"

struct rte_mbuf;

namespace dvr::dp {

enum class EncapResult : uint8_t {
  kQueued,      // encapsulated and queued on the uplink
  kNoOverlay,   // no uplink, or the VTEP index is unknown to the underlay state
  kUnresolved,  // the underlay next hop is not resolved (yet)
  kTooBig,      // the frame would exceed the uplink's MTU once encapsulated
  kNoHeadroom,  // the mbuf has no room in front for the outer headers
};

// The UDP source port for a frame: a hash of its inner flow (IPv4 addresses and protocol, plus
// the TCP/UDP/SCTP ports or the ICMP echo identifier when the packet is not a fragment; the MAC
// addresses for other frames), in 49152..65535, so that the underlay's ECMP spreads flows but
// keeps each flow, fragments included, on one path.
uint16_t vxlan_source_port(const rte_mbuf* m);

// Prepends the outer headers for `vtep` with `vni` to the Ethernet frame `m` and queues it on
// the uplink. On anything but kQueued the mbuf is untouched and still the caller's, so that the
// caller can drop it under its own reason (or answer with an ICMP error).
EncapResult vxlan_output(WorkerContext& ctx, rte_mbuf* m, uint16_t vtep, uint32_t vni);

// True when vxlan_output would queue a frame of `frame_len` bytes for `vtep` (barring a lack of
// headroom): the fast path takes only those and leaves the rest to the stages that name drops.
inline bool vxlan_path_ready(const WorkerContext& ctx, uint16_t vtep, uint32_t frame_len) {
  const UnderlayState* u = ctx.config().underlay;
  return u != nullptr && u->uplink != kNoPort && vtep < u->paths.size() &&
         u->paths[vtep].resolved && frame_len <= u->max_inner_frame();
}

// The drop reason for an EncapResult other than kQueued.
DropReason encap_drop_reason(EncapResult r);

}  // namespace dvr::dp
