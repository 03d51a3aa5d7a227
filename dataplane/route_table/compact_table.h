// The route table of a small router: an immutable sorted array of address ranges.
//
// Built once by the control thread from RouteSet::flatten() and never modified: a route change
// builds a new table, which is published by pointer and the old one freed after RCU
// synchronization. About 8 bytes per range, at most 2 * routes + 1 ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "route_set.h"
#include "route_table.h"

namespace dvr::dp {

class CompactTable final : public RouteTable {
 public:
  // `ranges` as RouteSet::flatten() returns them: non-empty, ascending starts, the first 0.
  // Throws std::invalid_argument otherwise.
  CompactTable(const std::vector<HopRange>& ranges, size_t route_count);

  void lookup_bulk(const uint32_t* ips, NextHopId* hops, unsigned n) const override;
  size_t memory_bytes() const override;
  size_t route_count() const override { return route_count_; }
  const char* kind() const override { return "compact"; }

  size_t range_count() const { return count_; }

 private:
  std::unique_ptr<uint32_t[]> data_;  // count_ starts, then count_ next hops
  const uint32_t* starts_ = nullptr;
  const NextHopId* hops_ = nullptr;
  size_t count_ = 0;
  size_t route_count_ = 0;
};

}  // namespace dvr::dp
