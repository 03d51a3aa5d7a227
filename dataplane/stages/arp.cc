#include "arp.h"

#include <rte_arp.h>
#include <rte_hash.h>

#include "../packet.h"

namespace dvr::dp {

namespace {

// The MAC that owns `ip` on `network`, or nullptr.
const rte_ether_addr* owner_of(const L3State& l3, uint16_t network, uint32_t ip) {
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

}  // namespace

void ArpStage::process(Batch& batch, WorkerContext& ctx) {
  if (batch.arp_frames == 0) return;
  const L3State* l3 = ctx.l3();
  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    rte_mbuf* m = batch.pkts[i];
    const PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork || meta.ethertype != RTE_ETHER_TYPE_ARP) {
      batch.keep(out, i);
      continue;
    }
    if (rte_pktmbuf_data_len(m) < meta.l3_offset + sizeof(rte_arp_hdr)) {
      ctx.drop(m, batch.rx_port, DropReason::kArpMalformed);
      continue;
    }
    auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, meta.l3_offset);
    if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
        arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
        arp->arp_plen != 4) {
      ctx.drop(m, batch.rx_port, DropReason::kArpMalformed);
      continue;
    }
    const uint32_t sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
    const uint32_t tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
    // Replies and gratuitous announcements would teach us nothing: the control plane owns the
    // neighbor table.
    if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || sip == tip) {
      ctx.drop(m, batch.rx_port, DropReason::kArpNotRequest);
      continue;
    }
    const rte_ether_addr* answer = owner_of(*l3, meta.network, tip);
    if (answer == nullptr) {
      ctx.drop(m, batch.rx_port, DropReason::kArpUnknownTarget);
      continue;
    }
    // Turn the request into the reply, in place, and send it back where it came from.
    rte_arp_ipv4& d = arp->arp_data;
    arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
    d.arp_tha = d.arp_sha;
    d.arp_tip = d.arp_sip;
    d.arp_sha = *answer;
    d.arp_sip = rte_cpu_to_be_32(tip);
    rte_ether_hdr* eth = eth_of(m);
    eth->dst_addr = d.arp_tha;
    eth->src_addr = *answer;
    ctx.counters().arp_replies.inc();
    ctx.transmit(m, batch.rx_port);
  }
  batch.count = out;
}

}  // namespace dvr::dp
