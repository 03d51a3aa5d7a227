// The route table of a large router: a DIR-24-8 (the rte_lpm layout) updated in place.
//
// tbl24 has one 32-bit entry per /24: a next hop, kNoRoute, or a reference to a group of 256
// tbl8 entries, one per address of that /24, for the blocks that routes longer than /24 split.
// Lookups are one load, plus a second for addresses in split blocks.
//
// The control thread rewrites entries while workers look up: every entry is written with one
// atomic store, a new tbl8 group is filled before the tbl24 entry that points to it is stored
// (release), and a group that is no longer referenced is reused only after every reader has
// reported a quiescent state on the QSBR variable given to the constructor. Without a QSBR
// variable groups are reused at once, which is only correct when nobody reads concurrently.
//
// tbl8 groups live in chunks that are allocated as needed and never move, so the table never
// fills up and never has to be rebuilt. Memory comes from rte_malloc (hugepages in production):
// 64 MiB for tbl24, plus 1 MiB per 1024 tbl8 groups.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "route_set.h"
#include "route_table.h"

struct rte_rcu_qsbr;

namespace dvr::dp {

class LpmTable final : public RouteTable {
 public:
  struct Stats {
    size_t groups_in_use = 0;     // referenced from tbl24
    size_t groups_pending = 0;    // unreferenced, waiting for readers to be quiescent
    size_t groups_free = 0;       // ready for reuse
    size_t groups_capacity = 0;   // allocated (in chunks of kGroupsPerChunk)
    uint64_t groups_retired = 0;  // total ever unreferenced
  };

  static constexpr unsigned kGroupsPerChunkLog2 = 10;
  static constexpr uint32_t kGroupsPerChunk = 1u << kGroupsPerChunkLog2;
  static constexpr uint32_t kMaxChunks = 4096;  // 4M groups, 4 GiB of tbl8

  // Throws std::runtime_error when the 64 MiB tbl24 cannot be allocated.
  explicit LpmTable(rte_rcu_qsbr* qsbr);
  ~LpmTable() override;  // the caller guarantees that no reader uses the table any more
  LpmTable(const LpmTable&) = delete;
  LpmTable& operator=(const LpmTable&) = delete;

  void lookup_bulk(const uint32_t* ips, NextHopId* hops, unsigned n) const override;
  size_t memory_bytes() const override;
  size_t route_count() const override { return route_count_.load(std::memory_order_relaxed); }
  const char* kind() const override { return "lpm"; }

  // Control thread. Fills a new, unpublished table from RouteSet::flatten() output.
  // Throws std::runtime_error when group memory cannot be allocated.
  void load(const std::vector<HopRange>& ranges);
  // Control thread. Points every address of `ranges` (ascending, disjoint) to `hop`. Either
  // completes or throws std::runtime_error before changing anything (group memory exhausted).
  void assign(const std::vector<AddrRange>& ranges, NextHopId hop);
  void set_route_count(size_t n) { route_count_.store(n, std::memory_order_relaxed); }
  // Control thread. Makes retired groups that no reader can still hold reusable; never blocks.
  void reclaim();
  Stats stats() const;

 private:
  struct Pending {
    uint32_t group;
    uint64_t token;  // rte_rcu_qsbr_start() after the group was unreferenced
  };

  uint32_t* group_entries(uint32_t group) const;
  void assign_range(uint32_t first, uint32_t last, NextHopId hop);
  void write_block(uint32_t block, NextHopId hop);
  void write_partial(uint32_t block, unsigned lo, unsigned hi, NextHopId hop);
  uint32_t alloc_group();
  void retire_group(uint32_t group);
  void reserve_groups(size_t n);
  void add_chunk();

  rte_rcu_qsbr* qsbr_;
  uint32_t* tbl24_ = nullptr;
  std::unique_ptr<std::atomic<uint32_t*>[]> chunks_;  // kMaxChunks slots, filled in order
  uint32_t chunk_count_ = 0;
  std::vector<uint32_t> free_;    // capacity kept >= all groups, so pushes never allocate
  std::vector<Pending> pending_;  // FIFO (tokens ascend); same capacity guarantee
  size_t groups_in_use_ = 0;
  uint64_t groups_retired_ = 0;
  std::atomic<size_t> route_count_{0};
};

}  // namespace dvr::dp
