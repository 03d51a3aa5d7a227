#include "lpm_table.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace dvr::dp {

namespace {

// A tbl24 or tbl8 entry is a next hop (<= kMaxNextHop), kNoRoute, or, in tbl24 only,
// kExtTag | group index.
constexpr uint32_t kTagMask = 0xFF000000u;
constexpr uint32_t kExtTag = 0x80000000u;
constexpr uint32_t kGroupMask = 0x00FFFFFFu;
constexpr uint32_t kBlockEntries = 256;
constexpr size_t kTbl24Entries = size_t{1} << 24;
constexpr size_t kTbl24Bytes = kTbl24Entries * sizeof(uint32_t);
constexpr size_t kChunkBytes = size_t{LpmTable::kGroupsPerChunk} * kBlockEntries * sizeof(uint32_t);

constexpr bool is_ext(uint32_t e) {
  return (e & kTagMask) == kExtTag;
}

uint32_t* dpdk_alloc(const char* what, size_t bytes) {
  rte_errno = 0;
  void* p = rte_malloc_socket(what, bytes, RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
  if (p == nullptr) {
    const int err = rte_errno != 0 ? rte_errno : ENOMEM;
    throw std::runtime_error(std::string("route table: cannot allocate ") + what + " (" +
                             std::to_string(bytes) +
                             " bytes of DPDK memory): " + rte_strerror(err));
  }
  return static_cast<uint32_t*>(p);
}

}  // namespace

LpmTable::LpmTable(rte_rcu_qsbr* qsbr)
    : qsbr_(qsbr), chunks_(std::make_unique<std::atomic<uint32_t*>[]>(kMaxChunks)) {
  tbl24_ = dpdk_alloc("dvr_route_tbl24", kTbl24Bytes);
  std::memset(tbl24_, 0xFF, kTbl24Bytes);  // every entry kNoRoute
  static_assert(kNoRoute == 0xFFFFFFFFu);
}

LpmTable::~LpmTable() {
  for (uint32_t c = 0; c < chunk_count_; ++c) rte_free(chunks_[c].load(std::memory_order_relaxed));
  rte_free(tbl24_);
}

void LpmTable::lookup_bulk(const uint32_t* ips, NextHopId* hops, unsigned n) const {
  // All tbl24 loads first, so that their cache misses overlap.
  for (unsigned i = 0; i < n; ++i) {
    hops[i] = __atomic_load_n(&tbl24_[ips[i] >> 8], __ATOMIC_ACQUIRE);
  }
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t e = hops[i];
    if (is_ext(e)) [[unlikely]] {
      const uint32_t* group = group_entries(e & kGroupMask);
      hops[i] = __atomic_load_n(&group[ips[i] & 0xFF], __ATOMIC_RELAXED);
    }
  }
}

size_t LpmTable::memory_bytes() const {
  return sizeof(*this) + kTbl24Bytes + size_t{chunk_count_} * kChunkBytes +
         kMaxChunks * sizeof(std::atomic<uint32_t*>) + free_.capacity() * sizeof(uint32_t) +
         pending_.capacity() * sizeof(Pending);
}

uint32_t* LpmTable::group_entries(uint32_t group) const {
  uint32_t* chunk = chunks_[group >> kGroupsPerChunkLog2].load(std::memory_order_relaxed);
  return chunk + size_t{group & (kGroupsPerChunk - 1)} * kBlockEntries;
}

void LpmTable::load(const std::vector<HopRange>& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].hop == kNoRoute) continue;  // a new table holds kNoRoute everywhere
    const uint32_t last = i + 1 < ranges.size() ? ranges[i + 1].start - 1 : UINT32_MAX;
    assign_range(ranges[i].start, last, ranges[i].hop);
  }
}

void LpmTable::assign(const std::vector<AddrRange>& ranges, NextHopId hop) {
  // A group is needed for every block that a range covers only partly and that is not split
  // yet (unless it already holds `hop`). Reserve them all first: after that nothing can fail.
  size_t needed = 0;
  uint32_t last_counted = UINT32_MAX;
  const auto count = [&](uint32_t block) {
    const uint32_t e = tbl24_[block];
    if (!is_ext(e) && e != hop && block != last_counted) {
      ++needed;
      last_counted = block;
    }
  };
  for (const AddrRange& r : ranges) {
    const uint32_t first_block = r.first >> 8;
    const uint32_t last_block = r.last >> 8;
    const bool starts_mid = (r.first & 0xFF) != 0;
    const bool ends_mid = (r.last & 0xFF) != 0xFF;
    if (first_block == last_block) {
      if (starts_mid || ends_mid) count(first_block);
      continue;
    }
    if (starts_mid) count(first_block);
    if (ends_mid) count(last_block);
  }
  reserve_groups(needed);
  for (const AddrRange& r : ranges) assign_range(r.first, r.last, hop);
}

void LpmTable::assign_range(uint32_t first, uint32_t last, NextHopId hop) {
  const uint32_t first_block = first >> 8;
  const uint32_t last_block = last >> 8;
  const unsigned lo = first & 0xFF;
  const unsigned hi = last & 0xFF;
  if (first_block == last_block) {
    if (lo == 0 && hi == 0xFF) {
      write_block(first_block, hop);
    } else {
      write_partial(first_block, lo, hi, hop);
    }
    return;
  }
  uint32_t block = first_block;
  if (lo != 0) write_partial(block++, lo, 0xFF, hop);
  const uint32_t whole_end = hi == 0xFF ? last_block + 1 : last_block;  // <= 2^24, no overflow
  for (; block < whole_end; ++block) write_block(block, hop);
  if (hi != 0xFF) write_partial(last_block, 0, hi, hop);
}

void LpmTable::write_block(uint32_t block, NextHopId hop) {
  const uint32_t e = tbl24_[block];
  if (e == hop) return;
  __atomic_store_n(&tbl24_[block], hop, __ATOMIC_RELEASE);
  if (is_ext(e)) retire_group(e & kGroupMask);
}

void LpmTable::write_partial(uint32_t block, unsigned lo, unsigned hi, NextHopId hop) {
  const uint32_t e = tbl24_[block];
  if (!is_ext(e)) {
    if (e == hop) return;
    // Split the block: a group holding the old answer outside [lo, hi], published only once
    // it is complete.
    const uint32_t group = alloc_group();
    uint32_t* entries = group_entries(group);
    for (unsigned i = 0; i < kBlockEntries; ++i) {
      __atomic_store_n(&entries[i], (i >= lo && i <= hi) ? hop : e, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&tbl24_[block], kExtTag | group, __ATOMIC_RELEASE);
    return;
  }
  const uint32_t group = e & kGroupMask;
  uint32_t* entries = group_entries(group);
  for (unsigned i = lo; i <= hi; ++i) __atomic_store_n(&entries[i], hop, __ATOMIC_RELAXED);
  // Merge a block that has become uniform back into tbl24.
  if (entries[0] != hop || entries[kBlockEntries - 1] != hop) return;
  for (unsigned i = 1; i < kBlockEntries - 1; ++i) {
    if (entries[i] != hop) return;
  }
  __atomic_store_n(&tbl24_[block], hop, __ATOMIC_RELEASE);
  retire_group(group);
}

uint32_t LpmTable::alloc_group() {
  if (free_.empty()) reclaim();
  if (free_.empty()) add_chunk();
  const uint32_t group = free_.back();
  free_.pop_back();
  ++groups_in_use_;
  return group;
}

void LpmTable::retire_group(uint32_t group) {
  --groups_in_use_;
  ++groups_retired_;
  if (qsbr_ == nullptr) {
    free_.push_back(group);  // capacity reserved in add_chunk(): no allocation
  } else {
    // Readers that loaded the old tbl24 entry may still read the group until they are quiescent.
    pending_.push_back({group, rte_rcu_qsbr_start(qsbr_)});
  }
}

void LpmTable::reclaim() {
  if (qsbr_ == nullptr || pending_.empty()) return;
  size_t done = 0;
  if (rte_rcu_qsbr_check(qsbr_, pending_.back().token, false) == 1) {
    done = pending_.size();  // tokens ascend: the newest passed means all passed
  } else {
    while (done < pending_.size() && rte_rcu_qsbr_check(qsbr_, pending_[done].token, false) == 1) {
      ++done;
    }
  }
  for (size_t i = 0; i < done; ++i) free_.push_back(pending_[i].group);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
}

void LpmTable::reserve_groups(size_t n) {
  if (free_.size() >= n) return;
  reclaim();
  while (free_.size() < n) add_chunk();
}

void LpmTable::add_chunk() {
  if (chunk_count_ == kMaxChunks) {
    throw std::runtime_error("route table: tbl8 group limit reached (" +
                             std::to_string(size_t{kMaxChunks} * kGroupsPerChunk) + " groups)");
  }
  const size_t capacity = size_t{chunk_count_ + 1} * kGroupsPerChunk;
  free_.reserve(capacity);
  pending_.reserve(capacity);
  uint32_t* chunk = dpdk_alloc("dvr_route_tbl8", kChunkBytes);
  chunks_[chunk_count_].store(chunk, std::memory_order_release);
  const uint32_t base = chunk_count_ * kGroupsPerChunk;
  for (uint32_t i = kGroupsPerChunk; i-- > 0;) free_.push_back(base + i);  // lowest first
  ++chunk_count_;
}

LpmTable::Stats LpmTable::stats() const {
  Stats s;
  s.groups_in_use = groups_in_use_;
  s.groups_pending = pending_.size();
  s.groups_free = free_.size();
  s.groups_capacity = size_t{chunk_count_} * kGroupsPerChunk;
  s.groups_retired = groups_retired_;
  return s;
}

}  // namespace dvr::dp
