// The tenant topology the pipeline benchmarks run against, configured through TenantApi exactly
// as the control socket does it.
//
//   router r1 ── n1 10.0.1.0/24 (gateway 10.0.1.1, 02:0a:00:00:01:01)
//            │     vm1 10.0.1.10  02:aa:00:00:00:01  dataplane port "src"       (null, no-rx)
//            │     vm3 10.0.1.30  02:aa:00:00:00:03  dataplane port "sink_l2"   (null, no-rx)
//            └─ n2 10.0.2.0/24 (gateway 10.0.2.1, 02:0a:00:00:02:01)
//                  vm2 10.0.2.20  02:aa:00:00:00:02  dataplane port "sink_r"    (null, no-rx)
//   static route 172.16.0.0/12 via 10.0.2.20 (vm2): the routed flows' destinations
//   (routes - 5) extra static routes via 10.0.2.20: random prefixes (85 % /24, 10 % /16-/23,
//   5 % /25-/32) outside 10/8 and 172.16/12
//   (routers - 1) extra routers, each with 2 networks, 2 subnets, 2 interfaces, 2 VM ports on
//   another host, 16 static routes: 20 routes per router
//   filters (set_filters): network ACL "bench-acl" on n2, or on n1 and n2; security group
//   "bench-sg" on vm2 and vm3, or on every VM port
//
// r1's table holds `routes` routes: 2 connected, 2 local /32s, 172.16/12 and the extras.
//
// With Scale::overlay, this host is also h1 of a VXLAN overlay (docs/overlay.md):
//   uplink port "uplink" (null, no-rx), tunnel IP 192.0.2.1/24, DVR MAC 02:d0:00:00:00:01
//   remote host h2: tunnel IP 192.0.2.2 (on-link: its own underlay next hop), DVR MAC
//   02:d0:00:00:00:02, resolved by one ARP reply (MAC 02:ee:00:00:00:02) handed to
//   TenantApi::on_punt as the uplink-input stage punts it
//   rvm1 10.0.1.40  02:bb:00:00:00:01  on n1 (VNI 101), on h2
//   rvm2 10.0.2.40  02:bb:00:00:00:02  on n2 (VNI 102), on h2
//   The remote VMs' addresses are routes of r1 too, not counted in Scale::routes.
//
// With Scale::north_south, this host is also h1 in agent mode dvr_snat, with north-south NAT
// (docs/north-south.md):
//   external port "ext" (null, no-rx), physnet1 mapped to it
//   external network "public": flat on physnet1, subnet 203.0.113.0/24, upstream router
//   203.0.113.1 (02:ff:00:00:00:01, resolved by one ARP reply to dvrd's request, sent through the
//   pipeline on "ext" and handed to TenantApi::on_punt as the control thread drains it)
//   this host's floating-IP gateway on public: 203.0.113.2, 02:fe:00:00:00:02
//   r1's external gateway: 203.0.113.5, SNAT on, bound to h1 (ports 1024-65535; the SNAT address
//   is the gateway address): r1 gets a default route to public (not counted in Scale::routes)
//   vm1 10.0.1.10 has floating IP 203.0.113.10; vm2 10.0.2.20 has none (default SNAT)
//   the external hosts the benchmarks talk to: 198.51.100.0/24, beyond the upstream router
// Nothing ever polls the ports: the benchmarks hand bursts to Worker::process_burst as if they
// came from "src", and the null driver frees whatever is transmitted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "dataplane.h"
#include "net_addr.h"
#include "tenant_api.h"

namespace dvr::bench {

struct Scale {
  uint32_t routers = 1;      // routers in the tenant model, r1 included
  uint32_t routes = 10;      // routes in r1's table
  bool flow_cache = true;    // the worker's filter verdict cache (DataplaneOptions)
  bool overlay = false;      // the VXLAN overlay above (changing it rebuilds the dataplane)
  bool north_south = false;  // the external network and NAT above (changing it rebuilds)
  bool operator==(const Scale&) const = default;
};

// r1's routes that are not extras: 2 connected, 2 local, 172.16/12.
inline constexpr uint32_t kBaseRoutes = 5;

// The overlay (Scale::overlay).
struct Overlay {
  static constexpr const char* kUplink = "uplink";
  static constexpr const char* kTunnelIp = "192.0.2.1";
  static constexpr uint32_t kTunnelPrefix = 24;
  static constexpr const char* kDvrMac = "02:d0:00:00:00:01";
  static constexpr const char* kRemoteHost = "h2";
  static constexpr const char* kRemoteTunnelIp = "192.0.2.2";
  static constexpr const char* kRemoteDvrMac = "02:d0:00:00:00:02";
  static constexpr const char* kRemoteUplinkMac = "02:ee:00:00:00:02";  // h2's underlay NIC
  static constexpr const char* kRemoteVm1Mac = "02:bb:00:00:00:01";     // rvm1, on n1
  static constexpr const char* kRemoteVm1Ip = "10.0.1.40";
  static constexpr const char* kRemoteVm2Mac = "02:bb:00:00:00:02";  // rvm2, on n2
  static constexpr const char* kRemoteVm2Ip = "10.0.2.40";
  static constexpr uint32_t kVni1 = 101, kVni2 = 102;  // n1's and n2's segmentation ids
  static constexpr uint16_t kVxlanPort = 4789;
};

// North-south NAT (Scale::north_south).
struct NorthSouth {
  static constexpr const char* kExtPort = "ext";
  static constexpr const char* kPhysnet = "physnet1";
  static constexpr const char* kNetwork = "public";
  static constexpr const char* kCidr = "203.0.113.0/24";
  static constexpr const char* kUpstreamIp = "203.0.113.1";
  static constexpr const char* kUpstreamMac = "02:ff:00:00:00:01";
  static constexpr const char* kFipGatewayIp = "203.0.113.2";
  static constexpr const char* kFipGatewayMac = "02:fe:00:00:00:02";
  static constexpr const char* kSnatIp = "203.0.113.5";  // r1's external gateway IP
  static constexpr const char* kVm1Fip = "203.0.113.10";
  static constexpr uint16_t kSnatPortMin = 1024, kSnatPortMax = 65535;  // the binding's default
  static constexpr uint32_t kRemoteNet = 0xc6336400u;                   // 198.51.100.0/24
};

// ---- Filter objects for the benchmarks (network ACLs, security groups).

// The traffic a generated rule set must let through, and only through the rule meant for it.
struct BenchTraffic {
  Ipv4Prefix src, dst;    // where the benchmark's packets come from and go to
  std::string protocol;   // "udp" or "tcp"
  uint16_t dst_port = 0;  // the packets' destination port (source ports vary)
};

// A network ACL of `rules` rules (1 .. 20,000), half ingress and half egress, defaults deny,
// deterministic for a given seed. Each direction holds, in rule-number order: pseudo-random
// rules (mostly a prefix and a single TCP/UDP port or a small range, some ICMP, some of any
// protocol, about a third of them deny) that never match `t`; at 90 % of the list, the allow
// rule for `t` (protocol, src -> dst, destination port); and last, a deny rule that matches `t`
// too (it must lose to the allow rule's lower number). Rule numbers are 1, 4, 7, ...
// Prefixes of the random rules avoid 10.0.0.0/8, 172.16.0.0/12, 198.18.0.0/15 and t's own.
api::v1::Object bench_network_acl(const std::string& id, uint32_t rules, const BenchTraffic& t,
                                  uint32_t seed = 1);
// The numbers of the allow rules `t` matches in that ACL: {ingress, egress}.
std::pair<uint32_t, uint32_t> bench_acl_allow_numbers(uint32_t rules);

// A security group of `rules` rules (>= 2): first the egress-to-anywhere rule of Neutron's
// default group ("egress-any"), then pseudo-random ingress rules that never admit `t` (ports,
// prefixes and protocols as for the ACL), and last the ingress rule that admits `t`
// ("admit", remote = t.src).
api::v1::Object bench_security_group(const std::string& id, uint32_t rules, const BenchTraffic& t,
                                     uint32_t seed = 2);

// Which filters the base topology carries (Topology::set_filters).
struct Filters {
  uint32_t acl_rules = 0;  // rules of network ACL "bench-acl" (half per direction); 0: no ACL
  uint8_t acl_nets = 2;    // 1: the ACL is on n2 (the destination) only; 2: on n1 and n2
  uint32_t sg_rules = 0;   // rules of security group "bench-sg"; 0: no security group
  uint8_t sg_vms = 2;      // 1: vm2 and vm3 (the destinations) are in it; 2: vm1 too
  bool operator==(const Filters&) const = default;
};
inline constexpr const char* kBenchAcl = "bench-acl";
inline constexpr const char* kBenchSg = "bench-sg";

// DPDK memory of the compiled network ACL classifiers in the dataplane's published
// configuration (each classifier once, however many networks share it).
size_t acl_memory_bytes(const dp::Dataplane& dp);

class Topology {
 public:
  Topology();
  ~Topology();

  // Brings the model to `s`: extends the current one when only r1's routes grow, otherwise
  // rebuilds the dataplane from scratch. Throws std::runtime_error on any refusal.
  void ensure(const Scale& s);
  const Scale& scale() const { return scale_; }

  dp::Dataplane& dp() { return *dp_; }
  TenantApi& api() { return *api_; }
  uint16_t src_port() const { return src_; }
  uint16_t l2_sink_port() const { return sink_l2_; }
  uint16_t routed_sink_port() const { return sink_r_; }
  // The overlay's uplink (Scale::overlay), and its MAC ("" without the overlay).
  uint16_t uplink_port() const { return uplink_; }
  const std::string& uplink_mac() const { return uplink_mac_; }
  // The external port (Scale::north_south; UINT16_MAX without it).
  uint16_t ext_port() const { return ext_; }

  // The extra routes of r1, in installation order; the first (routes - kBaseRoutes) are
  // installed. Generated deterministically, once, as many as ever asked for.
  const std::vector<Ipv4Prefix>& extra_routes(size_t at_least);

  // Packets r1 routed so far.
  uint64_t routed_by_r1() const;

  // Brings the filters to `f` (after ensure(): a rebuild removes them). The rules let the
  // benchmark traffic through: UDP or TCP from 10.0.1.0/24 to 172.16.0.0/12 and 10.0.1.0/24,
  // destination port 5000. Throws std::runtime_error on any refusal.
  void set_filters(const Filters& f);
  const Filters& filters() const { return filters_; }
  // Incremented by every change of the model (ensure, set_filters): what was verified against an
  // older serial must be verified again.
  uint64_t serial() const { return serial_; }
  // DPDK memory of the compiled network ACL classifiers in the published configuration.
  size_t acl_memory_bytes() const;
  // Hits of a network ACL's rules (by "ingress:NUMBER" / "egress:NUMBER", and "ingress:default"
  // / "egress:default") and of a security group's rules (by rule id).
  std::map<std::string, uint64_t> acl_hits(const std::string& acl) const;
  std::map<std::string, uint64_t> sg_hits(const std::string& group) const;

 private:
  void rebuild(bool flow_cache);
  void set_host(bool overlay, bool north_south);
  void add_overlay();
  void add_north_south();
  void add_extra_routers(uint32_t n);
  void add_extra_routes(size_t from, size_t to);
  void upsert(const api::v1::UpsertRequest& req, const char* what);

  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  Scale scale_{0, 0};
  uint16_t src_ = 0, sink_l2_ = 0, sink_r_ = 0, uplink_ = UINT16_MAX, ext_ = UINT16_MAX;
  std::string uplink_mac_;
  std::vector<Ipv4Prefix> extras_;
  std::mt19937 extras_rng_{7};
  std::unordered_set<uint64_t> extras_seen_;
  Filters filters_{0, 0, 0, 0};
  uint64_t serial_ = 0;
};

}  // namespace dvr::bench
