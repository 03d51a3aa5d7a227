// The authoritative route set of one router (control thread only), and the two derived views
// the read-side tables are built from: flattened ranges and the uncovered parts of a prefix.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "route_table.h"

namespace dvr::dp {

// [start, next range's start): every address in it resolves to `hop` (kNoRoute: no route).
struct HopRange {
  uint32_t start;
  NextHopId hop;
};

// An inclusive address range.
struct AddrRange {
  uint32_t first;
  uint32_t last;
};

class RouteSet {
 public:
  using Key = std::pair<uint32_t, uint8_t>;  // (masked address, depth): parents sort first
  using Map = std::map<Key, NextHopId>;

  // Masks the host bits; throws std::invalid_argument for depth > 32.
  static RoutePrefix normalize(RoutePrefix p);
  static Key key(RoutePrefix p) { return {p.addr, p.depth}; }

  size_t size() const { return map_.size(); }
  const Map& map() const { return map_; }

  // `p` must be normalized in the following four.
  std::optional<NextHopId> find(RoutePrefix p) const;
  void set(RoutePrefix p, NextHopId hop);  // inserts or replaces; no-throw when p exists
  bool erase(RoutePrefix p);               // no-throw; false when p was absent
  // The next hop of the longest route strictly shorter than p that contains it, or kNoRoute.
  NextHopId covering_hop(RoutePrefix p) const;
  // The parts of p not covered by a strictly longer route of the set, ascending: the addresses
  // whose answer is p's own next hop while p exists (or its covering hop once it is deleted).
  std::vector<AddrRange> uncovered(RoutePrefix p) const;

  // Reference longest-prefix match: one exact lookup per populated depth, longest first.
  NextHopId lookup(uint32_t ip) const;

  // The whole address space as ascending non-overlapping ranges with their longest-prefix next
  // hop; adjacent ranges differ in next hop, the first starts at 0. At most 2 * size() + 1.
  std::vector<HopRange> flatten() const;

 private:
  Map map_;
  std::array<uint32_t, 33> per_depth_{};  // route count per depth, to skip empty depths
};

}  // namespace dvr::dp
