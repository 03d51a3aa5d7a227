// A worker's cache of filter verdicts for flows the filters recently allowed (an exact-match
// cache in front of the network ACLs and the conntrack table, like OVS's EMC or VPP's session
// lookup). One cache line answers "this flow, between these two ports, is allowed", where the
// full path classifies up to two ACLs and looks up one conntrack entry per filtered VM (two
// buckets and an entry in a table far larger than the caches).
//
// Correctness rests on three rules that the filter engine (filter_engine.cc) follows:
//  - an entry is only valid for the configuration generation it was filled under: any change of
//    rules, groups, ports or routes publishes a new generation, and every entry of an older one
//    misses (entries keep the generation's low 16 bits: a stale entry would need 65,536
//    configuration versions within one revalidation interval to match again);
//  - an entry is only valid for `revalidate_ticks` after the full path last judged the flow: a
//    busy flow takes the full path at least that often, which refreshes its conntrack entries
//    (their idle clock and state) long before their shortest timeout;
//  - only packets that cannot change a connection's state are served from the cache: TCP
//    segments with SYN, FIN or RST, and ICMP other than echo (errors are judged by the
//    connection they quote), always take the full path.
// Per worker, single-threaded: no atomics. Memory is allocated once, in the constructor.
#pragma once

#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <cstring>

namespace dvr::dp {

struct FlowCacheKey {
  uint32_t src_ip = 0, dst_ip = 0;      // host byte order
  uint16_t src_port = 0, dst_port = 0;  // as FlowKey (filter_engine.cc's fill_ports)
  uint16_t rx_port = 0, out_port = 0;   // dataplane ports: the filters that applied
  uint8_t protocol = 0;
  // Bit 0: routed (network ACLs apply; else switched within a network). Bit 1: an ICMP echo
  // reply (its key's ports can equal an echo request's, and rules may tell the two apart).
  // Bit 2: judged without the source side's filters (flood copies, frames from the overlay).
  uint8_t routed = 0;
  uint16_t pad = 0;  // always 0, so keys compare as words

  bool operator==(const FlowCacheKey& o) const { return std::memcmp(this, &o, sizeof o) == 0; }
};
static_assert(sizeof(FlowCacheKey) == 20);

// What a hit gives back: the ACL rules that allowed the flow, whose hit counters the caller
// bumps as if it had classified the packet.
struct FlowVerdict {
  static constexpr uint16_t kNoAcl = UINT16_MAX;
  uint16_t acl_egress_slot = kNoAcl;   // AclTable rule index (or default slot), or kNoAcl
  uint16_t acl_ingress_slot = kNoAcl;  // likewise for the destination network's ingress table
};

class FlowCache {
 public:
  // `entries`: rounded up to a power of two, at least 2 (two entries share a 64-byte set).
  // `revalidate_ticks`: in units of the clock callers pass (see tick_of()), 1 .. 2^32 - 1.
  // Throws std::bad_alloc / std::invalid_argument.
  FlowCache(uint32_t entries, uint32_t revalidate_ticks);
  ~FlowCache();
  FlowCache(const FlowCache&) = delete;
  FlowCache& operator=(const FlowCache&) = delete;

  uint32_t entries() const { return sets_ * kWays; }
  uint32_t revalidate_ticks() const { return revalidate_ticks_; }

  // The coarse clock callers pass: TSC / 2^16 (about 29 us at 2.25 GHz), 48 bits: it wraps after
  // centuries, so an idle entry never comes back into its window.
  static uint64_t tick_of(uint64_t tsc) { return tsc >> 16; }

  static uint32_t hash(const FlowCacheKey& key) {
    const Words w = words(key);
    uint32_t h = rte_hash_crc_8byte(w.a, 0x9e3779b9u);
    h = rte_hash_crc_8byte(w.b, h);
    return rte_hash_crc_4byte(w.c, h);
  }
  // Brings the key's set into the cache (call a few packets ahead of lookup).
  void prefetch(uint32_t hash) const { rte_prefetch0(&sets_array_[hash & set_mask_]); }

  // The verdict stored for `key` under `generation`, filled less than revalidate_ticks ago;
  // nullptr on a miss.
  const FlowVerdict* lookup(const FlowCacheKey& key, uint32_t hash, uint64_t generation,
                            uint64_t now_tick) const {
    const Set& set = sets_array_[hash & set_mask_];
    Words want = words(key);
    want.c |= uint32_t{kUsed} << 16;
    for (const Entry& e : set.way) {
      if (words(e.key) == want && same_generation(e.stamp, generation) &&
          age_of(e.stamp, now_tick) < revalidate_ticks_) {
        return &e.verdict;
      }
    }
    return nullptr;
  }
  // Stores (or refreshes) the key's verdict: in the key's own entry if the set has one, else in
  // the first entry that can no longer hit (empty, another generation, past its window), else in
  // the one filled longest ago.
  void insert(const FlowCacheKey& key, uint32_t hash, uint64_t generation, uint64_t now_tick,
              const FlowVerdict& verdict);
  // Forgets everything (tests; the generation check makes it unnecessary in the dataplane).
  void clear();

  // Insertion under thrashing, as OVS limits insertions into its exact-match cache: when more
  // flows are active than the cache holds, inserting every miss only evicts entries that would
  // have hit. The caller reports each burst's lookups and hits; while fewer than half of the
  // last kWindow lookups hit, admit() lets one candidate in kSparseInsert through.
  static constexpr uint32_t kWindow = 4096;
  static constexpr uint32_t kSparseInsert = 16;
  void account(uint32_t lookups, uint32_t hits) {
    window_lookups_ += lookups;
    window_hits_ += hits;
    if (window_lookups_ >= kWindow) {
      thrashing_ = window_hits_ * 2 < window_lookups_;
      window_lookups_ = window_hits_ = 0;
    }
  }
  bool thrashing() const { return thrashing_; }
  bool admit() { return !thrashing_ || ++admit_counter_ % kSparseInsert == 0; }

 private:
  static constexpr uint32_t kWays = 2;
  static constexpr uint16_t kUsed = 1;  // key.pad of a filled entry (0 in an empty one)
  static constexpr uint64_t kTickMask = (uint64_t{1} << 48) - 1;

  struct Entry {
    FlowCacheKey key;
    FlowVerdict verdict;
    uint64_t stamp;  // the generation's low 16 bits, then the 48-bit tick of the fill
  };
  struct alignas(64) Set {
    Entry way[kWays];
  };

  // A key as three words, assembled from its fields: a key the caller has just written field by
  // field is never read back as wider words (a store-forwarding stall on every packet).
  struct Words {
    uint64_t a, b;
    uint32_t c;
    bool operator==(const Words&) const = default;
  };
  static Words words(const FlowCacheKey& k) {
    return {uint64_t{k.src_ip} << 32 | k.dst_ip,
            uint64_t{k.src_port} << 48 | uint64_t{k.dst_port} << 32 | uint32_t{k.rx_port} << 16 |
                k.out_port,
            uint32_t{k.pad} << 16 | uint32_t{k.routed} << 8 | k.protocol};
  }
  static uint64_t stamp_of(uint64_t generation, uint64_t tick) {
    return generation << 48 | (tick & kTickMask);
  }
  static uint64_t age_of(uint64_t stamp, uint64_t now_tick) {
    return (now_tick - stamp) & kTickMask;
  }
  static bool same_generation(uint64_t stamp, uint64_t generation) {
    return (stamp >> 48) == (generation & 0xFFFF);
  }
  bool live(const Entry& e, uint64_t generation, uint64_t now_tick) const;

  Set* sets_array_ = nullptr;
  uint32_t sets_ = 0;
  uint32_t set_mask_ = 0;
  uint32_t revalidate_ticks_;
  uint32_t window_lookups_ = 0, window_hits_ = 0, admit_counter_ = 0;
  bool thrashing_ = false;
};

}  // namespace dvr::dp
