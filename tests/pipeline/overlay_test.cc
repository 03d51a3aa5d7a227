// The VXLAN overlay through the real pipeline: the tenant model, the host identity and the remote
// hosts are configured through TenantApi, frames enter through pcap ports (the VM ports and the
// uplink), and the tests check the outer and inner headers of what leaves the uplink, what is
// delivered after decapsulation, what dvrd itself sends on the underlay (ARP requests, replies,
// echo replies), and every drop by its name.
//
// Topology. This host is h1: uplink port "up", tunnel IP 192.0.2.1/24, DVR MAC 02:d0:00:00:00:01,
// an underlay route 198.51.100.0/24 via 192.0.2.254. Remote hosts:
//   h2 192.0.2.2     (on-link, next hop itself)   DVR MAC 02:d0:00:00:00:02
//   h3 198.51.100.3  (next hop 192.0.2.254)       DVR MAC 02:d0:00:00:00:03
//   h4 192.0.2.4     (on-link)                    DVR MAC 02:d0:00:00:00:04
// Router r joins n1 = 10.0.1.0/24 (VNI 101) and n2 = 10.0.2.0/24 (VNI 102).
//   local:  v1 10.0.1.10 (n1, port v1)   v3 10.0.1.30 (n1, port v3)   v2 10.0.2.20 (n2, port v2)
//   remote: r1 10.0.1.50 (n1, h2)  r2 10.0.2.60 (n2, h2)  r3 10.0.2.70 (n2, h3)
//           r4 10.0.1.80 (n1, h3)  r5 10.0.2.90 (n2, h4)
// Port v4 exists but carries no VM port until a test moves r2 there.
//
// The underlay resolver learns a next hop's MAC from an ARP reply the workers punt; the fixture
// hands it the replies directly (TenantApi::on_punt) once the ports exist, unless a test wants
// the paths unresolved. dvrd's own ARP requests (one per next hop whenever the uplink appears)
// are taken out of the uplink's output and checked byte for byte on every run.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "dataplane.h"
#include "frames.h"
#include "pcap_ports.h"
#include "tenant_api.h"
#include "tenant_objects.h"

namespace dvr {
namespace {

namespace v1 = api::v1;
using namespace test;
using dp::DropReason;

constexpr uint32_t kVni1 = 101;
constexpr uint32_t kVni2 = 102;
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;
constexpr uint8_t kSyn = 0x02;
constexpr uint16_t kDf = 0x4000;

const uint32_t kTunnelIp = ip("192.0.2.1");
const uint32_t kH2Ip = ip("192.0.2.2");
const uint32_t kH3Ip = ip("198.51.100.3");
const uint32_t kH4Ip = ip("192.0.2.4");
const Mac6 kDvrH1 = mac("02:d0:00:00:00:01");
const Mac6 kDvrH2 = mac("02:d0:00:00:00:02");
const Mac6 kGw1 = mac("02:0a:00:00:01:01");
const Mac6 kGw2 = mac("02:0a:00:00:02:01");
const Mac6 kBcast = mac("ff:ff:ff:ff:ff:ff");
const Mac6 kZero{};
// The outer destination MAC of frames the underlay sends to us. The pcap uplink's own MAC is only
// known once the port exists, after its input file was written; dvrd does not check it.
const Mac6 kUplinkPeer = mac("02:ee:00:00:00:99");

// The underlay neighbours dvrd must resolve: the next hops towards h2, h4 and (routed) h3.
struct Neighbour {
  uint32_t ip;
  Mac6 mac;
};
const Neighbour kNh2{ip("192.0.2.2"), mac("02:ee:00:00:00:02")};
const Neighbour kNh4{ip("192.0.2.4"), mac("02:ee:00:00:00:04")};
const Neighbour kNh254{ip("192.0.2.254"), mac("02:ee:00:00:00:fe")};

struct Vm {
  std::string id;
  std::string net;
  std::string mac_text;
  std::string ip_text;
  std::string port;  // local dataplane port, or ""
  std::string host;  // remote host, or ""
  Mac6 mac;
  uint32_t ip;
};

Vm make_vm(const std::string& id, const std::string& net, const std::string& m,
           const std::string& a, const std::string& port, const std::string& host) {
  return Vm{id, net, m, a, port, host, mac(m), ip(a)};
}

const Vm kV1 = make_vm("pv1", "n1", "02:aa:00:00:00:01", "10.0.1.10", "v1", "");
const Vm kV3 = make_vm("pv3", "n1", "02:aa:00:00:00:03", "10.0.1.30", "v3", "");
const Vm kV2 = make_vm("pv2", "n2", "02:aa:00:00:00:02", "10.0.2.20", "v2", "");
const Vm kR1 = make_vm("pr1", "n1", "02:bb:00:00:00:50", "10.0.1.50", "", "h2");
const Vm kR2 = make_vm("pr2", "n2", "02:bb:00:00:00:60", "10.0.2.60", "", "h2");
const Vm kR3 = make_vm("pr3", "n2", "02:bb:00:00:00:70", "10.0.2.70", "", "h3");
const Vm kR4 = make_vm("pr4", "n1", "02:bb:00:00:00:80", "10.0.1.80", "", "h3");
const Vm kR5 = make_vm("pr5", "n2", "02:bb:00:00:00:90", "10.0.2.90", "", "h4");

v1::Object vm_object(const Vm& v) {
  return vm_port(v.id, v.net, v.mac_text, v.ip_text, v.port, v.host);
}

v1::Object remote_host(const std::string& id, const std::string& tunnel_ip,
                       const std::string& dvr_mac) {
  v1::Object o;
  o.mutable_remote_host()->set_host_id(id);
  o.mutable_remote_host()->set_tunnel_ip(tunnel_ip);
  o.mutable_remote_host()->set_dvr_mac(dvr_mac);
  return o;
}

v1::Object network_with_bum(const std::string& id, uint32_t vni, v1::BumFlooding mode,
                            const std::vector<std::string>& hosts = {}) {
  v1::Object o = network(id, vni);
  o.mutable_network()->set_bum_flooding(mode);
  for (const auto& h : hosts) o.mutable_network()->add_bum_flood_hosts(h);
  return o;
}

uint16_t get16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.at(off) << 8 | f.at(off + 1));
}
uint32_t get32(const Frame& f, size_t off) {
  return uint32_t{get16(f, off)} << 16 | get16(f, off + 2);
}
Mac6 mac_at(const Frame& f, size_t off) {
  return {f.at(off), f.at(off + 1), f.at(off + 2), f.at(off + 3), f.at(off + 4), f.at(off + 5)};
}

// The VXLAN header (8 bytes) followed by the inner frame.
Frame vxlan_payload(uint32_t vni, const Frame& inner, uint8_t flags = 0x08) {
  Frame f;
  f.reserve(8 + inner.size());
  for (const uint8_t b :
       {flags, uint8_t{0}, uint8_t{0}, uint8_t{0}, static_cast<uint8_t>(vni >> 16),
        static_cast<uint8_t>(vni >> 8), static_cast<uint8_t>(vni), uint8_t{0}}) {
    f.push_back(b);
  }
  for (const uint8_t b : inner) f.push_back(b);
  return f;
}

// A VXLAN packet as a remote VTEP sends it to us.
struct VxlanIn {
  uint32_t src = kH2Ip;
  uint32_t dst = kTunnelIp;
  uint32_t vni = kVni1;
  uint8_t flags = 0x08;
  uint16_t sport = 50000;
  uint16_t dport = 4789;
  int udp_len_delta = 0;  // added to the UDP length field
};

Frame vxlan_in(const VxlanIn& v, const Frame& inner, size_t padding = 0) {
  Frame u = udp(v.sport, v.dport, vxlan_payload(v.vni, inner, v.flags));
  const auto len = static_cast<uint16_t>(get16(u, 4) + v.udp_len_delta);
  u[4] = static_cast<uint8_t>(len >> 8);
  u[5] = static_cast<uint8_t>(len);
  Ipv4Fields f;
  f.src = v.src;
  f.dst = v.dst;
  f.proto = kUdp;
  f.frag = kDf;
  Frame out = ethernet(kUplinkPeer, kNh2.mac, 0x0800, ipv4(f, u));
  out.insert(out.end(), padding, 0xa5);  // Ethernet padding after the IP packet
  return out;
}

// The parsed outer headers of a frame the uplink transmitted.
struct Outer {
  Mac6 dst, src;
  uint16_t type;
  uint8_t ver_ihl, tos;
  uint16_t total_length, frag;
  uint8_t ttl, proto;
  bool checksum_ok;
  uint32_t src_ip, dst_ip;
  uint16_t sport, dport, udp_len, udp_checksum;
  uint8_t flags;
  uint32_t reserved;  // VXLAN bytes 1..3 and 7, which must be zero
  uint32_t vni;
  Frame inner;
};

Outer parse_outer(const Frame& f) {
  Outer o{};
  o.dst = eth_dst(f);
  o.src = eth_src(f);
  o.type = eth_type(f);
  o.ver_ihl = f.at(14);
  o.tos = f.at(15);
  o.total_length = get16(f, 16);
  o.frag = get16(f, 20);
  o.ttl = f.at(22);
  o.proto = f.at(23);
  o.checksum_ok = ip_checksum_ok(f);
  o.src_ip = get32(f, 26);
  o.dst_ip = get32(f, 30);
  o.sport = get16(f, 34);
  o.dport = get16(f, 36);
  o.udp_len = get16(f, 38);
  o.udp_checksum = get16(f, 40);
  o.flags = f.at(42);
  o.reserved =
      uint32_t{f.at(43)} << 24 | uint32_t{f.at(44)} << 16 | uint32_t{f.at(45)} << 8 | f.at(49);
  o.vni = uint32_t{f.at(46)} << 16 | uint32_t{f.at(47)} << 8 | f.at(48);
  o.inner.assign(f.begin() + 50, f.end());
  return o;
}

// The inner frame of a VXLAN frame the uplink transmitted.
Frame inner_of(const Frame& f) {
  return Frame(f.begin() + 50, f.end());
}

std::vector<Frame> sorted(std::vector<Frame> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Every byte of an IPv4 frame but the TTL and the header checksum (what routing may change, with
// the MACs).
bool same_but_ttl_and_checksum(const Frame& got, const Frame& sent) {
  if (got.size() != sent.size()) return false;
  for (size_t i = 12; i < got.size(); ++i) {
    if (i == 22 || i == 24 || i == 25) continue;
    if (got[i] != sent[i]) return false;
  }
  return true;
}

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvr_overlay_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    dp::DataplaneOptions o;
    o.mbufs = 8191;
    o.rx_desc = 128;
    o.tx_desc = 128;
    dp_ = std::make_unique<dp::Dataplane>(o);
    api_ = std::make_unique<TenantApi>(*dp_);

    v1::HostSetRequest hs;
    v1::HostIdentity* h = hs.mutable_host();
    h->set_host_id("h1");
    h->set_dvr_mac("02:d0:00:00:00:01");
    h->set_tunnel_ip("192.0.2.1");
    h->set_tunnel_prefix_length(24);
    h->set_uplink_port("up");
    v1::UnderlayRoute* r = h->add_underlay_routes();
    r->set_destination("198.51.100.0/24");
    r->set_nexthop("192.0.2.254");
    const v1::Response hr = api_->host_set(hs);
    ASSERT_EQ(hr.status(), v1::STATUS_OK) << hr.message();

    apply({router("r"), network("n1", kVni1), network("n2", kVni2),
           subnet("s1", "n1", "10.0.1.0/24"), subnet("s2", "n2", "10.0.2.0/24"),
           interface("i1", "r", "s1", "02:0a:00:00:01:01"),
           interface("i2", "r", "s2", "02:0a:00:00:02:01"),
           remote_host("h2", "192.0.2.2", "02:d0:00:00:00:02"),
           remote_host("h3", "198.51.100.3", "02:d0:00:00:00:03"),
           remote_host("h4", "192.0.2.4", "02:d0:00:00:00:04"), vm_object(kV1), vm_object(kV3),
           vm_object(kV2), vm_object(kR1), vm_object(kR2), vm_object(kR3), vm_object(kR4),
           vm_object(kR5)});
  }
  void TearDown() override {
    api_.reset();
    dp_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::Response apply(std::vector<v1::Object> objs, bool replace = false) {
    v1::UpsertRequest req;
    for (auto& o : objs) *req.add_objects() = o;
    req.set_replace(replace);
    v1::Response r = api_->upsert(req);
    EXPECT_EQ(r.status(), v1::STATUS_OK) << r.message();
    return r;
  }

  // What the uplink's next hop `n` answers to dvrd's request, as the workers punt it.
  void answer_arp(const Neighbour& n) {
    const Frame f =
        ethernet(uplink_mac_, n.mac, 0x0806, arp(2, n.mac, n.ip, uplink_mac_, kTunnelIp));
    rte_mbuf* m = dp_->alloc_mbuf();
    ASSERT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
    ASSERT_NE(p, nullptr);
    std::memcpy(p, f.data(), f.size());
    api_->on_punt(dp::PuntItem{m, uplink_id_, dp::PuntReason::kUnderlayArp});
    rte_pktmbuf_free(m);
  }

  // Sends `frames` into port `in` and returns what every port transmitted, dvrd's own ARP
  // requests on the uplink left out (they are checked here, and kept in arp_requests_).
  // `resolve`: answer dvrd's ARP requests for every underlay next hop once the ports exist.
  std::map<std::string, std::vector<Frame>> run(const std::string& in,
                                                const std::vector<Frame>& frames,
                                                bool resolve = true,
                                                const std::function<void(int)>& polled = {}) {
    const dp::WorkerSnapshot before = dp_->worker_stats()[0];
    // The uplink first: it leaves first, so no request is sent towards a port being removed.
    PcapPorts ports(*dp_, *api_, dir_, {"up", "v1", "v2", "v3", "v4"});
    auto out = ports.run(
        in, frames,
        [&] {
          for (const dp::PortStatus& st : dp_->list_ports()) {
            if (st.record.spec.name != "up") continue;
            uplink_id_ = st.record.port_id;
            port_mtu_ = st.mtu;
          }
          for (const dp::PortStatus& st : dp_->list_ports()) {
            if (st.record.spec.name == "up") uplink_mac_ = mac(st.mac);
          }
          status_ = api_->underlay(v1::UnderlayRequest{}).underlay();
          if (resolve) {
            for (const Neighbour& n : {kNh2, kNh4, kNh254}) answer_arp(n);
            resolved_status_ = api_->underlay(v1::UnderlayRequest{}).underlay();
          }
        },
        polled);
    last_stats_ = ports.last_stats();
    const dp::WorkerSnapshot after = dp_->worker_stats()[0];
    encapsulated_ = after.vxlan_encapsulated - before.vxlan_encapsulated;
    decapsulated_ = after.vxlan_decapsulated - before.vxlan_decapsulated;
    flood_copies_ = after.flood_copies - before.flood_copies;
    icmp_errors_ = after.icmp_errors_sent - before.icmp_errors_sent;
    echo_replies_ = after.echo_replies - before.echo_replies;
    arp_replies_ = after.arp_replies - before.arp_replies;

    std::vector<Frame> rest;
    arp_requests_.clear();
    for (const Frame& f : out["up"]) {
      const bool request = f.size() >= 22 && eth_type(f) == 0x0806 && get16(f, 20) == 1;
      (request ? arp_requests_ : rest).push_back(f);
    }
    out["up"] = rest;
    expect_arp_requests();
    return out;
  }

  // dvrd asked for every underlay next hop exactly once when the uplink appeared: a broadcast
  // who-has from the tunnel IP and the uplink's MAC, padded to the Ethernet minimum. Never for
  // h3 itself (it is behind 192.0.2.254).
  void expect_arp_requests() const {
    std::vector<Frame> want;
    for (const uint32_t target : {kNh2.ip, kNh4.ip, kNh254.ip}) {
      Frame f =
          ethernet(kBcast, uplink_mac_, 0x0806, arp(1, uplink_mac_, kTunnelIp, kZero, target));
      f.resize(60, 0);
      want.push_back(f);
    }
    std::vector<Frame> got = arp_requests_;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "dvrd's ARP requests on the uplink";
  }

  uint64_t drops(const std::string& port, DropReason r) const {
    return port_drops(last_stats_, port, r);
  }
  // Every drop of `port`, whatever the reason.
  uint64_t all_drops(const std::string& port) const {
    uint64_t n = 0;
    for (const auto& s : last_stats_) {
      if (s.name != port) continue;
      for (uint64_t d : s.drops) n += d;
    }
    return n;
  }

  uint64_t routed() const {
    v1::Stats st;
    api_->fill_router_stats(st);
    for (const auto& r : st.routers()) {
      if (r.router_id() == "r") return r.routed_packets();
    }
    return 0;
  }

  // VXLAN frames ordered by VNI: within a burst, packets the one-pass routed path sends leave
  // before switched ones (order is kept within a flow, not across flows).
  std::vector<Frame> by_vni(std::vector<Frame> frames) const {
    std::stable_sort(frames.begin(), frames.end(), [](const Frame& a, const Frame& b) {
      return parse_outer(a).vni < parse_outer(b).vni;
    });
    return frames;
  }

  // The outer headers of a VXLAN frame from this host towards `dst_ip` through next hop MAC
  // `nh`, carrying `vni`.
  void expect_vxlan(const Frame& f, const Mac6& nh, uint32_t dst_ip, uint32_t vni) const {
    ASSERT_GE(f.size(), 50u + 14u);
    const Outer o = parse_outer(f);
    EXPECT_EQ(o.dst, nh);
    EXPECT_EQ(o.src, uplink_mac_);
    EXPECT_EQ(o.type, 0x0800);
    EXPECT_EQ(o.ver_ihl, 0x45);
    EXPECT_EQ(o.tos, 0);
    EXPECT_EQ(o.total_length, f.size() - 14);
    EXPECT_EQ(o.frag, kDf) << "DF set, no fragment";
    EXPECT_EQ(o.ttl, 64);
    EXPECT_EQ(o.proto, kUdp);
    EXPECT_TRUE(o.checksum_ok);
    EXPECT_EQ(o.src_ip, kTunnelIp);
    EXPECT_EQ(o.dst_ip, dst_ip);
    EXPECT_GE(o.sport, 49152);
    EXPECT_EQ(o.dport, 4789);
    EXPECT_EQ(o.udp_len, f.size() - 34);
    EXPECT_EQ(o.udp_checksum, 0);
    EXPECT_EQ(o.flags, 0x08);
    EXPECT_EQ(o.reserved, 0u);
    EXPECT_EQ(o.vni, vni);
  }

  // A UDP frame from local VM `from` to `dst_mac` (L2, or a gateway MAC to be routed).
  static Frame udp_frame(const Vm& from, const Mac6& dst_mac, uint32_t dst_ip,
                         uint16_t sport = 4000, size_t len = 60, uint16_t id = 1,
                         uint16_t frag = 0) {
    Ipv4Fields f;
    f.src = from.ip;
    f.dst = dst_ip;
    f.id = id;
    f.frag = frag;
    return ethernet(dst_mac, from.mac, 0x0800,
                    ipv4(f, udp(sport, 5000, bytes(len, static_cast<uint8_t>(id)))));
  }
  // A UDP frame of `from` whose IPv4 packet is exactly `ip_len` bytes.
  static Frame sized_frame(const Vm& from, const Mac6& dst_mac, uint32_t dst_ip, size_t ip_len,
                           uint16_t frag, uint16_t id) {
    return udp_frame(from, dst_mac, dst_ip, 4000, ip_len - 28, id, frag);
  }

  std::string dir_;
  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  std::vector<dp::PortStatsSnapshot> last_stats_;
  std::vector<Frame> arp_requests_;
  uint16_t uplink_id_ = dp::kNoPort;
  Mac6 uplink_mac_{};
  uint32_t port_mtu_ = 0;
  v1::UnderlayStatus status_;           // when the ports were added, before any reply
  v1::UnderlayStatus resolved_status_;  // after the replies
  uint64_t encapsulated_ = 0, decapsulated_ = 0, flood_copies_ = 0;
  uint64_t icmp_errors_ = 0, echo_replies_ = 0, arp_replies_ = 0;
};

// 1. L2 to a remote VM.
TEST_F(OverlayTest, L2ToARemoteVmLeavesTheUplinkAsVxlanWithTheInnerFrameUntouched) {
  // Eight flows (UDP source ports), three packets each, interleaved.
  std::vector<Frame> in;
  for (uint16_t k = 0; k < 3; ++k) {
    for (uint16_t flow = 0; flow < 8; ++flow) {
      in.push_back(udp_frame(kV1, kR1.mac, kR1.ip, static_cast<uint16_t>(1000 + flow),
                             40 + k * 10 + flow, static_cast<uint16_t>(k * 8 + flow)));
    }
  }
  const auto out = run("v1", in);
  ASSERT_EQ(out.at("up").size(), in.size());
  std::map<uint16_t, std::set<uint16_t>> ports_of_flow;
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("up")[i];
    expect_vxlan(f, kNh2.mac, kH2Ip, kVni1);
    EXPECT_EQ(inner_of(f), in[i]);
    ports_of_flow[get16(in[i], 34)].insert(parse_outer(f).sport);
  }
  std::set<uint16_t> all_ports;
  for (const auto& [flow, ports] : ports_of_flow) {
    EXPECT_EQ(ports.size(), 1u) << "flow " << flow << " used several source ports";
    all_ports.insert(ports.begin(), ports.end());
  }
  EXPECT_GT(all_ports.size(), 1u) << "every flow got the same source port";
  EXPECT_EQ(encapsulated_, in.size());
  EXPECT_EQ(all_drops("v1"), 0u);
  for (const char* p : {"v1", "v2", "v3", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

// The source port names the flow, not the packet: a ping's echo requests (one identifier, a new
// sequence number and so a new checksum each) and the fragments of one datagram keep one port.
// DISABLED: vxlan_source_port() hashes the first four bytes after the IP header whatever they
// are, i.e. the ICMP type, code and checksum, and for a non-first fragment payload bytes; see the
// report of the overlay tests.
TEST_F(OverlayTest, SourcePortIsTheSameForEveryPacketOfAPingAndOfAFragmentedDatagram) {
  std::vector<Frame> in;
  for (uint16_t seq = 1; seq <= 6; ++seq) {
    Ipv4Fields f;
    f.src = kV1.ip;
    f.dst = kR1.ip;
    f.proto = kIcmp;
    f.id = seq;
    in.push_back(ethernet(kR1.mac, kV1.mac, 0x0800, ipv4(f, icmp_echo(8, 77, seq, bytes(32, 1)))));
  }
  // One 96-byte UDP datagram in three fragments of 32 bytes (offsets 0, 4, 8 in 8-byte units),
  // switched to the remote VM.
  const Frame datagram = udp(1234, 5678, bytes(88, 4));
  for (uint16_t k = 0; k < 3; ++k) {
    Ipv4Fields f;
    f.src = kV1.ip;
    f.dst = kR1.ip;
    f.id = 4242;
    f.frag = static_cast<uint16_t>((k < 2 ? 0x2000 : 0) | k * 4);
    in.push_back(
        ethernet(kR1.mac, kV1.mac, 0x0800,
                 ipv4(f, Frame(datagram.begin() + k * 32, datagram.begin() + (k + 1) * 32))));
  }
  const auto out = run("v1", in);
  ASSERT_EQ(out.at("up").size(), in.size());
  std::set<uint16_t> ping_ports, fragment_ports;
  for (size_t i = 0; i < in.size(); ++i) {
    const Outer o = parse_outer(out.at("up")[i]);
    EXPECT_EQ(o.inner, in[i]);
    (i < 6 ? ping_ports : fragment_ports).insert(o.sport);
  }
  EXPECT_EQ(ping_ports.size(), 1u) << "one ping, several source ports";
  EXPECT_EQ(fragment_ports.size(), 1u) << "one datagram, several source ports";
}

// 2. Routed to a remote VM.
TEST_F(OverlayTest, RoutedToARemoteVmCarriesTheDvrMacAndTheDestinationVni) {
  // A static route whose gateway is a VM on another host goes there too.
  apply({static_route("sr", "r", "172.16.0.0/12", kR2.ip_text)});
  const Frame to_r2 = udp_frame(kV1, kGw1, kR2.ip, 4000, 100, 7);
  const Frame to_r3 = udp_frame(kV1, kGw1, kR3.ip, 4001, 33, 8);
  const Frame via_r2 = udp_frame(kV1, kGw1, ip("172.16.5.5"), 4002, 20, 9);
  const auto out = run("v1", {to_r2, to_r3, via_r2});
  ASSERT_EQ(out.at("up").size(), 3u);
  struct Want {
    const Frame* sent;
    const Vm* vm;
    Mac6 nh;
    uint32_t host;
  };
  const Want want[] = {{&to_r2, &kR2, kNh2.mac, kH2Ip},
                       {&to_r3, &kR3, kNh254.mac, kH3Ip},
                       {&via_r2, &kR2, kNh2.mac, kH2Ip}};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("up")[i];
    expect_vxlan(f, want[i].nh, want[i].host, kVni2);
    const Frame inner = inner_of(f);
    EXPECT_EQ(eth_dst(inner), want[i].vm->mac);
    EXPECT_EQ(eth_src(inner), kDvrH1);
    EXPECT_EQ(ip_ttl(inner), 63);
    EXPECT_TRUE(ip_checksum_ok(inner));
    EXPECT_TRUE(same_but_ttl_and_checksum(inner, *want[i].sent));
  }
  EXPECT_EQ(encapsulated_, 3u);
  EXPECT_EQ(routed(), 3u);
  EXPECT_EQ(all_drops("v1"), 0u);
  for (const char* p : {"v1", "v2", "v3", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

// 3. Nothing leaves towards a host whose underlay next hop is unresolved.
TEST_F(OverlayTest, UnresolvedUnderlayDropsRemoteTrafficAndAsksForTheNextHop) {
  const Frame l2 = udp_frame(kV1, kR1.mac, kR1.ip);
  const Frame routed_frame = udp_frame(kV1, kGw1, kR3.ip);
  const auto out = run("v1", {l2, routed_frame}, /*resolve=*/false);
  // Only the ARP requests (checked by run()) left the uplink.
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_EQ(arp_requests_.size(), 3u);
  for (const char* p : {"v1", "v2", "v3", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(drops("v1", DropReason::kUnderlayUnresolved), 2u);
  EXPECT_EQ(encapsulated_, 0u);
  EXPECT_EQ(icmp_errors_, 0u);
  // The status says so too (dvrctl underlay).
  ASSERT_EQ(status_.remote_hosts_size(), 3);
  for (const auto& h : status_.remote_hosts()) {
    EXPECT_FALSE(h.resolved()) << h.host_id();
    EXPECT_TRUE(h.nexthop_mac().empty()) << h.host_id();
  }

  // Once the next hops answer, the same frames go through.
  const auto out2 = run("v1", {l2, routed_frame});
  ASSERT_EQ(out2.at("up").size(), 2u);
  const std::vector<Frame> sent = by_vni(out2.at("up"));
  expect_vxlan(sent[0], kNh2.mac, kH2Ip, kVni1);
  expect_vxlan(sent[1], kNh254.mac, kH3Ip, kVni2);
  EXPECT_EQ(drops("v1", DropReason::kUnderlayUnresolved), 0u);
  std::map<std::string, std::string> nexthop_mac;
  for (const auto& h : resolved_status_.remote_hosts()) {
    EXPECT_TRUE(h.resolved()) << h.host_id();
    nexthop_mac[h.host_id()] = h.nexthop() + " " + h.nexthop_mac();
  }
  EXPECT_EQ(nexthop_mac["h2"], "192.0.2.2 02:ee:00:00:00:02");
  EXPECT_EQ(nexthop_mac["h3"], "192.0.2.254 02:ee:00:00:00:fe");
  EXPECT_EQ(nexthop_mac["h4"], "192.0.2.4 02:ee:00:00:00:04");
}

// 4. Decapsulation, delivery and every drop of the uplink input.
TEST_F(OverlayTest, DecapDeliversInnerFramesRestoresTheGatewayMacAndNamesEveryDrop) {
  Ipv4Fields l2f;
  l2f.src = kR1.ip;
  l2f.dst = kV1.ip;
  const Frame l2_inner = ethernet(kV1.mac, kR1.mac, 0x0800, ipv4(l2f, udp(7, 8, bytes(50, 1))));
  Ipv4Fields rf;
  rf.src = kR1.ip;
  rf.dst = kV2.ip;
  rf.ttl = 63;
  const Frame routed_inner = ethernet(kV2.mac, kDvrH2, 0x0800, ipv4(rf, udp(9, 10, bytes(70, 2))));
  // A 16-byte inner frame: the outer frame carries 8 bytes of Ethernet padding after it.
  const Frame short_inner = ethernet(kV3.mac, kR1.mac, 0x88b5, {0xde, 0xad});
  const Frame to_r4 = ethernet(kR4.mac, kR1.mac, 0x0800, ipv4(l2f, udp(1, 2, bytes(20, 3))));

  VxlanIn v2in;
  v2in.vni = kVni2;
  VxlanIn unknown_vni;
  unknown_vni.vni = 999;
  VxlanIn unknown_vni2;
  unknown_vni2.vni = kVni1 + 2;
  VxlanIn unknown_vtep;
  unknown_vtep.src = ip("192.0.2.77");
  VxlanIn no_i_flag;
  no_i_flag.flags = 0x00;
  VxlanIn bad_udp_len;
  bad_udp_len.udp_len_delta = 2;
  VxlanIn not_ours;
  not_ours.dst = ip("192.0.2.9");
  // Truncated: IP and UDP lengths are consistent, but only 10 bytes follow the VXLAN header.
  const Frame truncated = vxlan_in({}, Frame(l2_inner.begin(), l2_inner.begin() + 10));
  Ipv4Fields tcpf;
  tcpf.src = kH2Ip;
  tcpf.dst = kTunnelIp;
  tcpf.proto = kTcp;
  const Frame tcp_to_us =
      ethernet(kUplinkPeer, kNh2.mac, 0x0800, ipv4(tcpf, tcp(1, 179, kSyn, 1, 0, {})));

  const std::vector<Frame> in = {
      vxlan_in({}, l2_inner),            // 0 -> v1
      vxlan_in(v2in, routed_inner),      // 1 -> v2, gateway MAC restored
      vxlan_in({}, short_inner, 8),      // 2 -> v3, padding trimmed
      vxlan_in(unknown_vni, l2_inner),   // vxlan_unknown_vni
      vxlan_in(unknown_vni2, l2_inner),  // vxlan_unknown_vni
      vxlan_in(unknown_vtep, l2_inner),  // vxlan_unknown_vtep
      truncated,                         // vxlan_malformed
      vxlan_in(no_i_flag, l2_inner),     // vxlan_malformed
      vxlan_in(bad_udp_len, l2_inner),   // vxlan_malformed
      vxlan_in({}, to_r4),               // vxlan_not_local
      vxlan_in(not_ours, l2_inner),      // underlay_not_local
      tcp_to_us,                         // underlay_unsupported
  };
  const auto out = run("up", in);

  ASSERT_EQ(out.at("v1").size(), 1u);
  EXPECT_EQ(out.at("v1")[0], l2_inner);
  ASSERT_EQ(out.at("v2").size(), 1u);
  const Frame& r = out.at("v2")[0];
  EXPECT_EQ(eth_src(r), kGw2) << "the gateway MAC replaces h2's DVR MAC";
  EXPECT_EQ(eth_dst(r), kV2.mac);
  ASSERT_EQ(r.size(), routed_inner.size());
  EXPECT_EQ(Frame(r.begin() + 12, r.end()), Frame(routed_inner.begin() + 12, routed_inner.end()));
  ASSERT_EQ(out.at("v3").size(), 1u);
  EXPECT_EQ(out.at("v3")[0], short_inner) << "exactly the inner frame, without the padding";
  // Nothing goes back into the overlay, not even the frame for a MAC on another remote host.
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_TRUE(out.at("v4").empty());
  EXPECT_EQ(encapsulated_, 0u);

  EXPECT_EQ(decapsulated_, 4u);
  EXPECT_EQ(drops("up", DropReason::kVxlanUnknownVni), 2u);
  EXPECT_EQ(drops("up", DropReason::kVxlanUnknownVtep), 1u);
  EXPECT_EQ(drops("up", DropReason::kVxlanMalformed), 3u);
  EXPECT_EQ(drops("up", DropReason::kVxlanNotLocal), 1u);
  EXPECT_EQ(drops("up", DropReason::kUnderlayNotLocal), 1u);
  EXPECT_EQ(drops("up", DropReason::kUnderlayUnsupported), 1u);
  EXPECT_EQ(all_drops("up"), 9u);
}

// The three malformations one at a time: each alone is enough to drop the packet.
TEST_F(OverlayTest, EachVxlanMalformationAloneIsDropped) {
  Ipv4Fields f;
  f.src = kR1.ip;
  f.dst = kV1.ip;
  const Frame inner = ethernet(kV1.mac, kR1.mac, 0x0800, ipv4(f, udp(7, 8, bytes(30, 4))));
  VxlanIn no_i;
  no_i.flags = 0x00;
  VxlanIn only_other_flags;
  only_other_flags.flags = 0xf7;  // every bit but I
  VxlanIn short_len;
  short_len.udp_len_delta = -2;
  VxlanIn long_len;
  long_len.udp_len_delta = 1;
  const std::vector<Frame> bad = {
      vxlan_in(no_i, inner),
      vxlan_in(only_other_flags, inner),
      vxlan_in(short_len, inner),
      vxlan_in(long_len, inner),
      vxlan_in({}, Frame(inner.begin(), inner.begin() + 13)),  // 13-byte inner frame
      vxlan_in({}, {}),                                        // VXLAN header only
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const auto out = run("up", {bad[i]});
    EXPECT_TRUE(out.at("v1").empty());
    EXPECT_EQ(drops("up", DropReason::kVxlanMalformed), 1u);
  }
  // A 14-byte inner frame (a bare Ethernet header) is whole: delivered.
  const Frame bare = ethernet(kV1.mac, kR1.mac, 0x88b5, {});
  const auto out = run("up", {vxlan_in({}, bare)});
  ASSERT_EQ(out.at("v1").size(), 1u);
  EXPECT_EQ(out.at("v1")[0], bare);
}

// 5. dvrd owns the tunnel IP on the uplink: ARP and ping.
TEST_F(OverlayTest, UplinkAnswersArpAndPingForTheTunnelIpOnly) {
  const Mac6 peer = kNh2.mac;
  const Frame who_has_us = ethernet(kBcast, peer, 0x0806, arp(1, peer, kNh2.ip, kZero, kTunnelIp));
  const Frame who_has_other =
      ethernet(kBcast, peer, 0x0806, arp(1, peer, kNh2.ip, kZero, ip("192.0.2.99")));
  const Frame data = bytes(56, 9);
  auto ping = [&](uint32_t dst) {
    Ipv4Fields f;
    f.src = kNh2.ip;
    f.dst = dst;
    f.proto = kIcmp;
    return ethernet(kUplinkPeer, peer, 0x0800, ipv4(f, icmp_echo(8, 42, 3, data)));
  };
  const auto out = run("up", {who_has_us, who_has_other, ping(kTunnelIp), ping(ip("192.0.2.99"))});
  ASSERT_EQ(out.at("up").size(), 2u);

  const Frame& a = out.at("up")[0];
  ASSERT_EQ(a.size(), 42u);
  EXPECT_EQ(eth_dst(a), peer);
  EXPECT_EQ(eth_src(a), uplink_mac_);
  EXPECT_EQ(eth_type(a), 0x0806);
  EXPECT_EQ(get16(a, 14), 1);       // Ethernet
  EXPECT_EQ(get16(a, 16), 0x0800);  // IPv4
  EXPECT_EQ(a[18], 6);
  EXPECT_EQ(a[19], 4);
  EXPECT_EQ(get16(a, 20), 2);  // reply
  EXPECT_EQ(mac_at(a, 22), uplink_mac_);
  EXPECT_EQ(get32(a, 28), kTunnelIp);
  EXPECT_EQ(mac_at(a, 32), peer);
  EXPECT_EQ(get32(a, 38), kNh2.ip);

  const Frame& e = out.at("up")[1];
  EXPECT_EQ(eth_dst(e), peer);
  // (Its source MAC: see EchoRepliesOnTheUplinkComeFromTheUplinkMac.)
  EXPECT_EQ(eth_type(e), 0x0800);
  EXPECT_EQ(ip_src(e), kTunnelIp);
  EXPECT_EQ(ip_dst(e), kNh2.ip);
  EXPECT_EQ(ip_proto(e), kIcmp);
  EXPECT_TRUE(ip_checksum_ok(e));
  EXPECT_EQ(e.at(34), 0);  // echo reply
  EXPECT_EQ(ones_complement_sum(e.data() + 34, e.size() - 34), 0xffff);
  EXPECT_EQ(get16(e, 38), 42);  // id
  EXPECT_EQ(get16(e, 40), 3);   // sequence
  EXPECT_EQ(Frame(e.begin() + 42, e.end()), data);

  EXPECT_EQ(arp_replies_, 1u);
  EXPECT_EQ(echo_replies_, 1u);
  EXPECT_EQ(drops("up", DropReason::kUnderlayArpIgnored), 1u);
  EXPECT_EQ(drops("up", DropReason::kUnderlayNotLocal), 1u);
  EXPECT_EQ(all_drops("up"), 2u);
  for (const char* p : {"v1", "v2", "v3", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

// The real punt path: an ARP reply arriving on the uplink is punted, and the resolver learns
// from it only what it asked for.
TEST_F(OverlayTest, ArpRepliesOnTheUplinkArePuntedAndOnlyRequestedNeighboursAreLearned) {
  const Mac6 new_mac = mac("02:ee:00:00:01:02");
  const Frame reply =
      ethernet(kUplinkPeer, new_mac, 0x0806, arp(2, new_mac, kNh2.ip, kUplinkPeer, kTunnelIp));
  const Mac6 stranger = mac("02:ee:00:00:07:07");
  const Frame unsolicited = ethernet(kUplinkPeer, stranger, 0x0806,
                                     arp(2, stranger, ip("192.0.2.77"), kUplinkPeer, kTunnelIp));
  const Frame not_for_us = ethernet(kUplinkPeer, stranger, 0x0806,
                                    arp(2, stranger, kNh4.ip, kUplinkPeer, ip("192.0.2.9")));
  size_t punted = 0;
  v1::UnderlayStatus learned;
  run("up", {reply, unsolicited, not_for_us}, /*resolve=*/false, [&](int) {
    punted += dp_->drain_exceptions([&](const dp::PuntItem& item) {
      EXPECT_EQ(item.reason, dp::PuntReason::kUnderlayArp);
      api_->on_punt(item);
    });
    learned = api_->underlay(v1::UnderlayRequest{}).underlay();
  });
  EXPECT_EQ(punted, 2u);
  EXPECT_EQ(drops("up", DropReason::kUnderlayArpIgnored), 1u);
  std::map<std::string, std::string> state;
  for (const auto& n : learned.neighbors()) state[n.ip()] = n.state() + " " + n.mac();
  EXPECT_EQ(state.size(), 3u);  // 192.0.2.77 was never asked for
  EXPECT_EQ(state["192.0.2.2"], "reachable 02:ee:00:00:01:02");
  EXPECT_EQ(state["192.0.2.4"], "incomplete ");
  EXPECT_EQ(state["192.0.2.254"], "incomplete ");
}

// 6. Broadcast, unknown unicast and multicast.
TEST_F(OverlayTest, BumFloodsToLocalPortsAndThePolicysRemoteHosts) {
  Ipv4Fields f;
  f.src = kV1.ip;
  f.dst = ip("10.0.1.255");
  const Frame bcast = ethernet(kBcast, kV1.mac, 0x0800, ipv4(f, udp(68, 67, bytes(40, 1))));
  const Frame unknown =
      ethernet(mac("02:99:99:99:99:99"), kV1.mac, 0x0800, ipv4(f, udp(68, 67, bytes(41, 2))));
  const Frame mcast =
      ethernet(mac("01:00:5e:00:00:fb"), kV1.mac, 0x0800, ipv4(f, udp(5353, 5353, bytes(42, 3))));
  // Broadcast and multicast are flooded from l2-switch's first pass, unknown unicast after the
  // lookup: the order between them is not kept, so frames are compared as sets.
  const std::vector<Frame> in = {bcast, unknown, mcast};

  // The remote copies of each frame by host, checked as VXLAN of VNI 101.
  auto remote_copies = [&](const std::vector<Frame>& up) {
    std::map<uint32_t, std::vector<Frame>> by_host;
    for (const Frame& x : up) {
      const Outer o = parse_outer(x);
      SCOPED_TRACE("to " + std::to_string(o.dst_ip));
      expect_vxlan(x, o.dst_ip == kH3Ip ? kNh254.mac : kNh2.mac, o.dst_ip, kVni1);
      by_host[o.dst_ip].push_back(o.inner);
    }
    return by_host;
  };

  // ALL_HOSTS (the default): v3, h2 and h3 (both have a VM on n1); not h4 (only n2).
  auto out = run("v1", in);
  EXPECT_EQ(sorted(out.at("v3")), sorted(in));
  auto by_host = remote_copies(out.at("up"));
  EXPECT_EQ(by_host.size(), 2u);
  EXPECT_EQ(sorted(by_host[kH2Ip]), sorted(in));
  EXPECT_EQ(sorted(by_host[kH3Ip]), sorted(in));
  EXPECT_EQ(flood_copies_, 2 * in.size());
  EXPECT_EQ(encapsulated_, 2 * in.size());
  for (const char* p : {"v1", "v2", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(all_drops("v1"), 0u);

  // OFF: only the local port; one target, so no copy at all.
  apply({network_with_bum("n1", kVni1, v1::BUM_FLOODING_OFF)}, true);
  out = run("v1", in);
  EXPECT_EQ(sorted(out.at("v3")), sorted(in));
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_EQ(flood_copies_, 0u);
  EXPECT_EQ(encapsulated_, 0u);
  for (const char* p : {"v1", "v2", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;

  // LISTED [h3]: v3 and h3 only.
  apply({network_with_bum("n1", kVni1, v1::BUM_FLOODING_LISTED, {"h3"})}, true);
  out = run("v1", in);
  EXPECT_EQ(sorted(out.at("v3")), sorted(in));
  by_host = remote_copies(out.at("up"));
  EXPECT_EQ(by_host.size(), 1u);
  EXPECT_EQ(sorted(by_host[kH3Ip]), sorted(in));
  EXPECT_EQ(flood_copies_, in.size());
  EXPECT_EQ(encapsulated_, in.size());
  for (const char* p : {"v1", "v2", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;

  // A network with remote hosts but no other local port: all of them, none copied back to v2.
  Ipv4Fields f2;
  f2.src = kV2.ip;
  f2.dst = ip("10.0.2.255");
  const Frame bcast2 = ethernet(kBcast, kV2.mac, 0x0800, ipv4(f2, udp(68, 67, bytes(10, 5))));
  out = run("v2", {bcast2});
  std::set<uint32_t> hosts;
  for (const Frame& x : out.at("up")) {
    const Outer o = parse_outer(x);
    EXPECT_EQ(o.vni, kVni2);
    EXPECT_EQ(o.inner, bcast2);
    hosts.insert(o.dst_ip);
  }
  EXPECT_EQ(out.at("up").size(), 3u);
  EXPECT_EQ(hosts, (std::set<uint32_t>{kH2Ip, kH3Ip, kH4Ip}));
  EXPECT_EQ(flood_copies_, 2u);
  for (const char* p : {"v1", "v2", "v3", "v4"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

TEST_F(OverlayTest, BumFromTheOverlayIsFloodedToLocalPortsOnlyNeverBackToTheUplink) {
  Ipv4Fields f;
  f.src = kR1.ip;
  f.dst = ip("10.0.1.255");
  const Frame bcast = ethernet(kBcast, kR1.mac, 0x0800, ipv4(f, udp(68, 67, bytes(40, 1))));
  const Frame unknown =
      ethernet(mac("02:99:99:99:99:99"), kR1.mac, 0x0800, ipv4(f, udp(68, 67, bytes(41, 2))));
  const auto out = run("up", {vxlan_in({}, bcast), vxlan_in({}, unknown)});
  const std::vector<Frame> want = {bcast, unknown};
  EXPECT_EQ(out.at("v1"), want);
  EXPECT_EQ(out.at("v3"), want);
  EXPECT_TRUE(out.at("v2").empty());
  EXPECT_TRUE(out.at("v4").empty());
  EXPECT_TRUE(out.at("up").empty()) << "split horizon";
  EXPECT_EQ(decapsulated_, 2u);
  EXPECT_EQ(flood_copies_, 2u);
  EXPECT_EQ(encapsulated_, 0u);
  EXPECT_EQ(all_drops("up"), 0u);
}

// 7. The overlay MTU.
TEST_F(OverlayTest, OversizedFramesGetFragNeededWhenRoutedWithDfAndAreDroppedOtherwise) {
  // The uplink's MTU as dvrd reports it (dvrctl underlay), from an empty run.
  run("v1", {});
  const uint32_t mtu = status_.uplink_mtu();
  ASSERT_GT(mtu, 600u);
  EXPECT_EQ(mtu, port_mtu_) << "the underlay status reports the port's MTU";
  EXPECT_EQ(status_.overlay_mtu(), mtu - 50);
  const uint32_t overlay = mtu - 50;

  const Frame routed_df = sized_frame(kV1, kGw1, kR2.ip, mtu, kDf, 1);
  const Frame routed_df_edge = sized_frame(kV1, kGw1, kR2.ip, overlay + 1, kDf, 2);
  const Frame routed_nodf = sized_frame(kV1, kGw1, kR2.ip, mtu, 0, 3);
  const Frame l2_big = sized_frame(kV1, kR1.mac, kR1.ip, overlay + 1, kDf, 4);
  const Frame routed_fits = sized_frame(kV1, kGw1, kR2.ip, overlay, kDf, 5);
  const Frame l2_fits = sized_frame(kV1, kR1.mac, kR1.ip, overlay, kDf, 6);
  const auto out =
      run("v1", {routed_df, routed_df_edge, routed_nodf, l2_big, routed_fits, l2_fits});

  // Two "fragmentation needed" errors, for the routed packets with DF.
  ASSERT_EQ(out.at("v1").size(), 2u);
  const Frame* orig[] = {&routed_df, &routed_df_edge};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE("error " + std::to_string(i));
    const Frame& e = out.at("v1")[i];
    EXPECT_EQ(eth_dst(e), kV1.mac);
    EXPECT_EQ(eth_src(e), kGw1);
    EXPECT_EQ(ip_src(e), ip("10.0.1.1"));
    EXPECT_EQ(ip_dst(e), kV1.ip);
    EXPECT_EQ(ip_proto(e), kIcmp);
    EXPECT_TRUE(ip_checksum_ok(e));
    EXPECT_EQ(e.at(34), 3);
    EXPECT_EQ(e.at(35), 4);
    EXPECT_EQ(get16(e, 38), 0);  // unused (RFC 1191)
    EXPECT_EQ(get16(e, 40), overlay) << "next-hop MTU";
    EXPECT_EQ(ones_complement_sum(e.data() + 34, e.size() - 34), 0xffff);
    ASSERT_EQ(e.size(), 14u + 20 + 8 + 28);
    EXPECT_EQ(Frame(e.begin() + 42, e.end()), Frame(orig[i]->begin() + 14, orig[i]->begin() + 42));
  }
  EXPECT_EQ(drops("v1", DropReason::kOverlayMtuExceeded), 4u);
  EXPECT_EQ(icmp_errors_, 2u);

  // The largest packets that fit: the outer IPv4 packet is exactly the uplink's MTU.
  ASSERT_EQ(out.at("up").size(), 2u);
  for (const Frame& f : out.at("up")) {
    EXPECT_EQ(f.size(), mtu + 14);
    EXPECT_EQ(get16(f, 16), mtu);
  }
  // Switched frames leave from l2-switch, routed ones later from ip4-rewrite: by VNI.
  const bool l2_first = parse_outer(out.at("up")[0]).vni == kVni1;
  const Frame& l2_out = out.at("up")[l2_first ? 0 : 1];
  const Frame& routed_out = out.at("up")[l2_first ? 1 : 0];
  expect_vxlan(routed_out, kNh2.mac, kH2Ip, kVni2);
  EXPECT_TRUE(same_but_ttl_and_checksum(inner_of(routed_out), routed_fits));
  expect_vxlan(l2_out, kNh2.mac, kH2Ip, kVni1);
  EXPECT_EQ(inner_of(l2_out), l2_fits);
  EXPECT_EQ(encapsulated_, 2u);
  EXPECT_EQ(routed(), 1u);
}

// 8. A VM moves between hosts, then to this one.
TEST_F(OverlayTest, AVmThatMovesIsFollowedByItsTraffic) {
  std::vector<Frame> in;
  for (uint16_t k = 0; k < 40; ++k) in.push_back(udp_frame(kV1, kGw1, kR2.ip, 4000, 30, k));
  // After the first burst (32 frames), r2 moves to h3.
  bool moved = false;
  auto out = run("v1", in, true, [&](int poll) {
    if (poll != 0) return;
    apply({vm_port(kR2.id, kR2.net, kR2.mac_text, kR2.ip_text, "", "h3")}, true);
    moved = true;
  });
  ASSERT_TRUE(moved);
  ASSERT_EQ(out.at("up").size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("up")[i];
    if (i < 32) {
      expect_vxlan(f, kNh2.mac, kH2Ip, kVni2);
    } else {
      expect_vxlan(f, kNh254.mac, kH3Ip, kVni2);
    }
    EXPECT_EQ(eth_dst(inner_of(f)), kR2.mac);
    EXPECT_EQ(get16(inner_of(f), 18), i);  // IP id: in order
  }

  // L2 from n2's local VM follows it too.
  const Frame l2 = udp_frame(kV2, kR2.mac, kR2.ip);
  out = run("v2", {l2});
  ASSERT_EQ(out.at("up").size(), 1u);
  expect_vxlan(out.at("up")[0], kNh254.mac, kH3Ip, kVni2);
  EXPECT_EQ(inner_of(out.at("up")[0]), l2);

  // Now it lives here, on port v4: delivered, not encapsulated.
  apply({vm_port(kR2.id, kR2.net, kR2.mac_text, kR2.ip_text, "v4")}, true);
  const Frame routed_frame = udp_frame(kV1, kGw1, kR2.ip, 4000, 30, 99);
  out = run("v1", {routed_frame});
  EXPECT_TRUE(out.at("up").empty());
  ASSERT_EQ(out.at("v4").size(), 1u);
  EXPECT_EQ(eth_src(out.at("v4")[0]), kGw2);
  EXPECT_EQ(eth_dst(out.at("v4")[0]), kR2.mac);
  EXPECT_EQ(ip_ttl(out.at("v4")[0]), 63);
  EXPECT_TRUE(same_but_ttl_and_checksum(out.at("v4")[0], routed_frame));
  EXPECT_EQ(encapsulated_, 0u);
  out = run("v2", {l2});
  EXPECT_TRUE(out.at("up").empty());
  ASSERT_EQ(out.at("v4").size(), 1u);
  EXPECT_EQ(out.at("v4")[0], l2);
  EXPECT_EQ(encapsulated_, 0u);
}

// 9. Security groups of a local VM judge what arrives over the overlay.
TEST_F(OverlayTest, SecurityGroupsOfALocalVmJudgeDecapsulatedTraffic) {
  apply({security_group("ssh", {sg_rule("in22", v1::DIRECTION_INGRESS, "tcp", 22, 22)}),
         vm_port_with_groups(kV3.id, kV3.net, kV3.mac_text, kV3.ip_text, "v3", {"ssh"})},
        true);
  auto l2 = [&](uint16_t dport) {
    Ipv4Fields f;
    f.src = kR1.ip;
    f.dst = kV3.ip;
    f.proto = kTcp;
    return ethernet(kV3.mac, kR1.mac, 0x0800, ipv4(f, tcp(40000, dport, kSyn, 1, 0, {})));
  };
  auto routed_in = [&](uint16_t dport) {
    Ipv4Fields f;
    f.src = kR2.ip;
    f.dst = kV3.ip;
    f.proto = kTcp;
    f.ttl = 63;
    return ethernet(kV3.mac, kDvrH2, 0x0800, ipv4(f, tcp(40001, dport, kSyn, 1, 0, {})));
  };
  const auto out = run("up", {vxlan_in({}, l2(22)), vxlan_in({}, l2(23)),
                              vxlan_in({}, routed_in(22)), vxlan_in({}, routed_in(23))});
  ASSERT_EQ(out.at("v3").size(), 2u);
  EXPECT_EQ(out.at("v3")[0], l2(22));
  Frame want = routed_in(22);
  std::copy(kGw1.begin(), kGw1.end(), want.begin() + 6);
  EXPECT_EQ(out.at("v3")[1], want);
  EXPECT_EQ(drops("up", DropReason::kSgIngressDenied), 2u);
  EXPECT_EQ(all_drops("up"), 2u);
  EXPECT_EQ(decapsulated_, 4u);
  for (const char* p : {"v1", "v2", "v4", "up"}) EXPECT_TRUE(out.at(p).empty()) << p;

  // The VM's replies to the admitted connections go back over the overlay (the group has no
  // egress rule: only connection tracking lets them out); a connection of its own does not.
  Ipv4Fields f;
  f.src = kV3.ip;
  f.dst = kR1.ip;
  f.proto = kTcp;
  const Frame synack_l2 =
      ethernet(kR1.mac, kV3.mac, 0x0800, ipv4(f, tcp(22, 40000, kSyn | 0x10, 7, 2, {})));
  f.dst = kR2.ip;
  const Frame synack_routed =
      ethernet(kGw1, kV3.mac, 0x0800, ipv4(f, tcp(22, 40001, kSyn | 0x10, 7, 2, {})));
  f.dst = kR1.ip;
  const Frame own = ethernet(kR1.mac, kV3.mac, 0x0800, ipv4(f, tcp(40002, 80, kSyn, 1, 0, {})));
  const auto back = run("v3", {synack_l2, synack_routed, own});
  ASSERT_EQ(back.at("up").size(), 2u);
  const std::vector<Frame> sent = by_vni(back.at("up"));
  expect_vxlan(sent[0], kNh2.mac, kH2Ip, kVni1);
  EXPECT_EQ(inner_of(sent[0]), synack_l2);
  expect_vxlan(sent[1], kNh2.mac, kH2Ip, kVni2);
  EXPECT_EQ(eth_src(inner_of(sent[1])), kDvrH1);
  EXPECT_EQ(eth_dst(inner_of(sent[1])), kR2.mac);
  EXPECT_EQ(drops("v3", DropReason::kSgEgressDenied), 1u);
  EXPECT_EQ(all_drops("v3"), 1u);
}

TEST_F(OverlayTest, FloodCopiesFromTheOverlayMeetTheIngressGroupsOfEachLocalPort) {
  apply({security_group("ssh", {sg_rule("in22", v1::DIRECTION_INGRESS, "tcp", 22, 22)}),
         vm_port_with_groups(kV3.id, kV3.net, kV3.mac_text, kV3.ip_text, "v3", {"ssh"})},
        true);
  Ipv4Fields f;
  f.src = kR1.ip;
  f.dst = ip("10.0.1.255");
  const Frame bcast = ethernet(kBcast, kR1.mac, 0x0800, ipv4(f, udp(68, 67, bytes(40, 1))));
  const auto out = run("up", {vxlan_in({}, bcast)});
  ASSERT_EQ(out.at("v1").size(), 1u);
  EXPECT_EQ(out.at("v1")[0], bcast);
  EXPECT_TRUE(out.at("v3").empty()) << "UDP is not admitted by v3's group";
  EXPECT_EQ(drops("up", DropReason::kSgIngressDenied), 1u);
  EXPECT_TRUE(out.at("up").empty());
}

// A VNI uses all three bytes of its field, both ways.
TEST_F(OverlayTest, WideVnisKeepAllThreeBytes) {
  constexpr uint32_t kWide = 0xabcdef;
  const Vm v5 = make_vm("pv5", "n5", "02:aa:00:00:00:05", "10.0.5.5", "v4", "");
  const Vm r6 = make_vm("pr6", "n5", "02:bb:00:00:00:06", "10.0.5.6", "", "h2");
  apply({network("n5", kWide), subnet("s5", "n5", "10.0.5.0/24"), vm_object(v5), vm_object(r6)});
  const Frame out_frame = udp_frame(v5, r6.mac, r6.ip);
  auto out = run("v4", {out_frame});
  ASSERT_EQ(out.at("up").size(), 1u);
  expect_vxlan(out.at("up")[0], kNh2.mac, kH2Ip, kWide);
  EXPECT_EQ(inner_of(out.at("up")[0]), out_frame);

  Ipv4Fields f;
  f.src = r6.ip;
  f.dst = v5.ip;
  const Frame in_frame = ethernet(v5.mac, r6.mac, 0x0800, ipv4(f, udp(1, 2, bytes(30, 6))));
  VxlanIn wide;
  wide.vni = kWide;
  VxlanIn low_bytes_only;  // 0x00cdef: no network has it
  low_bytes_only.vni = kWide & 0xffff;
  VxlanIn high_byte_only;  // 0xab0000
  high_byte_only.vni = kWide & 0xff0000;
  out = run("up", {vxlan_in(wide, in_frame), vxlan_in(low_bytes_only, in_frame),
                   vxlan_in(high_byte_only, in_frame)});
  ASSERT_EQ(out.at("v4").size(), 1u);
  EXPECT_EQ(out.at("v4")[0], in_frame);
  EXPECT_EQ(drops("up", DropReason::kVxlanUnknownVni), 2u);
}

// ARP suppression covers VMs on other hosts: answered here, nothing crosses the overlay.
TEST_F(OverlayTest, ArpForARemoteVmIsAnsweredLocally) {
  const Frame req = ethernet(kBcast, kV1.mac, 0x0806, arp(1, kV1.mac, kV1.ip, kZero, kR1.ip));
  const auto out = run("v1", {req});
  ASSERT_EQ(out.at("v1").size(), 1u);
  const Frame& a = out.at("v1")[0];
  EXPECT_EQ(eth_dst(a), kV1.mac);
  EXPECT_EQ(get16(a, 20), 2);
  EXPECT_EQ(mac_at(a, 22), kR1.mac);
  EXPECT_EQ(get32(a, 28), kR1.ip);
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_TRUE(out.at("v3").empty());
  EXPECT_EQ(encapsulated_, 0u);
}

// dvrd answers a ping for its tunnel IP from the uplink's own MAC, whatever the request was
// addressed to at L2 (the uplink is promiscuous). DISABLED: dvrd currently swaps the request's
// MACs, so a ping sent to the broadcast address (or to a stale MAC of another host) is answered
// with that address as its source; see the report of the overlay tests.
TEST_F(OverlayTest, EchoRepliesOnTheUplinkComeFromTheUplinkMac) {
  auto ping = [&](const Mac6& dst) {
    Ipv4Fields f;
    f.src = kNh2.ip;
    f.dst = kTunnelIp;
    f.proto = kIcmp;
    return ethernet(dst, kNh2.mac, 0x0800, ipv4(f, icmp_echo(8, 1, 1, bytes(8, 1))));
  };
  const auto out = run("up", {ping(kBcast), ping(kUplinkPeer)});
  // Answering them is fine, and so would be dropping them; a reply from another MAC is not.
  for (const Frame& e : out.at("up")) EXPECT_EQ(eth_src(e), uplink_mac_);
  EXPECT_EQ(out.at("up").size() + all_drops("up"), 2u);
}

}  // namespace
}  // namespace dvr
