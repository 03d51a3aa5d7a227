#include "outer_header.h"

#include <cstring>

namespace dvr {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace

std::optional<uint32_t> underlay_next_hop(uint32_t remote, const Ipv4Prefix& onlink,
                                          const std::vector<UnderlayRouteEntry>& routes) {
  if (onlink.contains(remote)) return remote;
  const UnderlayRouteEntry* best = nullptr;
  for (const auto& r : routes) {
    if (r.destination.contains(remote) &&
        (best == nullptr || r.destination.depth > best->destination.depth)) {
      best = &r;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->nexthop;
}

dp::OuterHeader make_outer_header(const Mac& src_mac, const Mac& dst_mac, uint32_t src_ip,
                                  uint32_t dst_ip, uint16_t udp_port) {
  dp::OuterHeader h;
  uint8_t* b = h.bytes;
  std::memcpy(b, dst_mac.data(), 6);
  std::memcpy(b + 6, src_mac.data(), 6);
  put16(b + 12, 0x0800);
  uint8_t* ip = b + dp::kOuterIpOffset;
  ip[0] = 0x45;
  put16(ip + 6, 0x4000);  // DF: VTEPs must not fragment (RFC 7348 section 4.3)
  ip[8] = 64;
  ip[9] = 17;  // UDP
  put32(ip + 12, src_ip);
  put32(ip + 16, dst_ip);
  uint8_t* udp = b + dp::kOuterUdpOffset;
  put16(udp + 2, udp_port);
  b[dp::kVxlanHeaderOffset] = dp::kVxlanFlagVniValid;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
  h.ip_sum = sum;
  h.resolved = true;
  return h;
}

}  // namespace dvr
