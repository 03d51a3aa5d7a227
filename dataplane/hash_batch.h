// Collects the keys of a burst for one rte_hash_lookup_bulk_data call, remembering which packet
// each key belongs to: the bulk lookup is what keeps hash probes off the per-packet critical path.
#pragma once

#include <rte_hash.h>

#include <cstdint>

#include "batch.h"

namespace dvr::dp {

class HashBatch {
 public:
  void add(uint64_t key, uint16_t packet) {
    keys_[n_] = key;
    key_ptrs_[n_] = &keys_[n_];
    packet_[n_++] = packet;
  }
  // Looks every collected key up at once; a null table finds nothing.
  void lookup(const rte_hash* table) {
    hits_ = 0;
    if (table != nullptr && n_ > 0) rte_hash_lookup_bulk_data(table, key_ptrs_, n_, &hits_, data_);
  }

  uint16_t size() const { return n_; }
  uint16_t packet(uint16_t j) const { return packet_[j]; }
  // The value stored with key j, or nullptr when it was not found.
  template <typename T>
  const T* value(uint16_t j) const {
    return (hits_ & (uint64_t{1} << j)) != 0 ? static_cast<const T*>(data_[j]) : nullptr;
  }

 private:
  uint16_t n_ = 0;
  uint64_t hits_ = 0;
  uint64_t keys_[kBurstSize];
  const void* key_ptrs_[kBurstSize];
  uint16_t packet_[kBurstSize];
  void* data_[kBurstSize];
};

}  // namespace dvr::dp
