#include "ip4_input.h"

#include <rte_ip.h>

#include "../packet.h"

namespace dvr::dp {

namespace {

// The drop reason for a frame that cannot be routed, or kCount when it can.
DropReason check(rte_mbuf* m, const PacketMeta& meta, const L3State& l3) {
  if (meta.ethertype != RTE_ETHER_TYPE_IPV4) return DropReason::kNotIpv4;
  if (rte_pktmbuf_data_len(m) < meta.l3_offset + sizeof(rte_ipv4_hdr)) {
    return DropReason::kIpHeaderMalformed;
  }
  const rte_ipv4_hdr* ip = ipv4_of(m, meta);
  const uint8_t version = ip->version_ihl >> 4;
  const uint8_t ihl = ip->version_ihl & 0x0f;
  if (version != 4 || ihl < 5) return DropReason::kIpHeaderMalformed;
  if (ihl > 5) return DropReason::kIpOptions;
  // A correct header sums to 0xffff including its checksum field.
  if (!ipv4_header_checksum_ok(ip)) return DropReason::kIpBadChecksum;
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < sizeof(rte_ipv4_hdr) || total > rte_pktmbuf_pkt_len(m) - meta.l3_offset) {
    return DropReason::kIpBadLength;
  }
  if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) !=
      0) {
    return DropReason::kIpFragment;
  }
  const RouterState& r = l3.routers[meta.router];
  if (!r.present || !r.admin_up) return DropReason::kRouterAdminDown;
  return DropReason::kCount;
}

}  // namespace

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
    if (const DropReason r = check(batch.pkts[i], meta, *l3); r != DropReason::kCount) {
      ctx.drop_routed(batch.pkts[i], batch.rx_port, meta.router, r);
      continue;
    }
    batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
