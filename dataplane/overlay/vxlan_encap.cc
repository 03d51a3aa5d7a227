#include "vxlan_encap.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

namespace dvr::dp {

namespace {

void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

uint16_t vxlan_source_port(const rte_mbuf* m) {
  const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  uint32_t h = 0;
  if (len >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00) {
    const uint8_t* ip = frame + 14;
    uint64_t addrs;
    std::memcpy(&addrs, ip + 12, sizeof(addrs));
    const uint8_t proto = ip[9];
    h = rte_hash_crc_8byte(addrs, proto);
    // Ports (or the echo identifier) only where every packet of the flow has them: never for a
    // fragment, whose first bytes after the header are not a transport header.
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    const bool fragment = ((ip[6] & 0x3f) | ip[7]) != 0;
    if (!fragment && ihl >= 20 && len >= 14 + ihl + 8) {
      const uint8_t* l4 = ip + ihl;
      uint32_t word = 0;
      if (proto == 6 || proto == 17 || proto == 132) {  // TCP, UDP, SCTP: both ports
        std::memcpy(&word, l4, sizeof(word));
      } else if (proto == 1 && (l4[0] == 8 || l4[0] == 0)) {  // ICMP echo: the identifier
        std::memcpy(&word, l4 + 4, 2);
      }
      h = rte_hash_crc_4byte(word, h);
    }
  } else if (len >= 12) {
    uint64_t dst_src;
    uint32_t rest;
    std::memcpy(&dst_src, frame, sizeof(dst_src));
    std::memcpy(&rest, frame + 8, sizeof(rest));
    h = rte_hash_crc_4byte(rest, rte_hash_crc_8byte(dst_src, 0));
  }
  // Fold the high bits in: the CRC's low bits alone spread less well.
  h ^= h >> 16;
  return static_cast<uint16_t>(0xc000u | (h & 0x3fffu));
}

EncapResult vxlan_output(WorkerContext& ctx, rte_mbuf* m, uint16_t vtep, uint32_t vni) {
  const UnderlayState* u = ctx.config().underlay;
  if (u == nullptr || u->uplink == kNoPort || vtep >= u->paths.size()) {
    return EncapResult::kNoOverlay;
  }
  const OuterHeader& path = u->paths[vtep];
  if (!path.resolved) return EncapResult::kUnresolved;
  const uint32_t inner = rte_pktmbuf_pkt_len(m);
  if (inner > u->max_inner_frame()) return EncapResult::kTooBig;
  const uint16_t src_port = vxlan_source_port(m);
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVxlanOverhead));
  if (outer == nullptr) return EncapResult::kNoHeadroom;

  std::memcpy(outer, path.bytes, kVxlanOverhead);
  const auto ip_len = static_cast<uint16_t>(inner + kVxlanOverhead - kOuterIpOffset);
  uint8_t* ip = outer + kOuterIpOffset;
  put_be16(ip + 2, ip_len);
  uint32_t sum = path.ip_sum + ip_len;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  put_be16(ip + 10, static_cast<uint16_t>(~sum));
  uint8_t* udp = outer + kOuterUdpOffset;
  put_be16(udp, src_port);
  put_be16(udp + 4, static_cast<uint16_t>(ip_len - 20));
  // UDP checksum stays 0 (RFC 7348 allows it for IPv4).
  uint8_t* vx = outer + kVxlanHeaderOffset;
  vx[4] = static_cast<uint8_t>(vni >> 16);
  vx[5] = static_cast<uint8_t>(vni >> 8);
  vx[6] = static_cast<uint8_t>(vni);

  ctx.counters().vxlan_encapsulated.inc();
  ctx.transmit(m, u->uplink);
  return EncapResult::kQueued;
}

DropReason encap_drop_reason(EncapResult r) {
  switch (r) {
    case EncapResult::kUnresolved:
      return DropReason::kUnderlayUnresolved;
    case EncapResult::kTooBig:
      return DropReason::kOverlayMtuExceeded;
    case EncapResult::kNoHeadroom:
      return DropReason::kEncapNoHeadroom;
    default:
      return DropReason::kRemoteDestination;
  }
}

}  // namespace dvr::dp
