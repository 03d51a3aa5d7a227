// In-process pipeline benchmark: bursts of 32 prebuilt frames go through the real worker
// pipeline (Worker::process_burst, no rx I/O) and out of null ports, against a tenant model
// configured through TenantApi (topology.h). Not a test: run by hand or with `meson test
// --benchmark`, e.g.
//   build/tests/bench/pipeline_bench [--benchmark_filter=Routed] [--benchmark_format=json]
//
// Counters (TSC cycles per packet, and the rate one core would reach at that cost):
//   pipe_cyc   the pipeline stages only: the sum of the per-stage cycle counters
//              (dvrctl stats' STAGE table) over the run, divided by the packets
//   iter_cyc   the whole iteration: mbuf alloc + frame copy + pipeline + tx to the null
//              driver (which frees the mbufs), rte_rdtsc around the benchmark loop
//   prep_cyc   the alloc + copy part of iter_cyc (it is the benchmark's, not dvrd's)
//   pipe_Mpps, iter_Mpps   tsc_hz / pipe_cyc and tsc_hz / iter_cyc
//   preempt%   chunks of 64 bursts left out because this thread was preempted during them
//              (cost above 1.5 x the median chunk): the cores are shared
//   stage:<name>           cycles per packet spent in each stage (they add up to pipe_cyc);
//                          in JSON, and in a second table at the end of the console output
// Frame sizes exclude the FCS: "64-byte" frames are 60 bytes in the mbuf; IMIX is 7:4:1 of
// 64/594/1518-byte frames (60/590/1514 in the mbuf), the size chosen per flow.
//
// Before timing, each benchmark pushes every frame of its flow set once and checks that the
// path does what it claims (right egress port, no drop, router counters, no leaked mbuf).
//
// Overlay paths (topology.h, Scale::overlay: this host h1, remote host h2 on the uplink):
// L2VxlanEncap sends vm1's frames to rvm1 on n1 (switched, VXLAN-encapsulated to h2 with VNI 101),
// RoutedVxlanEncap to rvm2 on n2 (routed here: TTL, inner source = h1's DVR MAC, VNI 102); flows
// differ in the UDP source port (hence in the outer UDP source port too). VxlanDecap hands the
// pipeline bursts received on the uplink: VXLAN from h2 (VNI 101) carrying frames for vm1, from
// rvm1 (switched on h2), or with routed=1 from rvm2 (routed on h2: inner source = h2's DVR MAC,
// which becomes n1's gateway MAC here). Frame sizes are the inner frames' (a 64-byte inner frame
// is a 114-byte VXLAN packet on the wire); IMIX on the overlay is capped at its MTU: 7:4:1 of
// 64/594/1468-byte frames (a 1450-byte IP MTU, as Neutron sets on VXLAN networks). Their check
// adds: the worker's vxlan_encapsulated (or vxlan_decapsulated) counter grew by exactly the
// packets sent, the other one and flood_copies did not move, and the uplink (encap) or vm1's port
// (decap) transmitted them all.
//
// North-south paths (topology.h, Scale::north_south: external network "public" on port "ext",
// upstream router resolved, vm1 with floating IP 203.0.113.10, r1's default SNAT on this host at
// 203.0.113.5 ports 1024-65535). The external hosts are in 198.51.100.0/24 (one address per flow,
// cycling through .1-.254), beyond the upstream router. The frames are UDP with a checksum (as
// Linux sends it), so NAT's incremental L4 checksum update is part of the cost. FipSnat sends
// vm1's frames to external hosts: routed by r1 to its default route, source translated to the
// floating IP, sent on "ext" to the upstream router's MAC. FipDnat hands the pipeline frames
// received on "ext" from external hosts for the floating IP: translated to vm1 and routed to it.
// SnatOut sends vm2's frames (vm2 has no floating IP) to external hosts: PAT to 203.0.113.5 with a
// session per inside (address, port), so flows differ in vm2's source port; the check pass creates
// the sessions, the timed loop only finds them (snat_new counts sessions created while timed: 0).
// SnatIn hands the pipeline the external hosts' replies to those sessions' outside ports (the
// SnatOut frames of the same flow count are pushed once first, creating or refreshing the
// sessions, and each reply is addressed to the port its session got): translated back and routed
// to vm2. The SNAT mapping is endpoint-independent, one outside port per inside port: 64,512
// ports, and a new session probes 16 candidate ports, so the largest flow count is 30,000 (at
// about half the range, exhaustion is still negligible; 100k flows cannot exist). The check adds:
// the worker's nat_outbound (FipSnat, SnatOut) or nat_inbound (FipDnat, SnatIn) counter grew by
// exactly the packets sent and the other did not move, snat_redirected and nat_hairpinned did
// not move, "ext" (out) or the VM's port (in) transmitted every packet, r1 routed every packet,
// nothing was punted (the upstream router's MAC is known); for SnatOut every flow has its session
// after the pass and the sessions created equal the flows that had none before; for SnatIn every
// reply refreshed its own flow's session (the pass waits 200 ms first, then each flow's session
// must have been used within the last 100 ms), so a reply to another flow's port cannot pass.
//
// Filtered paths (topology.h, set_filters): RoutedAcl routes the UDP flows through network ACL
// "bench-acl" (half its rules ingress, half egress; the flows' allow rule sits at 90 % of each
// direction's list, a deny rule for the same traffic after it); RoutedSg and L2Sg send TCP ACK
// segments (mid-stream: tracked as established) to and from VMs in security group "bench-sg".
// Their check adds: the ACL's allow rules counted every packet and nothing else moved (defaults
// included); for security groups, every flow has its conntrack entry in each filtered VM's zone
// after the check pass (which is what pre-establishes them), and the connections created equal
// the rule hits. Extra counters:
//   acl_MiB    DPDK memory of the ACL classifiers (as measured when rte_acl built them)
//   ct_new     conntrack entries created during the timed loop (0: every packet was established)
//   snat_new   SNAT sessions created during the timed loop (SnatOut; 0: every flow had one)
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "frames.h"
#include "l3_state.h"
#include "nat/snat_pool.h"
#include "topology.h"

namespace dvr::bench {
namespace {

namespace t = dvr::test;

constexpr uint16_t kBurst = 32;
constexpr const char* kStagePrefix = "stage:";

Topology* g_topo = nullptr;
rte_mempool* g_pool = nullptr;
std::vector<std::string> g_stage_names;  // pipeline order, for the console's stage table

const t::Mac6 kGw1 = t::mac("02:0a:00:00:01:01");
const t::Mac6 kVm1 = t::mac("02:aa:00:00:00:01");
const t::Mac6 kVm3 = t::mac("02:aa:00:00:00:03");
const t::Mac6 kRemoteVm1 = t::mac(Overlay::kRemoteVm1Mac);
const t::Mac6 kGw2 = t::mac("02:0a:00:00:02:01");
const t::Mac6 kVm2 = t::mac("02:aa:00:00:00:02");
const t::Mac6 kFipGateway = t::mac(NorthSouth::kFipGatewayMac);
const t::Mac6 kUpstream = t::mac(NorthSouth::kUpstreamMac);

enum class Path {
  kL2,
  kRouted,
  kArpReply,
  kL2Vxlan,           // vm1 -> rvm1 (n1, on h2): switched, encapsulated
  kRoutedVxlan,       // vm1 -> rvm2 (n2, on h2): routed here, encapsulated
  kVxlanDecap,        // from the uplink: rvm1 -> vm1, switched on h2
  kVxlanDecapRouted,  // from the uplink: rvm2 -> vm1, routed on h2 (inner source: h2's DVR MAC)
  kFipSnat,           // vm1 -> external host: floating IP source NAT, out on "ext"
  kFipDnat,           // from "ext": external host -> vm1's floating IP, to vm1
  kSnatOut,           // vm2 -> external host: default SNAT (PAT, sessions), out on "ext"
  kSnatIn,            // from "ext": replies to vm2's SNAT sessions, to vm2
};

bool encapsulates(Path p) {
  return p == Path::kL2Vxlan || p == Path::kRoutedVxlan;
}
bool decapsulates(Path p) {
  return p == Path::kVxlanDecap || p == Path::kVxlanDecapRouted;
}
bool nat_outbound(Path p) {
  return p == Path::kFipSnat || p == Path::kSnatOut;
}
bool nat_inbound(Path p) {
  return p == Path::kFipDnat || p == Path::kSnatIn;
}
bool routed_here(Path p) {
  return p == Path::kRouted || p == Path::kRoutedVxlan || nat_outbound(p) || nat_inbound(p);
}
// Where the path's packets come in, and the name of the port they must all leave on.
uint16_t rx_port(Path p) {
  if (decapsulates(p)) return g_topo->uplink_port();
  if (nat_inbound(p)) return g_topo->ext_port();
  return p == Path::kSnatOut ? g_topo->routed_sink_port() : g_topo->src_port();
}
const char* out_port_name(Path p) {
  switch (p) {
    case Path::kL2:
      return "sink_l2";
    case Path::kRouted:
      return "sink_r";
    case Path::kL2Vxlan:
    case Path::kRoutedVxlan:
      return Overlay::kUplink;
    case Path::kFipSnat:
    case Path::kSnatOut:
      return NorthSouth::kExtPort;
    case Path::kSnatIn:  // to vm2
      return "sink_r";
    default:  // ARP replies go back to vm1; decapsulated frames (and FipDnat's) are for vm1
      return "src";
  }
}

// Prebuilt frames, one per flow, at a fixed stride.
struct FrameSet {
  size_t stride = 0;
  std::vector<uint8_t> data;
  std::vector<uint16_t> len;
  size_t size() const { return len.size(); }
  const uint8_t* at(size_t i) const { return data.data() + i * stride; }
};

// IMIX 7:4:1, interleaved; lengths without the FCS.
constexpr uint16_t kImix[12] = {60, 590, 60, 60, 590, 60, 1514, 60, 590, 60, 60, 590};

// The largest inner frame the overlay carries on the 1500-byte uplink (docs/overlay.md, MTU).
constexpr uint16_t kOverlayMaxFrame = 1500 - 36;

uint16_t frame_len(size_t flow, bool imix, uint16_t max_len = 1514) {
  return imix ? std::min(kImix[flow % 12], max_len) : 60;
}

// UDP, or with `tcp` a TCP ACK segment (no SYN: conntrack picks it up as established).
t::Frame udp_frame(const t::Mac6& dst_mac, uint32_t dst_ip, uint16_t sport, uint16_t len,
                   bool tcp = false) {
  t::Ipv4Fields f;
  f.src = t::ip("10.0.1.10");
  f.dst = dst_ip;
  f.ttl = 64;
  if (tcp) {
    f.proto = 6;
    return t::ethernet(dst_mac, kVm1, 0x0800,
                       t::ipv4(f, t::tcp(sport, 5000, 0x10, 1000u + sport, 1,
                                         t::bytes(len - 54u, static_cast<uint8_t>(sport)))));
  }
  return t::ethernet(
      dst_mac, kVm1, 0x0800,
      t::ipv4(f, t::udp(sport, 5000, t::bytes(len - 42u, static_cast<uint8_t>(sport)))));
}

// A UDP frame as another host's VM sends it to vm1 (10.0.1.10); `ttl` 63 for one routed there.
t::Frame udp_frame_to_vm1(const t::Mac6& src_mac, uint32_t src_ip, uint16_t sport, uint16_t len,
                          uint8_t ttl) {
  t::Ipv4Fields f;
  f.src = src_ip;
  f.dst = t::ip("10.0.1.10");
  f.ttl = ttl;
  return t::ethernet(
      kVm1, src_mac, 0x0800,
      t::ipv4(f, t::udp(sport, 5000, t::bytes(len - 42u, static_cast<uint8_t>(sport)))));
}

// `inner` as h2 sends it to this host over the underlay: outer Ethernet (h2's NIC -> the
// uplink), IPv4 (DF, h2's tunnel IP -> ours), UDP (`sport` -> 4789), VXLAN (I flag, `vni`).
t::Frame from_h2(const t::Frame& inner, uint32_t vni, uint16_t sport) {
  t::Frame vx(8 + inner.size(), 0);
  vx[0] = 0x08;  // I: the VNI is valid
  vx[4] = static_cast<uint8_t>(vni >> 16);
  vx[5] = static_cast<uint8_t>(vni >> 8);
  vx[6] = static_cast<uint8_t>(vni);
  std::memcpy(vx.data() + 8, inner.data(), inner.size());
  t::Ipv4Fields f;
  f.src = t::ip(Overlay::kRemoteTunnelIp);
  f.dst = t::ip(Overlay::kTunnelIp);
  f.ttl = 64;
  f.frag = 0x4000;  // DF
  return t::ethernet(t::mac(g_topo->uplink_mac()), t::mac(Overlay::kRemoteUplinkMac), 0x0800,
                     t::ipv4(f, t::udp(sport, Overlay::kVxlanPort, vx)));
}

// An Ethernet + IPv4 + UDP frame of `len` bytes with its UDP checksum computed (NAT updates it
// incrementally; a frame without one would skip that work).
t::Frame udp_checksummed(const t::Mac6& dst_mac, const t::Mac6& src_mac, uint32_t src_ip,
                         uint32_t dst_ip, uint16_t sport, uint16_t dport, uint16_t len) {
  t::Ipv4Fields f;
  f.src = src_ip;
  f.dst = dst_ip;
  f.ttl = 64;
  t::Frame p = t::ipv4(f, t::udp(sport, dport, t::bytes(len - 42u, static_cast<uint8_t>(sport))));
  const size_t seg = p.size() - 20;
  t::Frame sum(p.begin() + 12, p.begin() + 20);  // the pseudo-header, then the segment
  sum.insert(sum.end(), {0, 17, static_cast<uint8_t>(seg >> 8), static_cast<uint8_t>(seg)});
  sum.insert(sum.end(), p.begin() + 20, p.end());
  auto ck = static_cast<uint16_t>(~t::ones_complement_sum(sum.data(), sum.size()));
  if (ck == 0) ck = 0xffff;
  p[26] = static_cast<uint8_t>(ck >> 8);
  p[27] = static_cast<uint8_t>(ck);
  return t::ethernet(dst_mac, src_mac, 0x0800, p);
}

// The external host of a north-south flow: 198.51.100.1 .. .254.
uint32_t external_host(size_t flow) {
  return NorthSouth::kRemoteNet | static_cast<uint32_t>(1 + flow % 254);
}

// The routed flows' destinations: distinct addresses in 172.16.0.0/12 (one route), or with
// `spread` one address inside each of `flows` extra routes spread over r1's table.
uint32_t routed_destination(size_t flow, size_t flows, bool spread) {
  const auto scramble = static_cast<uint32_t>(flow * 2654435761u);  // odd: a bijection mod 2^k
  if (!spread) return 0xac100000u | (scramble & 0x000fffffu);
  const size_t installed = g_topo->scale().routes - kBaseRoutes;
  const Ipv4Prefix& p = g_topo->extra_routes(installed)[flow * installed / flows];
  return p.addr | (scramble & ~p.mask());
}

FrameSet make_frames(Path path, size_t flows, bool imix, bool spread, bool tcp) {
  FrameSet fs;
  // VXLAN packets (decap): the inner frame and 50 bytes of outer headers.
  fs.stride = (imix ? 1536 : 64) + (decapsulates(path) ? 64 : 0);
  fs.data.assign(flows * fs.stride, 0);
  const bool overlay = encapsulates(path) || decapsulates(path);
  if (path == Path::kSnatIn) return fs;  // snat_replies() builds them once the sessions exist
  for (size_t i = 0; i < flows; ++i) {
    const uint16_t len = frame_len(i, imix, overlay ? kOverlayMaxFrame : 1514);
    const auto sport = static_cast<uint16_t>(1024 + i % 60000);
    // The outer UDP source port h2 would choose (a hash of the inner flow: distinct per flow).
    const auto outer_sport = static_cast<uint16_t>(0xc000u | ((i * 2654435761u) & 0x3fffu));
    t::Frame f;
    switch (path) {
      case Path::kL2:  // to vm3 on the same network; flows differ in the UDP source port
        f = udp_frame(kVm3, t::ip("10.0.1.30"), sport, len, tcp);
        break;
      case Path::kRouted:
        f = udp_frame(kGw1, routed_destination(i, flows, spread), sport, len, tcp);
        break;
      case Path::kArpReply:  // who has 10.0.1.1 (the gateway)? padded to the minimum frame
        f = t::ethernet(t::mac("ff:ff:ff:ff:ff:ff"), kVm1, 0x0806,
                        t::arp(1, kVm1, t::ip("10.0.1.10"), t::Mac6{}, t::ip("10.0.1.1")));
        f.resize(60, 0);
        break;
      case Path::kL2Vxlan:
        f = udp_frame(kRemoteVm1, t::ip(Overlay::kRemoteVm1Ip), sport, len, tcp);
        break;
      case Path::kRoutedVxlan:
        f = udp_frame(kGw1, t::ip(Overlay::kRemoteVm2Ip), sport, len, tcp);
        break;
      case Path::kVxlanDecap:
        f = from_h2(udp_frame_to_vm1(kRemoteVm1, t::ip(Overlay::kRemoteVm1Ip), sport, len, 64),
                    Overlay::kVni1, outer_sport);
        break;
      case Path::kVxlanDecapRouted:  // with the destination network's VNI
        f = from_h2(udp_frame_to_vm1(t::mac(Overlay::kRemoteDvrMac), t::ip(Overlay::kRemoteVm2Ip),
                                     sport, len, 63),
                    Overlay::kVni1, outer_sport);
        break;
      case Path::kFipSnat:  // vm1 -> an external host, through n1's gateway
        f = udp_checksummed(kGw1, kVm1, t::ip("10.0.1.10"), external_host(i), sport, 5000, len);
        break;
      case Path::kFipDnat:  // an external host -> vm1's floating IP, via the upstream router
        f = udp_checksummed(kFipGateway, kUpstream, external_host(i), t::ip(NorthSouth::kVm1Fip),
                            sport, 5000, len);
        break;
      case Path::kSnatOut:  // vm2 -> an external host, through n2's gateway
        f = udp_checksummed(kGw2, kVm2, t::ip("10.0.2.20"), external_host(i), sport, 5000, len);
        break;
      case Path::kSnatIn:  // built from the sessions (snat_replies)
        continue;
    }
    std::copy(f.begin(), f.end(), fs.data.begin() + static_cast<ptrdiff_t>(i * fs.stride));
    fs.len.push_back(static_cast<uint16_t>(f.size()));
  }
  return fs;
}

// Fills a burst from the frame set, starting at `cursor` (advanced, wrapping).
inline bool fill_burst(rte_mbuf** pkts, const FrameSet& fs, size_t& cursor, uint16_t port) {
  if (rte_pktmbuf_alloc_bulk(g_pool, pkts, kBurst) != 0) return false;
  for (uint16_t i = 0; i < kBurst; ++i) {
    rte_mbuf* m = pkts[i];
    const uint16_t len = fs.len[cursor];
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), fs.at(cursor), len);
    m->data_len = len;
    m->pkt_len = len;
    m->port = port;
    if (++cursor == fs.size()) cursor = 0;
  }
  return true;
}

struct Snapshot {
  std::map<std::string, uint64_t> tx, drops;
  uint64_t routed = 0, arp_replies = 0, punted = 0, ct_created = 0, ct_revoked = 0;
  uint64_t vxlan_encapsulated = 0, vxlan_decapsulated = 0, flood_copies = 0;
  uint64_t nat_inbound = 0, nat_outbound = 0, snat_created = 0, snat_redirected = 0,
           nat_hairpinned = 0;
  std::vector<dp::StageSnapshot> stages;
  std::map<std::string, uint64_t> acl_hits, sg_hits;  // when the topology has them
};

Snapshot snapshot() {
  Snapshot s;
  for (const auto& p : g_topo->dp().port_stats()) {
    s.tx[p.name] = p.tx_packets;
    s.drops[p.name] = std::accumulate(p.drops.begin(), p.drops.end(), uint64_t{0});
  }
  const dp::WorkerSnapshot w = g_topo->dp().worker_stats()[0];
  s.routed = g_topo->routed_by_r1();
  s.arp_replies = w.arp_replies;
  s.punted = w.punted;
  s.ct_created = w.conntrack_created;
  s.ct_revoked = w.conntrack_revoked;
  s.vxlan_encapsulated = w.vxlan_encapsulated;
  s.vxlan_decapsulated = w.vxlan_decapsulated;
  s.flood_copies = w.flood_copies;
  s.nat_inbound = w.nat_inbound;
  s.nat_outbound = w.nat_outbound;
  s.snat_created = w.snat_sessions_created;
  s.snat_redirected = w.snat_redirected;
  s.nat_hairpinned = w.nat_hairpinned;
  s.stages = w.stages;
  if (g_topo->filters().acl_rules > 0) s.acl_hits = g_topo->acl_hits(kBenchAcl);
  if (g_topo->filters().sg_rules > 0) s.sg_hits = g_topo->sg_hits(kBenchSg);
  return s;
}

// The conntrack entries of frames that are not in the table, in the zone of dataplane port
// `zone` (the frames are untagged Ethernet + IPv4 + TCP/UDP).
size_t missing_connections(const FrameSet& fs, uint16_t zone) {
  dp::ConnTable& ct = g_topo->dp().conntrack();
  const uint32_t now = g_topo->dp().conntrack_now_ms();
  size_t missing = 0;
  for (size_t i = 0; i < fs.size(); ++i) {
    const uint8_t* ip = fs.at(i) + 14;
    const auto be32 = [](const uint8_t* p) {
      return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    };
    dp::FlowKey k;
    k.protocol = ip[9];
    k.src_ip = be32(ip + 12);
    k.dst_ip = be32(ip + 16);
    k.src_port = static_cast<uint16_t>(ip[20] << 8 | ip[21]);
    k.dst_port = static_cast<uint16_t>(ip[22] << 8 | ip[23]);
    k.zone = zone;
    if (ct.lookup(k, ct.hash(k), now).slot == dp::ConnTable::kNone) ++missing;
  }
  return missing;
}

// r1's SNAT pool (Scale::north_south), or nullptr.
const dp::SnatPool* snat_pool() {
  const dp::L3State* l3 = g_topo->dp().l3();
  return l3 == nullptr || l3->snat_pools.size() != 1 ? nullptr : l3->snat_pools[0].get();
}

uint32_t be32_at(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
uint16_t be16_at(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// The flows of `fs` (vm2's UDP frames, untagged) whose inside endpoint has no SNAT session.
size_t missing_snat_sessions(const dp::SnatPool& pool, const FrameSet& fs) {
  size_t missing = 0;
  for (size_t i = 0; i < fs.size(); ++i) {
    const uint8_t* ip = fs.at(i) + 14;
    uint16_t outside = 0;
    if (!pool.find_outbound(dp::NatProto::kUdp, be32_at(ip + 12), be16_at(ip + 20), outside)) {
      ++missing;
    }
  }
  return missing;
}

// SnatIn's check: the flows of SnatOut's frames `out` whose session was not used in the last
// `within_ms` milliseconds. The check pass waits longer than that first, so the reply of every
// flow must have refreshed that flow's own session: a reply sent to another flow's port shows.
size_t stale_snat_sessions(const dp::SnatPool& pool, const FrameSet& out, uint32_t within_ms) {
  std::map<uint64_t, uint32_t> idle;  // inside address << 16 | port -> idle ms
  pool.for_each(g_topo->dp().conntrack_now_ms(), [&](const dp::SnatSessionView& v) {
    if (v.proto == dp::NatProto::kUdp)
      idle[uint64_t{v.inside_ip} << 16 | v.inside_port] = v.idle_ms;
    return true;
  });
  size_t stale = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* ip = out.at(i) + 14;
    const auto it = idle.find(uint64_t{be32_at(ip + 12)} << 16 | be16_at(ip + 20));
    if (it == idle.end() || it->second >= within_ms) ++stale;
  }
  return stale;
}

// The external hosts' replies to SnatOut's frames `out`: from each frame's destination (and
// port) to the SNAT address and the outside port of its session, received on "ext" from the
// upstream router. Empty, with `err` set, when a flow has no session.
FrameSet snat_replies(const FrameSet& out, std::string& err) {
  FrameSet fs;
  const dp::SnatPool* pool = snat_pool();
  if (pool == nullptr) {
    err = "r1 has no SNAT pool on this host";
    return fs;
  }
  fs.stride = out.stride;
  fs.data.assign(out.size() * fs.stride, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* ip = out.at(i) + 14;
    uint16_t outside = 0;
    if (!pool->find_outbound(dp::NatProto::kUdp, be32_at(ip + 12), be16_at(ip + 20), outside)) {
      err = "flow " + std::to_string(i) + " has no SNAT session";
      return FrameSet{};
    }
    const t::Frame f = udp_checksummed(kFipGateway, kUpstream, be32_at(ip + 16), pool->snat_ip(),
                                       be16_at(ip + 22), outside, out.len[i]);
    std::copy(f.begin(), f.end(), fs.data.begin() + static_cast<ptrdiff_t>(i * fs.stride));
    fs.len.push_back(static_cast<uint16_t>(f.size()));
  }
  return fs;
}

// What is wrong with the filters' counters after `n` packets of `fs` went through, or "".
std::string verify_filters(Path path, const FrameSet& fs, uint64_t n, const Snapshot& before,
                           const Snapshot& after) {
  const Filters& f = g_topo->filters();
  char buf[300];
  if (f.acl_rules > 0) {
    const auto [in_rule, out_rule] = bench_acl_allow_numbers(f.acl_rules);
    std::map<std::string, uint64_t> want;
    if (path == Path::kRouted) {
      want["ingress:" + std::to_string(in_rule)] = n;                       // n2's ingress
      if (f.acl_nets == 2) want["egress:" + std::to_string(out_rule)] = n;  // n1's egress
    }
    for (const auto& [rule, hits] : after.acl_hits) {
      const auto it = before.acl_hits.find(rule);
      const uint64_t moved = hits - (it == before.acl_hits.end() ? 0 : it->second);
      const uint64_t expected = want.contains(rule) ? want[rule] : 0;
      if (moved != expected) {
        std::snprintf(buf, sizeof buf, "network ACL rule %s counted %lu packets, expected %lu",
                      rule.c_str(), static_cast<unsigned long>(moved),
                      static_cast<unsigned long>(expected));
        return buf;
      }
    }
  }
  if (f.sg_rules > 0) {
    const uint16_t dst = path == Path::kL2 ? g_topo->l2_sink_port() : g_topo->routed_sink_port();
    std::vector<std::pair<const char*, uint16_t>> zones = {{"destination", dst}};
    if (f.sg_vms == 2) zones.emplace_back("source", g_topo->src_port());
    for (const auto& [what, zone] : zones) {
      if (const size_t m = missing_connections(fs, zone); m != 0) {
        std::snprintf(buf, sizeof buf,
                      "%zu of %zu flows have no conntrack entry in the %s VM's zone", m, fs.size(),
                      what);
        return buf;
      }
    }
    uint64_t hits = 0;
    for (const auto& [rule, h] : after.sg_hits) {
      const auto it = before.sg_hits.find(rule);
      hits += h - (it == before.sg_hits.end() ? 0 : it->second);
    }
    const uint64_t created = after.ct_created - before.ct_created;
    if (hits != created || created > n * zones.size()) {
      std::snprintf(buf, sizeof buf,
                    "security group rule hits (%lu) and connections created (%lu) disagree",
                    static_cast<unsigned long>(hits), static_cast<unsigned long>(created));
      return buf;
    }
    if (after.ct_revoked != before.ct_revoked) return "conntrack entries were revoked";
  }
  return {};
}

// Pushes every frame once; returns what is wrong with the path, or an empty string. SnatIn:
// `snat_out` holds the outbound frames of the flows being answered.
std::string verify(Path path, const FrameSet& fs, const FrameSet* snat_out = nullptr) {
  Topology& topo = *g_topo;
  const bool snat = path == Path::kSnatOut || path == Path::kSnatIn;
  const dp::SnatPool* pool = snat ? snat_pool() : nullptr;
  if (snat && pool == nullptr) return "r1 has no SNAT pool on this host";
  if (path == Path::kSnatIn && snat_out == nullptr) return "SnatIn checked without its flows";
  const size_t sessions_missing = path == Path::kSnatOut ? missing_snat_sessions(*pool, fs) : 0;
  constexpr uint32_t kRefreshedMs = 100;
  if (path == Path::kSnatIn) {  // let the sessions age past kRefreshedMs (stale_snat_sessions)
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * kRefreshedMs));
  }
  const Snapshot before = snapshot();
  size_t cursor = 0;
  const size_t bursts = (fs.size() + kBurst - 1) / kBurst;
  rte_mbuf* pkts[kBurst];
  const uint16_t rx = rx_port(path);
  for (size_t b = 0; b < bursts; ++b) {
    if (!fill_burst(pkts, fs, cursor, rx)) return "mbuf pool empty";
    topo.dp().worker(0).process_burst(rx, pkts, kBurst);
  }
  const Snapshot after = snapshot();
  const uint64_t n = bursts * kBurst;
  const std::string out = out_port_name(path);
  char buf[200];
  for (const auto& [port, tx] : after.tx) {
    const uint64_t want = port == out ? n : 0;
    if (tx - before.tx.at(port) != want) {
      std::snprintf(buf, sizeof buf, "port %s transmitted %lu packets, expected %lu", port.c_str(),
                    static_cast<unsigned long>(tx - before.tx.at(port)),
                    static_cast<unsigned long>(want));
      return buf;
    }
    if (after.drops.at(port) != before.drops.at(port)) {
      return "packets were dropped on port " + port + " (dvrctl stats shows the reason)";
    }
  }
  if (after.routed - before.routed != (routed_here(path) ? n : 0)) {
    return "router r1's routed counter does not match the path";
  }
  const auto check_counter = [&](const char* name, uint64_t moved, uint64_t want) {
    if (moved == want) return std::string();
    std::snprintf(buf, sizeof buf, "the worker's %s counter grew by %lu, expected %lu", name,
                  static_cast<unsigned long>(moved), static_cast<unsigned long>(want));
    return std::string(buf);
  };
  for (const std::string& err : {
           check_counter("vxlan_encapsulated", after.vxlan_encapsulated - before.vxlan_encapsulated,
                         encapsulates(path) ? n : 0),
           check_counter("vxlan_decapsulated", after.vxlan_decapsulated - before.vxlan_decapsulated,
                         decapsulates(path) ? n : 0),
           check_counter("flood_copies", after.flood_copies - before.flood_copies, 0),
           check_counter("nat_outbound", after.nat_outbound - before.nat_outbound,
                         nat_outbound(path) ? n : 0),
           check_counter("nat_inbound", after.nat_inbound - before.nat_inbound,
                         nat_inbound(path) ? n : 0),
           check_counter("snat_sessions_created", after.snat_created - before.snat_created,
                         sessions_missing),
           check_counter("snat_redirected", after.snat_redirected - before.snat_redirected, 0),
           check_counter("nat_hairpinned", after.nat_hairpinned - before.nat_hairpinned, 0),
       }) {
    if (!err.empty()) return err;
  }
  if (after.arp_replies - before.arp_replies != (path == Path::kArpReply ? n : 0)) {
    return "the worker's ARP reply counter does not match the path";
  }
  if (after.punted != before.punted) return "packets were punted";
  if (path == Path::kSnatOut) {
    if (const size_t m = missing_snat_sessions(*pool, fs); m != 0) {
      return std::to_string(m) + " of " + std::to_string(fs.size()) +
             " flows have no SNAT session after the check pass";
    }
  }
  if (path == Path::kSnatIn) {
    if (const size_t m = stale_snat_sessions(*pool, *snat_out, kRefreshedMs); m != 0) {
      return std::to_string(m) + " of " + std::to_string(snat_out->size()) +
             " flows' sessions were not refreshed by their replies";
    }
  }
  if (const unsigned in_use = rte_mempool_in_use_count(g_pool); in_use != 0) {
    return "mbufs leaked: " + std::to_string(in_use) + " still in use";
  }
  return verify_filters(path, fs, n, before, after);
}

void run_path(benchmark::State& state, Path path, const Scale& scale, size_t flows, bool imix,
              bool spread, const Filters& filters = Filters{0, 0, 0, 0}, bool tcp = false) {
  try {
    g_topo->ensure(scale);
    g_topo->set_filters(filters);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (spread && flows > scale.routes - kBaseRoutes) {
    state.SkipWithError("spread needs at least one extra route per flow");
    return;
  }
  // Frames are built and the path verified once per benchmark instance (Google Benchmark
  // calls the function several times to settle on an iteration count), and again whenever the
  // model changed in between (the check pass is also what establishes the connections).
  struct Verified {
    FrameSet frames;
    uint64_t serial = 0;
  };
  static std::map<std::tuple<Path, size_t, bool, bool, uint32_t, uint32_t, bool>, Verified> cache;
  const auto key = std::tuple(path, flows, imix, spread, scale.routers, scale.routes, tcp);
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = cache.emplace(key, Verified{make_frames(path, flows, imix, spread, tcp), 0}).first;
  }
  if (it->second.serial != g_topo->serial()) {
    try {
      FrameSet out;
      if (path == Path::kSnatIn) {
        // The replies go to the outside ports of vm2's sessions: SnatOut's frames of the same
        // flows go out first (its check pass, creating the sessions or finding them), then each
        // reply is addressed to the port its flow's session holds.
        out = make_frames(Path::kSnatOut, flows, imix, false, tcp);
        std::string err = verify(Path::kSnatOut, out);
        if (err.empty()) it->second.frames = snat_replies(out, err);
        if (!err.empty()) {
          state.SkipWithError(("creating the SNAT sessions: " + err).c_str());
          return;
        }
      }
      if (const std::string err = verify(path, it->second.frames, &out); !err.empty()) {
        state.SkipWithError(err.c_str());
        return;
      }
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    it->second.serial = g_topo->serial();
  }
  const FrameSet& fs = it->second.frames;

  dp::Worker& worker = g_topo->dp().worker(0);
  const uint16_t src = rx_port(path);
  if (g_stage_names.empty()) {
    for (size_t i = 0; i < worker.pipeline().size(); ++i) {
      g_stage_names.emplace_back(worker.pipeline().stage_name(i));
    }
  }
  // The run is cut into chunks of kChunk bursts, each measured on its own. The cores are
  // shared: a chunk during which this thread was preempted costs several times the median and
  // is left out of every counter (preempt% says how many were).
  constexpr uint32_t kChunk = 64;
  struct Chunk {
    uint64_t iter = 0, prep = 0;
    std::array<uint64_t, dp::kMaxStages> stage{};
  };
  std::vector<Chunk> chunks;
  const auto stage_cycles = [&] {
    std::array<uint64_t, dp::kMaxStages> c{};
    const auto stages = g_topo->dp().worker_stats()[0].stages;
    for (size_t i = 0; i < stages.size(); ++i) c[i] = stages[i].cycles;
    return c;
  };
  const dp::WorkerSnapshot worker_before = g_topo->dp().worker_stats()[0];
  const std::vector<dp::StageSnapshot>& stages_before = worker_before.stages;
  rte_mbuf* pkts[kBurst];
  size_t cursor = 0;
  uint32_t in_chunk = 0;
  Chunk cur;
  std::array<uint64_t, dp::kMaxStages> s0 = stage_cycles();
  uint64_t t0 = rte_rdtsc();
  for (auto _ : state) {
    const uint64_t a = rte_rdtsc();
    if (!fill_burst(pkts, fs, cursor, src)) {
      state.SkipWithError("mbuf pool empty");
      break;
    }
    cur.prep += rte_rdtsc() - a;
    worker.process_burst(src, pkts, kBurst);
    if (++in_chunk == kChunk) {
      cur.iter = rte_rdtsc() - t0;
      const std::array<uint64_t, dp::kMaxStages> s1 = stage_cycles();
      for (size_t i = 0; i < s1.size(); ++i) cur.stage[i] = s1[i] - s0[i];
      chunks.push_back(cur);
      cur = Chunk{};
      in_chunk = 0;
      s0 = s1;
      t0 = rte_rdtsc();
    }
  }
  if (state.error_occurred()) return;
  if (chunks.empty()) {  // a short estimation run: the partial chunk is all there is
    cur.iter = rte_rdtsc() - t0;
    const std::array<uint64_t, dp::kMaxStages> s1 = stage_cycles();
    for (size_t i = 0; i < s1.size(); ++i) cur.stage[i] = s1[i] - s0[i];
    chunks.push_back(cur);
  }
  const dp::WorkerSnapshot worker_after = g_topo->dp().worker_stats()[0];
  const std::vector<dp::StageSnapshot>& stages_after = worker_after.stages;

  std::vector<uint64_t> costs;
  for (const Chunk& c : chunks) costs.push_back(c.iter);
  std::nth_element(costs.begin(), costs.begin() + static_cast<ptrdiff_t>(costs.size() / 2),
                   costs.end());
  const uint64_t limit = costs[costs.size() / 2] * 3 / 2;
  Chunk kept;
  size_t n_kept = 0;
  for (const Chunk& c : chunks) {
    if (c.iter > limit) continue;
    ++n_kept;
    kept.iter += c.iter;
    kept.prep += c.prep;
    for (size_t i = 0; i < c.stage.size(); ++i) kept.stage[i] += c.stage[i];
  }
  const uint64_t measured = chunks.size() == 1 ? static_cast<uint64_t>(state.iterations()) * kBurst
                                               : uint64_t{n_kept} * kChunk * kBurst;

  const double hz = static_cast<double>(rte_get_tsc_hz());
  const auto per_pkt = [&](uint64_t cycles) {
    return static_cast<double>(cycles) / static_cast<double>(measured);
  };
  uint64_t pipe = 0;
  for (size_t i = 0; i < stages_after.size(); ++i) {
    pipe += kept.stage[i];
    if (stages_after[i].packets != stages_before[i].packets) {
      state.counters[kStagePrefix + stages_after[i].name] = per_pkt(kept.stage[i]);
    }
  }
  state.counters["pipe_cyc"] = per_pkt(pipe);
  state.counters["iter_cyc"] = per_pkt(kept.iter);
  state.counters["prep_cyc"] = per_pkt(kept.prep);
  state.counters["pipe_Mpps"] = hz / per_pkt(pipe) / 1e6;
  state.counters["iter_Mpps"] = hz / per_pkt(kept.iter) / 1e6;
  state.counters["preempt%"] =
      100.0 * static_cast<double>(chunks.size() - n_kept) / static_cast<double>(chunks.size());
  if (filters.acl_rules > 0) {
    state.counters["acl_MiB"] = static_cast<double>(g_topo->acl_memory_bytes()) / (1 << 20);
  }
  if (filters.sg_rules > 0) {
    state.counters["ct_new"] =
        static_cast<double>(worker_after.conntrack_created - worker_before.conntrack_created);
  }
  if (path == Path::kSnatOut) {
    state.counters["snat_new"] = static_cast<double>(worker_after.snat_sessions_created -
                                                     worker_before.snat_sessions_created);
  }

  const auto packets = static_cast<uint64_t>(state.iterations()) * kBurst;
  // Bytes of the frames sent: whole passes over the set, then the start of one more.
  uint64_t set_bytes = 0;
  for (const uint16_t l : fs.len) set_bytes += l;
  uint64_t bytes = packets / fs.size() * set_bytes;
  for (size_t i = 0; i < packets % fs.size(); ++i) bytes += fs.len[i];
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Args: flows, imix.
void L2(benchmark::State& state) {
  run_path(state, Path::kL2, Scale{1, 10}, static_cast<size_t>(state.range(0)), state.range(1) != 0,
           false);
}

void ArpReply(benchmark::State& state) {
  run_path(state, Path::kArpReply, Scale{1, 10}, 1, false, false);
}

// Args: flows, routes (in r1's table), routers, imix, spread (destinations one per extra
// route instead of inside 172.16.0.0/12).
void Routed(benchmark::State& state) {
  const Scale scale{static_cast<uint32_t>(state.range(2)), static_cast<uint32_t>(state.range(1))};
  run_path(state, Path::kRouted, scale, static_cast<size_t>(state.range(0)), state.range(3) != 0,
           state.range(4) != 0);
}

// The filtered paths' last argument, cache: 1 with the workers' filter verdict cache (dvrd's
// default), 0 without it (every packet takes the full filter path).

// Args: flows, acl_rules (in network ACL "bench-acl", half per direction), nets (1: the ACL is on
// the destination network n2 only, so a packet meets the ingress half; 2: on n1 and n2, so a
// packet meets both halves, n1's egress then n2's ingress), cache. UDP, as Routed.
void RoutedAcl(benchmark::State& state) {
  const Filters f{static_cast<uint32_t>(state.range(1)), static_cast<uint8_t>(state.range(2)), 0,
                  0};
  run_path(state, Path::kRouted, Scale{1, 10, state.range(3) != 0},
           static_cast<size_t>(state.range(0)), false, false, f);
}

// Args: flows, sg_rules (in security group "bench-sg"; 0: no group, the same TCP traffic
// unfiltered), vms (1: the destination VM is in the group; 2: the source VM too), cache. TCP ACK
// segments on connections established by the check pass.
void RoutedSg(benchmark::State& state) {
  const Filters f{0, 0, static_cast<uint32_t>(state.range(1)),
                  static_cast<uint8_t>(state.range(2))};
  run_path(state, Path::kRouted, Scale{1, 10, state.range(3) != 0},
           static_cast<size_t>(state.range(0)), false, false, f, true);
}

// As RoutedSg, between vm1 and vm3 on network n1 (switched).
void L2Sg(benchmark::State& state) {
  const Filters f{0, 0, static_cast<uint32_t>(state.range(1)),
                  static_cast<uint8_t>(state.range(2))};
  run_path(state, Path::kL2, Scale{1, 10, state.range(3) != 0}, static_cast<size_t>(state.range(0)),
           false, false, f, true);
}

// The overlay (topology.h, Scale::overlay): one router, 10 routes, the remote host h2 resolved.
const Scale kOverlayScale{1, 10, true, true};

// Args: flows, imix (capped at the overlay MTU). vm1 -> rvm1 on n1, on h2: switched, encapsulated.
void L2VxlanEncap(benchmark::State& state) {
  run_path(state, Path::kL2Vxlan, kOverlayScale, static_cast<size_t>(state.range(0)),
           state.range(1) != 0, false);
}

// Args: flows, imix (capped at the overlay MTU). vm1 -> rvm2 on n2, on h2: routed here with the
// DVR MAC, encapsulated.
void RoutedVxlanEncap(benchmark::State& state) {
  run_path(state, Path::kRoutedVxlan, kOverlayScale, static_cast<size_t>(state.range(0)),
           state.range(1) != 0, false);
}

// Args: flows, routed. VXLAN from h2 on the uplink, for vm1: from rvm1 (0), or from rvm2, routed
// on h2 (1: the inner source MAC, h2's DVR MAC, is replaced by n1's gateway MAC).
void VxlanDecap(benchmark::State& state) {
  run_path(state, state.range(1) != 0 ? Path::kVxlanDecapRouted : Path::kVxlanDecap, kOverlayScale,
           static_cast<size_t>(state.range(0)), false, false);
}

// North-south NAT (topology.h, Scale::north_south): one router, 10 routes, the upstream router
// resolved, vm1's floating IP, r1's SNAT pool on this host.
const Scale kNatScale{1, 10, true, false, true};

// Args: flows, imix. vm1 -> external hosts: routed to r1's external gateway, source translated to
// vm1's floating IP, sent to the upstream router on "ext".
void FipSnat(benchmark::State& state) {
  run_path(state, Path::kFipSnat, kNatScale, static_cast<size_t>(state.range(0)),
           state.range(1) != 0, false);
}

// Args: flows. From "ext": external hosts -> vm1's floating IP, translated to vm1 and routed.
void FipDnat(benchmark::State& state) {
  run_path(state, Path::kFipDnat, kNatScale, static_cast<size_t>(state.range(0)), false, false);
}

// Args: flows (distinct source ports of vm2: one SNAT session each, created by the check pass).
// vm2 -> external hosts through r1's SNAT on this host.
void SnatOut(benchmark::State& state) {
  run_path(state, Path::kSnatOut, kNatScale, static_cast<size_t>(state.range(0)), false, false);
}

// Args: flows. From "ext": the replies to SnatOut's flows (to the SNAT address and each session's
// outside port), translated back to vm2 and routed.
void SnatIn(benchmark::State& state) {
  run_path(state, Path::kSnatIn, kNatScale, static_cast<size_t>(state.range(0)), false, false);
}

// Benchmarks run in registration order, which is chosen so that the tenant model only grows:
// everything at 1 router and 10 routes, then 1,000 routers, then (after one rebuild) r1's
// table at 100k and 1M routes, then (after another) the filtered paths, ordered so that each
// ACL and group is compiled once, then (after one more rebuild) the overlay paths, and last
// (after another) the north-south paths. A filtered run builds just what it needs.
BENCHMARK(L2)->ArgNames({"flows", "imix"})->ArgsProduct({{1, 1000}, {0}})->Args({1000, 1});
BENCHMARK(ArpReply);
BENCHMARK(Routed)
    ->ArgNames({"flows", "routes", "routers", "imix", "spread"})
    ->ArgsProduct({{1, 1000, 30000, 100000}, {10}, {1}, {0}, {0}})
    ->Args({1000, 10, 1, 1, 0})
    ->Args({1000, 10, 1000, 0, 0})
    ->ArgsProduct({{1000}, {100000}, {1}, {0}, {0, 1}})
    ->ArgsProduct({{1000}, {1000000}, {1}, {0}, {0, 1}})
    ->Args({100000, 1000000, 1, 0, 1});
BENCHMARK(RoutedAcl)
    ->ArgNames({"flows", "acl_rules", "nets", "cache"})
    ->Args({1, 100, 2, 1})
    ->Args({1000, 100, 2, 1})
    ->Args({100000, 100, 2, 1})
    ->Args({1000, 100, 1, 1})
    ->Args({1000, 1000, 2, 1})  // the whole-process benchmark's ACL (dvrd-acl)
    ->Args({1, 10000, 2, 1})
    ->Args({1000, 10000, 2, 1})
    ->Args({100000, 10000, 2, 1})
    ->Args({1000, 10000, 1, 1})
    ->Args({1000, 100, 2, 0})
    ->Args({1000, 1000, 2, 0})
    ->Args({1000, 10000, 2, 0});
BENCHMARK(RoutedSg)
    ->ArgNames({"flows", "sg_rules", "vms", "cache"})
    ->Args({1000, 0, 0, 1})
    ->Args({1000, 10, 2, 1})
    ->Args({100000, 10, 2, 1})
    ->Args({1000, 10, 1, 1})
    ->Args({1000, 1000, 2, 1})
    ->Args({100000, 1000, 2, 1})
    ->Args({1000, 10, 2, 0})
    ->Args({100000, 10, 2, 0});
BENCHMARK(L2Sg)
    ->ArgNames({"flows", "sg_rules", "vms", "cache"})
    ->Args({1000, 0, 0, 1})
    ->Args({1000, 10, 2, 1})
    ->Args({1000, 10, 2, 0});
BENCHMARK(L2VxlanEncap)->ArgNames({"flows", "imix"})->ArgsProduct({{1, 1000}, {0}});
BENCHMARK(RoutedVxlanEncap)
    ->ArgNames({"flows", "imix"})
    ->ArgsProduct({{1, 1000}, {0}})
    ->Args({1000, 1});
BENCHMARK(VxlanDecap)->ArgNames({"flows", "routed"})->ArgsProduct({{1, 1000}, {0, 1}});
BENCHMARK(FipSnat)->ArgNames({"flows", "imix"})->ArgsProduct({{1, 1000}, {0}})->Args({1000, 1});
BENCHMARK(FipDnat)->ArgName("flows")->Arg(1)->Arg(1000);
// SNAT sessions are per inside (address, port): 30,000 flows use about half of the 64,512 ports
// (topology.h); 100k flows cannot have sessions at once.
BENCHMARK(SnatOut)->ArgName("flows")->Arg(1)->Arg(1000)->Arg(30000);
BENCHMARK(SnatIn)->ArgName("flows")->Arg(1)->Arg(1000)->Arg(30000);

// The console table without the per-stage counters, which get a table of their own at the end.
class Reporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown = runs;
    for (Run& r : shown) {
      std::map<std::string, double> stages;
      for (auto it = r.counters.begin(); it != r.counters.end();) {
        if (it->first.starts_with(kStagePrefix)) {
          stages[it->first.substr(std::strlen(kStagePrefix))] = it->second.value;
          it = r.counters.erase(it);
        } else {
          ++it;
        }
      }
      if (!r.error_occurred && !stages.empty()) rows_.emplace_back(r.benchmark_name(), stages);
    }
    ConsoleReporter::ReportRuns(shown);
  }

  void Finalize() override {
    if (rows_.empty()) return;
    std::ostream& out = GetOutputStream();
    size_t name_w = 9;
    for (const auto& [name, stages] : rows_) name_w = std::max(name_w, name.size());
    out << "\nTSC cycles per packet in each stage (stage cycles / packets entering the pipeline;"
           " '-': no packet reached the stage)\n";
    std::string line = std::string("Benchmark") + std::string(name_w - 9, ' ');
    std::vector<size_t> widths;
    for (const std::string& s : g_stage_names) {
      widths.push_back(std::max<size_t>(s.size(), 6));
      line += "  " + std::string(widths.back() - s.size(), ' ') + s;
    }
    line += "     sum";
    out << line << "\n" << std::string(line.size(), '-') << "\n";
    for (const auto& [name, stages] : rows_) {
      out << name << std::string(name_w - name.size(), ' ');
      double sum = 0;
      char cell[32];
      for (size_t i = 0; i < g_stage_names.size(); ++i) {
        auto it = stages.find(g_stage_names[i]);
        if (it == stages.end()) {
          std::snprintf(cell, sizeof cell, "  %*s", static_cast<int>(widths[i]), "-");
        } else {
          sum += it->second;
          std::snprintf(cell, sizeof cell, "  %*.1f", static_cast<int>(widths[i]), it->second);
        }
        out << cell;
      }
      std::snprintf(cell, sizeof cell, "  %6.1f", sum);
      out << cell << "\n";
    }
  }

 private:
  std::vector<std::pair<std::string, std::map<std::string, double>>> rows_;
};

// The value of --name=value among the arguments, or `fallback`.
std::string flag(const std::vector<char*>& args, const std::string& name,
                 const std::string& fallback) {
  std::string v = fallback;
  for (const char* a : args) {
    const std::string s = a;
    if (s.starts_with("--" + name + "=")) v = s.substr(name.size() + 3);
  }
  return v;
}

}  // namespace
}  // namespace dvr::bench

int main(int argc, char** argv) {
  using namespace dvr::bench;
  // Defaults that keep the full run short; the command line overrides them (the last wins).
  std::vector<char*> args = {argv[0]};
  std::string min_time = "--benchmark_min_time=0.2";
  args.push_back(min_time.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  // Read before Initialize(), which takes its flags out of the list.
  const std::string format = flag(args, "benchmark_format", "console");
  const std::string color = flag(args, "benchmark_color", "auto");
  const bool tabular = flag(args, "benchmark_counters_tabular", "true") != "false";
  int bargc = static_cast<int>(args.size());
  benchmark::Initialize(&bargc, args.data());
  args.resize(static_cast<size_t>(bargc));
  if (benchmark::ReportUnrecognizedArguments(bargc, args.data())) return 1;

  const std::string prefix = "--file-prefix=dvr_bench_" + std::to_string(::getpid());
  std::vector<std::string> eal = {"pipeline_bench",
                                  "--no-huge",
                                  "-m",
                                  "1024",
                                  "--no-pci",
                                  "--lcores",
                                  "0@0,1@0",
                                  prefix,
                                  "--no-telemetry",
                                  "--log-level=lib.*:error",
                                  "--log-level=pmd.*:error"};
  std::vector<char*> eal_argv;
  for (auto& a : eal) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "pipeline_bench: EAL init failed (run as root)\n");
    return 1;
  }
  g_pool = rte_pktmbuf_pool_create("dvr_bench_mbufs", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_socket_id()));
  if (g_pool == nullptr) {
    std::fprintf(stderr, "pipeline_bench: cannot create the mbuf pool\n");
    rte_eal_cleanup();
    return 1;
  }
  g_topo = new Topology();

  // Our console reporter for the console format; the library's own for json/csv.
  std::unique_ptr<Reporter> console;
  if (format == "console") {
    const bool use_color = color == "auto" ? ::isatty(STDOUT_FILENO) != 0
                                           : (color == "true" || color == "yes" || color == "1");
    int opts = benchmark::ConsoleReporter::OO_None;
    if (use_color) opts |= benchmark::ConsoleReporter::OO_Color;
    if (tabular) opts |= benchmark::ConsoleReporter::OO_Tabular;
    console =
        std::make_unique<Reporter>(static_cast<benchmark::ConsoleReporter::OutputOptions>(opts));
  }
  benchmark::RunSpecifiedBenchmarks(console.get());
  benchmark::Shutdown();

  delete g_topo;
  rte_mempool_free(g_pool);
  const std::string runtime_dir = rte_eal_get_runtime_dir();  // ours: the prefix has our pid
  rte_eal_cleanup();
  std::error_code ignored;
  std::filesystem::remove_all(runtime_dir, ignored);
  return 0;
}
