// The MAC addresses of neighbours on external networks (the upstream router, on-link hosts, other
// hosts' floating IPs), resolved by ARP by the control thread (control/external/). Published on
// its own, like the underlay paths: an ARP reply must not rebuild the tenant state.
#pragma once

#include <rte_ether.h>

#include <vector>

struct rte_hash;

namespace dvr::dp {

struct ExternalNeighbors {
  ExternalNeighbors() = default;
  ~ExternalNeighbors();  // frees the hash table
  ExternalNeighbors(const ExternalNeighbors&) = delete;
  ExternalNeighbors& operator=(const ExternalNeighbors&) = delete;

  rte_hash* macs = nullptr;             // neighbor_key(external network, IP) -> rte_ether_addr*
  std::vector<rte_ether_addr> entries;  // what the hash values point to (reserved, never moved)
  // Each network's upstream router, by network index, apart: most external traffic goes there,
  // and an array read is cheaper than a hash lookup.
  std::vector<rte_ether_addr> upstream;
  std::vector<uint8_t> upstream_known;

  const rte_ether_addr* upstream_of(uint16_t network) const {
    return network < upstream_known.size() && upstream_known[network] != 0 ? &upstream[network]
                                                                           : nullptr;
  }
};

}  // namespace dvr::dp
