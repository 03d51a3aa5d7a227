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
};

struct Batch {
  uint16_t rx_port = 0;
  uint16_t count = 0;
  rte_mbuf* pkts[kBurstSize];
  PacketMeta meta[kBurstSize];

  // Keeps packet i for the next stage; stages call it for survivors in order, so compaction is
  // stable and in place.
  void keep(uint16_t& out, uint16_t i) {
    pkts[out] = pkts[i];
    meta[out] = meta[i];
    ++out;
  }
};

}  // namespace dvr::dp
