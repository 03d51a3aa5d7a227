// Network ACLs and security groups through the real pipeline: the tenant model (with its ACLs and
// groups) is configured through TenantApi, crafted frames enter through pcap ports bound to VM
// ports, and the tests check what comes out byte for byte, every drop reason on the rx port, the
// per-rule hit counters (TenantApi::filter_counters) and the conntrack counters.
//
// Topology: router r joins n1 = 10.0.1.0/24 and n2 = 10.0.2.0/24.
//   a1: 10.0.1.10 on n1      a2: 10.0.2.20 on n2
//   a3: 10.0.1.30 on n1      a4: 10.0.2.40 on n2
// and a static route 172.16.0.0/12 via 10.0.2.20 (a2), so that a packet can be routed to a2 with
// any destination in that block. ACL tests turn port security off on a1, so that a1 can send any
// source address (that is not filtered: port security off means no security groups either).
//
// L4 checksums of the crafted TCP/UDP packets are left 0: nothing in dvrd reads them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <thread>

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

constexpr v1::Direction kIngress = v1::DIRECTION_INGRESS;
constexpr v1::Direction kEgress = v1::DIRECTION_EGRESS;
constexpr v1::AclAction kAllow = v1::ACL_ACTION_ALLOW;
constexpr v1::AclAction kDeny = v1::ACL_ACTION_DENY;
constexpr v1::AclAction kUnspecified = v1::ACL_ACTION_UNSPECIFIED;

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kGre = 47;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

struct Vm {
  std::string port;  // the dataplane port
  std::string id;    // the VM port
  std::string net;
  std::string mac_text;
  std::string ip_text;
  Mac6 mac;
  uint32_t ip;
  Mac6 gw;
};

Vm make_vm(const std::string& port, const std::string& id, const std::string& net,
           const std::string& m, const std::string& a, const std::string& gw) {
  return Vm{port, id, net, m, a, mac(m), ip(a), mac(gw)};
}

const std::string kGw1 = "02:0a:00:00:01:01";
const std::string kGw2 = "02:0a:00:00:02:01";
const Vm kA1 = make_vm("a1", "p1", "n1", "02:aa:00:00:00:01", "10.0.1.10", kGw1);
const Vm kA3 = make_vm("a3", "p3", "n1", "02:aa:00:00:00:03", "10.0.1.30", kGw1);
const Vm kA2 = make_vm("a2", "p2", "n2", "02:aa:00:00:00:02", "10.0.2.20", kGw2);
const Vm kA4 = make_vm("a4", "p4", "n2", "02:aa:00:00:00:04", "10.0.2.40", kGw2);

uint16_t get16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.at(off) << 8 | f.at(off + 1));
}
uint16_t ip_id(const Frame& f) {
  return get16(f, 18);
}
std::vector<uint16_t> ids(const std::vector<Frame>& frames) {
  std::vector<uint16_t> out;
  for (const auto& f : frames) out.push_back(ip_id(f));
  return out;
}
std::vector<uint16_t> ids_of(const std::vector<Frame>& frames, const std::vector<size_t>& which) {
  std::vector<uint16_t> out;
  for (size_t i : which) out.push_back(ip_id(frames.at(i)));
  return out;
}

// The first 28 bytes of an IP packet (its header and 8 bytes of payload): an ICMP error's quote.
Frame quote_of(const Frame& eth_frame, size_t len = 28) {
  return Frame(eth_frame.begin() + 14, eth_frame.begin() + 14 + static_cast<long>(len));
}

Frame gre_payload() {
  return {0x00, 0x00, 0x08, 0x00, 1, 2, 3, 4};
}

// The L4 part of a packet of protocol `proto` (the ports for TCP/UDP; for ICMP `sport` is
// type << 8 | code and `dport` the rest-of-header word's high half).
Frame l4_for(uint8_t proto, uint16_t sport, uint16_t dport) {
  switch (proto) {
    case kTcp:
      return tcp(sport, dport, kSyn, 1000, 0, {});
    case kUdp:
      return udp(sport, dport, bytes(8, 1));
    case kIcmp:
      return icmp(static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                  uint32_t{dport} << 16 | 1, {});
    default:
      return gre_payload();
  }
}

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvr_filter_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    build(262144);
  }
  void TearDown() override {
    api_.reset();
    dp_.reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)creates the dataplane with a conntrack table sized for `conntrack_capacity`, and the
  // base topology.
  void build(uint32_t conntrack_capacity, uint32_t flow_cache_entries = 16384) {
    api_.reset();
    dp_.reset();
    port_ids_.clear();
    dp::DataplaneOptions o;
    o.mbufs = 8191;
    o.rx_desc = 128;
    o.tx_desc = 128;
    o.conntrack_capacity = conntrack_capacity;
    o.flow_cache_entries = flow_cache_entries;
    dp_ = std::make_unique<dp::Dataplane>(o);
    api_ = std::make_unique<TenantApi>(*dp_);
    apply({router("r"), network("n1", 101), network("n2", 102), subnet("s1", "n1", "10.0.1.0/24"),
           subnet("s2", "n2", "10.0.2.0/24"), interface("i1", "r", "s1", kGw1),
           interface("i2", "r", "s2", kGw2), port_of(kA1), port_of(kA2), port_of(kA3), port_of(kA4),
           static_route("sr", "r", "172.16.0.0/12", "10.0.2.20")});
  }

  static v1::Object port_of(const Vm& v, const std::vector<std::string>& groups = {},
                            bool port_security = true) {
    return vm_port_with_groups(v.id, v.net, v.mac_text, v.ip_text, v.port, groups, port_security);
  }

  void apply(std::vector<v1::Object> objs, bool replace = true) {
    v1::UpsertRequest req;
    for (auto& o : objs) *req.add_objects() = o;
    req.set_replace(replace);
    const v1::Response r = api_->upsert(req);
    ASSERT_EQ(r.status(), v1::STATUS_OK) << r.message();
  }

  // a1 without port security: it may send any source address, and is never filtered by groups.
  void open_a1() { apply({port_of(kA1, {}, false)}); }

  // Sends `frames` into dataplane port `in` and returns what every port transmitted.
  // `polled(i)` runs after the i-th burst (see PcapPorts::run).
  std::map<std::string, std::vector<Frame>> run(const std::string& in,
                                                const std::vector<Frame>& frames,
                                                const std::function<void(int)>& polled = {}) {
    PcapPorts ports(*dp_, *api_, dir_, {"a1", "a2", "a3", "a4"});
    auto out = ports.run(
        in, frames,
        [&] {
          // Conntrack zones are dataplane port ids: they must not change from one run to the
          // next.
          for (const auto& st : dp_->list_ports()) {
            auto [it, fresh] = port_ids_.emplace(st.record.spec.name, st.record.port_id);
            EXPECT_EQ(it->second, st.record.port_id) << st.record.spec.name;
          }
        },
        polled);
    last_stats_ = ports.last_stats();
    return out;
  }

  uint64_t drops(const std::string& port, DropReason r) const {
    return port_drops(last_stats_, port, r);
  }
  // Every drop reason of every port of the last run: exactly `expected`, nothing else.
  void expect_drops(const std::map<std::string, std::map<DropReason, uint64_t>>& expected) const {
    for (const auto& s : last_stats_) {
      const auto it = expected.find(s.name);
      for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
        uint64_t want = 0;
        if (it != expected.end()) {
          const auto w = it->second.find(static_cast<DropReason>(r));
          if (w != it->second.end()) want = w->second;
        }
        EXPECT_EQ(s.drops[r], want) << "port " << s.name << ", " << dp::kDropReasonNames[r];
      }
    }
  }
  void expect_no_drops() const { expect_drops({}); }

  uint64_t conntrack_created() const { return dp_->worker_stats()[0].conntrack_created; }
  uint64_t conntrack_revoked() const { return dp_->worker_stats()[0].conntrack_revoked; }
  uint64_t cache_hits() const { return dp_->worker_stats()[0].flow_cache_hits; }
  uint64_t cache_misses() const { return dp_->worker_stats()[0].flow_cache_misses; }
  std::vector<dp::ConnView> conns() const {
    std::vector<dp::ConnView> out;
    dp_->conntrack().for_each(dp_->conntrack_now_ms(), [&](const dp::ConnView& v) {
      out.push_back(v);
      return true;
    });
    return out;
  }

  // Network ACL hit counters of one direction: rule number -> packets, plus "default".
  std::map<std::string, uint64_t> acl_hits(const std::string& acl, v1::Direction dir) const {
    v1::FilterCountersRequest req;
    req.set_kind(v1::OBJECT_KIND_NETWORK_ACL);
    req.set_id(acl);
    const v1::Response r = api_->filter_counters(req);
    EXPECT_EQ(r.status(), v1::STATUS_OK) << r.message();
    std::map<std::string, uint64_t> out;
    for (const auto& h : r.filter_counters().rules()) {
      if (h.direction() == dir) {
        EXPECT_FALSE(out.contains(h.rule())) << h.rule();
        out[h.rule()] = h.packets();
      }
    }
    out["default"] = dir == kIngress ? r.filter_counters().default_ingress_packets()
                                     : r.filter_counters().default_egress_packets();
    return out;
  }
  // Security-group hit counters: rule id -> connections admitted.
  std::map<std::string, uint64_t> sg_hits(const std::string& group) const {
    v1::FilterCountersRequest req;
    req.set_kind(v1::OBJECT_KIND_SECURITY_GROUP);
    req.set_id(group);
    const v1::Response r = api_->filter_counters(req);
    EXPECT_EQ(r.status(), v1::STATUS_OK) << r.message();
    std::map<std::string, uint64_t> out;
    for (const auto& h : r.filter_counters().rules()) out[h.rule()] = h.packets();
    return out;
  }

  std::map<std::string, uint64_t> router_drops(const std::string& router) const {
    v1::Stats st;
    api_->fill_router_stats(st);
    std::map<std::string, uint64_t> out;
    for (const auto& rs : st.routers()) {
      if (rs.router_id() != router) continue;
      out["routed"] = rs.routed_packets();
      for (const auto& d : rs.drop_reasons()) out[d.reason()] = d.packets();
    }
    return out;
  }

  // A packet from `from` to its gateway (routed), with a unique IP id.
  Frame routed(const Vm& from, uint32_t dst, uint8_t proto, const Frame& l4, uint32_t src = 0,
               uint8_t ttl = 64) {
    Ipv4Fields f;
    f.src = src != 0 ? src : from.ip;
    f.dst = dst;
    f.proto = proto;
    f.ttl = ttl;
    f.id = ++next_id_;
    return ethernet(from.gw, from.mac, 0x0800, ipv4(f, l4));
  }
  // A frame from `from` straight to `to`'s MAC (switched on their network).
  Frame switched(const Vm& from, const Vm& to, uint8_t proto, const Frame& l4) {
    Ipv4Fields f;
    f.src = from.ip;
    f.dst = to.ip;
    f.proto = proto;
    f.id = ++next_id_;
    return ethernet(to.mac, from.mac, 0x0800, ipv4(f, l4));
  }

  std::string dir_;
  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  std::vector<dp::PortStatsSnapshot> last_stats_;
  std::map<std::string, uint16_t> port_ids_;
  uint16_t next_id_ = 0;
};

// `out` is `in` routed to `to`: MACs rewritten, TTL minus one, checksum valid, and every other
// byte of the IP packet unchanged.
void expect_routed(const Frame& in, const Frame& out, const Vm& to) {
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(eth_dst(out), to.mac);
  EXPECT_EQ(eth_src(out), to.gw);
  EXPECT_EQ(eth_type(out), 0x0800);
  EXPECT_EQ(ip_ttl(out), ip_ttl(in) - 1);
  EXPECT_TRUE(ip_checksum_ok(out));
  for (size_t i = 14; i < out.size(); ++i) {
    if (i == 22 || i == 24 || i == 25) continue;
    ASSERT_EQ(out[i], in[i]) << "byte " << i;
  }
}

// `out` is exactly the frames `which` of `in`, routed to `to`, in order.
void expect_routed_set(const std::vector<Frame>& out, const std::vector<Frame>& in,
                       const std::vector<size_t>& which, const Vm& to) {
  ASSERT_EQ(ids(out), ids_of(in, which));
  for (size_t k = 0; k < which.size(); ++k) expect_routed(in[which[k]], out[k], to);
}

// ---------------------------------------------------------------------------------------------
// Network ACLs
// ---------------------------------------------------------------------------------------------

TEST_F(FilterTest, AclProtocolFieldAlone) {
  open_a1();
  struct Case {
    std::string protocol;
    std::vector<size_t> pass;  // of {tcp, udp, icmp, gre}
  };
  const std::vector<Case> cases = {{"tcp", {0}},       {"udp", {1}}, {"icmp", {2}},
                                   {"47", {3}},        {"17", {1}},  {"any", {0, 1, 2, 3}},
                                   {"", {0, 1, 2, 3}}, {"TCP", {0}}};
  for (const Case& c : cases) {
    SCOPED_TRACE("protocol '" + c.protocol + "'");
    apply({network_acl("acl", {acl_rule(10, kEgress, kAllow, c.protocol)}, kAllow, kDeny),
           network("n1", 101, "acl")});
    const std::vector<Frame> in = {
        routed(kA1, kA2.ip, kTcp, tcp(1000, 80, kSyn, 1, 0, {})),
        routed(kA1, kA2.ip, kUdp, udp(1000, 80, bytes(10, 1))),
        routed(kA1, kA2.ip, kIcmp, icmp_echo(8, 7, 1, bytes(10, 2))),
        routed(kA1, kA2.ip, kGre, gre_payload()),
    };
    const auto out = run("a1", in);
    expect_routed_set(out.at("a2"), in, c.pass, kA2);
    const uint64_t denied = in.size() - c.pass.size();
    expect_drops({{"a1", {{DropReason::kAclEgressDenied, denied}}}});
    EXPECT_EQ(acl_hits("acl", kEgress),
              (std::map<std::string, uint64_t>{{"10", c.pass.size()}, {"default", denied}}));
    EXPECT_EQ(acl_hits("acl", kIngress), (std::map<std::string, uint64_t>{{"default", 0}}));
  }
}

TEST_F(FilterTest, AclSourceCidrAlone) {
  open_a1();
  v1::AclRule r = acl_rule(10, kEgress, kAllow);
  r.set_source_cidr("192.168.4.0/22");
  v1::AclRule host = acl_rule(20, kEgress, kAllow);
  host.set_source_cidr("10.0.1.10/32");
  apply({network_acl("acl", {r, host}, kAllow, kDeny), network("n1", 101, "acl")});
  const std::vector<Frame> in = {
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("192.168.3.255")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("192.168.4.0")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("192.168.7.255")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("192.168.8.0")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.1.10")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.1.11")),
  };
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1, 2, 4}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 3}}}});
  EXPECT_EQ(acl_hits("acl", kEgress),
            (std::map<std::string, uint64_t>{{"10", 2}, {"20", 1}, {"default", 3}}));
}

TEST_F(FilterTest, AclDestinationCidrAlone) {
  open_a1();
  // On the destination network's ingress this time.
  v1::AclRule r = acl_rule(10, kIngress, kAllow);
  r.set_destination_cidr("172.16.4.0/22");
  v1::AclRule host = acl_rule(20, kIngress, kAllow);
  host.set_destination_cidr("10.0.2.40/32");
  apply({network_acl("acl", {r, host}, kDeny, kAllow), network("n2", 102, "acl")});
  const std::vector<Frame> in = {
      routed(kA1, ip("172.16.3.255"), kUdp, udp(1, 2, {})),
      routed(kA1, ip("172.16.4.0"), kUdp, udp(1, 2, {})),
      routed(kA1, ip("172.16.7.255"), kUdp, udp(1, 2, {})),
      routed(kA1, ip("172.16.8.0"), kUdp, udp(1, 2, {})),
      routed(kA1, kA4.ip, kUdp, udp(1, 2, {})),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {})),
  };
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1, 2}, kA2);
  expect_routed_set(out.at("a4"), in, {4}, kA4);
  expect_drops({{"a1", {{DropReason::kAclIngressDenied, 3}}}});
  EXPECT_EQ(acl_hits("acl", kIngress),
            (std::map<std::string, uint64_t>{{"10", 2}, {"20", 1}, {"default", 3}}));
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"default", 0}}));
}

TEST_F(FilterTest, AclSourcePortsAloneIncludingTheRangeEdges) {
  open_a1();
  v1::AclRule r = acl_rule(10, kEgress, kAllow, "tcp");
  r.mutable_source_ports()->set_min(1000);
  r.mutable_source_ports()->set_max(2000);
  apply({network_acl("acl", {r}, kAllow, kDeny), network("n1", 101, "acl")});
  const std::vector<Frame> in = {
      routed(kA1, kA2.ip, kTcp, tcp(999, 80, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(1000, 80, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(2000, 80, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(2001, 80, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kUdp, udp(1500, 80, {})),  // the right port, the wrong protocol
      routed(kA1, kA2.ip, kTcp, tcp(80, 1500, kSyn, 1, 0, {})),  // the port on the other side
  };
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1, 2}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 4}}}});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 2}, {"default", 4}}));
}

TEST_F(FilterTest, AclDestinationPortsAloneIncludingTheRangeEdges) {
  open_a1();
  v1::AclRule r = acl_rule(10, kIngress, kAllow, "udp");
  r.mutable_destination_ports()->set_min(5000);
  r.mutable_destination_ports()->set_max(5010);
  v1::AclRule top = acl_rule(20, kIngress, kAllow, "tcp");
  top.mutable_destination_ports()->set_min(65000);
  top.mutable_destination_ports()->set_max(65535);
  apply({network_acl("acl", {r, top}, kDeny, kAllow), network("n2", 102, "acl")});
  const std::vector<Frame> in = {
      routed(kA1, kA2.ip, kUdp, udp(7, 4999, {})),
      routed(kA1, kA2.ip, kUdp, udp(7, 5000, {})),
      routed(kA1, kA2.ip, kUdp, udp(7, 5010, {})),
      routed(kA1, kA2.ip, kUdp, udp(7, 5011, {})),
      routed(kA1, kA2.ip, kTcp, tcp(7, 5005, kSyn, 1, 0, {})),  // right port, wrong protocol
      routed(kA1, kA2.ip, kUdp, udp(5005, 7, {})),              // the port on the other side
      routed(kA1, kA2.ip, kTcp, tcp(7, 64999, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(7, 65000, kSyn, 1, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(7, 65535, kSyn, 1, 0, {})),
  };
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1, 2, 7, 8}, kA2);
  expect_drops({{"a1", {{DropReason::kAclIngressDenied, 5}}}});
  EXPECT_EQ(acl_hits("acl", kIngress),
            (std::map<std::string, uint64_t>{{"10", 2}, {"20", 2}, {"default", 5}}));
}

TEST_F(FilterTest, AclIcmpTypeAloneAndTypeWithCode) {
  open_a1();
  // Type only: every code of type 8.
  v1::AclRule echo = acl_rule(10, kEgress, kAllow, "icmp");
  echo.set_icmp_type(8);
  apply({network_acl("acl", {echo}, kAllow, kDeny), network("n1", 101, "acl")});
  std::vector<Frame> in = {
      routed(kA1, kA2.ip, kIcmp, icmp(8, 0, 0x00070001, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(8, 1, 0x00070001, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(0, 0, 0x00070001, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(3, 3, 0, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(9, 0, 0, {})),
      routed(kA1, kA2.ip, kTcp, tcp(0x0800, 80, kSyn, 1, 0, {})),  // "type 8" as a TCP port
  };
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 4}}}});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 2}, {"default", 4}}));

  // Type and code: only 3/4 (fragmentation needed).
  v1::AclRule frag = acl_rule(10, kEgress, kAllow, "icmp");
  frag.set_icmp_type(3);
  frag.set_icmp_code(4);
  apply({network_acl("acl", {frag}, kAllow, kDeny)});
  in = {
      routed(kA1, kA2.ip, kIcmp, icmp(3, 4, 1500, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(3, 3, 0, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(3, 5, 0, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(4, 4, 0, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(2, 4, 0, {})),
      routed(kA1, kA2.ip, kIcmp, icmp(8, 0, 0x00070001, {})),
      routed(kA1, kA2.ip, kUdp, udp(0x0304, 80, {})),
  };
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 6}}}});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 1}, {"default", 6}}));
}

TEST_F(FilterTest, AclLowestNumberWinsWhateverTheInsertionOrder) {
  open_a1();
  v1::AclRule allow80 = acl_rule(10, kEgress, kAllow, "tcp");
  allow80.mutable_destination_ports()->set_min(80);
  allow80.mutable_destination_ports()->set_max(80);
  const v1::AclRule deny_tcp = acl_rule(20, kEgress, kDeny, "tcp");
  for (const bool low_first : {true, false}) {
    SCOPED_TRACE(low_first ? "rule 10 listed first" : "rule 20 listed first");
    const std::vector<v1::AclRule> rules = low_first ? std::vector<v1::AclRule>{allow80, deny_tcp}
                                                     : std::vector<v1::AclRule>{deny_tcp, allow80};
    // (A new ACL id each time: hit counters start from zero.)
    const std::string id = low_first ? "acl-a" : "acl-b";
    apply({network_acl(id, rules, kAllow, kAllow), network("n1", 101, id)});
    const std::vector<Frame> in = {
        routed(kA1, kA2.ip, kTcp, tcp(5, 80, kSyn, 1, 0, {})),
        routed(kA1, kA2.ip, kTcp, tcp(5, 81, kSyn, 1, 0, {})),
        routed(kA1, kA2.ip, kUdp, udp(5, 80, {})),
    };
    const auto out = run("a1", in);
    expect_routed_set(out.at("a2"), in, {0, 2}, kA2);
    expect_drops({{"a1", {{DropReason::kAclEgressDenied, 1}}}});
    EXPECT_EQ(acl_hits(id, kEgress),
              (std::map<std::string, uint64_t>{{"10", 1}, {"20", 1}, {"default", 1}}));
  }

  // Allow-then-deny: the broad allow (10) shadows the narrower deny (20).
  v1::AclRule allow8 = acl_rule(10, kEgress, kAllow);
  allow8.set_source_cidr("10.0.0.0/8");
  v1::AclRule deny24 = acl_rule(20, kEgress, kDeny);
  deny24.set_source_cidr("10.0.1.0/24");
  apply({network_acl("acl-c", {deny24, allow8}, kAllow, kDeny), network("n1", 101, "acl-c")});
  std::vector<Frame> in = {
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.1.10")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.5.5")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("11.0.0.1")),
  };
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 1}}}});
  EXPECT_EQ(acl_hits("acl-c", kEgress),
            (std::map<std::string, uint64_t>{{"10", 2}, {"20", 0}, {"default", 1}}));

  // Deny-then-allow: the numbers swapped, the narrow deny now comes first. Extreme numbers.
  allow8.set_number(32766);
  deny24.set_number(1);
  apply({network_acl("acl-d", {allow8, deny24}, kAllow, kDeny), network("n1", 101, "acl-d")});
  in = {
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.1.10")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("10.0.5.5")),
      routed(kA1, kA2.ip, kUdp, udp(1, 2, {}), ip("11.0.0.1")),
  };
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1}, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 2}}}});
  EXPECT_EQ(acl_hits("acl-d", kEgress),
            (std::map<std::string, uint64_t>{{"1", 1}, {"32766", 1}, {"default", 1}}));
}

TEST_F(FilterTest, AclDefaultActionsAndUnspecifiedMeansDeny) {
  struct Case {
    v1::AclAction ingress, egress;
  };
  // The ACL is on n1 only: a1 -> a2 leaves n1 (egress), a2 -> a1 enters n1 (ingress).
  const std::vector<Case> cases = {
      {kAllow, kDeny}, {kDeny, kAllow}, {kUnspecified, kUnspecified}, {kAllow, kAllow}};
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE("default ingress " + std::to_string(c.ingress) + ", egress " +
                 std::to_string(c.egress));
    const std::string id = "acl" + std::to_string(n++);
    apply({network_acl(id, {}, c.ingress, c.egress), network("n1", 101, id)});
    const bool out_ok = c.egress == kAllow, in_ok = c.ingress == kAllow;
    const std::vector<Frame> from_a1 = {routed(kA1, kA2.ip, kUdp, udp(1, 2, bytes(5, 1))),
                                        routed(kA1, kA2.ip, kTcp, tcp(1, 2, kSyn, 1, 0, {}))};
    auto out = run("a1", from_a1);
    expect_routed_set(out.at("a2"), from_a1,
                      out_ok ? std::vector<size_t>{0, 1} : std::vector<size_t>{}, kA2);
    expect_drops({{"a1", {{DropReason::kAclEgressDenied, out_ok ? 0 : 2}}}});

    const std::vector<Frame> from_a2 = {routed(kA2, kA1.ip, kUdp, udp(2, 1, bytes(5, 1)))};
    out = run("a2", from_a2);
    expect_routed_set(out.at("a1"), from_a2, in_ok ? std::vector<size_t>{0} : std::vector<size_t>{},
                      kA1);
    expect_drops({{"a2", {{DropReason::kAclIngressDenied, in_ok ? 0 : 1}}}});

    EXPECT_EQ(acl_hits(id, kEgress), (std::map<std::string, uint64_t>{{"default", 2}}));
    EXPECT_EQ(acl_hits(id, kIngress), (std::map<std::string, uint64_t>{{"default", 1}}));
  }
}

TEST_F(FilterTest, AclEgressOfTheSourceAndIngressOfTheDestinationBothApplyButNotToSwitchedFrames) {
  v1::AclRule udp_only = acl_rule(10, kEgress, kAllow, "udp");
  v1::AclRule port5000 = acl_rule(10, kIngress, kAllow, "udp");
  port5000.mutable_destination_ports()->set_min(5000);
  port5000.mutable_destination_ports()->set_max(5000);
  apply({network_acl("out1", {udp_only}, kDeny, kDeny),
         network_acl("in2", {port5000}, kDeny, kAllow), network("n1", 101, "out1"),
         network("n2", 102, "in2")});
  const std::vector<Frame> in = {
      routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(20, 1))),    // both allow
      routed(kA1, kA2.ip, kUdp, udp(4000, 5001, bytes(20, 1))),    // in2 denies
      routed(kA1, kA2.ip, kTcp, tcp(4000, 5000, kSyn, 1, 0, {})),  // out1 denies
      routed(kA1, kA2.ip, kTcp, tcp(4000, 5001, kSyn, 1, 0, {})),  // both deny: out1 first
      switched(kA1, kA3, kTcp, tcp(4000, 5001, kSyn, 1, 0, {})),   // L2: no ACL at all
      switched(kA1, kA3, kUdp, udp(4000, 5001, bytes(20, 1))),
  };
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  ASSERT_EQ(out.at("a3").size(), 2u);
  EXPECT_EQ(out.at("a3")[0], in[4]);
  EXPECT_EQ(out.at("a3")[1], in[5]);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 2}, {DropReason::kAclIngressDenied, 1}}}});
  EXPECT_EQ(acl_hits("out1", kEgress),
            (std::map<std::string, uint64_t>{{"10", 2}, {"default", 2}}));
  EXPECT_EQ(acl_hits("out1", kIngress), (std::map<std::string, uint64_t>{{"default", 0}}));
  EXPECT_EQ(acl_hits("in2", kIngress),
            (std::map<std::string, uint64_t>{{"10", 1}, {"default", 1}}));
  EXPECT_EQ(acl_hits("in2", kEgress), (std::map<std::string, uint64_t>{{"default", 0}}));
  // The router counts the filtered packets too.
  EXPECT_EQ(router_drops("r"),
            (std::map<std::string, uint64_t>{
                {"routed", 1}, {"acl_egress_denied", 2}, {"acl_ingress_denied", 1}}));

  // And back: n2's egress (allowed by default) and n1's ingress (denied by default).
  const std::vector<Frame> back = {routed(kA2, kA1.ip, kUdp, udp(5000, 4000, bytes(20, 1)))};
  const auto out2 = run("a2", back);
  EXPECT_TRUE(out2.at("a1").empty());
  expect_drops({{"a2", {{DropReason::kAclIngressDenied, 1}}}});
  EXPECT_EQ(acl_hits("in2", kEgress), (std::map<std::string, uint64_t>{{"default", 1}}));
  EXPECT_EQ(acl_hits("out1", kIngress), (std::map<std::string, uint64_t>{{"default", 1}}));
}

TEST_F(FilterTest, AclHitCountersSurviveUnrelatedChangesAndRestartWithANewRuleSet) {
  v1::AclRule r = acl_rule(10, kEgress, kAllow, "udp");
  apply({network_acl("acl", {r}, kDeny, kDeny), network("n1", 101, "acl")});
  const auto send = [&] {
    const std::vector<Frame> in = {routed(kA1, kA2.ip, kUdp, udp(1, 2, {})),
                                   routed(kA1, kA2.ip, kUdp, udp(1, 3, {})),
                                   routed(kA1, kA2.ip, kTcp, tcp(1, 2, kSyn, 1, 0, {}))};
    const auto out = run("a1", in);
    expect_routed_set(out.at("a2"), in, {0, 1}, kA2);
  };
  send();
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 2}, {"default", 1}}));
  // Unrelated configuration: a router, a network and a port come; the same ACL is reused.
  apply({router("other"), network("n9", 909), subnet("s9", "n9", "10.9.9.0/24"),
         vm_port("p9", "n9", "02:99:00:00:00:09", "10.9.9.9", "")});
  send();
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 4}, {"default", 2}}));
  // The same ACL attached to a second network as well: still the same object.
  apply({network("n2", 102, "acl")});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 4}, {"default", 2}}));
  // A changed rule set is a new table: its counters start at zero.
  r.set_protocol("any");
  apply({network_acl("acl", {r}, kDeny, kDeny)});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 0}, {"default", 0}}));

  v1::FilterCountersRequest bad;
  bad.set_kind(v1::OBJECT_KIND_NETWORK_ACL);
  bad.set_id("nope");
  EXPECT_EQ(api_->filter_counters(bad).status(), v1::STATUS_NOT_FOUND);
  bad.set_kind(v1::OBJECT_KIND_ROUTER);
  bad.set_id("r");
  EXPECT_EQ(api_->filter_counters(bad).status(), v1::STATUS_INVALID_ARGUMENT);
}

// ip4-fast takes the common case; a VLAN-tagged frame is left to the staged chain (ip4-input,
// ip4-lookup, then the filter stage). Both must judge alike.
TEST_F(FilterTest, TheStagedChainAppliesTheSameAclsAndGroups) {
  apply({network_acl("acl", {acl_rule(10, kEgress, kAllow, "udp")}, kAllow, kDeny),
         network("n1", 101, "acl"),
         security_group("srv", {sg_rule("u5000", kIngress, "udp", 5000, 5000)}),
         port_of(kA2, {"srv"})});
  const auto tagged = [&](uint8_t proto, const Frame& l4) {
    Ipv4Fields f;
    f.src = kA1.ip;
    f.dst = kA2.ip;
    f.proto = proto;
    f.id = ++next_id_;
    return ethernet_vlan(kA1.gw, kA1.mac, 7, 0x0800, ipv4(f, l4));
  };
  const std::vector<Frame> in = {tagged(kUdp, udp(1, 5000, bytes(9, 9))),
                                 tagged(kUdp, udp(1, 5001, bytes(9, 9))),
                                 tagged(kTcp, tcp(1, 5000, kSyn, 1, 0, {}))};
  const uint64_t created = conntrack_created();
  const auto out = run("a1", in);
  ASSERT_EQ(out.at("a2").size(), 1u);
  const Frame& f = out.at("a2")[0];
  ASSERT_EQ(f.size(), in[0].size());
  EXPECT_EQ(eth_dst(f), kA2.mac);
  EXPECT_EQ(eth_src(f), kA2.gw);
  EXPECT_EQ(get16(f, 12), 0x8100);  // the tag stays
  EXPECT_EQ(f[26], 63);             // TTL
  EXPECT_EQ(ones_complement_sum(f.data() + 18, 20), 0xffff);
  for (size_t i = 12; i < f.size(); ++i) {
    if (i == 26 || i == 28 || i == 29) continue;  // TTL and checksum
    ASSERT_EQ(f[i], in[0][i]) << "byte " << i;
  }
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 1}, {DropReason::kSgIngressDenied, 1}}}});
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"10", 2}, {"default", 1}}));
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"u5000", 1}}));
  EXPECT_EQ(conntrack_created(), created + 1);
}

// ---------------------------------------------------------------------------------------------
// Security groups
// ---------------------------------------------------------------------------------------------

TEST_F(FilterTest, SgIngressIsDeniedByDefaultAndReturnTrafficIsStateful) {
  apply({security_group("client", {sg_rule("out-tcp", kEgress, "tcp")}), port_of(kA1, {"client"})});
  const uint64_t created = conntrack_created();

  // A new inbound connection: no ingress rule admits it.
  std::vector<Frame> in = {routed(kA2, kA1.ip, kTcp, tcp(5555, 22, kSyn, 100, 0, {}))};
  auto out = run("a2", in);
  EXPECT_TRUE(out.at("a1").empty());
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, 1}}}});

  // The VM's own connection out is admitted...
  in = {routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kSyn, 1000, 0, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();
  EXPECT_EQ(conntrack_created(), created + 1);

  // ...its replies come back, a packet of another flow does not.
  in = {
      routed(kA2, kA1.ip, kTcp, tcp(80, 40000, kSyn | kAck, 5000, 1001, {})),
      routed(kA2, kA1.ip, kTcp, tcp(80, 40000, kAck | kPsh, 5001, 1001, bytes(100, 4))),
      routed(kA2, kA1.ip, kTcp, tcp(81, 40000, kAck, 5001, 1001, {})),  // other source port
      routed(kA2, kA1.ip, kTcp, tcp(80, 40001, kAck, 5001, 1001, {})),  // other destination port
      routed(kA2, kA1.ip, kUdp, udp(80, 40000, bytes(4, 4))),           // other protocol
  };
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0, 1}, kA1);
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, 3}}}});

  in = {routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kAck, 1001, 5001, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();

  // One connection, established, in a1's zone, admitted by its egress rules.
  auto entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].orig.zone, port_ids_.at("a1"));
  EXPECT_EQ(entries[0].orig.protocol, kTcp);
  EXPECT_EQ(entries[0].orig.src_ip, kA1.ip);
  EXPECT_EQ(entries[0].orig.src_port, 40000);
  EXPECT_EQ(entries[0].orig.dst_ip, kA2.ip);
  EXPECT_EQ(entries[0].orig.dst_port, 80);
  EXPECT_EQ(entries[0].state, dp::ConnState::kTcpEstablished);
  EXPECT_FALSE(entries[0].created_at_ingress);
  EXPECT_EQ(conntrack_created(), created + 1);
  // The rule counts the connection it admitted, not the packets.
  EXPECT_EQ(sg_hits("client"), (std::map<std::string, uint64_t>{{"out-tcp", 1}}));

  // A reset closes it; a fresh SYN on the same ports is a new connection, admitted afresh.
  in = {routed(kA2, kA1.ip, kTcp, tcp(80, 40000, kRst | kAck, 5001, 1001, {}))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, dp::ConnState::kTcpClose);
  in = {routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kSyn, 9000, 0, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, dp::ConnState::kTcpSynSent);
  EXPECT_EQ(conntrack_created(), created + 2);
  EXPECT_EQ(sg_hits("client"), (std::map<std::string, uint64_t>{{"out-tcp", 2}}));

  // That one ends with FINs: fin_wait, then time_wait; its last ACK still passes.
  in = {routed(kA2, kA1.ip, kTcp, tcp(80, 40000, kSyn | kAck, 100, 9001, {}))};
  run("a2", in);
  in = {routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kAck, 9001, 101, {})),
        routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kFin | kAck, 9001, 101, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1}, kA2);
  EXPECT_EQ(conns().at(0).state, dp::ConnState::kTcpFinWait);
  in = {routed(kA2, kA1.ip, kTcp, tcp(80, 40000, kFin | kAck, 101, 9002, {}))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  EXPECT_EQ(conns().at(0).state, dp::ConnState::kTcpTimeWait);
  in = {routed(kA1, kA2.ip, kTcp, tcp(40000, 80, kAck, 9002, 102, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();
  EXPECT_EQ(conntrack_created(), created + 2);
}

TEST_F(FilterTest, SgWithoutAnEgressRuleDeniesEgressButRepliesOfAdmittedConnectionsLeave) {
  apply({security_group("srv", {sg_rule("ssh", kIngress, "tcp", 22, 22)}), port_of(kA2, {"srv"})});
  std::vector<Frame> in = {routed(kA2, kA1.ip, kTcp, tcp(41000, 443, kSyn, 1, 0, {})),
                           routed(kA2, kA1.ip, kUdp, udp(41000, 53, bytes(8, 1))),
                           routed(kA2, kA1.ip, kIcmp, icmp_echo(8, 1, 1, {}))};
  auto out = run("a2", in);
  EXPECT_TRUE(out.at("a1").empty());
  expect_drops({{"a2", {{DropReason::kSgEgressDenied, 3}}}});

  in = {routed(kA1, kA2.ip, kTcp, tcp(50000, 22, kSyn, 1, 0, {})),
        routed(kA1, kA2.ip, kTcp, tcp(50001, 23, kSyn, 1, 0, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, 1}}}});

  in = {routed(kA2, kA1.ip, kTcp, tcp(22, 50000, kSyn | kAck, 7, 2, {})),
        routed(kA2, kA1.ip, kTcp, tcp(23, 50001, kSyn | kAck, 7, 2, {}))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  expect_drops({{"a2", {{DropReason::kSgEgressDenied, 1}}}});
  const auto entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].created_at_ingress);
  EXPECT_EQ(entries[0].orig.zone, port_ids_.at("a2"));
  EXPECT_EQ(entries[0].state, dp::ConnState::kTcpSynRecv);
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"ssh", 1}}));
}

TEST_F(FilterTest, SgRuleFieldsProtocolPortsRemotePrefixAndIcmpType) {
  open_a1();
  uint16_t sport = 10000;
  uint16_t echo_id = 1;
  uint32_t icmp_src = ip("10.200.0.1");  // non-echo ICMP keys on addresses only: one per packet
  struct Case {
    std::string name;
    std::vector<v1::SecurityGroupRule> rules;
    std::vector<std::pair<bool, std::function<Frame()>>> packets;  // (admitted, frame)
  };
  const auto tcp_to = [&](uint16_t dport, uint32_t src = 0) {
    return [&, dport, src] {
      return routed(kA1, kA2.ip, kTcp, tcp(++sport, dport, kSyn, 1, 0, {}), src);
    };
  };
  const auto udp_to = [&](uint16_t dport) {
    return [&, dport] { return routed(kA1, kA2.ip, kUdp, udp(++sport, dport, bytes(4, 1))); };
  };
  const auto echo = [&](uint8_t code) {
    return [&, code] {
      return routed(kA1, kA2.ip, kIcmp, icmp(8, code, uint32_t{++echo_id} << 16 | 1, {}));
    };
  };
  const auto icmp_msg = [&](uint8_t type, uint8_t code) {
    return
        [&, type, code] { return routed(kA1, kA2.ip, kIcmp, icmp(type, code, 0, {}), ++icmp_src); };
  };
  const auto gre = [&] {
    return [&] { return routed(kA1, kA2.ip, kGre, gre_payload(), ++icmp_src); };
  };

  std::vector<Case> cases;
  cases.push_back({"protocol udp",
                   {sg_rule("r", kIngress, "udp")},
                   {{false, tcp_to(80)}, {true, udp_to(80)}, {false, echo(0)}, {false, gre()}}});
  cases.push_back({"protocol icmp",
                   {sg_rule("r", kIngress, "icmp")},
                   {{false, tcp_to(80)},
                    {false, udp_to(80)},
                    {true, echo(0)},
                    {true, icmp_msg(13, 0)},
                    {false, gre()}}});
  cases.push_back({"protocol 47",
                   {sg_rule("r", kIngress, "47")},
                   {{false, tcp_to(80)}, {false, udp_to(80)}, {false, echo(0)}, {true, gre()}}});
  cases.push_back({"protocol any",
                   {sg_rule("r", kIngress, "any")},
                   {{true, tcp_to(80)}, {true, udp_to(80)}, {true, echo(0)}, {true, gre()}}});
  cases.push_back({"tcp ports 8000-8010",
                   {sg_rule("r", kIngress, "tcp", 8000, 8010)},
                   {{false, tcp_to(7999)},
                    {true, tcp_to(8000)},
                    {true, tcp_to(8010)},
                    {false, tcp_to(8011)},
                    {false, udp_to(8005)}}});
  cases.push_back({"remote prefix 192.168.4.0/22",
                   {sg_rule("r", kIngress, "any", 0, 0, "192.168.4.0/22")},
                   {{false, tcp_to(80, ip("192.168.3.255"))},
                    {true, tcp_to(80, ip("192.168.4.0"))},
                    {true, tcp_to(80, ip("192.168.7.255"))},
                    {false, tcp_to(80, ip("192.168.8.0"))},
                    {false, tcp_to(80)}}});
  v1::SecurityGroupRule type8 = sg_rule("r", kIngress, "icmp");
  type8.set_icmp_type(8);
  cases.push_back({"icmp type 8",
                   {type8},
                   {{true, echo(0)},
                    {true, echo(3)},
                    {false, icmp_msg(0, 0)},
                    {false, icmp_msg(13, 0)},
                    {false, icmp_msg(3, 3)},
                    {false, tcp_to(0x0800)}}});
  v1::SecurityGroupRule type8code0 = type8;
  type8code0.set_icmp_code(0);
  cases.push_back({"icmp type 8 code 0", {type8code0}, {{true, echo(0)}, {false, echo(1)}}});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    apply({security_group("srv", c.rules), port_of(kA2, {"srv"})});
    std::vector<Frame> in;
    std::vector<size_t> pass;
    for (const auto& [admitted, make] : c.packets) {
      if (admitted) pass.push_back(in.size());
      in.push_back(make());
    }
    const uint64_t created = conntrack_created();
    const auto out = run("a1", in);
    expect_routed_set(out.at("a2"), in, pass, kA2);
    expect_drops({{"a1", {{DropReason::kSgIngressDenied, in.size() - pass.size()}}}});
    EXPECT_EQ(conntrack_created(), created + pass.size());
    EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"r", pass.size()}}));
  }
}

TEST_F(FilterTest, SgRemoteGroupAdmitsTheMembersAddressesOnly) {
  open_a1();
  apply({security_group("clients", {sg_rule("any-out", kEgress)}),
         security_group("srv", {sg_rule("from-clients", kIngress, "tcp", 0, 0, "", "clients")}),
         port_of(kA2, {"srv"}), port_of(kA3, {"clients"}),
         // A member on another host: its fixed IP counts too.
         vm_port_with_groups("premote", "n1", "02:aa:00:00:00:77", "10.0.1.77", "", {"clients"})});
  auto in = std::vector<Frame>{routed(kA3, kA2.ip, kTcp, tcp(1, 80, kSyn, 1, 0, {}))};
  auto out = run("a3", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();

  in = {routed(kA1, kA2.ip, kTcp, tcp(2, 80, kSyn, 1, 0, {})),                   // not a member
        routed(kA1, kA2.ip, kTcp, tcp(3, 80, kSyn, 1, 0, {}), ip("10.0.1.77")),  // remote member
        routed(kA1, kA2.ip, kTcp, tcp(4, 80, kSyn, 1, 0, {}), ip("10.0.1.78")),
        routed(kA1, kA2.ip, kUdp, udp(5, 80, {}), ip("10.0.1.77"))};  // wrong protocol
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1}, kA2);
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, 3}}}});
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"from-clients", 2}}));

  // a1 joins the group (with port security, which groups need): now it is admitted.
  apply({port_of(kA1, {"clients"})});
  in = {routed(kA1, kA2.ip, kTcp, tcp(6, 80, kSyn, 1, 0, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();
  // A member joining "clients" changes the rules "srv" compiles to (the remote group expands to
  // the members' addresses): a new policy, whose counters start from zero.
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"from-clients", 1}}));
  // The members' egress rule admitted a3's connection and this one.
  EXPECT_EQ(sg_hits("clients"), (std::map<std::string, uint64_t>{{"any-out", 2}}));

  // a3 leaves the group: its connection to a2 was admitted for its membership, and is cut.
  apply({port_of(kA3)});
  const uint64_t revoked = conntrack_revoked();
  in = {routed(kA3, kA2.ip, kTcp, tcp(1, 80, kAck, 2, 2, {}))};
  out = run("a3", in);
  EXPECT_TRUE(out.at("a2").empty());
  expect_drops({{"a3", {{DropReason::kSgRevoked, 1}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 1);
}

TEST_F(FilterTest, SgPortInTwoGroupsGetsTheUnionOfTheirRules) {
  open_a1();
  apply({security_group("web", {sg_rule("http", kIngress, "tcp", 80, 80)}),
         security_group("ssh", {sg_rule("ssh", kIngress, "tcp", 22, 22),
                                sg_rule("http-too", kIngress, "tcp", 80, 80)}),
         port_of(kA2, {"web", "ssh"})});
  const std::vector<Frame> in = {routed(kA1, kA2.ip, kTcp, tcp(1, 80, kSyn, 1, 0, {})),
                                 routed(kA1, kA2.ip, kTcp, tcp(2, 22, kSyn, 1, 0, {})),
                                 routed(kA1, kA2.ip, kTcp, tcp(3, 23, kSyn, 1, 0, {}))};
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1}, kA2);
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, 1}}}});
  // Port 80 is admitted by both groups' rules: the hit goes to the first in the port's order.
  EXPECT_EQ(sg_hits("web"), (std::map<std::string, uint64_t>{{"http", 1}}));
  EXPECT_EQ(sg_hits("ssh"), (std::map<std::string, uint64_t>{{"ssh", 1}, {"http-too", 0}}));
}

// Filtered packets must be readable by the classifier: what is not is dropped before any filter,
// under its own reason. Switched frames have not been through ip4-input, so the filter checks
// the header itself.
TEST_F(FilterTest, FiltersDropWhatTheyCannotRead) {
  apply({security_group("any", {sg_rule("in", kIngress), sg_rule("out", kEgress)}),
         port_of(kA3, {"any"}), network_acl("acl", {}, kAllow, kAllow), network("n2", 102, "acl")});
  const auto l2 = [&](auto tweak, const Frame& l4, uint8_t proto = kTcp) {
    Ipv4Fields f;
    f.src = kA1.ip;
    f.dst = kA3.ip;
    f.proto = proto;
    f.id = ++next_id_;
    tweak(f);
    return ethernet(kA3.mac, kA1.mac, 0x0800, ipv4(f, l4));
  };
  const auto none = [](Ipv4Fields&) {};
  const Frame tcp_hdr = tcp(1, 2, kSyn, 1, 0, {});
  const Frame short_tcp(tcp_hdr.begin(), tcp_hdr.begin() + 19);
  Frame short_ip = l2(none, {});
  short_ip.resize(14 + 19);
  std::vector<Frame> in = {
      l2([](Ipv4Fields& f) { f.ihl = 6; }, tcp_hdr),                  // options
      l2([](Ipv4Fields& f) { f.frag = 0x2000; }, tcp_hdr),            // MF
      l2([](Ipv4Fields& f) { f.frag = 0x0001; }, tcp_hdr),            // an offset
      l2([](Ipv4Fields& f) { f.version = 6; }, tcp_hdr),              // not version 4
      l2([](Ipv4Fields& f) { f.ihl = 4; }, tcp_hdr),                  // IHL < 5
      short_ip,                                                       // shorter than an IPv4 header
      l2(none, short_tcp),                                            // TCP header cut short
      l2(none, Frame(7, 0), kUdp),                                    // UDP header cut short
      l2(none, Frame(7, 0), kIcmp),                                   // ICMP header cut short
      l2([](Ipv4Fields& f) { f.total_length_delta = -1; }, tcp_hdr),  // length says so
      l2(none, Frame(0, 0), kGre),                                    // no ports to read: fine
      l2(none, tcp_hdr),                                              // fine
  };
  auto out = run("a1", in);
  ASSERT_EQ(out.at("a3").size(), 2u);
  EXPECT_EQ(out.at("a3")[0], in[10]);
  EXPECT_EQ(out.at("a3")[1], in[11]);
  expect_drops({{"a1",
                 {{DropReason::kIpOptions, 1},
                  {DropReason::kIpFragment, 2},
                  {DropReason::kIpHeaderMalformed, 3},
                  {DropReason::kL4Truncated, 4}}}});

  // Routed packets (ip4-input checked their header): a network ACL needs the ports too.
  open_a1();
  in = {routed(kA1, kA2.ip, kTcp, short_tcp), routed(kA1, kA2.ip, kUdp, udp(1, 2, {})),
        routed(kA1, kA2.ip, kTcp, tcp_hdr)};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1, 2}, kA2);
  expect_drops({{"a1", {{DropReason::kL4Truncated, 1}}}});
  EXPECT_EQ(acl_hits("acl", kIngress), (std::map<std::string, uint64_t>{{"default", 2}}));
}

TEST_F(FilterTest, SgEchoRequestOutAndReplyBackWithOnlyAnEgressIcmpRule) {
  apply(
      {security_group("pinger", {sg_rule("icmp-out", kEgress, "icmp")}), port_of(kA1, {"pinger"})});
  std::vector<Frame> in = {routed(kA1, kA2.ip, kIcmp, icmp_echo(8, 0x1234, 1, bytes(32, 1)))};
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();

  in = {routed(kA2, kA1.ip, kIcmp, icmp_echo(0, 0x1234, 1, bytes(32, 1))),   // the reply
        routed(kA2, kA1.ip, kIcmp, icmp_echo(0, 0x1235, 1, bytes(32, 1))),   // another id
        routed(kA2, kA1.ip, kIcmp, icmp_echo(8, 0x4321, 1, bytes(32, 1))),   // a ping in
        routed(kA2, kA1.ip, kIcmp, icmp_echo(8, 0x1234, 1, bytes(32, 1)))};  // same id, a ping in
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, 3}}}});
  auto entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, dp::ConnState::kReplied);
  EXPECT_EQ(entries[0].orig.src_ip, kA1.ip);
  EXPECT_EQ(sg_hits("pinger"), (std::map<std::string, uint64_t>{{"icmp-out", 1}}));

  // A rule change re-checks the conversation as its first packet, an echo request: still
  // allowed by "type 8", cut by "type 0 only".
  v1::SecurityGroupRule type8 = sg_rule("echo-out", kEgress, "icmp");
  type8.set_icmp_type(8);
  v1::SecurityGroupRule type0 = sg_rule("reply-out", kEgress, "icmp");
  type0.set_icmp_type(0);
  const uint64_t revoked = conntrack_revoked();
  apply({security_group("pinger", {type8})});
  in = {routed(kA2, kA1.ip, kIcmp, icmp_echo(0, 0x1234, 2, bytes(32, 1)))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  expect_no_drops();
  apply({security_group("pinger", {type0})});
  in = {routed(kA2, kA1.ip, kIcmp, icmp_echo(0, 0x1234, 3, bytes(32, 1)))};
  out = run("a2", in);
  EXPECT_TRUE(out.at("a1").empty());
  expect_drops({{"a2", {{DropReason::kSgRevoked, 1}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 1);

  // A server that admits pings (ingress type 8) and has no egress rule answers them (and the
  // identifier may be 0x0800, the value echo keys use as their marker).
  v1::SecurityGroupRule ping_in = sg_rule("ping-in", kIngress, "icmp");
  ping_in.set_icmp_type(8);
  apply({security_group("srv", {ping_in}), port_of(kA3, {"srv"})});
  in = {routed(kA2, kA3.ip, kIcmp, icmp_echo(8, 0x0800, 1, bytes(8, 1))),
        routed(kA2, kA3.ip, kIcmp, icmp_echo(0, 0x0801, 1, bytes(8, 1)))};  // a reply: no
  out = run("a2", in);
  expect_routed_set(out.at("a3"), in, {0}, kA3);
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, 1}}}});
  in = {routed(kA3, kA2.ip, kIcmp, icmp_echo(0, 0x0800, 1, bytes(8, 1)))};
  out = run("a3", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  expect_no_drops();

  // The requester with the higher address this time (a4 10.0.2.40 pings a3 10.0.1.30).
  apply({port_of(kA3), security_group("hp", {type8}), port_of(kA4, {"hp"})});
  in = {routed(kA4, kA3.ip, kIcmp, icmp_echo(8, 0x0777, 1, bytes(8, 1)))};
  out = run("a4", in);
  expect_routed_set(out.at("a3"), in, {0}, kA3);
  in = {routed(kA3, kA4.ip, kIcmp, icmp_echo(0, 0x0777, 1, bytes(8, 1))),
        routed(kA3, kA4.ip, kIcmp, icmp_echo(8, 0x0777, 1, bytes(8, 1)))};  // same id, a ping in
  out = run("a3", in);
  expect_routed_set(out.at("a4"), in, {0}, kA4);
  expect_drops({{"a3", {{DropReason::kSgIngressDenied, 1}}}});
  v1::SecurityGroupRule type8code0 = type8;
  type8code0.set_id("echo-out-0");
  type8code0.set_icmp_code(0);
  apply({security_group("hp", {type8code0})});
  in = {routed(kA3, kA4.ip, kIcmp, icmp_echo(0, 0x0777, 2, bytes(8, 1)))};
  out = run("a3", in);
  expect_routed_set(out.at("a4"), in, {0}, kA4);
  expect_no_drops();
  apply({security_group("hp", {type0})});
  in = {routed(kA3, kA4.ip, kIcmp, icmp_echo(0, 0x0777, 3, bytes(8, 1)))};
  out = run("a3", in);
  EXPECT_TRUE(out.at("a4").empty());
  expect_drops({{"a3", {{DropReason::kSgRevoked, 1}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 2);
}

TEST_F(FilterTest, SgAppliesToSwitchedFramesWithinANetwork) {
  apply({security_group("srv", {sg_rule("ssh", kIngress, "tcp", 22, 22)}), port_of(kA3, {"srv"})});
  Frame v6 = ethernet(kA3.mac, kA1.mac, 0x86dd, bytes(60, 1));
  std::vector<Frame> in = {switched(kA1, kA3, kTcp, tcp(33000, 22, kSyn, 1, 0, {})),
                           switched(kA1, kA3, kTcp, tcp(33001, 23, kSyn, 1, 0, {})),
                           switched(kA1, kA3, kUdp, udp(33002, 22, {})), v6};
  auto out = run("a1", in);
  ASSERT_EQ(out.at("a3").size(), 1u);
  EXPECT_EQ(out.at("a3")[0], in[0]);  // switched: not a byte changed
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, 2}, {DropReason::kSgNotIpv4, 1}}}});

  const Mac6 zero{};
  in = {switched(kA3, kA1, kTcp, tcp(22, 33000, kSyn | kAck, 9, 2, {})),  // the reply
        switched(kA3, kA1, kTcp, tcp(34000, 80, kSyn, 1, 0, {})),         // a new connection
        routed(kA3, kA2.ip, kTcp, tcp(34001, 80, kSyn, 1, 0, {})),        // routed: the same
        ethernet(mac("ff:ff:ff:ff:ff:ff"), kA3.mac, 0x0806,
                 arp(1, kA3.mac, kA3.ip, zero, ip("10.0.1.1")))};  // ARP is not filtered
  out = run("a3", in);
  ASSERT_EQ(out.at("a1").size(), 1u);
  EXPECT_EQ(out.at("a1")[0], in[0]);
  EXPECT_TRUE(out.at("a2").empty());
  ASSERT_EQ(out.at("a3").size(), 1u);  // the ARP reply
  EXPECT_EQ(eth_type(out.at("a3")[0]), 0x0806);
  EXPECT_EQ(eth_src(out.at("a3")[0]), mac(kGw1));
  expect_drops({{"a3", {{DropReason::kSgEgressDenied, 2}}}});
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"ssh", 1}}));
}

TEST_F(FilterTest, SgPortWithPortSecurityOffIsNotFiltered) {
  apply({security_group("none", {}), port_of(kA2, {"none"}, false)});
  const uint64_t created = conntrack_created();
  std::vector<Frame> in = {routed(kA1, kA2.ip, kTcp, tcp(1, 80, kSyn, 1, 0, {})),
                           switched(kA1, kA3, kUdp, udp(1, 2, {}))};
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  in = {routed(kA2, kA1.ip, kTcp, tcp(2, 80, kSyn, 1, 0, {}))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  expect_no_drops();
  EXPECT_EQ(conntrack_created(), created);
  EXPECT_TRUE(conns().empty());

  // Port security on: the same group now denies everything.
  apply({port_of(kA2, {"none"}, true)});
  in = {routed(kA1, kA2.ip, kTcp, tcp(3, 80, kSyn, 1, 0, {}))};
  out = run("a1", in);
  EXPECT_TRUE(out.at("a2").empty());
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, 1}}}});
  in = {routed(kA2, kA1.ip, kTcp, tcp(4, 80, kSyn, 1, 0, {}))};
  out = run("a2", in);
  EXPECT_TRUE(out.at("a1").empty());
  expect_drops({{"a2", {{DropReason::kSgEgressDenied, 1}}}});

  // Port security on without any group: not filtered either.
  apply({port_of(kA2, {}, true)});
  in = {routed(kA2, kA1.ip, kTcp, tcp(5, 80, kSyn, 1, 0, {}))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0}, kA1);
  expect_no_drops();
}

TEST_F(FilterTest, SgRuleChangeKeepsAllowedConnectionsAndCutsTheOthers) {
  apply({security_group("srv", {sg_rule("r22", kIngress, "tcp", 22, 22),
                                sg_rule("r80", kIngress, "tcp", 80, 80),
                                sg_rule("r443", kIngress, "tcp", 443, 443)}),
         port_of(kA2, {"srv"})});
  // Three connections a1 -> a2, fully established.
  const std::vector<uint16_t> ports = {22, 80, 443};
  std::vector<Frame> in;
  for (uint16_t p : ports)
    in.push_back(routed(kA1, kA2.ip, kTcp, tcp(40000 + p, p, kSyn, 1, 0, {})));
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1, 2}, kA2);
  in.clear();
  for (uint16_t p : ports)
    in.push_back(routed(kA2, kA1.ip, kTcp, tcp(p, 40000 + p, kSyn | kAck, 1, 2, {})));
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0, 1, 2}, kA1);
  in.clear();
  for (uint16_t p : ports)
    in.push_back(routed(kA1, kA2.ip, kTcp, tcp(40000 + p, p, kAck, 2, 2, {})));
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0, 1, 2}, kA2);
  expect_no_drops();
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"r22", 1}, {"r80", 1}, {"r443", 1}}));
  ASSERT_EQ(conns().size(), 3u);

  // Only 443 remains allowed.
  apply({security_group("srv", {sg_rule("r443", kIngress, "tcp", 443, 443)})});
  const uint64_t revoked = conntrack_revoked();
  // The client's next packet on 80 is cut, the one on 443 passes.
  in = {routed(kA1, kA2.ip, kTcp, tcp(40080, 80, kAck | kPsh, 2, 2, bytes(10, 1))),
        routed(kA1, kA2.ip, kTcp, tcp(40443, 443, kAck | kPsh, 2, 2, bytes(10, 1)))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {1}, kA2);
  expect_drops({{"a1", {{DropReason::kSgRevoked, 1}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 1);
  // The server's next packet on 22 is cut too (it is checked against the rules that admitted
  // the connection: the ingress rules); on 80 the connection is gone, so the server's packet is
  // a new outbound connection, which no egress rule admits; 443 passes.
  in = {routed(kA2, kA1.ip, kTcp, tcp(22, 40022, kAck | kPsh, 2, 2, bytes(10, 1))),
        routed(kA2, kA1.ip, kTcp, tcp(80, 40080, kAck | kPsh, 2, 2, bytes(10, 1))),
        routed(kA2, kA1.ip, kTcp, tcp(443, 40443, kAck | kPsh, 2, 2, bytes(10, 1)))};
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {2}, kA1);
  expect_drops({{"a2", {{DropReason::kSgRevoked, 1}, {DropReason::kSgEgressDenied, 1}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 2);
  const auto entries = conns();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].orig.dst_port, 443);
  EXPECT_EQ(entries[0].state, dp::ConnState::kTcpEstablished);

  // The changed group is a new policy: its counters restarted, and the surviving connection is
  // not a new admission.
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"r443", 0}}));
  in = {routed(kA1, kA2.ip, kTcp, tcp(40444, 443, kSyn, 1, 0, {}))};
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, {0}, kA2);
  EXPECT_EQ(sg_hits("srv"), (std::map<std::string, uint64_t>{{"r443", 1}}));
  EXPECT_EQ(conntrack_revoked(), revoked + 2);
}

TEST_F(FilterTest, ConntrackFullDropsNewConnectionsAndKeepsTheExistingOnes) {
  // Capacity 1 is the smallest table: 16 slots in two buckets, and every key may use both, so it
  // holds exactly 16 connections (the capacity sizes the table; it is not a limit by itself).
  build(1);
  ASSERT_EQ(dp_->conntrack().capacity(), 1u);
  ASSERT_EQ(dp_->conntrack().slot_count(), 16u);
  const uint32_t room = dp_->conntrack().slot_count();
  apply({security_group("c", {sg_rule("udp-out", kEgress, "udp")}), port_of(kA1, {"c"})});
  const uint64_t created = conntrack_created();
  constexpr uint16_t kFlows = 20;
  std::vector<Frame> in;
  for (uint16_t i = 0; i < kFlows; ++i) {
    in.push_back(routed(kA1, kA2.ip, kUdp, udp(static_cast<uint16_t>(1000 + i), 53, bytes(8, 1))));
  }
  std::vector<size_t> first(room);
  std::iota(first.begin(), first.end(), 0);
  auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, first, kA2);
  expect_drops({{"a1", {{DropReason::kConntrackFull, kFlows - room}}}});
  EXPECT_EQ(conntrack_created(), created + room);
  EXPECT_EQ(dp_->conntrack().count_live(dp_->conntrack_now_ms()), room);
  EXPECT_EQ(sg_hits("c"), (std::map<std::string, uint64_t>{{"udp-out", room}}));

  // Replies: those of tracked connections pass, the others are new inbound connections.
  in.clear();
  for (uint16_t i = 0; i < kFlows; ++i) {
    in.push_back(routed(kA2, kA1.ip, kUdp, udp(53, static_cast<uint16_t>(1000 + i), bytes(8, 2))));
  }
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, first, kA1);
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, kFlows - room}}}});

  // The existing connections keep working; the table is still full for new ones.
  in.clear();
  for (uint16_t i = 0; i < kFlows; ++i) {
    in.push_back(routed(kA1, kA2.ip, kUdp, udp(static_cast<uint16_t>(1000 + i), 53, bytes(8, 3))));
  }
  out = run("a1", in);
  expect_routed_set(out.at("a2"), in, first, kA2);
  expect_drops({{"a1", {{DropReason::kConntrackFull, kFlows - room}}}});
  EXPECT_EQ(conntrack_created(), created + room);
  for (const auto& v : conns()) EXPECT_EQ(v.state, dp::ConnState::kReplied);
}

// The router's own ICMP errors (time exceeded, unreachable) and its echo replies are built and
// sent by ip4-lookup, before the filter stage: no security group or ACL ever sees them, nor the
// packets that caused them. So they reach the VM whatever its ingress rules, and even when its
// egress rules would not have admitted the offending packet.
TEST_F(FilterTest, TheRoutersOwnIcmpMessagesBypassTheFilters) {
  apply({security_group("c", {sg_rule("udp-out", kEgress, "udp")}), port_of(kA1, {"c"}),
         network_acl("acl", {}, kDeny, kDeny), network("n1", 101, "acl")});
  const uint64_t created = conntrack_created();
  const std::vector<Frame> in = {
      routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(8, 1)), 0, 1),        // TTL 1: udp
      routed(kA1, kA2.ip, kTcp, tcp(4000, 5000, kSyn, 1, 0, {}), 0, 1),     // TTL 1: tcp
      routed(kA1, ip("192.0.2.1"), kUdp, udp(4000, 5000, bytes(8, 1))),     // no route
      routed(kA1, ip("10.0.1.1"), kIcmp, icmp_echo(8, 9, 1, bytes(8, 1))),  // the gateway
  };
  const auto out = run("a1", in);
  ASSERT_EQ(out.at("a1").size(), 4u);
  const std::array<std::pair<uint8_t, uint8_t>, 4> expect = {{{11, 0}, {11, 0}, {3, 0}, {0, 0}}};
  for (size_t i = 0; i < 4; ++i) {
    const Frame& e = out.at("a1")[i];
    EXPECT_EQ(eth_dst(e), kA1.mac);
    EXPECT_EQ(ip_dst(e), kA1.ip);
    EXPECT_EQ(ip_proto(e), kIcmp);
    EXPECT_EQ(e[34], expect[i].first) << i;
    EXPECT_EQ(e[35], expect[i].second) << i;
  }
  EXPECT_TRUE(out.at("a2").empty());
  expect_drops({{"a1", {{DropReason::kTtlExceeded, 2}, {DropReason::kNoRoute, 1}}}});
  EXPECT_EQ(conntrack_created(), created);
  EXPECT_EQ(acl_hits("acl", kEgress), (std::map<std::string, uint64_t>{{"default", 0}}));
}

// "Related": an ICMP error about an admitted connection passes without any ICMP rule. Sent here
// by the peer VM (see above for the router's own errors).
TEST_F(FilterTest, SgIcmpErrorAboutAnAdmittedFlowIsRelated) {
  apply({security_group("c", {sg_rule("udp-out", kEgress, "udp")}),
         security_group("s", {sg_rule("udp-in", kIngress, "udp", 5000, 5000)}), port_of(kA1, {"c"}),
         port_of(kA2, {"s"})});
  const uint64_t created = conntrack_created();
  const Frame flow = routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(16, 1)));
  auto out = run("a1", {flow});
  expect_routed_set(out.at("a2"), {flow}, {0}, kA2);
  EXPECT_EQ(conntrack_created(), created + 2);  // one entry in each VM's zone

  // The quote as a2 received the packet (TTL one less: the quote is not part of the key).
  Frame quoted = quote_of(out.at("a2")[0]);
  Frame other = quote_of(routed(kA1, kA2.ip, kUdp, udp(4000, 5001, bytes(16, 1))));
  Frame from_a4 = quote_of(routed(kA1, kA4.ip, kUdp, udp(4000, 5000, bytes(16, 1))));
  const std::vector<Frame> in = {
      routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, quoted)),                         // port unreachable
      routed(kA2, kA1.ip, kIcmp, icmp(11, 0, 0, quoted)),                        // time exceeded
      routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, other)),                          // another flow
      routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, from_a4)),                        // another flow
      routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, quote_of(out.at("a2")[0], 24))),  // short quote
      routed(kA2, kA1.ip, kIcmp, icmp(8, 0, 0x00050001, quoted)),                // not an error
  };
  out = run("a2", in);
  expect_routed_set(out.at("a1"), in, {0, 1}, kA1);
  expect_drops({{"a2", {{DropReason::kSgEgressDenied, 4}}}});
  EXPECT_EQ(conntrack_created(), created + 2);

  // a4 has no groups: its error about the flow is judged by a1's ingress only, and related.
  const std::vector<Frame> in4 = {routed(kA4, kA1.ip, kIcmp, icmp(3, 1, 0, quoted)),
                                  routed(kA4, kA1.ip, kIcmp, icmp(3, 1, 0, other))};
  out = run("a4", in4);
  expect_routed_set(out.at("a1"), in4, {0}, kA1);
  expect_drops({{"a4", {{DropReason::kSgIngressDenied, 1}}}});
  EXPECT_EQ(sg_hits("c"), (std::map<std::string, uint64_t>{{"udp-out", 1}}));
  EXPECT_EQ(sg_hits("s"), (std::map<std::string, uint64_t>{{"udp-in", 1}}));
}

// ---------------------------------------------------------------------------------------------
// The worker's verdict cache (dataplane/filter/flow_cache.h): bursts after a flow's first are
// judged from it. A run polls 32 frames per burst, so the tests send several bursts of a flow.
// ---------------------------------------------------------------------------------------------

// Later bursts of an allowed flow come out exactly as the full path would have let them; denied
// packets never enter the cache; the ACL rules count every packet, cached or not. The same
// traffic with the cache turned off gives the same result and no cache hits.
TEST_F(FilterTest, CachedVerdictsJudgeLikeTheFullPathAndCountEveryPacket) {
  for (const uint32_t entries : {16384u, 0u}) {
    SCOPED_TRACE("flow cache entries " + std::to_string(entries));
    build(262144, entries);
    apply({network_acl("out", {acl_rule(10, kEgress, kAllow, "udp")}, kDeny, kDeny),
           network_acl("in", {acl_rule(20, kIngress, kAllow, "udp")}, kDeny, kDeny),
           network("n1", 101, "out"), network("n2", 102, "in"),
           security_group("c", {sg_rule("any-out", kEgress, "any")}),
           security_group("s", {sg_rule("u5000", kIngress, "udp", 5000, 5000)}),
           port_of(kA1, {"c"}), port_of(kA2, {"s"})});
    std::vector<Frame> in;
    std::vector<size_t> pass;
    for (size_t i = 0; i < 160; ++i) {
      if (i % 5 == 4) {
        in.push_back(routed(kA1, kA2.ip, kUdp, udp(4000, 5001, bytes(8, 2))));  // a2 denies it
      } else {
        pass.push_back(in.size());
        in.push_back(routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(8, 1))));
      }
    }
    const uint64_t hits = cache_hits(), misses = cache_misses();
    const auto out = run("a1", in);
    expect_routed_set(out.at("a2"), in, pass, kA2);
    expect_drops({{"a1", {{DropReason::kSgIngressDenied, 32}}}});
    EXPECT_EQ(acl_hits("out", kEgress),
              (std::map<std::string, uint64_t>{{"10", 160}, {"default", 0}}));
    EXPECT_EQ(acl_hits("in", kIngress),
              (std::map<std::string, uint64_t>{{"20", 160}, {"default", 0}}));
    EXPECT_EQ(sg_hits("s"), (std::map<std::string, uint64_t>{{"u5000", 1}}));
    if (entries == 0) {
      EXPECT_EQ(cache_hits(), hits);
      EXPECT_EQ(cache_misses(), misses);
    } else {
      // The first burst fills the cache; the allowed packets of the four later ones hit it.
      EXPECT_EQ(cache_hits() - hits, 4u * 32 * 4 / 5);
      EXPECT_EQ(cache_misses() - misses, 160u - 4 * 32 * 4 / 5);
    }
  }
}

// A cached verdict belongs to the configuration that filled it: a rule change between two bursts
// applies to the very next packet.
TEST_F(FilterTest, ACachedVerdictDiesWithTheConfigurationThatFilledIt) {
  apply({network_acl("acl", {acl_rule(10, kEgress, kAllow, "udp")}, kDeny, kDeny),
         network("n1", 101, "acl"),
         security_group("s", {sg_rule("u5000", kIngress, "udp", 5000, 5000)}),
         port_of(kA2, {"s"})});
  std::vector<Frame> in;
  for (size_t i = 0; i < 96; ++i) {
    in.push_back(routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(8, 1))));
  }
  // After the second burst (the first one hit by the cache), the ACL stops allowing UDP.
  auto out = run("a1", in, [&](int burst) {
    if (burst == 1)
      apply({network_acl("acl", {acl_rule(10, kEgress, kAllow, "tcp")}, kDeny, kDeny)});
  });
  expect_routed_set(
      out.at("a2"), in,
      [] {
        std::vector<size_t> v(64);
        std::iota(v.begin(), v.end(), 0);
        return v;
      }(),
      kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 32}}}});

  // The same with the security group: its rule goes; the connection is revoked at the first
  // packet after the change, and the packets after that are new connections the rules deny.
  apply({network("n1", 101)});
  const uint64_t revoked = conntrack_revoked();
  out = run("a1", in, [&](int burst) {
    if (burst == 1) apply({security_group("s", {sg_rule("u5001", kIngress, "udp", 5001, 5001)})});
  });
  EXPECT_EQ(out.at("a2").size(), 64u);
  expect_drops({{"a1", {{DropReason::kSgRevoked, 1}, {DropReason::kSgIngressDenied, 31}}}});
  EXPECT_EQ(conntrack_revoked(), revoked + 1);
}

// A verdict stands for 100 ms: a flow's first burst after that takes the full path again (and
// refreshes its conntrack entries), the next one hits the cache again.
TEST_F(FilterTest, ACachedVerdictIsRevalidatedAfterItsInterval) {
  apply(
      {security_group("s", {sg_rule("u5000", kIngress, "udp", 5000, 5000)}), port_of(kA2, {"s"})});
  std::vector<Frame> in;
  for (size_t i = 0; i < 96; ++i) {
    in.push_back(routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(8, 1))));
  }
  std::vector<uint64_t> hits_after, misses_after;
  const auto out = run("a1", in, [&](int burst) {
    hits_after.push_back(cache_hits());
    misses_after.push_back(cache_misses());
    if (burst == 0) std::this_thread::sleep_for(std::chrono::milliseconds(150));
  });
  EXPECT_EQ(out.at("a2").size(), 96u);
  ASSERT_GE(hits_after.size(), 2u);
  // Burst 1 came 150 ms after burst 0 filled the cache: all of it was judged in full.
  EXPECT_EQ(hits_after[1] - hits_after[0], 0u);
  EXPECT_EQ(misses_after[1] - misses_after[0], 32u);
}

// TCP segments that change a connection's state (SYN, FIN, RST) always take the full path, even
// when the flow's verdict is cached: conntrack sees them.
TEST_F(FilterTest, TcpFinAndRstReachConntrackWhenTheFlowIsCached) {
  apply({security_group("s", {sg_rule("t80", kIngress, "tcp", 80, 80)}), port_of(kA2, {"s"})});
  for (const uint8_t last : {kRst, static_cast<uint8_t>(kFin | kAck)}) {
    SCOPED_TRACE(last == kRst ? "RST" : "FIN");
    const uint16_t sport = last == kRst ? 40001 : 40002;
    // The handshake, then 70 segments of data and the last one.
    ASSERT_EQ(
        run("a1", {routed(kA1, kA2.ip, kTcp, tcp(sport, 80, kSyn, 1, 0, {}))}).at("a2").size(), 1u);
    ASSERT_EQ(run("a2", {routed(kA2, kA1.ip, kTcp, tcp(80, sport, kSyn | kAck, 1, 2, {}))})
                  .at("a1")
                  .size(),
              1u);
    std::vector<Frame> in;
    for (uint32_t i = 0; i < 70; ++i) {
      in.push_back(routed(kA1, kA2.ip, kTcp, tcp(sport, 80, kAck | kPsh, 2 + i, 2, bytes(4, 1))));
    }
    in.push_back(routed(kA1, kA2.ip, kTcp, tcp(sport, 80, last, 72, 2, {})));
    const uint64_t hits = cache_hits();
    const auto out = run("a1", in);
    EXPECT_EQ(out.at("a2").size(), in.size());
    EXPECT_GT(cache_hits(), hits);  // the ACKs of the later bursts were cached
    bool found = false;
    for (const auto& c : conns()) {
      if (c.orig.src_port != sport) continue;
      found = true;
      EXPECT_EQ(c.state, last == kRst ? dp::ConnState::kTcpClose : dp::ConnState::kTcpFinWait);
    }
    EXPECT_TRUE(found);
  }
}

// An echo request and an echo reply with the same addresses and id 0x0800 have the same ports in
// their keys ((id, 0x0800) and (0x0800, id)): the cache tells them apart, so a reply is judged
// by the ACL's own rules even after requests of that "flow" were cached.
TEST_F(FilterTest, AnEchoReplyIsNotJudgedByACachedEchoRequest) {
  open_a1();
  v1::AclRule echo = acl_rule(10, kEgress, kAllow, "icmp");
  echo.set_icmp_type(8);
  apply({network_acl("acl", {echo}, kAllow, kDeny), network("n1", 101, "acl")});
  std::vector<Frame> in;
  for (size_t i = 0; i < 64; ++i) {
    in.push_back(
        routed(kA1, kA2.ip, kIcmp, icmp(8, 0, 0x08000000u | static_cast<uint32_t>(i), {})));
  }
  for (size_t i = 0; i < 8; ++i) {
    in.push_back(
        routed(kA1, kA2.ip, kIcmp, icmp(0, 0, 0x08000000u | static_cast<uint32_t>(i), {})));
  }
  const uint64_t hits = cache_hits();
  const auto out = run("a1", in);
  std::vector<size_t> pass(64);
  std::iota(pass.begin(), pass.end(), 0);
  expect_routed_set(out.at("a2"), in, pass, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, 8}}}});
  EXPECT_GT(cache_hits(), hits);  // the later requests were judged from the cache
}

// ICMP errors never use the cache: each is judged by the connection it quotes, which its own
// header (the cache key) does not show. An error about an unknown flow is denied even after
// many errors with the same outer header were let through as related.
TEST_F(FilterTest, IcmpErrorsAreNeverJudgedFromTheCache) {
  apply({security_group("c", {sg_rule("udp-out", kEgress, "udp")}), port_of(kA1, {"c"})});
  const Frame flow = routed(kA1, kA2.ip, kUdp, udp(4000, 5000, bytes(16, 1)));
  auto out = run("a1", {flow});
  ASSERT_EQ(out.at("a2").size(), 1u);
  const Frame quoted = quote_of(out.at("a2")[0]);
  const Frame other = quote_of(routed(kA1, kA2.ip, kUdp, udp(4000, 5001, bytes(16, 1))));
  std::vector<Frame> in;
  for (size_t i = 0; i < 64; ++i) in.push_back(routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, quoted)));
  for (size_t i = 0; i < 8; ++i) in.push_back(routed(kA2, kA1.ip, kIcmp, icmp(3, 3, 0, other)));
  const uint64_t hits = cache_hits();
  out = run("a2", in);
  std::vector<size_t> pass(64);
  std::iota(pass.begin(), pass.end(), 0);
  expect_routed_set(out.at("a1"), in, pass, kA1);
  expect_drops({{"a2", {{DropReason::kSgIngressDenied, 8}}}});
  EXPECT_EQ(cache_hits(), hits);
}

// ---------------------------------------------------------------------------------------------
// Scale (correctness only: the timing is printed, never asserted)
// ---------------------------------------------------------------------------------------------

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  uint32_t next() { return static_cast<uint32_t>(gen()); }
  uint32_t below(uint32_t n) { return next() % n; }
};

struct RefRule {
  uint32_t number = 0;  // ACL: the rule number; SG: the rule's position
  bool allow = true;
  int protocol = -1;  // -1: any
  uint32_t src = 0, dst = 0;
  uint8_t src_depth = 0, dst_depth = 0;
  uint16_t sp_min = 0, sp_max = 65535, dp_min = 0, dp_max = 65535;
  int icmp_type = -1, icmp_code = -1;
};

struct RefPacket {
  uint8_t proto = kUdp;
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;  // ICMP: sport = type << 8 | code
};

uint32_t mask_of(uint8_t depth) {
  return depth == 0 ? 0 : ~uint32_t{0} << (32 - depth);
}

bool matches(const RefRule& r, const RefPacket& p) {
  if (r.protocol >= 0 && r.protocol != p.proto) return false;
  if ((p.src & mask_of(r.src_depth)) != r.src) return false;
  if ((p.dst & mask_of(r.dst_depth)) != r.dst) return false;
  if (p.proto == kIcmp) {
    if (r.icmp_type >= 0 && (p.sport >> 8) != r.icmp_type) return false;
    if (r.icmp_code >= 0 && (p.sport & 0xff) != r.icmp_code) return false;
    return true;
  }
  if (p.sport < r.sp_min || p.sport > r.sp_max) return false;
  if (p.dport < r.dp_min || p.dport > r.dp_max) return false;
  return true;
}

std::string protocol_text(int p, Rng& rng) {
  switch (p) {
    case -1:
      return rng.below(2) ? "any" : "";
    case kTcp:
      return rng.below(2) ? "tcp" : "6";
    case kUdp:
      return rng.below(2) ? "udp" : "17";
    case kIcmp:
      return "icmp";
    default:
      return std::to_string(p);
  }
}

// A random prefix inside `base`/`base_depth` with a depth of base_depth..32 (or 0: any).
void random_prefix(Rng& rng, uint32_t base, uint8_t base_depth, uint32_t* addr, uint8_t* depth) {
  if (rng.below(8) == 0) {
    *addr = 0;
    *depth = 0;
    return;
  }
  const uint8_t d = static_cast<uint8_t>(base_depth + rng.below(33 - base_depth));
  *depth = d;
  *addr = ((base & mask_of(base_depth)) | (rng.next() & ~mask_of(base_depth))) & mask_of(d);
}

uint32_t random_in(Rng& rng, uint32_t addr, uint8_t depth) {
  return (addr & mask_of(depth)) | (rng.next() & ~mask_of(depth));
}

void random_ports(Rng& rng, uint16_t* lo, uint16_t* hi) {
  if (rng.below(2) == 0) {
    *lo = 0;
    *hi = 65535;
    return;
  }
  *lo = static_cast<uint16_t>(1 + rng.below(1000));
  *hi = static_cast<uint16_t>(*lo + rng.below(200));
}

// A packet that the rule matches, or a random one.
RefPacket random_packet(Rng& rng, const RefRule* r, uint32_t src_base, uint8_t src_bits,
                        uint32_t dst_base, uint8_t dst_bits) {
  static constexpr uint8_t kProtos[] = {kTcp, kUdp, kIcmp, kGre};
  RefPacket p;
  p.proto = kProtos[rng.below(4)];
  p.src = random_in(rng, src_base, src_bits);
  p.dst = random_in(rng, dst_base, dst_bits);
  p.sport = static_cast<uint16_t>(rng.below(1300));
  p.dport = static_cast<uint16_t>(rng.below(1300));
  if (r == nullptr) {
    if (p.proto == kIcmp) p.sport = static_cast<uint16_t>(rng.below(16) << 8 | rng.below(4));
    return p;
  }
  if (r->protocol >= 0) p.proto = static_cast<uint8_t>(r->protocol);
  if (r->src_depth > 0) p.src = random_in(rng, r->src, r->src_depth);
  if (r->dst_depth > 0) p.dst = random_in(rng, r->dst, r->dst_depth);
  if (p.proto == kIcmp) {
    const uint32_t type = r->icmp_type >= 0 ? static_cast<uint32_t>(r->icmp_type) : rng.below(16);
    const uint32_t code = r->icmp_code >= 0 ? static_cast<uint32_t>(r->icmp_code) : rng.below(4);
    p.sport = static_cast<uint16_t>(type << 8 | code);
  } else if (p.proto == kTcp || p.proto == kUdp) {
    p.sport = static_cast<uint16_t>(r->sp_min + rng.below(r->sp_max - r->sp_min + 1u));
    p.dport = static_cast<uint16_t>(r->dp_min + rng.below(r->dp_max - r->dp_min + 1u));
  }
  return p;
}

TEST_F(FilterTest, AclWithTenThousandRulesClassifiesLikeABruteForceReference) {
  open_a1();
  Rng rng(20240611);
  constexpr uint32_t kRules = 10000;
  constexpr size_t kPackets = 400;
  // Sources in 10.0.0.0/14, destinations in 172.16.0.0/14 (routed to a2 by the static route).
  const uint32_t src_base = ip("10.0.0.0"), dst_base = ip("172.16.0.0");
  constexpr uint8_t kBaseBits = 14;

  std::vector<uint32_t> numbers(32766);
  std::iota(numbers.begin(), numbers.end(), 1u);
  for (uint32_t i = 0; i < kRules; ++i) {
    std::swap(numbers[i], numbers[i + rng.below(static_cast<uint32_t>(numbers.size()) - i)]);
  }
  std::vector<RefRule> ref;
  v1::Object acl = network_acl("big", {}, kDeny, kAllow);
  for (uint32_t i = 0; i < kRules; ++i) {
    static constexpr int kProtos[] = {-1, kTcp, kUdp, kIcmp, kGre};
    RefRule r;
    r.number = numbers[i];
    r.allow = rng.below(2) == 0;
    r.protocol = kProtos[rng.below(5)];
    random_prefix(rng, src_base, kBaseBits, &r.src, &r.src_depth);
    random_prefix(rng, dst_base, kBaseBits, &r.dst, &r.dst_depth);
    if (r.src_depth == 0 && r.dst_depth == 0) {  // no rule matches every address
      r.dst_depth = kBaseBits;
      r.dst = dst_base;
    }
    v1::AclRule a =
        acl_rule(r.number, kEgress, r.allow ? kAllow : kDeny, protocol_text(r.protocol, rng));
    if (r.src_depth > 0) a.set_source_cidr(format_prefix(Ipv4Prefix{r.src, r.src_depth}));
    if (r.dst_depth > 0) a.set_destination_cidr(format_prefix(Ipv4Prefix{r.dst, r.dst_depth}));
    if (r.protocol == kTcp || r.protocol == kUdp) {
      random_ports(rng, &r.sp_min, &r.sp_max);
      random_ports(rng, &r.dp_min, &r.dp_max);
      if (r.sp_max != 65535 || r.sp_min != 0) {
        a.mutable_source_ports()->set_min(r.sp_min);
        a.mutable_source_ports()->set_max(r.sp_max);
      }
      if (r.dp_max != 65535 || r.dp_min != 0) {
        a.mutable_destination_ports()->set_min(r.dp_min);
        a.mutable_destination_ports()->set_max(r.dp_max);
      }
    } else if (r.protocol == kIcmp && rng.below(2) == 0) {
      r.icmp_type = static_cast<int>(rng.below(16));
      a.set_icmp_type(static_cast<uint32_t>(r.icmp_type));
      if (rng.below(2) == 0) {
        r.icmp_code = static_cast<int>(rng.below(4));
        a.set_icmp_code(static_cast<uint32_t>(r.icmp_code));
      }
    }
    *acl.mutable_network_acl()->add_rules() = a;
    ref.push_back(r);
  }
  const auto start = std::chrono::steady_clock::now();
  apply({acl, network("n1", 101, "big")});
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] upsert of a network ACL with %u rules: %.1f ms\n", kRules, ms);

  // The packets: two of three are made to match a random rule, the others are random.
  std::vector<Frame> in;
  std::vector<size_t> expect_pass;
  std::map<std::string, uint64_t> expect_hits;
  for (const RefRule& r : ref) expect_hits[std::to_string(r.number)] = 0;
  expect_hits["default"] = 0;
  size_t matched = 0, denied = 0;
  for (size_t i = 0; i < kPackets; ++i) {
    const RefRule* target = i % 3 == 0 ? nullptr : &ref[rng.below(kRules)];
    RefPacket p = random_packet(rng, target, src_base, kBaseBits, dst_base, kBaseBits);
    if (i % 9 == 0) {  // outside both address pools (still routed to a2): most likely no match
      p.src = random_in(rng, ip("192.168.0.0"), 16);
      p.dst = random_in(rng, ip("172.24.0.0"), 14);
    }
    const RefRule* winner = nullptr;
    for (const RefRule& r : ref) {
      if (matches(r, p) && (winner == nullptr || r.number < winner->number)) winner = &r;
    }
    const bool allow = winner != nullptr ? winner->allow : true;  // default egress: allow
    ++expect_hits[winner != nullptr ? std::to_string(winner->number) : "default"];
    matched += winner != nullptr;
    if (allow) {
      expect_pass.push_back(in.size());
    } else {
      ++denied;
    }
    in.push_back(routed(kA1, p.dst, p.proto, l4_for(p.proto, p.sport, p.dport), p.src));
  }
  // The sample is meaningful: most packets match some rule, and both actions occur.
  std::printf("[ info ] %zu packets: %zu matched a rule, %zu denied\n", kPackets, matched, denied);
  ASSERT_GT(matched, kPackets / 2);
  ASSERT_GT(expect_hits["default"], 10u);
  ASSERT_GT(denied, kPackets / 10);
  ASSERT_GT(expect_pass.size(), kPackets / 10);

  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, expect_pass, kA2);
  expect_drops({{"a1", {{DropReason::kAclEgressDenied, denied}}}});
  EXPECT_EQ(acl_hits("big", kEgress), expect_hits);
}

TEST_F(FilterTest, SecurityGroupWithAThousandRulesAdmitsLikeAReference) {
  open_a1();
  Rng rng(7);
  constexpr uint32_t kRules = 1000;
  constexpr size_t kPackets = 400;
  const uint32_t src_base = ip("10.64.0.0");
  constexpr uint8_t kBaseBits = 14;
  std::vector<RefRule> ref;
  std::vector<v1::SecurityGroupRule> rules;
  for (uint32_t i = 0; i < kRules; ++i) {
    static constexpr int kProtos[] = {-1, kTcp, kUdp, kIcmp, kGre};
    RefRule r;
    r.number = i;
    r.protocol = kProtos[rng.below(5)];
    // Narrow remotes (/20 to /32 of the /14 the sources come from): with any remote, a handful
    // of "any protocol" rules would admit everything.
    r.src_depth = static_cast<uint8_t>(20 + rng.below(13));
    r.src = random_in(rng, src_base, kBaseBits) & mask_of(r.src_depth);
    v1::SecurityGroupRule s =
        sg_rule("r" + std::to_string(i), kIngress, protocol_text(r.protocol, rng));
    if (r.src_depth > 0) s.set_remote_ip_prefix(format_prefix(Ipv4Prefix{r.src, r.src_depth}));
    if (r.protocol == kTcp || r.protocol == kUdp) {
      random_ports(rng, &r.dp_min, &r.dp_max);
      if (r.dp_max != 65535 || r.dp_min != 0) {
        s.mutable_ports()->set_min(r.dp_min);
        s.mutable_ports()->set_max(r.dp_max);
      }
    } else if (r.protocol == kIcmp && rng.below(2) == 0) {
      r.icmp_type = static_cast<int>(rng.below(16));
      s.set_icmp_type(static_cast<uint32_t>(r.icmp_type));
      if (rng.below(2) == 0) {
        r.icmp_code = static_cast<int>(rng.below(4));
        s.set_icmp_code(static_cast<uint32_t>(r.icmp_code));
      }
    }
    rules.push_back(s);
    ref.push_back(r);
  }
  const auto start = std::chrono::steady_clock::now();
  apply({security_group("big", rules), port_of(kA2, {"big"})});
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] upsert of a security group with %u rules: %.1f ms\n", kRules, ms);

  // Every packet is a new connection: a source address of its own (ICMP messages other than echo
  // are keyed by their addresses and type only).
  std::set<uint32_t> sources;
  std::vector<Frame> in;
  std::vector<size_t> expect_pass;
  std::map<std::string, uint64_t> expect_hits;
  for (const auto& s : rules) expect_hits[s.id()] = 0;
  for (size_t i = 0; i < kPackets; ++i) {
    const RefRule* target = i % 3 == 0 ? nullptr : &ref[rng.below(kRules)];
    RefPacket p;
    for (int attempt = 0;; ++attempt) {
      // (A /32 remote gives one source only: after a few tries, a random packet instead.)
      p = random_packet(rng, attempt < 4 ? target : nullptr, src_base, kBaseBits, kA2.ip, 32);
      if (sources.insert(p.src).second) break;
    }
    p.dst = kA2.ip;
    // The group's rules see the destination port only; the reference ignores the source port.
    const RefRule* first = nullptr;
    for (const RefRule& r : ref) {
      RefRule any_sport = r;
      any_sport.sp_min = 0;
      any_sport.sp_max = 65535;
      if (matches(any_sport, p)) {
        first = &r;
        break;
      }
    }
    if (first != nullptr) {
      expect_pass.push_back(in.size());
      ++expect_hits["r" + std::to_string(first->number)];
    }
    in.push_back(routed(kA1, p.dst, p.proto, l4_for(p.proto, p.sport, p.dport), p.src));
  }
  std::printf("[ info ] %zu packets: %zu admitted\n", kPackets, expect_pass.size());
  ASSERT_GT(expect_pass.size(), kPackets / 4);
  ASSERT_LT(expect_pass.size(), kPackets - kPackets / 10);

  const uint64_t created = conntrack_created();
  const auto out = run("a1", in);
  expect_routed_set(out.at("a2"), in, expect_pass, kA2);
  expect_drops({{"a1", {{DropReason::kSgIngressDenied, kPackets - expect_pass.size()}}}});
  EXPECT_EQ(conntrack_created(), created + expect_pass.size());
  EXPECT_EQ(sg_hits("big"), expect_hits);
}

}  // namespace
}  // namespace dvr
