#include "compact_table.h"

#include <stdexcept>

namespace dvr::dp {

namespace {

// Upper bound minus one, kLanes searches at a time: the index of the last start <= ip. The step
// count depends only on the table size, so the lanes advance in lockstep and their loads overlap;
// the conditional add compiles to a cmov, leaving no branch to mispredict.
template <unsigned kLanes>
inline void search(const uint32_t* starts, const NextHopId* hops, size_t count, const uint32_t* ips,
                   NextHopId* out) {
  size_t base[kLanes] = {};
  for (size_t len = count; len > 1;) {
    const size_t half = len / 2;
#pragma GCC unroll 8
    for (unsigned j = 0; j < kLanes; ++j) {
      base[j] += (starts[base[j] + half] <= ips[j]) ? half : 0;
    }
    len -= half;
  }
#pragma GCC unroll 8
  for (unsigned j = 0; j < kLanes; ++j) out[j] = hops[base[j]];
}

}  // namespace

CompactTable::CompactTable(const std::vector<HopRange>& ranges, size_t route_count)
    : count_(ranges.size()), route_count_(route_count) {
  if (ranges.empty() || ranges[0].start != 0) {
    throw std::invalid_argument("compact route table: ranges must start at address 0");
  }
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].start <= ranges[i - 1].start) {
      throw std::invalid_argument("compact route table: range starts must ascend");
    }
  }
  data_ = std::make_unique<uint32_t[]>(2 * count_);
  for (size_t i = 0; i < count_; ++i) {
    data_[i] = ranges[i].start;
    data_[count_ + i] = ranges[i].hop;
  }
  starts_ = data_.get();
  hops_ = data_.get() + count_;
}

void CompactTable::lookup_bulk(const uint32_t* ips, NextHopId* hops, unsigned n) const {
  constexpr unsigned kLanes = 8;
  unsigned i = 0;
  for (; i + kLanes <= n; i += kLanes) search<kLanes>(starts_, hops_, count_, ips + i, hops + i);
  for (; i < n; ++i) search<1>(starts_, hops_, count_, ips + i, hops + i);
}

size_t CompactTable::memory_bytes() const {
  return sizeof(*this) + 2 * count_ * sizeof(uint32_t);
}

}  // namespace dvr::dp
