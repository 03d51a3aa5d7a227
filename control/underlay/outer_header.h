// The VXLAN outer headers towards one remote host, as the workers copy them (see
// dataplane/overlay/underlay_state.h), and the choice of underlay next hop. No DPDK.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "net_addr.h"
#include "overlay/underlay_state.h"

namespace dvr {

struct UnderlayRouteEntry {
  Ipv4Prefix destination;
  uint32_t nexthop = 0;
};

// The underlay neighbour that `remote` is reached through: itself when it is inside `onlink`,
// else the next hop of the longest matching route; nullopt when nothing matches.
std::optional<uint32_t> underlay_next_hop(uint32_t remote, const Ipv4Prefix& onlink,
                                          const std::vector<UnderlayRouteEntry>& routes);

// Outer Ethernet (src -> dst MAC), IPv4 (src -> dst, DF, TTL 64, UDP), UDP (to `udp_port`) and
// VXLAN (I flag) headers, with lengths, checksum, source port and VNI left for the worker.
dp::OuterHeader make_outer_header(const Mac& src_mac, const Mac& dst_mac, uint32_t src_ip,
                                  uint32_t dst_ip, uint16_t udp_port);

}  // namespace dvr
