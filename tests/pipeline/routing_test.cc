// East-west routing through the real pipeline: the tenant model is configured through the same
// TenantApi the control socket uses, crafted frames enter through pcap ports bound to VM ports,
// and the tests check every byte that matters in what comes out, and every drop reason.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

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

// Tenant A: router ra joins 10.0.1.0/24 (net a1) and 10.0.2.0/24 (net a2).
// Tenant B: router rb joins the SAME CIDRs on its own networks b1, b2.
const Mac6 kGwA1 = mac("02:0a:00:00:01:01");
const Mac6 kGwA2 = mac("02:0a:00:00:02:01");
const Mac6 kGwB1 = mac("02:0b:00:00:01:01");
const Mac6 kGwB2 = mac("02:0b:00:00:02:01");
const Mac6 kVmA1 = mac("02:aa:00:00:00:01");  // 10.0.1.10 on a1, dataplane port "a1"
const Mac6 kVmA2 = mac("02:aa:00:00:00:02");  // 10.0.2.20 on a2, port "a2"
const Mac6 kVmA3 = mac("02:aa:00:00:00:03");  // 10.0.1.30 on a1, port "a3"
const Mac6 kVmB2 = mac("02:bb:00:00:00:02");  // 10.0.2.20 on b2, port "b2"
const Mac6 kVmB1 = mac("02:bb:00:00:00:01");  // 10.0.1.10 on b1, port "b1"

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvr_routing_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    dp::DataplaneOptions o;
    o.mbufs = 8191;
    o.rx_desc = 128;
    o.tx_desc = 128;
    dp_ = std::make_unique<dp::Dataplane>(o);
    api_ = std::make_unique<TenantApi>(*dp_);
    apply({router("ra"), network("a1", 101), network("a2", 102), subnet("sa1", "a1", "10.0.1.0/24"),
           subnet("sa2", "a2", "10.0.2.0/24"), interface("ia1", "ra", "sa1", "02:0a:00:00:01:01"),
           interface("ia2", "ra", "sa2", "02:0a:00:00:02:01"),
           vm_port("pa1", "a1", "02:aa:00:00:00:01", "10.0.1.10", "a1"),
           vm_port("pa2", "a2", "02:aa:00:00:00:02", "10.0.2.20", "a2"),
           vm_port("pa3", "a1", "02:aa:00:00:00:03", "10.0.1.30", "a3"), router("rb"),
           network("b1", 201), network("b2", 202), subnet("sb1", "b1", "10.0.1.0/24"),
           subnet("sb2", "b2", "10.0.2.0/24"), interface("ib1", "rb", "sb1", "02:0b:00:00:01:01"),
           interface("ib2", "rb", "sb2", "02:0b:00:00:02:01"),
           vm_port("pb1", "b1", "02:bb:00:00:00:01", "10.0.1.10", "b1"),
           vm_port("pb2", "b2", "02:bb:00:00:00:02", "10.0.2.20", "b2")});
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

  // Sends `frames` into dataplane port `in` and returns what every port transmitted.
  std::map<std::string, std::vector<Frame>> run(const std::string& in,
                                                const std::vector<Frame>& frames) {
    PcapPorts ports(*dp_, *api_, dir_, {"a1", "a2", "a3", "b1", "b2"});
    auto out = ports.run(in, frames);
    last_stats_ = ports.last_stats();
    return out;
  }

  uint64_t drops(const std::string& port, DropReason r) const {
    return port_drops(last_stats_, port, r);
  }

  uint64_t routed(const std::string& router) const {
    v1::Stats st;
    api_->fill_router_stats(st);
    for (const auto& r : st.routers()) {
      if (r.router_id() == router) return r.routed_packets();
    }
    return 0;
  }

  static Frame udp_from_a1(uint32_t dst, uint8_t ttl = 64, size_t len = 100) {
    Ipv4Fields f;
    f.src = ip("10.0.1.10");
    f.dst = dst;
    f.ttl = ttl;
    return ethernet(kGwA1, kVmA1, 0x0800, ipv4(f, udp(4000, 5000, bytes(len, 3))));
  }

  std::string dir_;
  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  std::vector<dp::PortStatsSnapshot> last_stats_;
};

TEST_F(RoutingTest, EastWestRoutingRewritesMacsAndTtlAndKeepsThePayload) {
  const Frame in = udp_from_a1(ip("10.0.2.20"));
  const auto out = run("a1", {in});
  ASSERT_EQ(out.at("a2").size(), 1u);
  const Frame& f = out.at("a2")[0];
  EXPECT_EQ(eth_dst(f), kVmA2);
  EXPECT_EQ(eth_src(f), kGwA2);
  EXPECT_EQ(ip_ttl(f), 63);
  EXPECT_TRUE(ip_checksum_ok(f));
  EXPECT_EQ(ip_src(f), ip("10.0.1.10"));
  EXPECT_EQ(ip_dst(f), ip("10.0.2.20"));
  ASSERT_EQ(f.size(), in.size());
  // Only TTL (byte 22) and the checksum (24, 25) changed in the IP packet.
  for (size_t i = 14; i < f.size(); ++i) {
    if (i == 22 || i == 24 || i == 25) continue;
    ASSERT_EQ(f[i], in[i]) << "byte " << i;
  }
  // Tenant B's VM with the same address got nothing: every router is its own VRF.
  EXPECT_TRUE(out.at("b2").empty());
  EXPECT_EQ(routed("ra"), 1u);
  EXPECT_EQ(routed("rb"), 0u);
}

TEST_F(RoutingTest, IncrementalChecksumMatchesAFullRecomputeForEveryTtlAndId) {
  // Half of the frames are chosen so that their checksum is >= 0xff00: adding 0x0100 then
  // carries out of 16 bits, the case an incremental update most easily gets wrong.
  std::vector<Frame> in;
  for (unsigned id = 0; id < 65536; ++id) {
    Ipv4Fields f;
    f.src = ip("10.0.1.10");
    f.dst = ip("10.0.2.20");
    f.ttl = static_cast<uint8_t>(2 + id % 254);
    f.id = static_cast<uint16_t>(id);
    const Frame frame = ethernet(kGwA1, kVmA1, 0x0800, ipv4(f, udp(1, 2, bytes(id % 50, 1))));
    const bool carries = (frame[24] == 0xff);
    if (carries || id % 257 == 0) in.push_back(frame);
  }
  ASSERT_GT(std::count_if(in.begin(), in.end(), [](const Frame& f) { return f[24] == 0xff; }), 100);
  const auto out = run("a1", in);
  ASSERT_EQ(out.at("a2").size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_TRUE(ip_checksum_ok(out.at("a2")[i])) << i;
    EXPECT_EQ(ip_ttl(out.at("a2")[i]), ip_ttl(in[i]) - 1);
  }
}

TEST_F(RoutingTest, TenantsWithTheSameCidrsStayApart) {
  Ipv4Fields f;
  f.src = ip("10.0.1.10");
  f.dst = ip("10.0.2.20");
  const Frame from_b = ethernet(kGwB1, kVmB1, 0x0800, ipv4(f, udp(1, 2, bytes(30, 9))));
  const auto out = run("b1", {from_b});
  ASSERT_EQ(out.at("b2").size(), 1u);
  EXPECT_EQ(eth_dst(out.at("b2")[0]), kVmB2);
  EXPECT_EQ(eth_src(out.at("b2")[0]), kGwB2);
  EXPECT_TRUE(out.at("a2").empty());
  // A frame from tenant B to tenant A's gateway MAC: B's port is not on A's network.
  const Frame cross = ethernet(kGwA1, kVmB1, 0x0800, ipv4(f, udp(1, 2, bytes(30, 9))));
  const auto out2 = run("b1", {cross});
  EXPECT_TRUE(out2.at("a2").empty());
  EXPECT_TRUE(out2.at("b2").empty());
  EXPECT_EQ(drops("b1", DropReason::kUnknownUnicast), 1u);
}

TEST_F(RoutingTest, ArpForGatewayAndNeighborsIsAnsweredAndNeverFlooded) {
  const Mac6 zero{};
  const auto out = run(
      "a1", {
                ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0806,
                         arp(1, kVmA1, ip("10.0.1.10"), zero, ip("10.0.1.1"))),  // gateway
                ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0806,
                         arp(1, kVmA1, ip("10.0.1.10"), zero,
                             ip("10.0.1.30"))),  // neighbor (suppression)
                ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0806,
                         arp(1, kVmA1, ip("10.0.1.10"), zero, ip("10.0.1.99"))),  // nobody
                ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0806,
                         arp(2, kVmA1, ip("10.0.1.10"), zero, ip("10.0.1.1"))),  // a reply
                ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0806,
                         arp(1, kVmA1, ip("10.0.1.10"), zero, ip("10.0.2.20"))),  // other subnet
            });
  ASSERT_EQ(out.at("a1").size(), 2u);
  const Frame& gw = out.at("a1")[0];
  EXPECT_EQ(eth_dst(gw), kVmA1);
  EXPECT_EQ(eth_src(gw), kGwA1);
  EXPECT_EQ(eth_type(gw), 0x0806);
  EXPECT_EQ(gw[20], 0);
  EXPECT_EQ(gw[21], 2);                                                       // reply
  EXPECT_EQ(Mac6({gw[22], gw[23], gw[24], gw[25], gw[26], gw[27]}), kGwA1);   // sha
  EXPECT_EQ(Frame(gw.begin() + 28, gw.begin() + 32), Frame({10, 0, 1, 1}));   // spa
  EXPECT_EQ(Mac6({gw[32], gw[33], gw[34], gw[35], gw[36], gw[37]}), kVmA1);   // tha
  EXPECT_EQ(Frame(gw.begin() + 38, gw.begin() + 42), Frame({10, 0, 1, 10}));  // tpa
  const Frame& nb = out.at("a1")[1];
  EXPECT_EQ(Mac6({nb[22], nb[23], nb[24], nb[25], nb[26], nb[27]}), kVmA3);
  EXPECT_TRUE(out.at("a3").empty());  // suppressed, not flooded
  EXPECT_EQ(drops("a1", DropReason::kArpUnknownTarget), 2u);
  EXPECT_EQ(drops("a1", DropReason::kArpNotRequest), 1u);
  EXPECT_EQ(dp_->worker_stats()[0].arp_replies, 2u);
}

TEST_F(RoutingTest, L2WithinANetworkIsDeliveredUnchangedAndFloodsOnlyInsideTheNetwork) {
  Ipv4Fields f;
  f.src = ip("10.0.1.10");
  f.dst = ip("10.0.1.30");
  const Frame to_a3 = ethernet(kVmA3, kVmA1, 0x0800, ipv4(f, udp(1, 2, bytes(64, 5))));
  const Frame unknown = ethernet(mac("02:99:99:99:99:99"), kVmA1, 0x0800, ipv4(f, udp(1, 2, {})));
  const Frame bcast = ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmA1, 0x0800, ipv4(f, udp(1, 2, {})));
  const auto out = run("a1", {to_a3, unknown, bcast});
  // Network a1's only other local port gets the unicast frame and a copy of each flooded one,
  // all unchanged; no other network (a2, tenant B) sees anything, and the sender gets nothing
  // back.
  std::vector<Frame> got = out.at("a3");
  std::vector<Frame> want = {to_a3, unknown, bcast};
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (const char* other : {"a1", "a2", "b1", "b2"}) EXPECT_TRUE(out.at(other).empty()) << other;
  EXPECT_EQ(drops("a1", DropReason::kUnknownUnicast), 0u);
  EXPECT_EQ(drops("a1", DropReason::kBroadcastNotFlooded), 0u);
  // With a single port on the network there is nowhere to flood to: dropped, named.
  const Frame b_bcast = ethernet(mac("ff:ff:ff:ff:ff:ff"), kVmB1, 0x0800, ipv4(f, udp(1, 2, {})));
  const auto out2 = run("b1", {b_bcast});
  for (const auto& [port, frames] : out2) EXPECT_TRUE(frames.empty()) << port;
  EXPECT_EQ(drops("b1", DropReason::kBroadcastNotFlooded), 1u);
}

TEST_F(RoutingTest, GatewayAnswersPingOnAnyOfItsAddresses) {
  const Frame data = bytes(56, 7);
  auto ping = [&](const std::string& dst) {
    Ipv4Fields f;
    f.src = ip("10.0.1.10");
    f.dst = ip(dst);
    f.proto = 1;
    return ethernet(kGwA1, kVmA1, 0x0800, ipv4(f, icmp_echo(8, 77, 5, data)));
  };
  const auto out = run("a1", {ping("10.0.1.1"), ping("10.0.2.1")});
  ASSERT_EQ(out.at("a1").size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Frame& r = out.at("a1")[i];
    EXPECT_EQ(eth_dst(r), kVmA1);
    EXPECT_EQ(eth_src(r), kGwA1);
    EXPECT_EQ(ip_dst(r), ip("10.0.1.10"));
    EXPECT_EQ(ip_src(r), i == 0 ? ip("10.0.1.1") : ip("10.0.2.1"));
    EXPECT_TRUE(ip_checksum_ok(r));
    EXPECT_EQ(r[34], 0);                                                   // echo reply
    EXPECT_EQ(ones_complement_sum(r.data() + 34, r.size() - 34), 0xffff);  // ICMP checksum
    EXPECT_EQ(Frame(r.begin() + 42, r.end()), data);                       // payload echoed
  }
  EXPECT_EQ(dp_->worker_stats()[0].echo_replies, 2u);
}

TEST_F(RoutingTest, IcmpErrorsForTtlNoRouteAndUnknownHost) {
  const Frame ttl1 = udp_from_a1(ip("10.0.2.20"), 1);
  const Frame no_route = udp_from_a1(ip("192.0.2.1"));
  const Frame no_host = udp_from_a1(ip("10.0.2.99"));
  const auto out = run("a1", {ttl1, no_route, no_host});
  ASSERT_EQ(out.at("a1").size(), 3u);
  const std::array<std::pair<uint8_t, uint8_t>, 3> expect = {{{11, 0}, {3, 0}, {3, 1}}};
  const std::array<const Frame*, 3> orig = {&ttl1, &no_route, &no_host};
  for (size_t i = 0; i < 3; ++i) {
    const Frame& e = out.at("a1")[i];
    EXPECT_EQ(eth_dst(e), kVmA1);
    EXPECT_EQ(eth_src(e), kGwA1);
    EXPECT_EQ(ip_proto(e), 1);
    EXPECT_EQ(ip_src(e), ip("10.0.1.1"));
    EXPECT_EQ(ip_dst(e), ip("10.0.1.10"));
    EXPECT_TRUE(ip_checksum_ok(e));
    EXPECT_EQ(e[34], expect[i].first);
    EXPECT_EQ(e[35], expect[i].second);
    EXPECT_EQ(ones_complement_sum(e.data() + 34, e.size() - 34), 0xffff);
    // The quoted original: its IP header and first 8 bytes, byte for byte.
    ASSERT_EQ(e.size(), 14u + 20 + 8 + 28);
    EXPECT_EQ(Frame(e.begin() + 42, e.end()),
              Frame(orig[i]->begin() + 14, orig[i]->begin() + 14 + 28));
  }
  EXPECT_EQ(drops("a1", DropReason::kTtlExceeded), 1u);
  EXPECT_EQ(drops("a1", DropReason::kNoRoute), 1u);
  EXPECT_EQ(drops("a1", DropReason::kHostUnreachable), 1u);
  EXPECT_EQ(dp_->worker_stats()[0].icmp_errors_sent, 3u);
}

TEST_F(RoutingTest, MalformedPacketsAreDroppedWithTheirReason) {
  auto make = [&](auto tweak) {
    Ipv4Fields f;
    f.src = ip("10.0.1.10");
    f.dst = ip("10.0.2.20");
    tweak(f);
    return ethernet(kGwA1, kVmA1, 0x0800, ipv4(f, udp(1, 2, bytes(20, 1))));
  };
  std::vector<Frame> in = {
      make([](Ipv4Fields& f) { f.bad_checksum = true; }),
      make([](Ipv4Fields& f) { f.ihl = 6; }),
      make([](Ipv4Fields& f) { f.frag = 0x2000; }),             // MF
      make([](Ipv4Fields& f) { f.frag = 0x0010; }),             // offset
      make([](Ipv4Fields& f) { f.total_length_delta = 100; }),  // longer than the frame
      make([](Ipv4Fields& f) { f.total_length_delta = -40; }),  // shorter than a header
      make([](Ipv4Fields& f) { f.version = 6; }),
      make([](Ipv4Fields& f) { f.ihl = 4; }),
  };
  Frame truncated = make([](Ipv4Fields&) {});
  truncated.resize(14 + 12);
  in.push_back(truncated);
  in.push_back(ethernet(kGwA1, kVmA1, 0x86dd, bytes(60, 1)));  // IPv6 to the gateway
  const auto out = run("a1", in);
  EXPECT_TRUE(out.at("a2").empty());
  EXPECT_TRUE(out.at("a1").empty());
  EXPECT_EQ(drops("a1", DropReason::kIpBadChecksum), 1u);
  EXPECT_EQ(drops("a1", DropReason::kIpOptions), 1u);
  EXPECT_EQ(drops("a1", DropReason::kIpFragment), 2u);
  EXPECT_EQ(drops("a1", DropReason::kIpBadLength), 2u);
  EXPECT_EQ(drops("a1", DropReason::kIpHeaderMalformed), 3u);
  EXPECT_EQ(drops("a1", DropReason::kNotIpv4), 1u);
}

TEST_F(RoutingTest, PortSecurityBlocksSpoofingAndHonoursAllowedPairs) {
  auto from = [&](const Mac6& src_mac, const std::string& src_ip) {
    Ipv4Fields f;
    f.src = ip(src_ip);
    f.dst = ip("10.0.2.20");
    return ethernet(kGwA1, src_mac, 0x0800, ipv4(f, udp(1, 2, bytes(10, 1))));
  };
  const Mac6 other = mac("02:cc:00:00:00:09");
  auto out =
      run("a1", {from(kVmA1, "10.0.1.66"), from(other, "10.0.1.10"), from(kVmA1, "10.0.1.10")});
  EXPECT_EQ(out.at("a2").size(), 1u);
  EXPECT_EQ(drops("a1", DropReason::kSpoofedSourceIp), 1u);
  EXPECT_EQ(drops("a1", DropReason::kSpoofedSourceMac), 1u);

  // An allowed pair (a VIP with its own MAC) and then port security off.
  v1::Object p = vm_port("pa1", "a1", "02:aa:00:00:00:01", "10.0.1.10", "a1");
  auto* pair = p.mutable_vm_port()->add_allowed_address_pairs();
  pair->set_ip_prefix("10.0.1.200/32");
  pair->set_mac("02:cc:00:00:00:09");
  apply({p}, true);
  out = run("a1", {from(other, "10.0.1.200"), from(kVmA1, "10.0.1.200")});
  EXPECT_EQ(out.at("a2").size(), 1u);
  EXPECT_EQ(drops("a1", DropReason::kSpoofedSourceIp), 1u);  // the VIP with the port's MAC

  p.mutable_vm_port()->set_port_security_enabled(false);
  apply({p}, true);
  out = run("a1", {from(other, "10.0.1.66")});
  EXPECT_EQ(out.at("a2").size(), 1u);
}

TEST_F(RoutingTest, StaticRoutesResolveTheirNextHopThroughTheNeighborTable) {
  apply({static_route("sr1", "ra", "172.16.0.0/16", "10.0.2.20"),
         static_route("sr2", "ra", "198.51.100.0/24", "10.0.2.77")});  // unresolved gateway
  const auto out = run("a1", {udp_from_a1(ip("172.16.5.5")), udp_from_a1(ip("198.51.100.1"))});
  ASSERT_EQ(out.at("a2").size(), 1u);
  EXPECT_EQ(eth_dst(out.at("a2")[0]), kVmA2);
  EXPECT_EQ(eth_src(out.at("a2")[0]), kGwA2);
  EXPECT_EQ(ip_dst(out.at("a2")[0]), ip("172.16.5.5"));
  EXPECT_EQ(drops("a1", DropReason::kHostUnreachable), 1u);

  v1::RouteTableRequest req;
  req.set_router_id("ra");
  const v1::Response r = api_->route_table(req);
  ASSERT_EQ(r.status(), v1::STATUS_OK);
  bool found = false;
  for (const auto& e : r.route_table().routes()) {
    if (e.prefix() == "172.16.0.0/16") {
      found = true;
      EXPECT_EQ(e.origin(), "static");
      EXPECT_EQ(e.nexthop(), "10.0.2.20");
      EXPECT_EQ(e.nexthop_mac(), "02:aa:00:00:00:02");
      EXPECT_EQ(e.egress_subnet_id(), "sa2");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(RoutingTest, AdminDownRouterStopsForwardingAndCountsIt) {
  v1::Object r = router("ra");
  r.mutable_router()->set_admin_state_up(false);
  apply({r}, true);
  const auto out = run("a1", {udp_from_a1(ip("10.0.2.20")), udp_from_a1(ip("10.0.2.20"))});
  EXPECT_TRUE(out.at("a2").empty());
  EXPECT_EQ(drops("a1", DropReason::kRouterAdminDown), 2u);
  v1::Stats st;
  api_->fill_router_stats(st);
  for (const auto& rs : st.routers()) {
    if (rs.router_id() != "ra") continue;
    ASSERT_EQ(rs.drop_reasons_size(), 1);
    EXPECT_EQ(rs.drop_reasons(0).reason(), "router_admin_down");
    EXPECT_EQ(rs.drop_reasons(0).packets(), 2u);
  }
}

}  // namespace
}  // namespace dvr

namespace dvr {
namespace {

// The live-update promise: while two workers route a continuous stream, unrelated
// configuration (routers, networks, subnets, interfaces, VM ports, dataplane ports) comes and
// goes, and not one packet of the stream is lost or misrouted.
TEST_F(RoutingTest, RoutingNeverStopsWhileUnrelatedConfigurationChurns) {
  ASSERT_EQ(dp_->worker_count(), 2u);
  std::vector<Frame> stream;
  for (unsigned i = 0; i < 64; ++i) stream.push_back(udp_from_a1(ip("10.0.2.20"), 64, 18 + i));
  write_pcap(dir_ + "/stream.pcap", stream);
  dp_->add_port(dp::PortSpec{
      "a1", dp::PortType::kPcap, {{"rx_pcap", dir_ + "/stream.pcap"}, {"infinite_rx", "1"}}, {}});
  dp_->add_port(dp::PortSpec{"a2", dp::PortType::kNull, {{"no-rx", "1"}}, {}});
  api_->ports_changed();
  dp_->start_workers();

  const auto port = [&](const std::string& name) {
    for (const auto& s : dp_->port_stats()) {
      if (s.name == name) return s;
    }
    return dp::PortStatsSnapshot{};
  };
  const uint64_t gen_before = dp_->config_generation();
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i);
    apply({router("churn" + n), network("cn" + n, 1000 + static_cast<uint32_t>(i)),
           subnet("cs" + n, "cn" + n, "10.0.1.0/24"),
           interface("ci" + n, "churn" + n, "cs" + n, "02:0c:00:00:00:01"),
           vm_port("cp" + n, "cn" + n, "02:cc:00:00:00:01", "10.0.1.10", "")});
    dp_->add_port(dp::PortSpec{"x" + n, dp::PortType::kNull, {{"no-rx", "1"}}, {}});
    api_->ports_changed();
    v1::DeleteRequest del;
    del.set_kind(v1::OBJECT_KIND_ROUTER);
    del.set_id("churn" + n);
    del.set_cascade(true);
    ASSERT_EQ(api_->remove(del).status(), v1::STATUS_OK);
    del.set_kind(v1::OBJECT_KIND_NETWORK);
    del.set_id("cn" + n);
    ASSERT_EQ(api_->remove(del).status(), v1::STATUS_OK);
    api_->ports_changed("x" + n);
    dp_->remove_port("x" + n);
  }
  dp_->stop_workers();

  EXPECT_GT(dp_->config_generation(), gen_before + 40 * 4);
  const auto in = port("a1");
  const auto out = port("a2");
  EXPECT_GT(in.rx_packets, 0u);
  EXPECT_EQ(out.tx_packets, in.rx_packets);
  EXPECT_EQ(std::accumulate(in.drops.begin(), in.drops.end(), uint64_t{0}), 0u);
  EXPECT_EQ(std::accumulate(out.drops.begin(), out.drops.end(), uint64_t{0}), 0u);
  EXPECT_EQ(routed("ra"), in.rx_packets);
  api_->ports_changed("a1");
  dp_->remove_port("a1");
  api_->ports_changed("a2");
  dp_->remove_port("a2");
}

}  // namespace
}  // namespace dvr
