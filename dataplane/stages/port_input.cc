#include "port_input.h"

#include <rte_arp.h>

#include "../packet.h"
#include "../port_security.h"

namespace dvr::dp {

namespace {

// The IPv4 source a frame claims, or nullopt-like false when it carries none we check.
bool claimed_source_ip(rte_mbuf* m, const PacketMeta& meta, uint32_t& ip) {
  const uint32_t avail = rte_pktmbuf_data_len(m);
  if (meta.ethertype == RTE_ETHER_TYPE_IPV4 && avail >= meta.l3_offset + sizeof(rte_ipv4_hdr)) {
    ip = rte_be_to_cpu_32(ipv4_of(m, meta)->src_addr);
    return true;
  }
  if (meta.ethertype == RTE_ETHER_TYPE_ARP && avail >= meta.l3_offset + sizeof(rte_arp_hdr)) {
    const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, meta.l3_offset);
    ip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
    // An ARP probe (RFC 5227) has sender 0.0.0.0 and claims nothing.
    return ip != 0;
  }
  return false;  // truncated headers are judged by the arp and ip4-input stages
}

}  // namespace

void PortInputStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const PortBinding& binding = l3->ports[batch.rx_port];
  if (!binding.bound) return;

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    meta.network = binding.network;
    if (binding.port_security) {
      const rte_ether_addr& src = eth_of(m)->src_addr;
      if (!source_mac_allowed(binding, src)) {
        ctx.drop(m, batch.rx_port, DropReason::kSpoofedSourceMac);
        continue;
      }
      uint32_t ip = 0;
      if (claimed_source_ip(m, meta, ip) && !source_ip_allowed(binding, src, ip)) {
        ctx.drop(m, batch.rx_port, DropReason::kSpoofedSourceIp);
        continue;
      }
    }
    batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
