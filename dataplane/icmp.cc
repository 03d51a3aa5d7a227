#include "icmp.h"

#include <rte_icmp.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "packet.h"

namespace dvr::dp {

namespace {

constexpr uint16_t kIcmpErrorHeaders = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);

// One's complement add of a 16-bit word (network order) to a checksum (network order).
uint16_t checksum_add(uint16_t cksum_be, uint16_t delta_host) {
  uint32_t sum = uint32_t{rte_be_to_cpu_16(cksum_be)} + delta_host;
  sum = (sum & 0xffff) + (sum >> 16);
  return rte_cpu_to_be_16(static_cast<uint16_t>(sum));
}

// RFC 1812 4.3.2.7: never answer an ICMP error (or anything but an echo request) with an error.
bool may_answer_with_error(rte_mbuf* m, const PacketMeta& meta) {
  return ipv4_of(m, meta)->next_proto_id != IPPROTO_ICMP || is_icmp_echo_request(m, meta);
}

}  // namespace

bool is_icmp_echo_request(rte_mbuf* m, const PacketMeta& meta) {
  const rte_ipv4_hdr* ip = ipv4_of(m, meta);
  if (ip->next_proto_id != IPPROTO_ICMP) return false;
  if (rte_pktmbuf_data_len(m) < meta.l3_offset + sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr)) {
    return false;
  }
  return reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_type == kIcmpEchoRequest;
}

void send_echo_reply(rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port, WorkerContext& ctx) {
  make_echo_reply(m, meta, ctx);
  ctx.transmit(m, rx_port);
}

void make_echo_reply(rte_mbuf* m, const PacketMeta& meta, WorkerContext& ctx) {
  rte_ether_hdr* eth = eth_of(m);
  const rte_ether_addr sender = eth->src_addr;
  eth->src_addr = eth->dst_addr;
  eth->dst_addr = sender;
  rte_ipv4_hdr* ip = ipv4_of(m, meta);
  const uint32_t src = ip->src_addr;  // packed fields: no references
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  icmp->icmp_type = kIcmpEchoReply;
  // The type word dropped by 0x0800, so the checksum grows by 0x0800.
  icmp->icmp_cksum = checksum_add(icmp->icmp_cksum, 0x0800);
  ctx.counters().echo_replies.inc();
}

void drop_with_icmp_error(rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port, WorkerContext& ctx,
                          DropReason reason, uint8_t type, uint8_t code, uint16_t next_hop_mtu) {
  const L3State* l3 = ctx.l3();
  rte_ipv4_hdr* ip = ipv4_of(m, meta);
  // A packet routed after arriving translated, or over the overlay for SNAT, did not come from a
  // gateway address on its network: there is none to answer from (no error is sent).
  const bool can_build = (meta.flags & kMetaRouted) == 0 &&
                         meta.l3_offset == sizeof(rte_ether_hdr) && rte_pktmbuf_is_contiguous(m) &&
                         rte_pktmbuf_headroom(m) >= kIcmpErrorHeaders &&
                         may_answer_with_error(m, meta);
  if (!can_build || !ctx.take_icmp_error_token()) {
    ctx.drop_routed(m, rx_port, meta.router, reason);
    return;
  }
  ctx.count_drop(rx_port, meta.router, reason);

  // What the error needs from the original, read before the new headers overwrite it.
  const rte_ether_addr sender_mac = eth_of(m)->src_addr;
  const rte_ether_addr gateway_mac = eth_of(m)->dst_addr;
  const uint32_t sender_ip = ip->src_addr;
  const uint32_t gateway_ip =
      rte_cpu_to_be_32(l3->networks[meta.network].gateways[meta.gateway].ip);
  const uint16_t quoted =
      static_cast<uint16_t>(sizeof(rte_ipv4_hdr) +
                            std::min<uint16_t>(8, rte_be_to_cpu_16(ip->total_length) -
                                                      static_cast<uint16_t>(sizeof(rte_ipv4_hdr))));

  // Layout after prepending: eth | new ip | icmp | original ip header + 8 bytes.
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, kIcmpErrorHeaders));
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr) -
                                            kIcmpErrorHeaders - quoted));
  eth->dst_addr = sender_mac;
  eth->src_addr = gateway_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

  auto* nip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  std::memset(nip, 0, sizeof(*nip));
  nip->version_ihl = RTE_IPV4_VHL_DEF;
  nip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIcmpErrorHeaders + quoted));
  nip->time_to_live = 64;
  nip->next_proto_id = IPPROTO_ICMP;
  nip->src_addr = gateway_ip;
  nip->dst_addr = sender_ip;
  nip->hdr_checksum = rte_ipv4_cksum(nip);

  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(nip + 1);
  std::memset(icmp, 0, sizeof(*icmp));
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  icmp->icmp_seq_nb = rte_cpu_to_be_16(next_hop_mtu);  // the second half of the unused word
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, sizeof(*icmp) + quoted));

  ctx.counters().icmp_errors_sent.inc();
  ctx.transmit(m, rx_port);
}

}  // namespace dvr::dp
