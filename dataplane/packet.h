// Header access and small in-place packet edits shared by the stages.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

#include "batch.h"

namespace dvr::dp {

inline rte_ether_hdr* eth_of(rte_mbuf* m) {
  return rte_pktmbuf_mtod(m, rte_ether_hdr*);
}

inline rte_ipv4_hdr* ipv4_of(rte_mbuf* m, const PacketMeta& meta) {
  return rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_offset);
}

// Decrements the TTL and patches the header checksum incrementally (RFC 1624): the 16-bit word
// holding TTL drops by 0x0100, so the checksum grows by 0x0100 in one's complement arithmetic.
inline void decrement_ttl(rte_ipv4_hdr* ip) {
  --ip->time_to_live;
  uint32_t sum = uint32_t{rte_be_to_cpu_16(ip->hdr_checksum)} + 0x0100;
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(sum));
}

// True if an option-less IPv4 header's checksum is right: its five 32-bit words sum, in one's
// complement, to 0xffff. Cheaper than the generic rte_raw_cksum loop for the fixed 20 bytes.
inline bool ipv4_header_checksum_ok(const rte_ipv4_hdr* ip) {
  uint32_t w[5];
  std::memcpy(w, ip, sizeof(w));
  uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace dvr::dp
