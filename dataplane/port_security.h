// Port security checks shared by the port-input stage and the ip4-fast path: a VM port may
// only send from its own MAC and addresses, or from an allowed address pair's.
#pragma once

#include <rte_ether.h>

#include <cstdint>

#include "l3_state.h"

namespace dvr::dp {

inline bool source_mac_allowed(const PortBinding& b, const rte_ether_addr& src_mac) {
  if (rte_is_same_ether_addr(&src_mac, &b.mac)) return true;
  for (uint8_t i = 0; i < b.pair_count; ++i) {
    if (!b.pairs[i].any_mac && rte_is_same_ether_addr(&src_mac, &b.pairs[i].mac)) return true;
  }
  return false;
}

// `ip` in host order.
inline bool source_ip_allowed(const PortBinding& b, const rte_ether_addr& src_mac, uint32_t ip) {
  if (rte_is_same_ether_addr(&src_mac, &b.mac)) {
    for (uint8_t i = 0; i < b.ip_count; ++i) {
      if (b.ips[i] == ip) return true;
    }
  }
  for (uint8_t i = 0; i < b.pair_count; ++i) {
    const AllowedPair& p = b.pairs[i];
    const bool mac_ok = p.any_mac ? rte_is_same_ether_addr(&src_mac, &b.mac)
                                  : rte_is_same_ether_addr(&src_mac, &p.mac);
    if (mac_ok && (ip & p.mask) == p.addr) return true;
  }
  return false;
}

}  // namespace dvr::dp
