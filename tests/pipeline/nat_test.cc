// North-south through the real pipeline: floating IPs (stateless 1:1 NAT on the VM's host),
// centralized default SNAT (PAT with sessions) on this host or on another one over the overlay,
// external flat/VLAN networks, external ARP, hairpin. The tenant model and the host are
// configured through TenantApi; frames enter through pcap ports (the VM ports, the overlay uplink
// and the external port); the tests check every byte that NAT changes and every checksum,
// recomputed from scratch (IPv4 header, TCP/UDP with the pseudo-header, ICMP, and the packet an
// ICMP error quotes), what dvrd itself sends on the external network (ARP requests, gratuitous
// ARP, replies), and every drop by its name.
//
// Topology. This host is h1 (agent mode dvr_snat): DVR MAC 02:d0:00:00:00:01, uplink "up" with
// tunnel IP 192.0.2.1/24, physnet1 on port "ext". Remote host h2: 192.0.2.2, DVR MAC
// 02:d0:00:00:00:02 (on-link, underlay MAC 02:ee:00:00:00:02).
// Router r joins n1 = 10.0.1.0/24 (VNI 101, gateway MAC 02:0a:00:00:01:01) and n2 = 10.0.2.0/24
// (VNI 102, 02:0a:00:00:02:01); its external gateway is on "public" (flat on physnet1, subnet
// 203.0.113.0/24, upstream router 203.0.113.1 = 02:ff:00:00:00:01) with address 203.0.113.5, SNAT
// on, bound to h1 with ports 20000-20099 (the SNAT address is the gateway address).
// This host's floating-IP gateway on public: 203.0.113.2, 02:fe:00:00:00:02.
//   v1 10.0.1.10 (port v1) has floating IP 203.0.113.10
//   v3 10.0.1.30 (port v3) has none until a test gives it 203.0.113.30
//   v2 10.0.2.20 (port v2) has none: default SNAT
//   r1 10.0.1.50 lives on h2
//
// The external resolver asks for the upstream router whenever the external port appears; the
// fixture answers it (TenantApi::on_punt, as the workers would punt the reply) unless a test
// wants it unresolved. dvrd's ARP frames on the external port are taken out of its output (into
// ext_arp_) and checked by the tests that care; the underlay's ARP requests on the uplink are
// dropped from the uplink's output.
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
constexpr uint8_t kSyn = 0x02, kAck = 0x10;
constexpr uint16_t kSnatMin = 20000, kSnatMax = 20099;

const uint32_t kTunnelIp = ip("192.0.2.1");
const uint32_t kH2Ip = ip("192.0.2.2");
const Mac6 kNh2Mac = mac("02:ee:00:00:00:02");
const Mac6 kDvrH1 = mac("02:d0:00:00:00:01");
const Mac6 kDvrH2 = mac("02:d0:00:00:00:02");
const Mac6 kGw1 = mac("02:0a:00:00:01:01");
const Mac6 kGw2 = mac("02:0a:00:00:02:01");
const Mac6 kBcast = mac("ff:ff:ff:ff:ff:ff");
const Mac6 kZero{};
const Mac6 kUplinkPeer = mac("02:ee:00:00:00:99");

const uint32_t kExtGwIp = ip("203.0.113.2");
const Mac6 kExtGwMac = mac("02:fe:00:00:00:02");
const uint32_t kUpstreamIp = ip("203.0.113.1");
const Mac6 kUpstreamMac = mac("02:ff:00:00:00:01");
const uint32_t kSnatIp = ip("203.0.113.5");
const uint32_t kFip1 = ip("203.0.113.10");
const uint32_t kFip3 = ip("203.0.113.30");
const uint32_t kOnLinkIp = ip("203.0.113.77");
const Mac6 kOnLinkMac = mac("02:ff:00:00:00:77");
const uint32_t kInet = ip("198.18.0.7");
const uint32_t kInet2 = ip("198.18.5.9");

struct Vm {
  std::string id, net, mac_text, ip_text, port, host;
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

v1::Object vm_object(const Vm& v) {
  return vm_port(v.id, v.net, v.mac_text, v.ip_text, v.port, v.host);
}

// --- North-south objects -----------------------------------------------------------------------

// "public": flat (vlan 0) or VLAN `vlan` on physnet1.
v1::Object external_network(uint32_t vlan = 0, const std::string& id = "public") {
  v1::Object o = network(id, vlan);
  v1::Network* n = o.mutable_network();
  n->set_external(true);
  n->set_provider_type(vlan == 0 ? v1::PROVIDER_TYPE_FLAT : v1::PROVIDER_TYPE_VLAN);
  n->set_physical_network("physnet1");
  return o;
}

v1::Object external_router(bool enable_snat = true) {
  v1::Object o = router("r");
  o.mutable_router()->set_external_network_id("public");
  o.mutable_router()->set_external_gateway_ip("203.0.113.5");
  o.mutable_router()->set_enable_snat(enable_snat);
  return o;
}

v1::Object fip_gateway(const std::string& network = "public") {
  v1::Object o;
  v1::FloatingIpGateway* g = o.mutable_floating_ip_gateway();
  g->set_id("fg1");
  g->set_network_id(network);
  g->set_host_id("h1");
  g->set_ip("203.0.113.2");
  g->set_mac("02:fe:00:00:00:02");
  return o;
}

v1::Object floating_ip(const std::string& id, const std::string& fip, const Vm& vm) {
  v1::Object o;
  v1::FloatingIp* f = o.mutable_floating_ip();
  f->set_id(id);
  f->set_router_id("r");
  f->set_floating_ip(fip);
  f->set_fixed_ip(vm.ip_text);
  f->set_vm_port_id(vm.id);
  return o;
}

v1::Object snat_binding(const std::string& host, uint32_t lo = kSnatMin, uint32_t hi = kSnatMax,
                        const std::string& snat_ip = {}) {
  v1::Object o;
  v1::SnatBinding* b = o.mutable_snat_binding();
  b->set_router_id("r");
  b->set_host_id(host);
  b->set_snat_ip(snat_ip);
  b->mutable_ports()->set_min(lo);
  b->mutable_ports()->set_max(hi);
  return o;
}

v1::Object remote_host(const std::string& id, const std::string& tunnel_ip,
                       const std::string& dvr_mac) {
  v1::Object o;
  o.mutable_remote_host()->set_host_id(id);
  o.mutable_remote_host()->set_tunnel_ip(tunnel_ip);
  o.mutable_remote_host()->set_dvr_mac(dvr_mac);
  return o;
}

// --- Bytes -------------------------------------------------------------------------------------

uint16_t get16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.at(off) << 8 | f.at(off + 1));
}
uint32_t get32(const Frame& f, size_t off) {
  return uint32_t{get16(f, off)} << 16 | get16(f, off + 2);
}
void set16(Frame& f, size_t off, uint16_t v) {
  f.at(off) = static_cast<uint8_t>(v >> 8);
  f.at(off + 1) = static_cast<uint8_t>(v);
}
Mac6 mac_at(const Frame& f, size_t off) {
  return {f.at(off), f.at(off + 1), f.at(off + 2), f.at(off + 3), f.at(off + 4), f.at(off + 5)};
}
Frame slice(const Frame& f, size_t from, size_t to) {
  return Frame(f.begin() + static_cast<long>(from), f.begin() + static_cast<long>(to));
}

size_t ihl_at(const Frame& f, size_t off) {
  return size_t{f.at(off) & 0x0fu} * 4;
}

// The one's complement sum of the TCP/UDP pseudo-header and segment of the IPv4 packet at `off`.
uint16_t l4_sum(const Frame& f, size_t off) {
  const size_t ihl = ihl_at(f, off);
  const size_t total = get16(f, off + 2);
  const size_t len = total - ihl;
  Frame buf = slice(f, off + 12, off + 20);
  buf.push_back(0);
  buf.push_back(f.at(off + 9));
  buf.push_back(static_cast<uint8_t>(len >> 8));
  buf.push_back(static_cast<uint8_t>(len));
  const Frame seg = slice(f, off + ihl, off + total);
  buf.insert(buf.end(), seg.begin(), seg.end());
  return ones_complement_sum(buf.data(), buf.size());
}

// An IPv4 packet carrying `l4`; a TCP or UDP segment gets its checksum computed (UDP: unless
// `udp_checksum` is false, then it stays 0, "none"). ICMP builders compute their own.
Frame packet(uint32_t src, uint32_t dst, uint8_t ttl, uint8_t proto, const Frame& l4,
             bool udp_checksum = true, uint16_t id = 1) {
  Ipv4Fields f;
  f.src = src;
  f.dst = dst;
  f.ttl = ttl;
  f.proto = proto;
  f.id = id;
  Frame p = ipv4(f, l4);
  if (proto == kTcp || (proto == kUdp && udp_checksum)) {
    const size_t at = 20 + (proto == kTcp ? 16 : 6);
    set16(p, at, 0);
    uint16_t ck = static_cast<uint16_t>(~l4_sum(p, 0));
    if (proto == kUdp && ck == 0) ck = 0xffff;
    set16(p, at, ck);
  }
  return p;
}

bool is_icmp_error(uint8_t type) {
  return type == 3 || type == 11 || type == 12;
}

// Every checksum of the IPv4 packet at `off`, recomputed from scratch: the header; TCP and UDP
// with the pseudo-header (UDP 0 is "none"); ICMP; for an ICMP error, the quoted packet the same
// way (its transport checksum when the quote holds the whole segment).
::testing::AssertionResult checksums_ok(const Frame& f, size_t off, bool quoted = false) {
  const std::string where = quoted ? "quoted " : "";
  if (f.size() < off + 20) return ::testing::AssertionFailure() << where << "packet truncated";
  const size_t ihl = ihl_at(f, off);
  const size_t total = get16(f, off + 2);
  if (ones_complement_sum(f.data() + off, ihl) != 0xffff) {
    return ::testing::AssertionFailure() << where << "IPv4 header checksum is wrong";
  }
  const bool whole = f.size() >= off + total;
  if (!whole && !quoted) return ::testing::AssertionFailure() << "packet shorter than its length";
  if ((get16(f, off + 6) & 0x1fff) != 0) return ::testing::AssertionSuccess();
  const size_t l4 = off + ihl;
  switch (f.at(off + 9)) {
    case kTcp:
      if (whole && l4_sum(f, off) != 0xffff) {
        return ::testing::AssertionFailure() << where << "TCP checksum is wrong";
      }
      break;
    case kUdp:
      if (whole && get16(f, l4 + 6) != 0 && l4_sum(f, off) != 0xffff) {
        return ::testing::AssertionFailure() << where << "UDP checksum is wrong";
      }
      break;
    case kIcmp:
      if (whole && ones_complement_sum(f.data() + l4, total - ihl) != 0xffff) {
        return ::testing::AssertionFailure() << where << "ICMP checksum is wrong";
      }
      if (!quoted && is_icmp_error(f.at(l4))) return checksums_ok(f, l4 + 8, true);
      break;
    default:
      break;
  }
  return ::testing::AssertionSuccess();
}

// `f` with the checksums of the IPv4 packet at `off` (and of the packet an ICMP error quotes)
// blanked: a UDP checksum becomes 0xffff unless it is 0 ("none" must stay "none").
Frame masked(Frame f, size_t off, bool quoted = false) {
  if (f.size() < off + 20) return f;
  const size_t ihl = ihl_at(f, off);
  set16(f, off + 10, 0);
  if ((get16(f, off + 6) & 0x1fff) != 0) return f;
  const size_t l4 = off + ihl;
  switch (f.at(off + 9)) {
    case kTcp:
      if (f.size() >= l4 + 18) set16(f, l4 + 16, 0);
      break;
    case kUdp:
      if (f.size() >= l4 + 8 && get16(f, l4 + 6) != 0) set16(f, l4 + 6, 0xffff);
      break;
    case kIcmp:
      if (f.size() >= l4 + 4) set16(f, l4 + 2, 0);
      if (!quoted && f.size() >= l4 + 8 && is_icmp_error(f.at(l4))) {
        return masked(std::move(f), l4 + 8, true);
      }
      break;
    default:
      break;
  }
  return f;
}

// `got` is `want` but for checksums, and its checksums are right. `off`: the IPv4 header.
void expect_packet(const Frame& got, const Frame& want, size_t off = 14) {
  EXPECT_TRUE(checksums_ok(got, off));
  EXPECT_EQ(masked(got, off), masked(want, off));
}

// An Ethernet frame from dvrd's resolver on the external network: ARP request from our gateway
// MAC, padded to 60 bytes, then tagged when `vlan`.
Frame ext_arp_request(uint32_t sender, uint32_t target, uint16_t vlan = 0) {
  Frame f = ethernet(kBcast, kExtGwMac, 0x0806, arp(1, kExtGwMac, sender, kZero, target));
  f.resize(60, 0);
  if (vlan != 0) {
    const uint8_t tag[] = {0x81, 0x00, static_cast<uint8_t>(vlan >> 8), static_cast<uint8_t>(vlan)};
    f.insert(f.begin() + 12, std::begin(tag), std::end(tag));
  }
  return f;
}

bool is_arp(const Frame& f) {
  if (f.size() < 14) return false;
  return eth_type(f) == 0x0806 ||
         (eth_type(f) == 0x8100 && f.size() >= 18 && get16(f, 16) == 0x0806);
}

std::vector<Frame> sorted(std::vector<Frame> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// --- VXLAN -------------------------------------------------------------------------------------

Frame vxlan_in(uint32_t vni, const Frame& inner) {
  Frame vx = {0x08,
              0,
              0,
              0,
              static_cast<uint8_t>(vni >> 16),
              static_cast<uint8_t>(vni >> 8),
              static_cast<uint8_t>(vni),
              0};
  vx.insert(vx.end(), inner.begin(), inner.end());
  Ipv4Fields f;
  f.src = kH2Ip;
  f.dst = kTunnelIp;
  f.proto = kUdp;
  f.frag = 0x4000;
  return ethernet(kUplinkPeer, kNh2Mac, 0x0800, ipv4(f, udp(50000, 4789, vx)));
}

struct Outer {
  Mac6 dst, src;
  uint32_t src_ip, dst_ip;
  uint16_t dport;
  uint32_t vni;
  Frame inner;
};

Outer parse_outer(const Frame& f) {
  Outer o{};
  o.dst = eth_dst(f);
  o.src = eth_src(f);
  o.src_ip = get32(f, 26);
  o.dst_ip = get32(f, 30);
  o.dport = get16(f, 36);
  o.vni = uint32_t{f.at(46)} << 16 | uint32_t{f.at(47)} << 8 | f.at(48);
  o.inner = slice(f, 50, f.size());
  return o;
}

// --- The fixture -------------------------------------------------------------------------------

class NatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvr_nat_XXXXXX";
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
    h->set_agent_mode(v1::AGENT_MODE_DVR_SNAT);
    v1::PhysnetPort* pp = h->add_physnet_ports();
    pp->set_physical_network("physnet1");
    pp->set_port("ext");
    const v1::Response hr = api_->host_set(hs);
    ASSERT_EQ(hr.status(), v1::STATUS_OK) << hr.message();

    apply({external_router(), network("n1", kVni1), network("n2", kVni2), external_network(),
           subnet("s1", "n1", "10.0.1.0/24"), subnet("s2", "n2", "10.0.2.0/24"),
           subnet("sp", "public", "203.0.113.0/24"),
           interface("i1", "r", "s1", "02:0a:00:00:01:01"),
           interface("i2", "r", "s2", "02:0a:00:00:02:01"),
           remote_host("h2", "192.0.2.2", "02:d0:00:00:00:02"), fip_gateway(), vm_object(kV1),
           vm_object(kV2), vm_object(kV3), vm_object(kR1), floating_ip("f1", "203.0.113.10", kV1),
           snat_binding("h1")});
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

  v1::Response remove(v1::ObjectKind kind, const std::string& id) {
    v1::DeleteRequest req;
    req.set_kind(kind);
    req.set_id(id);
    v1::Response r = api_->remove(req);
    EXPECT_EQ(r.status(), v1::STATUS_OK) << r.message();
    return r;
  }

  // Hands `f` to the control thread as the workers punt it, from port `port`.
  void punt(const Frame& f, uint16_t port, dp::PuntReason reason) {
    rte_mbuf* m = dp_->alloc_mbuf();
    ASSERT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
    ASSERT_NE(p, nullptr);
    std::memcpy(p, f.data(), f.size());
    api_->on_punt(dp::PuntItem{m, port, reason});
    rte_pktmbuf_free(m);
  }

  // A neighbour on the external network answers dvrd's request (to our gateway address).
  Frame ext_arp_reply(uint32_t who, const Mac6& m) const {
    const Frame a = arp(2, m, who, kExtGwMac, kExtGwIp);
    return vlan_ != 0 ? ethernet_vlan(kExtGwMac, m, vlan_, 0x0806, a)
                      : ethernet(kExtGwMac, m, 0x0806, a);
  }
  void answer_ext_arp(uint32_t who, const Mac6& m) {
    punt(ext_arp_reply(who, m), ext_id_, dp::PuntReason::kExternalArp);
  }

  // Sends `frames` into port `in` and returns what every port transmitted; dvrd's ARP frames on
  // the external port go to ext_arp_, the underlay's ARP requests on the uplink are left out.
  // `resolve_ext`: answer the resolver's request for the upstream router once the ports exist.
  std::map<std::string, std::vector<Frame>> run(const std::string& in,
                                                const std::vector<Frame>& frames,
                                                bool resolve_ext = true,
                                                const std::function<void(int)>& polled = {}) {
    const dp::WorkerSnapshot before = dp_->worker_stats()[0];
    PcapPorts ports(*dp_, *api_, dir_, {"ext", "up", "v1", "v2", "v3"});
    auto out = ports.run(
        in, frames,
        [&] {
          uint16_t up = dp::kNoPort;
          Mac6 up_mac{};
          for (const dp::PortStatus& st : dp_->list_ports()) {
            if (st.record.spec.name == "ext") ext_id_ = st.record.port_id;
            if (st.record.spec.name == "up") {
              up = st.record.port_id;
              up_mac = mac(st.mac);
            }
          }
          uplink_mac_ = up_mac;
          // The underlay: h2 is on-link.
          const Frame r =
              ethernet(up_mac, kNh2Mac, 0x0806, arp(2, kNh2Mac, kH2Ip, up_mac, kTunnelIp));
          punt(r, up, dp::PuntReason::kUnderlayArp);
          if (resolve_ext) answer_ext_arp(kUpstreamIp, kUpstreamMac);
          external_ = api_->external(v1::ExternalRequest{}).external();
        },
        polled);
    last_stats_ = ports.last_stats();
    const dp::WorkerSnapshot after = dp_->worker_stats()[0];
    nat_inbound_ = after.nat_inbound - before.nat_inbound;
    nat_outbound_ = after.nat_outbound - before.nat_outbound;
    sessions_created_ = after.snat_sessions_created - before.snat_sessions_created;
    redirected_ = after.snat_redirected - before.snat_redirected;
    hairpinned_ = after.nat_hairpinned - before.nat_hairpinned;
    echo_replies_ = after.echo_replies - before.echo_replies;
    arp_replies_ = after.arp_replies - before.arp_replies;
    encapsulated_ = after.vxlan_encapsulated - before.vxlan_encapsulated;

    ext_arp_.clear();
    std::vector<Frame> rest;
    for (const Frame& f : out["ext"]) (is_arp(f) ? ext_arp_ : rest).push_back(f);
    out["ext"] = rest;
    rest.clear();
    for (const Frame& f : out["up"]) {
      if (!is_arp(f)) rest.push_back(f);
    }
    out["up"] = rest;
    return out;
  }

  uint64_t drops(const std::string& port, DropReason r) const {
    return port_drops(last_stats_, port, r);
  }
  uint64_t all_drops(const std::string& port) const {
    uint64_t n = 0;
    for (const auto& s : last_stats_) {
      if (s.name != port) continue;
      for (uint64_t d : s.drops) n += d;
    }
    return n;
  }

  // "reason=count ..." for every drop of `port`, for failure messages.
  std::string drop_summary(const std::string& port) const {
    std::string out;
    for (const auto& st : last_stats_) {
      if (st.name != port) continue;
      for (size_t r = 0; r < st.drops.size(); ++r) {
        if (st.drops[r] == 0) continue;
        out += std::string(dp::drop_reason_name(static_cast<DropReason>(r))) + "=" +
               std::to_string(st.drops[r]) + " ";
      }
    }
    return out;
  }

  v1::Stats stats() const {
    v1::Stats st;
    api_->fill_router_stats(st);
    api_->fill_snat_stats(st);
    return st;
  }

  // The ARP frames dvrd sent on the external port, sorted, against `want`.
  void expect_ext_arps(std::vector<Frame> want) const {
    EXPECT_EQ(sorted(ext_arp_), sorted(std::move(want)))
        << "dvrd's ARP frames on the external port";
  }

  // A frame from a local VM to the router (its gateway MAC), carrying `pkt`.
  static Frame from_vm(const Vm& vm, const Frame& pkt) {
    return ethernet(vm.net == "n1" ? kGw1 : kGw2, vm.mac, 0x0800, pkt);
  }
  // A frame from the upstream router to our gateway MAC (tagged with `vlan` when non-zero).
  static Frame from_upstream(const Frame& pkt, uint16_t vlan = 0) {
    return vlan != 0 ? ethernet_vlan(kExtGwMac, kUpstreamMac, vlan, 0x0800, pkt)
                     : ethernet(kExtGwMac, kUpstreamMac, 0x0800, pkt);
  }
  // What leaves the external port towards the upstream router.
  static Frame to_upstream(const Frame& pkt) {
    return ethernet(kUpstreamMac, kExtGwMac, 0x0800, pkt);
  }
  // What a local VM receives from the router.
  static Frame to_vm(const Vm& vm, const Frame& pkt) {
    return ethernet(vm.mac, vm.net == "n1" ? kGw1 : kGw2, 0x0800, pkt);
  }

  std::string dir_;
  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  std::vector<dp::PortStatsSnapshot> last_stats_;
  std::vector<Frame> ext_arp_;
  uint16_t ext_id_ = dp::kNoPort;
  uint16_t vlan_ = 0;  // the external network's VLAN, for the fixture's ARP replies
  Mac6 uplink_mac_{};
  v1::ExternalStatus external_;  // when the ports were added and the upstream answered
  uint64_t nat_inbound_ = 0, nat_outbound_ = 0, sessions_created_ = 0, redirected_ = 0;
  uint64_t hairpinned_ = 0, echo_replies_ = 0, arp_replies_ = 0, encapsulated_ = 0;
};

// ------------------------------------------------------------------------------------------------
// 1. Floating IP, outbound.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, FloatingIpOutboundTranslatesTheSourceAndLeavesTheExternalPort) {
  const Frame tcp_seg = tcp(40000, 443, kSyn, 1000, 0, bytes(20, 1));
  const Frame udp_seg = udp(5353, 53, bytes(33, 2));  // odd length: the checksum pads
  const Frame udp_none = udp(5354, 53, bytes(16, 3));
  const Frame echo = icmp_echo(8, 0x4242, 7, bytes(24, 4));
  const std::vector<Frame> in = {
      from_vm(kV1, packet(kV1.ip, kInet, 64, kTcp, tcp_seg)),
      from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp_seg)),
      from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp_none, /*udp_checksum=*/false)),
      from_vm(kV1, packet(kV1.ip, kInet, 64, kIcmp, echo)),
  };
  const auto out = run("v1", in);
  ASSERT_EQ(out.at("ext").size(), 4u);
  const std::vector<Frame> want = {
      to_upstream(packet(kFip1, kInet, 63, kTcp, tcp_seg)),
      to_upstream(packet(kFip1, kInet, 63, kUdp, udp_seg)),
      to_upstream(packet(kFip1, kInet, 63, kUdp, udp_none, false)),
      to_upstream(packet(kFip1, kInet, 63, kIcmp, echo)),
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("ext")[i];
    EXPECT_EQ(eth_dst(f), kUpstreamMac);
    EXPECT_EQ(eth_src(f), kExtGwMac);
    EXPECT_EQ(ip_src(f), kFip1);
    EXPECT_EQ(ip_ttl(f), 63);
    expect_packet(f, want[i]);
  }
  EXPECT_EQ(get16(out.at("ext")[2], 40), 0) << "a UDP datagram without checksum stays without";
  EXPECT_EQ(get16(out.at("ext")[3], 38), 0x4242) << "a floating IP keeps the echo identifier";
  EXPECT_EQ(nat_outbound_, 4u);
  EXPECT_EQ(sessions_created_, 0u) << "floating IPs are stateless";
  EXPECT_EQ(all_drops("v1"), 0u);
  for (const char* p : {"up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
  // The resolver asked for the upstream router from our gateway address and announced the
  // addresses served here: the floating IP and the SNAT address.
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1),
                   ext_arp_request(kSnatIp, kSnatIp)});
  // dvrctl external show.
  ASSERT_EQ(external_.networks_size(), 1);
  const auto& n = external_.networks(0);
  EXPECT_EQ(n.network_id(), "public");
  EXPECT_EQ(n.port(), "ext");
  EXPECT_TRUE(n.port_present());
  EXPECT_EQ(n.vlan(), 0u);
  EXPECT_EQ(n.gateway_ip(), "203.0.113.2");
  EXPECT_EQ(n.gateway_mac(), "02:fe:00:00:00:02");
  EXPECT_EQ(n.upstream_ip(), "203.0.113.1");
  EXPECT_EQ(std::vector<std::string>(n.floating_ips().begin(), n.floating_ips().end()),
            std::vector<std::string>{"203.0.113.10"});
  EXPECT_EQ(std::vector<std::string>(n.snat_ips().begin(), n.snat_ips().end()),
            std::vector<std::string>{"203.0.113.5"});
  ASSERT_EQ(n.neighbors_size(), 1);
  EXPECT_EQ(n.neighbors(0).ip(), "203.0.113.1");
  EXPECT_EQ(n.neighbors(0).mac(), "02:ff:00:00:00:01");
}

// ------------------------------------------------------------------------------------------------
// 2. Floating IP, inbound.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, FloatingIpInboundIsTranslatedToTheFixedIpAndRoutedToTheVm) {
  const Frame tcp_seg = tcp(443, 40000, kSyn | kAck, 9, 1001, bytes(11, 5));
  const Frame udp_seg = udp(53, 5353, bytes(40, 6));
  const Frame udp_none = udp(53, 5354, bytes(9, 7));
  const Frame echo = icmp_echo(8, 0x0101, 3, bytes(56, 8));
  const std::vector<Frame> in = {
      from_upstream(packet(kInet, kFip1, 60, kTcp, tcp_seg)),
      from_upstream(packet(kInet, kFip1, 60, kUdp, udp_seg)),
      from_upstream(packet(kInet, kFip1, 60, kUdp, udp_none, false)),
      from_upstream(packet(kInet, kFip1, 60, kIcmp, echo)),
  };
  const auto out = run("ext", in);
  ASSERT_EQ(out.at("v1").size(), 4u);
  const std::vector<Frame> want = {
      to_vm(kV1, packet(kInet, kV1.ip, 59, kTcp, tcp_seg)),
      to_vm(kV1, packet(kInet, kV1.ip, 59, kUdp, udp_seg)),
      to_vm(kV1, packet(kInet, kV1.ip, 59, kUdp, udp_none, false)),
      to_vm(kV1, packet(kInet, kV1.ip, 59, kIcmp, echo)),
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("v1")[i];
    EXPECT_EQ(eth_dst(f), kV1.mac);
    EXPECT_EQ(eth_src(f), kGw1);
    EXPECT_EQ(ip_dst(f), kV1.ip);
    EXPECT_EQ(ip_ttl(f), 59);
    expect_packet(f, want[i]);
  }
  EXPECT_EQ(get16(out.at("v1")[2], 40), 0);
  EXPECT_EQ(nat_inbound_, 4u);
  EXPECT_EQ(echo_replies_, 0u) << "a ping to a floating IP is the VM's to answer";
  EXPECT_EQ(all_drops("ext"), 0u);
  for (const char* p : {"ext", "up", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

TEST_F(NatTest, FloatingIpInboundMeetsTheSecurityGroupsOfTheVm) {
  apply({security_group("ssh", {sg_rule("in22", v1::DIRECTION_INGRESS, "tcp", 22, 22),
                                sg_rule("out", v1::DIRECTION_EGRESS)}),
         vm_port_with_groups(kV1.id, kV1.net, kV1.mac_text, kV1.ip_text, "v1", {"ssh"})},
        true);
  const Frame ok = from_upstream(packet(kInet, kFip1, 60, kTcp, tcp(40000, 22, kSyn, 1, 0, {})));
  const Frame denied =
      from_upstream(packet(kInet, kFip1, 60, kTcp, tcp(40000, 23, kSyn, 1, 0, {})));
  const Frame denied_udp = from_upstream(packet(kInet, kFip1, 60, kUdp, udp(1, 22, bytes(8, 1))));
  const auto out = run("ext", {ok, denied, denied_udp});
  ASSERT_EQ(out.at("v1").size(), 1u);
  expect_packet(out.at("v1")[0],
                to_vm(kV1, packet(kInet, kV1.ip, 59, kTcp, tcp(40000, 22, kSyn, 1, 0, {}))));
  EXPECT_EQ(drops("ext", DropReason::kSgIngressDenied), 2u);
  EXPECT_EQ(all_drops("ext"), 2u);

  // Outbound connections of the VM get their replies back through connection tracking (the
  // group admits nothing else inbound); connection tracking sees the fixed IP both ways.
  const Frame syn = tcp(41000, 443, kSyn, 5, 0, {});
  auto out2 = run("v1", {from_vm(kV1, packet(kV1.ip, kInet, 64, kTcp, syn))});
  ASSERT_EQ(out2.at("ext").size(), 1u);
  expect_packet(out2.at("ext")[0], to_upstream(packet(kFip1, kInet, 63, kTcp, syn)));
  const Frame synack = tcp(443, 41000, kSyn | kAck, 77, 6, {});
  out2 = run("ext", {from_upstream(packet(kInet, kFip1, 60, kTcp, synack))});
  ASSERT_EQ(out2.at("v1").size(), 1u);
  expect_packet(out2.at("v1")[0], to_vm(kV1, packet(kInet, kV1.ip, 59, kTcp, synack)));
  EXPECT_EQ(all_drops("ext"), 0u);
}

// ------------------------------------------------------------------------------------------------
// 3. ICMP errors about translated packets.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, IcmpErrorsThroughAFloatingIpTranslateTheQuotedPacket) {
  // The VM's earlier datagram as the far end saw it (source: the floating IP), quoted whole by
  // a port unreachable; and a time exceeded quoting a TCP segment whole.
  const Frame sent_udp = packet(kFip1, kInet, 50, kUdp, udp(5353, 53, bytes(12, 1)));
  const Frame sent_tcp = packet(kFip1, kInet, 1, kTcp, tcp(40000, 80, kSyn, 1, 0, bytes(4, 2)));
  const Frame unreach = packet(kInet, kFip1, 60, kIcmp, icmp(3, 3, 0, sent_udp));
  const Frame ttl = packet(ip("198.18.9.9"), kFip1, 60, kIcmp, icmp(11, 0, 0, sent_tcp));
  auto out = run("ext", {from_upstream(unreach), from_upstream(ttl)});
  ASSERT_EQ(out.at("v1").size(), 2u);
  const Frame want_udp = packet(kV1.ip, kInet, 50, kUdp, udp(5353, 53, bytes(12, 1)));
  const Frame want_tcp = packet(kV1.ip, kInet, 1, kTcp, tcp(40000, 80, kSyn, 1, 0, bytes(4, 2)));
  expect_packet(out.at("v1")[0],
                to_vm(kV1, packet(kInet, kV1.ip, 59, kIcmp, icmp(3, 3, 0, want_udp))));
  expect_packet(out.at("v1")[1],
                to_vm(kV1, packet(ip("198.18.9.9"), kV1.ip, 59, kIcmp, icmp(11, 0, 0, want_tcp))));
  // The quoted source is the fixed IP, and the quoted header's checksum is right.
  EXPECT_EQ(get32(out.at("v1")[0], 42 + 12), kV1.ip);
  EXPECT_EQ(ones_complement_sum(out.at("v1")[0].data() + 42, 20), 0xffff);
  EXPECT_EQ(nat_inbound_, 2u);

  // The VM reports an error about a datagram it received through its floating IP: the quoted
  // destination becomes the floating IP.
  const Frame got_udp = packet(kInet, kV1.ip, 59, kUdp, udp(53, 5353, bytes(20, 3)));
  const Frame err = packet(kV1.ip, kInet, 64, kIcmp, icmp(3, 3, 0, got_udp));
  out = run("v1", {from_vm(kV1, err)});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const Frame quoted_out = packet(kInet, kFip1, 59, kUdp, udp(53, 5353, bytes(20, 3)));
  expect_packet(out.at("ext")[0],
                to_upstream(packet(kFip1, kInet, 63, kIcmp, icmp(3, 3, 0, quoted_out))));
  EXPECT_EQ(get32(out.at("ext")[0], 42 + 16), kFip1);
  EXPECT_EQ(nat_outbound_, 1u);
}

// ------------------------------------------------------------------------------------------------
// 4. Default SNAT on this host.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, SnatMapsEachInsideEndpointToOneOutsidePortAndTranslatesRepliesBack) {
  // Ten UDP endpoints, one of them talking to a second destination, and one TCP connection.
  std::vector<Frame> in;
  for (uint16_t k = 0; k < 10; ++k) {
    in.push_back(from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp,
                                     udp(static_cast<uint16_t>(5000 + k), 53, bytes(20 + k, 1)))));
  }
  in.push_back(from_vm(kV2, packet(kV2.ip, kInet2, 64, kUdp, udp(5000, 123, bytes(48, 2)))));
  const Frame syn = tcp(6000, 443, kSyn, 100, 0, {});
  in.push_back(from_vm(kV2, packet(kV2.ip, kInet, 64, kTcp, syn)));
  const Frame udp_none = udp(7000, 9, bytes(10, 3));
  in.push_back(from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp, udp_none, false)));
  auto out = run("v2", in);
  ASSERT_EQ(out.at("ext").size(), in.size());
  std::map<uint16_t, uint16_t> outside_of;  // UDP inside port -> outside port
  std::set<uint16_t> udp_ports;
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    const Frame& f = out.at("ext")[i];
    const uint16_t port = get16(f, 34);
    EXPECT_GE(port, kSnatMin);
    EXPECT_LE(port, kSnatMax);
    EXPECT_EQ(ip_src(f), kSnatIp);
    EXPECT_EQ(ip_ttl(f), 63);
    Frame want = in[i];
    std::copy(kUpstreamMac.begin(), kUpstreamMac.end(), want.begin());
    std::copy(kExtGwMac.begin(), kExtGwMac.end(), want.begin() + 6);
    want[22] = 63;
    for (size_t b = 0; b < 4; ++b) want[26 + b] = static_cast<uint8_t>(kSnatIp >> (24 - 8 * b));
    set16(want, 34, port);
    expect_packet(f, want);
    if (i < 11) {
      const uint16_t inside = get16(in[i], 34);
      if (outside_of.contains(inside)) {
        EXPECT_EQ(outside_of[inside], port) << "one inside endpoint, one outside port";
      } else {
        udp_ports.insert(port);
      }
      outside_of[inside] = port;
    }
  }
  EXPECT_EQ(udp_ports.size(), 10u) << "ten endpoints, ten ports";
  EXPECT_EQ(get16(out.at("ext")[12], 40), 0) << "no UDP checksum stays none";
  EXPECT_EQ(sessions_created_, 12u);
  EXPECT_EQ(nat_outbound_, in.size());
  EXPECT_EQ(all_drops("v2"), 0u);

  // dvrctl snat sessions / stats.
  v1::SnatSessionsRequest sreq;
  const v1::Response sr = api_->snat_sessions(sreq);
  ASSERT_EQ(sr.status(), v1::STATUS_OK);
  EXPECT_EQ(sr.snat_sessions().matched(), 12u);
  for (const auto& s : sr.snat_sessions().sessions()) {
    EXPECT_EQ(s.router_id(), "r");
    EXPECT_EQ(s.inside_ip(), "10.0.2.20");
    EXPECT_EQ(s.outside_ip(), "203.0.113.5");
    if (s.protocol() == "udp" && s.inside_port() >= 5000 && s.inside_port() < 5010) {
      EXPECT_EQ(s.outside_port(), outside_of[static_cast<uint16_t>(s.inside_port())]);
    }
  }
  const v1::Stats st = stats();
  ASSERT_EQ(st.snat_size(), 1);
  EXPECT_EQ(st.snat(0).router_id(), "r");
  EXPECT_EQ(st.snat(0).snat_ip(), "203.0.113.5");
  EXPECT_EQ(st.snat(0).ports().min(), kSnatMin);
  EXPECT_EQ(st.snat(0).ports().max(), kSnatMax);
  EXPECT_EQ(st.snat(0).udp_sessions(), 11u);
  EXPECT_EQ(st.snat(0).tcp_sessions(), 1u);
  EXPECT_EQ(st.snat(0).exhausted(), 0u);

  // The replies come back to the inside endpoints.
  std::vector<Frame> replies;
  std::vector<Frame> want;
  for (uint16_t k = 0; k < 10; ++k) {
    const auto inside = static_cast<uint16_t>(5000 + k);
    const Frame data = bytes(30 + k, 9);
    replies.push_back(
        from_upstream(packet(kInet, kSnatIp, 60, kUdp, udp(53, outside_of[inside], data))));
    want.push_back(to_vm(kV2, packet(kInet, kV2.ip, 59, kUdp, udp(53, inside, data))));
  }
  const uint16_t tcp_port = get16(out.at("ext")[11], 34);
  const Frame synack_out = tcp(443, tcp_port, kSyn | kAck, 500, 101, {});
  replies.push_back(from_upstream(packet(kInet, kSnatIp, 60, kTcp, synack_out)));
  want.push_back(
      to_vm(kV2, packet(kInet, kV2.ip, 59, kTcp, tcp(443, 6000, kSyn | kAck, 500, 101, {}))));
  out = run("ext", replies);
  ASSERT_EQ(out.at("v2").size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    expect_packet(out.at("v2")[i], want[i]);
  }
  EXPECT_EQ(nat_inbound_, want.size());
  EXPECT_EQ(all_drops("ext"), 0u);
}

TEST_F(NatTest, SnatTranslatesEchoIdentifiersAndIcmpErrorsBothWays) {
  // A ping: the identifier is the "port".
  const Frame echo = icmp_echo(8, 0x1234, 1, bytes(32, 1));
  auto out = run("v2", {from_vm(kV2, packet(kV2.ip, kInet, 64, kIcmp, echo))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const uint16_t id = get16(out.at("ext")[0], 38);
  EXPECT_GE(id, kSnatMin);
  EXPECT_LE(id, kSnatMax);
  expect_packet(out.at("ext")[0],
                to_upstream(packet(kSnatIp, kInet, 63, kIcmp, icmp_echo(8, id, 1, bytes(32, 1)))));

  // A UDP datagram, to have a session to quote.
  const Frame dgram = udp(5555, 33434, bytes(12, 2));
  out = run("v2", {from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp, dgram))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const uint16_t port = get16(out.at("ext")[0], 34);

  // Inbound: the echo reply; a port unreachable quoting the datagram as it left (whole); a time
  // exceeded quoting the echo request as it left.
  const Frame reply = icmp_echo(0, id, 1, bytes(32, 1));
  const Frame quoted_udp = packet(kSnatIp, kInet, 55, kUdp, udp(port, 33434, bytes(12, 2)));
  const Frame quoted_echo = packet(kSnatIp, kInet, 1, kIcmp, icmp_echo(8, id, 1, bytes(32, 1)));
  out =
      run("ext", {from_upstream(packet(kInet, kSnatIp, 60, kIcmp, reply)),
                  from_upstream(packet(kInet, kSnatIp, 60, kIcmp, icmp(3, 3, 0, quoted_udp))),
                  from_upstream(packet(kInet2, kSnatIp, 60, kIcmp, icmp(11, 0, 0, quoted_echo)))});
  ASSERT_EQ(out.at("v2").size(), 3u);
  expect_packet(out.at("v2")[0], to_vm(kV2, packet(kInet, kV2.ip, 59, kIcmp,
                                                   icmp_echo(0, 0x1234, 1, bytes(32, 1)))));
  const Frame back_udp = packet(kV2.ip, kInet, 55, kUdp, udp(5555, 33434, bytes(12, 2)));
  expect_packet(out.at("v2")[1],
                to_vm(kV2, packet(kInet, kV2.ip, 59, kIcmp, icmp(3, 3, 0, back_udp))));
  const Frame back_echo = packet(kV2.ip, kInet, 1, kIcmp, icmp_echo(8, 0x1234, 1, bytes(32, 1)));
  expect_packet(out.at("v2")[2],
                to_vm(kV2, packet(kInet2, kV2.ip, 59, kIcmp, icmp(11, 0, 0, back_echo))));
  EXPECT_EQ(all_drops("ext"), 0u);

  // Outbound: the VM reports an error about a datagram it received through SNAT (quoting its
  // own endpoint as destination): the quote gets the SNAT address and port back.
  const Frame got = packet(kInet, kV2.ip, 59, kUdp, udp(33434, 5555, bytes(8, 4)));
  out = run("v2", {from_vm(kV2, packet(kV2.ip, kInet, 64, kIcmp, icmp(3, 3, 0, got)))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const Frame got_out = packet(kInet, kSnatIp, 59, kUdp, udp(33434, port, bytes(8, 4)));
  expect_packet(out.at("ext")[0],
                to_upstream(packet(kSnatIp, kInet, 63, kIcmp, icmp(3, 3, 0, got_out))));
  // An error about an endpoint without a session is not translated.
  const Frame stray = packet(kInet, kV2.ip, 59, kUdp, udp(33434, 5999, bytes(8, 4)));
  out = run("v2", {from_vm(kV2, packet(kV2.ip, kInet, 64, kIcmp, icmp(3, 3, 0, stray)))});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(drops("v2", DropReason::kNatUntranslatable), 1u);
}

TEST_F(NatTest, SnatPortExhaustionDropsNewEndpointsAndCountsThem) {
  apply({snat_binding("h1", 30000, 30002)}, true);
  std::vector<Frame> in;
  for (uint16_t k = 0; k < 8; ++k) {
    in.push_back(from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp,
                                     udp(static_cast<uint16_t>(1000 + k), 53, bytes(10, 1)))));
  }
  auto out = run("v2", in);
  std::set<uint16_t> ports;
  for (const Frame& f : out.at("ext")) {
    EXPECT_EQ(ip_src(f), kSnatIp);
    EXPECT_TRUE(checksums_ok(f, 14));
    ports.insert(get16(f, 34));
  }
  EXPECT_EQ(out.at("ext").size(), 3u) << "three ports, three endpoints";
  EXPECT_EQ(ports.size(), out.at("ext").size());
  for (uint16_t p : ports) {
    EXPECT_GE(p, 30000);
    EXPECT_LE(p, 30002);
  }
  const uint64_t refused = in.size() - out.at("ext").size();
  EXPECT_EQ(drops("v2", DropReason::kSnatPortsExhausted), refused);
  EXPECT_EQ(all_drops("v2"), refused);
  const v1::Stats st = stats();
  ASSERT_EQ(st.snat_size(), 1);
  EXPECT_EQ(st.snat(0).exhausted(), refused);
  EXPECT_GT(st.snat(0).exhausted(), 0u);
  EXPECT_EQ(st.snat(0).udp_sessions(), out.at("ext").size());
  // The router's drop counters name it too.
  uint64_t router_drops = 0;
  for (const auto& r : st.routers()) {
    for (const auto& d : r.drop_reasons()) {
      if (d.reason() == "snat_ports_exhausted") router_drops += d.packets();
    }
  }
  EXPECT_EQ(router_drops, refused);

  // Established endpoints keep working; other protocols have their own ports.
  out = run("v2",
            {in[0], from_vm(kV2, packet(kV2.ip, kInet, 64, kTcp, tcp(1000, 80, kSyn, 1, 0, {})))});
  EXPECT_EQ(out.at("ext").size(), 2u);
  EXPECT_EQ(all_drops("v2"), 0u);
}

TEST_F(NatTest, UnsolicitedTrafficToTheSnatAddressIsDropped) {
  const auto out = run(
      "ext",
      {from_upstream(packet(kInet, kSnatIp, 60, kUdp, udp(53, 20050, bytes(8, 1)))),
       from_upstream(packet(kInet, kSnatIp, 60, kTcp, tcp(80, 20001, kSyn, 1, 0, {}))),
       from_upstream(packet(kInet, kSnatIp, 60, kUdp, udp(53, 5000, bytes(8, 1)))),  // out of range
       from_upstream(packet(kInet, kSnatIp, 60, kIcmp, icmp_echo(0, 20002, 1, {}))),
       from_upstream(packet(kInet, kSnatIp, 60, 47, bytes(24, 1))),  // GRE: no ports
       from_upstream(packet(kInet, ip("203.0.113.99"), 60, kUdp, udp(1, 2, {}))),
       ethernet(kExtGwMac, kUpstreamMac, 0x86dd, bytes(40, 1))});  // IPv6
  for (const char* p : {"ext", "up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(drops("ext", DropReason::kSnatNoSession), 4u);
  EXPECT_EQ(drops("ext", DropReason::kNatUntranslatable), 1u);
  EXPECT_EQ(drops("ext", DropReason::kExternalNotLocal), 1u);
  EXPECT_EQ(drops("ext", DropReason::kExternalUnsupported), 1u);
  EXPECT_EQ(all_drops("ext"), 7u);
}

TEST_F(NatTest, DvrdAnswersPingForItsSnatAndGatewayAddresses) {
  const Frame data = bytes(40, 3);
  auto ping = [&](uint32_t dst, uint16_t id) {
    return from_upstream(packet(kInet, dst, 60, kIcmp, icmp_echo(8, id, 9, data)));
  };
  const auto out = run("ext", {ping(kSnatIp, 1), ping(kExtGwIp, 2),
                               // Anything else to the gateway address is not for us.
                               from_upstream(packet(kInet, kExtGwIp, 60, kUdp, udp(1, 2, {})))});
  ASSERT_EQ(out.at("ext").size(), 2u);
  const uint32_t from[] = {kSnatIp, kExtGwIp};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    const Frame& e = out.at("ext")[i];
    EXPECT_EQ(eth_dst(e), kUpstreamMac);
    EXPECT_EQ(eth_src(e), kExtGwMac);
    EXPECT_EQ(ip_src(e), from[i]);
    EXPECT_EQ(ip_dst(e), kInet);
    EXPECT_EQ(e.at(34), 0);
    EXPECT_EQ(get16(e, 38), i + 1);
    EXPECT_EQ(get16(e, 40), 9);
    EXPECT_EQ(slice(e, 42, e.size()), data);
    EXPECT_TRUE(checksums_ok(e, 14));
  }
  EXPECT_EQ(echo_replies_, 2u);
  EXPECT_EQ(drops("ext", DropReason::kExternalUnsupported), 1u);
  EXPECT_EQ(all_drops("ext"), 1u);
  EXPECT_TRUE(out.at("v2").empty());
}

// A ping sent to our address but not to our MAC (broadcast, or a stale MAC of the host that
// served the address before): the reply must still come from our gateway MAC.
TEST_F(NatTest, EchoRepliesOnTheExternalNetworkComeFromTheGatewayMac) {
  auto ping = [&](const Mac6& dst) {
    return ethernet(dst, kUpstreamMac, 0x0800,
                    packet(kInet, kSnatIp, 60, kIcmp, icmp_echo(8, 5, 5, bytes(8, 1))));
  };
  const auto out = run("ext", {ping(kBcast), ping(mac("02:fe:00:00:00:99"))});
  for (const Frame& e : out.at("ext")) EXPECT_EQ(eth_src(e), kExtGwMac);
  EXPECT_EQ(out.at("ext").size() + all_drops("ext"), 2u);
}

// ------------------------------------------------------------------------------------------------
// 5. ARP on the external network.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, ExternalArpIsAnsweredWithTheGatewayMacForServedAddressesOnly) {
  const Mac6 asker = kUpstreamMac;
  auto who_has = [&](uint32_t target) {
    return ethernet(kBcast, asker, 0x0806, arp(1, asker, kUpstreamIp, kZero, target));
  };
  const auto out =
      run("ext", {who_has(kFip1), who_has(kSnatIp), who_has(kExtGwIp), who_has(ip("203.0.113.99")),
                  who_has(kFip3), who_has(ip("203.0.113.4"))});
  const uint32_t targets[] = {kFip1, kSnatIp, kExtGwIp};
  ASSERT_EQ(ext_arp_.size(), 3u + 3u);  // three replies, and the resolver's three frames
  std::vector<Frame> replies, own;
  for (const Frame& f : ext_arp_) (get16(f, 20) == 2 ? replies : own).push_back(f);
  ASSERT_EQ(replies.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    const Frame want =
        ethernet(asker, kExtGwMac, 0x0806, arp(2, kExtGwMac, targets[i], asker, kUpstreamIp));
    EXPECT_EQ(replies[i], want);
  }
  EXPECT_EQ(sorted(own),
            sorted({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1),
                    ext_arp_request(kSnatIp, kSnatIp)}));
  EXPECT_EQ(arp_replies_, 3u);
  EXPECT_EQ(drops("ext", DropReason::kExternalArpIgnored), 3u);
  EXPECT_EQ(all_drops("ext"), 3u);
  for (const char* p : {"up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
}

TEST_F(NatTest, NewFloatingIpsAreAnnouncedByGratuitousArp) {
  // After the first frame, v3 gets a floating IP.
  const Frame trigger =
      ethernet(kBcast, kUpstreamMac, 0x0806, arp(1, kUpstreamMac, kUpstreamIp, kZero, kFip1));
  bool added = false;
  run("ext", {trigger}, true, [&](int poll) {
    if (poll != 0) return;
    apply({floating_ip("f3", "203.0.113.30", kV3)});
    added = true;
  });
  ASSERT_TRUE(added);
  const Frame garp = ext_arp_request(kFip3, kFip3);
  // Sender = target = the floating IP, from our gateway MAC, broadcast.
  EXPECT_EQ(garp.size(), 60u);
  EXPECT_EQ(std::count(ext_arp_.begin(), ext_arp_.end(), garp), 1);
  for (const Frame& f : ext_arp_) {
    const bool reply = get16(f, 20) == 2;
    if (reply) continue;
    EXPECT_EQ(eth_dst(f), kBcast);
    EXPECT_EQ(eth_src(f), kExtGwMac);
    EXPECT_EQ(mac_at(f, 22), kExtGwMac);
    const uint32_t spa = get32(f, 28);
    const uint32_t tpa = get32(f, 38);
    EXPECT_TRUE(spa == kExtGwIp || spa == tpa) << "a request from the gateway, or an announcement";
  }
  // Next time the port appears, v3's address is served and announced with the others.
  const auto out =
      run("ext", {from_upstream(packet(kInet, kFip3, 60, kUdp, udp(1, 2, bytes(4, 1))))});
  ASSERT_EQ(out.at("v3").size(), 1u);
  EXPECT_EQ(ip_dst(out.at("v3")[0]), kV3.ip);
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1),
                   ext_arp_request(kSnatIp, kSnatIp), ext_arp_request(kFip3, kFip3)});
}

// The real punt path: the upstream router's reply to dvrd's request arrives on the external
// port, is punted, and the resolver learns it; then traffic flows.
TEST_F(NatTest, ArpRepliesOnTheExternalPortArePuntedAndLearned) {
  size_t punted = 0;
  v1::ExternalStatus learned;
  const Frame reply = ext_arp_reply(kUpstreamIp, kUpstreamMac);
  const Frame stranger =
      ethernet(kExtGwMac, kOnLinkMac, 0x0806, arp(2, kOnLinkMac, kOnLinkIp, kExtGwMac, kExtGwIp));
  run("ext", {reply, stranger}, /*resolve_ext=*/false, [&](int) {
    punted += dp_->drain_exceptions([&](const dp::PuntItem& item) {
      EXPECT_EQ(item.reason, dp::PuntReason::kExternalArp);
      api_->on_punt(item);
    });
    learned = api_->external(v1::ExternalRequest{}).external();
  });
  EXPECT_EQ(punted, 2u) << "replies to our gateway address go to the control thread";
  EXPECT_EQ(drops("ext", DropReason::kExternalArpIgnored), 0u);
  ASSERT_EQ(learned.networks_size(), 1);
  std::map<std::string, std::string> state;
  for (const auto& n : learned.networks(0).neighbors()) state[n.ip()] = n.state() + " " + n.mac();
  EXPECT_EQ(state.size(), 1u) << "203.0.113.77 was never asked for";
  EXPECT_EQ(state["203.0.113.1"], "reachable 02:ff:00:00:00:01");
}

// ------------------------------------------------------------------------------------------------
// 6. A VLAN external network.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, VlanExternalNetworkTagsWhatLeavesAndUntagsWhatIsDelivered) {
  apply({external_network(100)}, true);
  vlan_ = 100;
  const Frame seg = udp(5353, 53, bytes(21, 1));
  auto out = run("v1", {from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, seg))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const Frame& f = out.at("ext")[0];
  EXPECT_EQ(eth_dst(f), kUpstreamMac);
  EXPECT_EQ(eth_src(f), kExtGwMac);
  EXPECT_EQ(eth_type(f), 0x8100);
  EXPECT_EQ(get16(f, 14), 100) << "VLAN 100, priority 0";
  EXPECT_EQ(get16(f, 16), 0x0800);
  expect_packet(
      f, ethernet_vlan(kUpstreamMac, kExtGwMac, 100, 0x0800, packet(kFip1, kInet, 63, kUdp, seg)),
      18);
  // dvrd's own frames are tagged too.
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp, 100), ext_arp_request(kFip1, kFip1, 100),
                   ext_arp_request(kSnatIp, kSnatIp, 100)});
  ASSERT_EQ(external_.networks_size(), 1);
  EXPECT_EQ(external_.networks(0).vlan(), 100u);

  const Frame in_seg = udp(53, 5353, bytes(30, 2));
  const Frame in_pkt = packet(kInet, kFip1, 60, kUdp, in_seg);
  const Frame ping = packet(kInet, kExtGwIp, 60, kIcmp, icmp_echo(8, 1, 1, bytes(8, 1)));
  const Frame who_has = ethernet_vlan(kBcast, kUpstreamMac, 100, 0x0806,
                                      arp(1, kUpstreamMac, kUpstreamIp, kZero, kFip1));
  out = run("ext", {from_upstream(in_pkt, 100), from_upstream(in_pkt, 200), from_upstream(in_pkt),
                    from_upstream(ping, 100), who_has,
                    ethernet_vlan(kBcast, kUpstreamMac, 200, 0x0806,
                                  arp(1, kUpstreamMac, kUpstreamIp, kZero, kFip1))});
  ASSERT_EQ(out.at("v1").size(), 1u);
  expect_packet(out.at("v1")[0], to_vm(kV1, packet(kInet, kV1.ip, 59, kUdp, in_seg)));
  EXPECT_EQ(drops("ext", DropReason::kExternalUnknownVlan), 3u);
  EXPECT_EQ(all_drops("ext"), 3u);
  // The echo reply and the ARP reply keep the tag.
  ASSERT_EQ(out.at("ext").size(), 1u);
  const Frame& e = out.at("ext")[0];
  EXPECT_EQ(eth_type(e), 0x8100);
  EXPECT_EQ(get16(e, 14), 100);
  EXPECT_EQ(get32(e, 18 + 12), kExtGwIp);
  EXPECT_EQ(e.at(18 + 20), 0);
  EXPECT_TRUE(checksums_ok(e, 18));
  std::vector<Frame> replies;
  for (const Frame& a : ext_arp_) {
    if (get16(a, 24) == 2) replies.push_back(a);
  }
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], ethernet_vlan(kUpstreamMac, kExtGwMac, 100, 0x0806,
                                      arp(2, kExtGwMac, kFip1, kUpstreamMac, kUpstreamIp)));
}

// A VLAN id is not a VNI: an external network whose VLAN id equals a tenant network's VNI must
// not take that VNI's VXLAN traffic (nor should a flat network's 0 make VNI 0 known).
TEST_F(NatTest, AnExternalVlanIdEqualToATenantVniLeavesTheOverlayAlone) {
  apply({external_network(kVni1)}, true);
  vlan_ = kVni1;
  Ipv4Fields f;
  f.src = kR1.ip;
  f.dst = kV1.ip;
  const Frame inner = ethernet(kV1.mac, kR1.mac, 0x0800, ipv4(f, udp(7, 8, bytes(20, 1))));
  auto out = run("up", {vxlan_in(kVni1, inner)});
  EXPECT_EQ(out.at("v1"), std::vector<Frame>{inner}) << "VXLAN of VNI 101 belongs to n1";

  apply({external_network(0)}, true);
  vlan_ = 0;
  out = run("up", {vxlan_in(0, inner)});
  EXPECT_TRUE(out.at("v1").empty());
  EXPECT_EQ(drops("up", DropReason::kVxlanUnknownVni), 1u) << "no network has VNI 0";
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
    const uint64_t n = drops("up", static_cast<DropReason>(r));
    if (n != 0 && static_cast<DropReason>(r) != DropReason::kVxlanUnknownVni) {
      ADD_FAILURE() << "VNI 0 dropped as " << dp::drop_reason_name(static_cast<DropReason>(r));
    }
  }
}

// ------------------------------------------------------------------------------------------------
// 7. Unresolved external next hops.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, AnUnresolvedOnLinkDestinationIsAskedForThenReached) {
  // First burst: one datagram to an on-link address nobody resolved yet, then 31 to the
  // Internet (through the upstream router). Second burst: the on-link address again.
  const Frame to_onlink = from_vm(kV1, packet(kV1.ip, kOnLinkIp, 64, kUdp, udp(1, 2, bytes(8, 1))));
  std::vector<Frame> in = {to_onlink};
  for (uint16_t k = 0; k < 31; ++k) {
    in.push_back(from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp(k, 2, bytes(8, 2)))));
  }
  const Frame again = from_vm(kV1, packet(kV1.ip, kOnLinkIp, 64, kUdp, udp(3, 4, bytes(8, 3))));
  in.push_back(again);
  std::vector<dp::PuntItem> punts;
  uint32_t asked_ip = 0;
  const auto out = run("v1", in, true, [&](int poll) {
    dp_->drain_exceptions([&](const dp::PuntItem& item) {
      punts.push_back(item);
      if (item.reason == dp::PuntReason::kExternalResolve) {
        asked_ip = item.pkt->hash.fdir.lo;
      }
      api_->on_punt(item);
    });
    // The neighbour answers the request dvrd just sent.
    if (poll == 0) answer_ext_arp(kOnLinkIp, kOnLinkMac);
  });
  ASSERT_EQ(punts.size(), 1u);
  EXPECT_EQ(punts[0].reason, dp::PuntReason::kExternalResolve);
  EXPECT_EQ(asked_ip, kOnLinkIp);
  EXPECT_EQ(drops("v1", DropReason::kExternalUnresolved), 1u);
  EXPECT_EQ(all_drops("v1"), 1u);
  // dvrd asked for it from the gateway address.
  EXPECT_EQ(std::count(ext_arp_.begin(), ext_arp_.end(), ext_arp_request(kExtGwIp, kOnLinkIp)), 1);
  // 31 to the upstream router, then the on-link datagram straight to its owner.
  ASSERT_EQ(out.at("ext").size(), 32u);
  for (size_t i = 0; i < 31; ++i) EXPECT_EQ(eth_dst(out.at("ext")[i]), kUpstreamMac);
  const Frame& last = out.at("ext")[31];
  expect_packet(last, ethernet(kOnLinkMac, kExtGwMac, 0x0800,
                               packet(kFip1, kOnLinkIp, 63, kUdp, udp(3, 4, bytes(8, 3)))));
}

TEST_F(NatTest, WithoutTheUpstreamRouterNothingLeaves) {
  const auto out = run("v1",
                       {from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp(1, 2, bytes(8, 1)))),
                        from_vm(kV1, packet(kV1.ip, kInet2, 64, kUdp, udp(3, 4, bytes(8, 1))))},
                       /*resolve_ext=*/false);
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(drops("v1", DropReason::kExternalUnresolved), 2u);
  EXPECT_EQ(std::count(ext_arp_.begin(), ext_arp_.end(), ext_arp_request(kExtGwIp, kUpstreamIp)),
            1);
}

// ------------------------------------------------------------------------------------------------
// 8. Hairpin.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, TrafficToAFloatingIpOfThisHostTurnsAroundHere) {
  apply({floating_ip("f3", "203.0.113.30", kV3)});
  // v2 (SNAT) and v3 (floating IP) to v1's floating IP.
  const Frame seg = udp(4444, 80, bytes(16, 1));
  auto out = run("v2", {from_vm(kV2, packet(kV2.ip, kFip1, 64, kUdp, seg))});
  ASSERT_EQ(out.at("v1").size(), 1u);
  const Frame& f = out.at("v1")[0];
  const uint16_t port = get16(f, 34);
  EXPECT_GE(port, kSnatMin);
  EXPECT_LE(port, kSnatMax);
  expect_packet(f, to_vm(kV1, packet(kSnatIp, kV1.ip, 62, kUdp, udp(port, 80, bytes(16, 1)))));
  EXPECT_EQ(hairpinned_, 1u);
  EXPECT_EQ(nat_outbound_, 1u);
  EXPECT_EQ(nat_inbound_, 1u);
  EXPECT_TRUE(out.at("ext").empty()) << "nothing goes out";
  EXPECT_EQ(all_drops("v2"), 0u);
  EXPECT_EQ(all_drops("ext"), 0u);

  // v1 answers to the SNAT address: back through the session to v2, from v1's floating IP.
  out = run("v1", {from_vm(kV1, packet(kV1.ip, kSnatIp, 64, kUdp, udp(80, port, bytes(6, 2))))});
  ASSERT_EQ(out.at("v2").size(), 1u);
  expect_packet(out.at("v2")[0],
                to_vm(kV2, packet(kFip1, kV2.ip, 62, kUdp, udp(80, 4444, bytes(6, 2)))));
  EXPECT_EQ(hairpinned_, 1u);

  // Floating IP to floating IP.
  const Frame tseg = tcp(5000, 22, kSyn, 1, 0, bytes(3, 3));
  out = run("v3", {from_vm(kV3, packet(kV3.ip, kFip1, 64, kTcp, tseg))});
  ASSERT_EQ(out.at("v1").size(), 1u);
  expect_packet(out.at("v1")[0], to_vm(kV1, packet(kFip3, kV1.ip, 62, kTcp, tseg)));
  EXPECT_EQ(hairpinned_, 1u);
  EXPECT_TRUE(out.at("ext").empty());
}

// A VM pings this host's addresses on the external network (its router's SNAT address, the
// floating-IP gateway): they answer, and the reply comes back to the VM.
TEST_F(NatTest, AVmPingingThisHostsExternalAddressesGetsTheReply) {
  const Frame e1 = icmp_echo(8, 0x77, 1, bytes(16, 1));
  const Frame e2 = icmp_echo(8, 0x78, 1, bytes(16, 2));
  const auto out = run("v1", {from_vm(kV1, packet(kV1.ip, kSnatIp, 64, kIcmp, e1)),
                              from_vm(kV1, packet(kV1.ip, kExtGwIp, 64, kIcmp, e2))});
  for (const Frame& f : out.at("ext")) {
    ADD_FAILURE() << "left on the external port: " << std::hex << "IP " << ip_src(f) << " -> "
                  << ip_dst(f) << ", ICMP type " << int{f.at(34)} << ", MAC dst " << int{f.at(5)}
                  << " src " << int{f.at(11)}
                  << " (a reply to our own address must come back to the VM)";
  }
  // Both requests turn around towards our addresses, and both replies turn around back.
  EXPECT_EQ(hairpinned_, 4u);
  ASSERT_EQ(out.at("v1").size(), 2u);
  const uint32_t from[] = {kSnatIp, kExtGwIp};
  for (size_t i = 0; i < 2; ++i) {
    const Frame& f = out.at("v1")[i];
    EXPECT_EQ(ip_src(f), from[i]);
    EXPECT_EQ(ip_dst(f), kV1.ip);
    EXPECT_EQ(f.at(34), 0) << "echo reply";
    EXPECT_TRUE(checksums_ok(f, 14));
  }
}

// A floating IP of a VM on another host is that host's: not answered, announced or translated
// here.
TEST_F(NatTest, FloatingIpsOfRemoteVmsAreLeftToTheirHost) {
  apply({floating_ip("fr1", "203.0.113.50", kR1)});
  const auto out = run(
      "ext", {from_upstream(packet(kInet, ip("203.0.113.50"), 60, kUdp, udp(1, 2, bytes(8, 1)))),
              ethernet(kBcast, kUpstreamMac, 0x0806,
                       arp(1, kUpstreamMac, kUpstreamIp, kZero, ip("203.0.113.50")))});
  for (const char* p : {"ext", "up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(drops("ext", DropReason::kExternalNotLocal), 1u);
  EXPECT_EQ(drops("ext", DropReason::kExternalArpIgnored), 1u);
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1),
                   ext_arp_request(kSnatIp, kSnatIp)});
}

// Without its floating IP a VM goes through the router's SNAT; the address is no longer served.
TEST_F(NatTest, RemovingAFloatingIpMovesTheVmToSnat) {
  remove(v1::OBJECT_KIND_FLOATING_IP, "f1");
  // The second datagram: 203.0.113.10 is now just an on-link address of the external network,
  // unresolved (asked for, dropped).
  const auto out =
      run("v1", {from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp(9, 53, bytes(8, 1)))),
                 from_vm(kV1, packet(kV1.ip, kFip1, 64, kUdp, udp(9, 53, bytes(8, 1))))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const uint16_t port = get16(out.at("ext")[0], 34);
  expect_packet(out.at("ext")[0],
                to_upstream(packet(kSnatIp, kInet, 63, kUdp, udp(port, 53, bytes(8, 1)))));
  EXPECT_EQ(sessions_created_, 1u) << "one endpoint, one session";
  EXPECT_EQ(hairpinned_, 0u);
  EXPECT_EQ(drops("v1", DropReason::kExternalUnresolved), 1u);
  std::vector<Frame> own;
  for (const Frame& f : ext_arp_) {
    if (get32(f, 38) != kFip1) own.push_back(f);
  }
  EXPECT_EQ(sorted(own),
            sorted({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kSnatIp, kSnatIp)}))
      << "203.0.113.10 is no longer announced";
}

// A binding with its own SNAT address (not the router's gateway address) translates to it, and
// only it is served.
TEST_F(NatTest, SnatUsesTheBindingsOwnAddress) {
  const uint32_t own = ip("203.0.113.6");
  apply({snat_binding("h1", kSnatMin, kSnatMax, "203.0.113.6")}, true);
  auto out = run("v2", {from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp, udp(9, 53, bytes(8, 1))))});
  ASSERT_EQ(out.at("ext").size(), 1u);
  EXPECT_EQ(ip_src(out.at("ext")[0]), own);
  EXPECT_TRUE(checksums_ok(out.at("ext")[0], 14));
  const uint16_t port = get16(out.at("ext")[0], 34);
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1),
                   ext_arp_request(own, own)});
  ASSERT_EQ(stats().snat_size(), 1);
  EXPECT_EQ(stats().snat(0).snat_ip(), "203.0.113.6");
  out = run("ext", {from_upstream(packet(kInet, own, 60, kUdp, udp(53, port, bytes(4, 2)))),
                    from_upstream(packet(kInet, kSnatIp, 60, kUdp, udp(53, port, bytes(4, 2))))});
  ASSERT_EQ(out.at("v2").size(), 1u);
  expect_packet(out.at("v2")[0],
                to_vm(kV2, packet(kInet, kV2.ip, 59, kUdp, udp(53, 9, bytes(4, 2)))));
  EXPECT_EQ(drops("ext", DropReason::kExternalNotLocal), 1u);
}

// dvrd forwards no routed fragment (ip_fragment); north-south is no exception, either way.
TEST_F(NatTest, FragmentsAreNotForwardedNorthSouth) {
  auto fragment = [](uint32_t src, uint32_t dst, uint16_t frag, const Frame& body) {
    Ipv4Fields f;
    f.src = src;
    f.dst = dst;
    f.id = 0x5151;
    f.frag = frag;
    return ipv4(f, body);
  };
  const Frame body = bytes(64, 4);
  auto out = run("v1", {from_vm(kV1, fragment(kV1.ip, kInet, 0x0008, body))});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(drops("v1", DropReason::kIpFragment), 1u) << drop_summary("v1");
  out = run("v2", {from_vm(kV2, fragment(kV2.ip, kInet, 0x2000, udp(7, 53, body)))});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(drops("v2", DropReason::kIpFragment), 1u) << drop_summary("v2");
  out = run("ext", {from_upstream(fragment(kInet, kFip1, 0x0008, body)),
                    from_upstream(fragment(kInet, kSnatIp, 0x2000, udp(53, 20000, body)))});
  EXPECT_TRUE(out.at("v1").empty());
  EXPECT_TRUE(out.at("v2").empty());
  EXPECT_EQ(drops("ext", DropReason::kIpFragment), 2u) << drop_summary("ext");
}

TEST_F(NatTest, HairpinOnAVlanExternalNetwork) {
  apply({external_network(100)}, true);
  vlan_ = 100;
  const Frame seg = udp(4444, 80, bytes(16, 1));
  const auto out = run("v2", {from_vm(kV2, packet(kV2.ip, kFip1, 64, kUdp, seg))});
  ASSERT_EQ(out.at("v1").size(), 1u);
  const uint16_t port = get16(out.at("v1")[0], 34);
  expect_packet(out.at("v1")[0],
                to_vm(kV1, packet(kSnatIp, kV1.ip, 62, kUdp, udp(port, 80, bytes(16, 1)))));
  EXPECT_EQ(hairpinned_, 1u);
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(all_drops("ext"), 0u);
}

// The checksum helpers of these tests see a wrong checksum wherever it is.
TEST(NatTestHelpers, ChecksumHelpersCatchAWrongChecksumAnywhere) {
  const Frame inner = packet(kFip1, kInet, 50, kUdp, udp(5353, 53, bytes(12, 1)));
  const Frame good =
      ethernet(kGw1, kV1.mac, 0x0800, packet(kInet, kFip1, 60, kIcmp, icmp(3, 3, 0, inner)));
  ASSERT_TRUE(checksums_ok(good, 14));
  // Outer IP header, ICMP, quoted IP header, quoted UDP: each flipped alone.
  for (const size_t at : {size_t{24}, size_t{36}, size_t{42 + 10}, size_t{42 + 26}}) {
    Frame bad = good;
    bad[at] ^= 0x01;
    EXPECT_FALSE(checksums_ok(bad, 14)) << "byte " << at;
  }
  const Frame t = ethernet(kGw1, kV1.mac, 0x0800,
                           packet(kV1.ip, kInet, 64, kTcp, tcp(1, 2, kSyn, 3, 4, bytes(5, 1))));
  ASSERT_TRUE(checksums_ok(t, 14));
  Frame bad = t;
  bad[14 + 20 + 16] ^= 0x80;
  EXPECT_FALSE(checksums_ok(bad, 14));
  EXPECT_NE(masked(t, 14),
            masked(ethernet(kGw1, kV1.mac, 0x0800,
                            packet(kV1.ip, kInet, 64, kTcp, tcp(1, 9, kSyn, 3, 4, bytes(5, 1)))),
                   14));
}

// ------------------------------------------------------------------------------------------------
// 9. Routers without SNAT here.
// ------------------------------------------------------------------------------------------------

TEST_F(NatTest, RoutersWithoutSnatDropWhatHasNoFloatingIp) {
  const Frame v2_out = from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp, udp(1, 2, bytes(8, 1))));
  const Frame v1_out = from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp(1, 2, bytes(8, 1))));

  apply({external_router(/*enable_snat=*/false)}, true);
  auto out = run("v2", {v2_out});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_EQ(drops("v2", DropReason::kSnatDisabled), 1u);
  EXPECT_EQ(stats().snat_size(), 0) << "no SNAT served";
  out = run("v1", {v1_out});
  ASSERT_EQ(out.at("ext").size(), 1u) << "floating IPs do not need SNAT";
  EXPECT_EQ(ip_src(out.at("ext")[0]), kFip1);
  // Nor is the SNAT address answered any more.
  out = run("ext", {ethernet(kBcast, kUpstreamMac, 0x0806,
                             arp(1, kUpstreamMac, kUpstreamIp, kZero, kSnatIp))});
  EXPECT_EQ(drops("ext", DropReason::kExternalArpIgnored), 1u);
  expect_ext_arps({ext_arp_request(kExtGwIp, kUpstreamIp), ext_arp_request(kFip1, kFip1)});

  apply({external_router(true)}, true);
  remove(v1::OBJECT_KIND_SNAT_BINDING, "r");
  out = run("v2", {v2_out});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_EQ(drops("v2", DropReason::kNoSnatHost), 1u);
}

// Without this host's floating-IP gateway on the external network, the network is not served
// here: the floating IP is not active and SNAT, though bound here, has nowhere to send.
TEST_F(NatTest, AnExternalNetworkNotServedHereDropsAsNoExternalPath) {
  remove(v1::OBJECT_KIND_FLOATING_IP_GATEWAY, "fg1");
  const Frame v1_out = from_vm(kV1, packet(kV1.ip, kInet, 64, kUdp, udp(1, 2, bytes(8, 1))));
  const Frame v2_out = from_vm(kV2, packet(kV2.ip, kInet, 64, kUdp, udp(1, 2, bytes(8, 1))));
  const auto out = run("v2", {v2_out});
  EXPECT_TRUE(out.at("ext").empty());
  EXPECT_TRUE(out.at("up").empty());
  EXPECT_EQ(drops("v2", DropReason::kNoExternalPath), 1u);
  const auto out1 = run("v1", {v1_out});
  EXPECT_TRUE(out1.at("ext").empty());
  EXPECT_EQ(drops("v1", DropReason::kNoExternalPath), 1u) << "no floating IP without the network";
}

TEST_F(NatTest, SnatOnAnotherHostIsReachedOverTheOverlay) {
  apply({snat_binding("h2")}, true);
  const Frame pkt = packet(kV2.ip, kInet, 64, kUdp, udp(1234, 53, bytes(20, 1)));
  const auto out = run("v2", {from_vm(kV2, pkt)});
  EXPECT_TRUE(out.at("ext").empty());
  ASSERT_EQ(out.at("up").size(), 1u);
  const Outer o = parse_outer(out.at("up")[0]);
  EXPECT_EQ(o.dst, kNh2Mac);
  EXPECT_EQ(o.src, uplink_mac_);
  EXPECT_EQ(o.src_ip, kTunnelIp);
  EXPECT_EQ(o.dst_ip, kH2Ip);
  EXPECT_EQ(o.dport, 4789);
  EXPECT_EQ(o.vni, kVni2) << "the VM's network";
  EXPECT_TRUE(checksums_ok(out.at("up")[0], 14));
  // Routed (TTL 63), untranslated, from our DVR MAC to the SNAT host's.
  expect_packet(o.inner, ethernet(kDvrH2, kDvrH1, 0x0800,
                                  packet(kV2.ip, kInet, 63, kUdp, udp(1234, 53, bytes(20, 1)))));
  EXPECT_EQ(redirected_, 1u);
  EXPECT_EQ(encapsulated_, 1u);
  EXPECT_EQ(nat_outbound_, 0u);
  EXPECT_EQ(all_drops("v2"), 0u);
  EXPECT_EQ(stats().snat_size(), 0);
  // This host does not answer for the SNAT address any more.
  for (const Frame& f : ext_arp_) EXPECT_NE(get32(f, 28), kSnatIp);
}

TEST_F(NatTest, FramesSentHereForOurSnatAreTranslatedAndRepliesGoBackOverTheOverlay) {
  // r1 on h2, routed by h2 to our DVR MAC.
  const Frame seg = udp(6000, 53, bytes(20, 1));
  const Frame inner = ethernet(kDvrH1, kDvrH2, 0x0800, packet(kR1.ip, kInet, 63, kUdp, seg));
  auto out = run("up", {vxlan_in(kVni1, inner)});
  ASSERT_EQ(out.at("ext").size(), 1u);
  const Frame& f = out.at("ext")[0];
  const uint16_t port = get16(f, 34);
  EXPECT_GE(port, kSnatMin);
  EXPECT_LE(port, kSnatMax);
  expect_packet(f, to_upstream(packet(kSnatIp, kInet, 62, kUdp, udp(port, 53, bytes(20, 1)))));
  EXPECT_EQ(sessions_created_, 1u);
  EXPECT_EQ(all_drops("up"), 0u);
  EXPECT_TRUE(out.at("up").empty()) << "never back over the overlay";

  // The reply goes to r1's host, from our DVR MAC.
  const Frame back = udp(53, port, bytes(9, 2));
  out = run("ext", {from_upstream(packet(kInet, kSnatIp, 60, kUdp, back))});
  ASSERT_EQ(out.at("up").size(), 1u);
  const Outer o = parse_outer(out.at("up")[0]);
  EXPECT_EQ(o.dst_ip, kH2Ip);
  EXPECT_EQ(o.vni, kVni1);
  expect_packet(o.inner, ethernet(kR1.mac, kDvrH1, 0x0800,
                                  packet(kInet, kR1.ip, 59, kUdp, udp(53, 6000, bytes(9, 2)))));
}

TEST_F(NatTest, FramesSentHereForSnatWeDoNotServeAreDropped) {
  const Frame inner = ethernet(kDvrH1, kDvrH2, 0x0800,
                               packet(kR1.ip, kInet, 63, kUdp, udp(6000, 53, bytes(20, 1))));
  apply({snat_binding("h2")}, true);
  auto out = run("up", {vxlan_in(kVni1, inner)});
  for (const char* p : {"ext", "up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(drops("up", DropReason::kSnatNotHosted), 1u);
  EXPECT_EQ(redirected_, 0u);

  remove(v1::OBJECT_KIND_SNAT_BINDING, "r");
  out = run("up", {vxlan_in(kVni1, inner)});
  for (const char* p : {"ext", "up", "v1", "v2", "v3"}) EXPECT_TRUE(out.at(p).empty()) << p;
  EXPECT_EQ(drops("up", DropReason::kSnatNotHosted), 1u);
}

}  // namespace
}  // namespace dvr
