#include "flow_cache.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace dvr::dp {

namespace {

constexpr uint32_t kMaxEntries = 1u << 24;

}  // namespace

FlowCache::FlowCache(uint32_t entries, uint32_t revalidate_ticks)
    : revalidate_ticks_(revalidate_ticks) {
  static_assert(sizeof(Entry) == 32 && sizeof(Set) == 64, "two entries per cache line");
  if (entries == 0 || entries > kMaxEntries)
    throw std::invalid_argument("flow cache size must be 1.." + std::to_string(kMaxEntries));
  if (revalidate_ticks == 0)
    throw std::invalid_argument("flow cache revalidation interval must be positive");
  sets_ = std::bit_ceil(std::max<uint32_t>(entries, kWays)) / kWays;
  set_mask_ = sets_ - 1;
  sets_array_ = static_cast<Set*>(std::aligned_alloc(alignof(Set), sets_ * sizeof(Set)));
  if (sets_array_ == nullptr) throw std::bad_alloc();
  clear();
}

FlowCache::~FlowCache() {
  std::free(sets_array_);
}

void FlowCache::clear() {
  for (uint32_t s = 0; s < sets_; ++s) sets_array_[s] = Set{};
}

bool FlowCache::live(const Entry& e, uint64_t generation, uint64_t now_tick) const {
  return e.key.pad == kUsed && same_generation(e.stamp, generation) &&
         age_of(e.stamp, now_tick) < revalidate_ticks_;
}

void FlowCache::insert(const FlowCacheKey& key, uint32_t hash, uint64_t generation,
                       uint64_t now_tick, const FlowVerdict& verdict) {
  Set& set = sets_array_[hash & set_mask_];
  FlowCacheKey stored = key;
  stored.pad = kUsed;
  // The key's own entry if present; else one that cannot hit any more (empty, another
  // generation, past its window); else the one filled longest ago.
  Entry* victim = nullptr;
  for (Entry& e : set.way) {
    if (e.key == stored) {
      victim = &e;
      break;
    }
  }
  if (victim == nullptr) {
    for (Entry& e : set.way) {
      if (!live(e, generation, now_tick)) {
        victim = &e;
        break;
      }
    }
  }
  if (victim == nullptr) {
    victim = &set.way[0];
    for (Entry& e : set.way) {
      if (age_of(e.stamp, now_tick) > age_of(victim->stamp, now_tick)) victim = &e;
    }
  }
  victim->key = stored;
  victim->verdict = verdict;
  victim->stamp = stamp_of(generation, now_tick);
}

}  // namespace dvr::dp
