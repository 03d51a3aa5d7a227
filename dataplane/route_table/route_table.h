// The read side of one router's IPv4 route table (one VRF), as workers use it.
//
// Two representations sit behind this interface (docs/route-tables.md): CompactTable, an immutable
// sorted range array for the many small routers, and LpmTable, a DIR-24-8 updated in place for the
// few very large ones. RouterRoutes (router_routes.h) owns the routes and picks the representation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dvr::dp {

using NextHopId = uint32_t;
inline constexpr NextHopId kNoRoute = UINT32_MAX;
// Next hop ids are 24-bit: the DIR-24-8 entry keeps the top byte for its own tags.
inline constexpr NextHopId kMaxNextHop = (NextHopId{1} << 24) - 1;

// An IPv4 prefix in host byte order; depth 0..32. Host bits are ignored (masked off) on input.
struct RoutePrefix {
  uint32_t addr = 0;
  uint8_t depth = 0;
  friend bool operator==(const RoutePrefix&, const RoutePrefix&) = default;
};

inline constexpr uint32_t prefix_mask(unsigned depth) {
  return depth == 0 ? 0 : ~uint32_t{0} << (32 - depth);
}
// One past the prefix's last address (2^32 for a prefix that reaches 255.255.255.255).
inline constexpr uint64_t prefix_end(uint32_t addr, unsigned depth) {
  return uint64_t{addr} + (uint64_t{1} << (32 - depth));
}

class RouteTable {
 public:
  virtual ~RouteTable() = default;
  // Worker side: longest-prefix match of n host-order addresses; kNoRoute where nothing matches.
  // Never allocates, locks or blocks; safe concurrently with the control thread's updates.
  virtual void lookup_bulk(const uint32_t* ips, NextHopId* hops, unsigned n) const = 0;
  // Bytes the read-side structure occupies (not counting the control thread's route map).
  virtual size_t memory_bytes() const = 0;
  virtual size_t route_count() const = 0;
  virtual const char* kind() const = 0;  // "compact" or "lpm"
};

}  // namespace dvr::dp
