// The checks an IPv4 packet sent to a gateway must pass before it is routed, shared by the
// ip4-input stage and the ip4-fast path so that both apply exactly the same rules.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "batch.h"
#include "drop_reason.h"
#include "l3_state.h"
#include "packet.h"

namespace dvr::dp {

// The drop reason for a frame that cannot be routed by `router`, or DropReason::kCount.
inline DropReason check_ipv4(rte_mbuf* m, const PacketMeta& meta, const RouterState& router) {
  if (meta.ethertype != RTE_ETHER_TYPE_IPV4) return DropReason::kNotIpv4;
  if (rte_pktmbuf_data_len(m) < meta.l3_offset + sizeof(rte_ipv4_hdr)) {
    return DropReason::kIpHeaderMalformed;
  }
  const rte_ipv4_hdr* ip = ipv4_of(m, meta);
  const uint8_t version = ip->version_ihl >> 4;
  const uint8_t ihl = ip->version_ihl & 0x0f;
  if (version != 4 || ihl < 5) return DropReason::kIpHeaderMalformed;
  if (ihl > 5) return DropReason::kIpOptions;
  if (!ipv4_header_checksum_ok(ip)) return DropReason::kIpBadChecksum;
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < sizeof(rte_ipv4_hdr) || total > rte_pktmbuf_pkt_len(m) - meta.l3_offset) {
    return DropReason::kIpBadLength;
  }
  if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) !=
      0) {
    return DropReason::kIpFragment;
  }
  if (!router.present || !router.admin_up) return DropReason::kRouterAdminDown;
  return DropReason::kCount;
}

// The same checks for a packet to one of this host's own addresses outside any router (the
// tunnel IP on the uplink, addresses on external networks): no router's admin state applies.
inline DropReason check_ipv4_to_host(rte_mbuf* m, const PacketMeta& meta) {
  static const RouterState kNoRouter{true, true, nullptr};
  return check_ipv4(m, meta, kNoRouter);
}

}  // namespace dvr::dp
