// The underlay as workers see it: for every remote host (VTEP index), the outer headers that
// carry a frame there, resolved by the control thread (control/underlay/). Published on its own,
// apart from the tenant state, because underlay neighbours change on their own schedule (ARP
// replies, ageing) and a change must cost a few hundred bytes, not a rebuild of every table.
#pragma once

#include <cstdint>
#include <vector>

namespace dvr::dp {

// Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8), RFC 7348.
inline constexpr uint16_t kVxlanOverhead = 50;
inline constexpr uint16_t kOuterIpOffset = 14;
inline constexpr uint16_t kOuterUdpOffset = 34;
inline constexpr uint16_t kVxlanHeaderOffset = 42;
inline constexpr uint8_t kVxlanFlagVniValid = 0x08;  // the "I" flag

// The outer headers towards one remote host, ready to copy: everything is filled in except the
// IPv4 total length and checksum, the UDP length and source port, and the VNI.
struct OuterHeader {
  bool resolved = false;  // false: no route or no ARP entry for the next hop; drop
  uint8_t bytes[kVxlanOverhead] = {};
  // One's complement sum (not folded) of the template's IPv4 header with zero length and
  // checksum: the checksum of a packet is then ~fold(ip_sum + length).
  uint32_t ip_sum = 0;
};

struct UnderlayState {
  uint16_t uplink = UINT16_MAX;  // kNoPort: no overlay
  uint8_t uplink_mac[6] = {};
  uint16_t uplink_mtu = 1500;
  uint32_t tunnel_ip = 0;          // host order
  uint16_t udp_port = 4789;        // host order
  std::vector<OuterHeader> paths;  // [VTEP index]

  // The largest inner frame (Ethernet header included, no FCS) the uplink carries unfragmented.
  uint16_t max_inner_frame() const {
    return uplink_mtu > kVxlanOverhead - 14
               ? static_cast<uint16_t>(uplink_mtu - (kVxlanOverhead - 14))
               : 0;
  }
};

}  // namespace dvr::dp
