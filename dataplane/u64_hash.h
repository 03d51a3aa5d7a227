// The rte_hash tables of the forwarding state all have 8-byte keys (compared in one instruction)
// and are built by the control thread, then only read.
#pragma once

#include <cstddef>
#include <string>

struct rte_hash;

namespace dvr::dp {

// A table for at least `entries` keys (twice that many slots, at least 64). `name` must be
// unique among live DPDK hash tables. Throws std::runtime_error when DPDK has no memory.
rte_hash* make_u64_hash(const std::string& name, size_t entries);

}  // namespace dvr::dp
