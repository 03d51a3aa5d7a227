#include "port_input.h"

#include <rte_arp.h>

#include "../packet.h"

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

bool ip_allowed(const PortBinding& b, const rte_ether_addr& src_mac, uint32_t ip) {
  if (rte_is_same_ether_addr(&src_mac, &b.mac)) {
    for (uint8_t i = 0; i < b.ip_count; ++i) {
      if (b.ips[i] == ip) return true;
    }
  }
  for (uint8_t i = 0; i < b.pair_count; ++i) {
    const AllowedPair& p = b.pairs[i];
    const bool mac_ok = p.any_mac ? rte_is_same_ether_addr(&src_mac, &b.mac)
                                  : rte_is_same_ether_addr(&src_mac, &p.mac);
    if (mac_ok && (ip & p.mask) == p.addr) return true;
  }
  return false;
}

bool mac_allowed(const PortBinding& b, const rte_ether_addr& src_mac) {
  if (rte_is_same_ether_addr(&src_mac, &b.mac)) return true;
  for (uint8_t i = 0; i < b.pair_count; ++i) {
    if (!b.pairs[i].any_mac && rte_is_same_ether_addr(&src_mac, &b.pairs[i].mac)) return true;
  }
  return false;
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
      if (!mac_allowed(binding, src)) {
        ctx.drop(m, batch.rx_port, DropReason::kSpoofedSourceMac);
        continue;
      }
      uint32_t ip = 0;
      if (claimed_source_ip(m, meta, ip) && !ip_allowed(binding, src, ip)) {
        ctx.drop(m, batch.rx_port, DropReason::kSpoofedSourceIp);
        continue;
      }
    }
    batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
