// The tenant forwarding state workers read: networks, VM port bindings, router interfaces, next
// hops, per-router route tables and the L2/neighbor hash tables. Built by the control thread
// (control/l3_compiler.cc) as part of a ForwardingConfig version and never modified afterwards;
// only the route tables of very large routers are updated in place (see docs/route-tables.md).
#pragma once

#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

struct rte_hash;

namespace dvr::dp {

class RouteTable;
class SnatPool;
struct AclTable;
struct SgPolicy;

inline constexpr uint16_t kMaxNetworks = 4096;
inline constexpr uint16_t kMaxRouters = 4096;
inline constexpr uint16_t kMaxVteps = 4096;  // remote hosts
inline constexpr uint16_t kNoIndex = UINT16_MAX;
inline constexpr uint8_t kMaxGatewaysPerNetwork = 8;
inline constexpr uint8_t kMaxPortIps = 8;
inline constexpr uint8_t kMaxAllowedPairs = 8;

// A router interface as seen from its network: the gateway the VMs ARP for and send to.
struct Gateway {
  uint32_t ip = 0;    // host order
  uint32_t mask = 0;  // the subnet's, host order: a frame routed here from another host gets
                      // this gateway's MAC back when its destination is inside (DVR MAC restore)
  rte_ether_addr mac{};
  uint16_t router = kNoIndex;
};

struct NetworkState {
  bool present = false;
  uint8_t gateway_count = 0;
  std::array<Gateway, kMaxGatewaysPerNetwork> gateways{};
  uint32_t vni = 0;
  uint16_t mtu = 1500;
  // The network ACL: `ingress` judges packets routed into the network, `egress` packets routed
  // out of it. nullptr: no ACL.
  const AclTable* acl_ingress = nullptr;
  const AclTable* acl_egress = nullptr;
  // Where broadcast and unknown-unicast frames go: the network's local dataplane ports and the
  // remote hosts (VTEP indices) to replicate to, as ranges of L3State::flood_ports / flood_vteps.
  uint32_t flood_ports_begin = 0;
  uint16_t flood_ports_count = 0;
  uint32_t flood_vteps_begin = 0;
  uint16_t flood_vteps_count = 0;

  // An external (provider) network this host serves: it has a dataplane port here (through the
  // host's physnet mapping) and this host's floating-IP gateway address on it.
  bool external = false;
  uint16_t ext_port = UINT16_MAX;         // the dataplane port
  uint16_t vlan = 0;                      // 0: untagged (flat)
  uint32_t ext_gateway_ip = 0;            // ours (host order): ARP requests come from it
  rte_ether_addr ext_gateway_mac{};       // ours: the source of every frame we send on it
  uint32_t ext_subnet = 0, ext_mask = 0;  // the subnet holding ext_gateway_ip: on-link
  uint32_t upstream_ip = 0;               // that subnet's gateway: for everything else

  // The gateway a frame to `mac` is for, or -1 (a network has a handful of gateways at most).
  int gateway_index(const rte_ether_addr& mac) const {
    for (uint8_t g = 0; g < gateway_count; ++g) {
      if (rte_is_same_ether_addr(&mac, &gateways[g].mac)) return g;
    }
    return -1;
  }
};

struct AllowedPair {
  uint32_t addr = 0;  // host order, masked
  uint32_t mask = 0;
  bool any_mac = true;  // false: only with `mac` as source MAC
  rte_ether_addr mac{};
};

// What a dataplane port is attached to: one VM port (one vNIC).
struct PortBinding {
  bool bound = false;
  uint16_t network = kNoIndex;
  rte_ether_addr mac{};
  bool port_security = true;
  uint8_t ip_count = 0;
  std::array<uint32_t, kMaxPortIps> ips{};
  uint8_t pair_count = 0;
  std::array<AllowedPair, kMaxAllowedPairs> pairs{};
  // Security groups (both set, or neither): `ingress` admits connections to the VM, `egress`
  // connections from it. nullptr: the port is not filtered (port security off, or no group).
  const SgPolicy* sg_ingress = nullptr;
  const SgPolicy* sg_egress = nullptr;
};

enum class NextHopKind : uint8_t {
  kInvalid,    // id not in use
  kConnected,  // destination is on the egress network: resolve the packet's own address
  kGateway,    // static route: the gateway was resolved when the version was built
  kLocal,      // one of the router's own addresses
  kExternal,   // the router's external gateway (its default route): nat44-out translates and
               // sends the packet on `network`, the external network, or to the SNAT host
};

struct NextHop {
  NextHopKind kind = NextHopKind::kInvalid;
  uint16_t router = kNoIndex;
  uint16_t network = kNoIndex;  // egress network
  rte_ether_addr src_mac{};     // the egress interface's gateway MAC
  // kGateway: where the gateway lives (kNoPort when unresolved or on another host).
  bool resolved = false;
  rte_ether_addr dst_mac{};
  uint16_t port = UINT16_MAX;
  // The destination side has a filter: an ingress ACL on `network` or security groups on `port`
  // (set when the version is built, so the fast path tests one byte it has loaded anyway).
  bool dst_filtered = false;
  // kGateway with port == kNoPort: the remote host (VTEP index) the destination lives on, or
  // kNoIndex when nobody said where.
  uint16_t vtep = kNoIndex;
};

// Result of a neighbor lookup: a VM address on a network.
struct Neighbor {
  rte_ether_addr mac{};
  uint16_t port = UINT16_MAX;  // the local dataplane port, or kNoPort for a VM on another host
};

// Result of an L2 lookup: where a MAC lives on a network.
struct L2Entry {
  uint16_t port = UINT16_MAX;  // local dataplane port, or kNoPort (remote)
  uint16_t vtep = kNoIndex;    // remote: the host's VTEP index (kNoIndex: location unknown)
};

// A remote host that holds ports of our networks: where VXLAN goes, and the DVR MAC its routed
// frames carry.
struct Vtep {
  uint32_t ip = 0;  // host order
  rte_ether_addr dvr_mac{};
};

struct RouterState {
  bool present = false;
  bool admin_up = true;
  const RouteTable* table = nullptr;
  // distributed=false, hosted here: its gateway MACs exist on this host only, so frames it
  // routes to other hosts carry the gateway MAC (not this host's DVR MAC).
  bool centralized = false;
  // North-south. Traffic to the external network from a VM without a floating IP: translated
  // here when `snat_pool` is set (this host serves the router's SNAT), else sent over the overlay
  // to `snat_vtep`'s host; dropped when SNAT is off or bound nowhere.
  uint16_t ext_network = kNoIndex;
  bool snat_enabled = false;
  uint16_t snat_pool = kNoIndex;  // index into L3State::snat_pools
  uint16_t snat_vtep = kNoIndex;
};

// An address this host serves on an external network.
enum class ExtAddrKind : uint8_t { kGateway, kFloatingIp, kSnat };
struct ExtAddr {
  ExtAddrKind kind = ExtAddrKind::kGateway;
  uint16_t router = kNoIndex;   // floating IP, SNAT
  uint16_t network = kNoIndex;  // the external network
  uint32_t outside_ip = 0;      // host order: the address itself
  uint32_t inside_ip = 0;       // floating IP: the fixed IP it translates to
  uint16_t pool = kNoIndex;     // SNAT: index into L3State::snat_pools
};

// Which external network a frame on an external port belongs to.
struct ExtPortVlan {
  uint16_t port = UINT16_MAX;
  uint16_t vlan = 0;  // 0: untagged
  uint16_t network = kNoIndex;
};

// Hash keys: 8 bytes, so that rte_hash compares them with one instruction.
inline uint64_t neighbor_key(uint16_t network, uint32_t ip) {
  return (uint64_t{network} << 32) | ip;
}
inline uint64_t l2_key(uint16_t network, const rte_ether_addr& mac) {
  uint64_t k = uint64_t{network} << 48;
  for (int i = 0; i < 6; ++i) k |= uint64_t{mac.addr_bytes[i]} << (8 * (5 - i));
  return k;
}

struct L3State {
  L3State() = default;
  ~L3State();  // frees the hash tables
  L3State(const L3State&) = delete;
  L3State& operator=(const L3State&) = delete;

  std::vector<NetworkState> networks;   // [network index]
  std::vector<RouterState> routers;     // [router index]
  std::vector<NextHop> next_hops;       // [next hop id]
  std::array<PortBinding, 32> ports{};  // [dpdk port id]
  rte_hash* neighbors = nullptr;        // neighbor_key -> Neighbor*
  rte_hash* l2 = nullptr;               // l2_key -> L2Entry*
  std::vector<Neighbor> neighbor_entries;
  std::vector<L2Entry> l2_entries;
  // Owners of the compiled filters the raw pointers above point to (shared with other versions).
  std::vector<std::shared_ptr<const AclTable>> acl_tables;
  std::vector<std::shared_ptr<const SgPolicy>> sg_policies;

  // The overlay (the underlay side, uplink and tunnel IP, is in UnderlayState).
  rte_ether_addr dvr_mac{};           // this host's: the source MAC of frames it routes to others
  std::vector<Vtep> vteps;            // [VTEP index]
  rte_hash* vni_networks = nullptr;   // VNI (uint64) -> network index (as uintptr_t data)
  rte_hash* vtep_by_ip = nullptr;     // tunnel IP (uint64, host order) -> VTEP index (data)
  std::vector<uint16_t> flood_ports;  // ranges named by NetworkState
  std::vector<uint16_t> flood_vteps;

  // North-south (docs/north-south.md).
  std::vector<ExtPortVlan> ext_ports;  // a handful: one per served external network
  std::array<bool, 32> is_ext_port{};  // [dpdk port id]
  rte_hash* ext_addrs = nullptr;       // neighbor_key(ext network, address) -> ExtAddr*
  rte_hash* fip_by_fixed = nullptr;    // neighbor_key(router, fixed IP) -> ExtAddr* (a FIP)
  std::vector<ExtAddr> ext_addr_entries;
  // SNAT sessions outlive versions: the control thread keeps a pool for as long as the router's
  // SNAT binding (address and port range) stays the same on this host.
  std::vector<std::shared_ptr<SnatPool>> snat_pools;

  // The external network a frame on `port` with `vlan` belongs to, or kNoIndex.
  uint16_t ext_network_of(uint16_t port, uint16_t vlan) const {
    for (const ExtPortVlan& e : ext_ports) {
      if (e.port == port && e.vlan == vlan) return e.network;
    }
    return kNoIndex;
  }
};

}  // namespace dvr::dp
