// A burst of packets travelling through the pipeline together.
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace dvr::dp {

inline constexpr uint16_t kBurstSize = 32;

// What earlier stages learned about a packet, so later stages do not parse it again.
struct PacketMeta {
  uint16_t ethertype;  // host order, after any VLAN tag
  uint16_t l3_offset;  // bytes from the start of the frame
  uint16_t network;    // port-input: the rx port's network, kNoNetwork when the port is unbound
  uint16_t router;     // l2-switch: the router whose gateway MAC the frame was sent to
  uint16_t out_port;   // ip4-lookup: the egress port
  uint8_t gateway;     // l2-switch: index of that gateway in the network's gateway list
  uint8_t flags;       // kMeta* below
  uint32_t next_hop;   // ip4-lookup: the route's next hop id
  uint8_t dst_mac[6];  // ip4-lookup: the resolved destination MAC
};

inline constexpr uint16_t kNoNetwork = UINT16_MAX;

// PacketMeta::flags.
// The stage that set `network` and `router` already decided the packet is routed by that router
// (it arrived translated from an external network, or over the overlay for SNAT): l2-switch
// leaves it alone.
inline constexpr uint8_t kMetaRouted = 1;
// ip4-lookup: the next hop is the router's external gateway; nat44-out takes the packet.
inline constexpr uint8_t kMetaExternal = 2;
// Sent here by another host for the router's default SNAT: never sent back over the overlay.
inline constexpr uint8_t kMetaForSnat = 4;

struct Batch {
  uint16_t rx_port = 0;
  uint16_t count = 0;
  uint16_t arp_frames = 0;  // set by eth-input: ARP-only stages skip bursts without any
  rte_mbuf* pkts[kBurstSize];
  PacketMeta meta[kBurstSize];

  // Keeps packet i for the next stage; stages call it for survivors in order, so compaction is
  // stable and in place.
  void keep(uint16_t& out, uint16_t i) {
    if (out != i) {  // nothing dropped yet: nothing to move
      pkts[out] = pkts[i];
      meta[out] = meta[i];
    }
    ++out;
  }
};

}  // namespace dvr::dp
