#include "arp_reply.h"

#include <rte_arp.h>
#include <rte_hash.h>

#include <cstring>

#include "packet.h"

namespace dvr::dp {

DropReason arp_request_check(const rte_mbuf* m, uint16_t l3_offset, uint32_t& target) {
  if (rte_pktmbuf_data_len(m) < l3_offset + sizeof(rte_arp_hdr)) return DropReason::kArpMalformed;
  const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, l3_offset);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
      arp->arp_plen != 4) {
    return DropReason::kArpMalformed;
  }
  // Replies and gratuitous announcements would teach us nothing: the control plane owns the
  // neighbor table.
  if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
      arp->arp_data.arp_sip == arp->arp_data.arp_tip) {
    return DropReason::kArpNotRequest;
  }
  target = rte_be_to_cpu_32(arp->arp_data.arp_tip);
  return DropReason::kCount;
}

const rte_ether_addr* arp_owner(const L3State& l3, uint16_t network, uint32_t ip) {
  const NetworkState& net = l3.networks[network];
  for (uint8_t g = 0; g < net.gateway_count; ++g) {
    if (net.gateways[g].ip == ip) return &net.gateways[g].mac;
  }
  const uint64_t key = neighbor_key(network, ip);
  void* data = nullptr;
  if (l3.neighbors != nullptr && rte_hash_lookup_data(l3.neighbors, &key, &data) >= 0) {
    return &static_cast<const Neighbor*>(data)->mac;
  }
  return nullptr;
}

void arp_make_reply(rte_mbuf* m, uint16_t l3_offset, const rte_ether_addr& answer) {
  auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, l3_offset);
  rte_arp_ipv4& d = arp->arp_data;
  const uint32_t tip = d.arp_tip;  // packed fields: copies, no references
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  d.arp_tha = d.arp_sha;
  d.arp_tip = d.arp_sip;
  d.arp_sha = answer;
  d.arp_sip = tip;
  rte_ether_hdr* eth = eth_of(m);
  eth->dst_addr = d.arp_tha;
  eth->src_addr = answer;
}

bool arp_build(rte_mbuf* m, uint16_t op, const rte_ether_addr& eth_dst, const rte_ether_addr& sha,
               uint32_t sip, const rte_ether_addr& tha, uint32_t tip) {
  constexpr uint16_t kFrame = 60;  // the Ethernet minimum, without FCS
  auto* b = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kFrame));
  if (b == nullptr) return false;
  std::memset(b, 0, kFrame);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(b);
  eth->dst_addr = eth_dst;
  eth->src_addr = sha;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = 6;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(op);
  arp->arp_data.arp_sha = sha;
  arp->arp_data.arp_sip = rte_cpu_to_be_32(sip);
  arp->arp_data.arp_tha = tha;
  arp->arp_data.arp_tip = rte_cpu_to_be_32(tip);
  return true;
}

}  // namespace dvr::dp
