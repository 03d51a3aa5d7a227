#include "eth_input.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

namespace dvr::dp {

void EthInputStage::process(Batch& batch, WorkerContext& ctx) {
  uint16_t out = 0;
  uint16_t arp = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (i + 1 < batch.count) rte_prefetch0(rte_pktmbuf_mtod(batch.pkts[i + 1], void*));
    rte_mbuf* m = batch.pkts[i];
    if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr)) {
      ctx.drop(m, batch.rx_port, DropReason::kFrameTooShort);
      continue;
    }
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    uint16_t type = rte_be_to_cpu_16(eth->ether_type);
    uint16_t l3 = sizeof(rte_ether_hdr);
    if (type == RTE_ETHER_TYPE_VLAN) {
      if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr)) {
        ctx.drop(m, batch.rx_port, DropReason::kFrameTooShort);
        continue;
      }
      const auto* vlan = reinterpret_cast<const rte_vlan_hdr*>(eth + 1);
      type = rte_be_to_cpu_16(vlan->eth_proto);
      l3 += sizeof(rte_vlan_hdr);
    }
    // Only what later stages read before they write it; the rest is set where it is learned.
    PacketMeta& meta = batch.meta[i];
    meta.ethertype = type;
    meta.l3_offset = l3;
    meta.network = kNoNetwork;
    meta.flags = 0;
    arp += type == RTE_ETHER_TYPE_ARP;
    batch.keep(out, i);
  }
  batch.count = out;
  batch.arp_frames = arp;
}

}  // namespace dvr::dp
