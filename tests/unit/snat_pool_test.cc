// The default-SNAT session table (dataplane/nat/snat_pool.h): port allocation, the return
// direction, TCP/UDP/ICMP ageing by state, sweeping, reclaiming and concurrent use by several
// workers. No EAL: the pool is plain memory and atomics.
#include "nat/snat_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace dvr::dp {
namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uint32_t kSnatIp = 0xCB007107;  // 203.0.113.7
constexpr uint32_t kVm1 = 0x0A000005, kVm2 = 0x0A000006;

using Result = SnatPool::Result;

// Short, all different timeouts (seconds), so that each state's is recognisable.
ConnTimeouts Short() {
  ConnTimeouts t;
  t.tcp_syn_sent = 5;
  t.tcp_syn_recv = 6;
  t.tcp_established = 100;
  t.tcp_fin_wait = 7;
  t.tcp_time_wait = 8;
  t.tcp_close = 2;
  t.udp_new = 3;
  t.udp_replied = 9;
  t.icmp = 4;
  return t;
}

struct Session {
  NatProto proto;
  uint32_t inside_ip;
  uint16_t inside_port;
  uint16_t outside_port;
  std::string state;
  uint32_t idle_ms;
  uint32_t expires_in_ms;
};

std::vector<Session> Sessions(const SnatPool& pool, uint32_t now_ms) {
  std::vector<Session> out;
  pool.for_each(now_ms, [&](const SnatSessionView& v) {
    out.push_back(
        {v.proto, v.inside_ip, v.inside_port, v.outside_port, v.state, v.idle_ms, v.expires_in_ms});
    return true;
  });
  return out;
}

// The one session of the pool (fails the test if there is not exactly one).
Session Only(const SnatPool& pool, uint32_t now_ms) {
  const auto all = Sessions(pool, now_ms);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? Session{} : all.front();
}

uint64_t Live(const SnatPool& pool, uint32_t now_ms, NatProto p) {
  uint64_t live[kNatProtoCount];
  pool.count_live(now_ms, live);
  return live[static_cast<size_t>(p)];
}

// --- Basics ----------------------------------------------------------------------------------

TEST(SnatPool, ProtocolNames) {
  EXPECT_STREQ(nat_proto_name(NatProto::kTcp), "tcp");
  EXPECT_STREQ(nat_proto_name(NatProto::kUdp), "udp");
  EXPECT_STREQ(nat_proto_name(NatProto::kIcmp), "icmp");
  NatProto p = NatProto::kCount;
  EXPECT_TRUE(nat_proto_of(6, p));
  EXPECT_EQ(p, NatProto::kTcp);
  EXPECT_TRUE(nat_proto_of(17, p));
  EXPECT_EQ(p, NatProto::kUdp);
  EXPECT_TRUE(nat_proto_of(1, p));
  EXPECT_EQ(p, NatProto::kIcmp);
  for (uint8_t other : {0, 2, 4, 41, 47, 50, 58, 132, 255}) {
    p = NatProto::kCount;
    EXPECT_FALSE(nat_proto_of(other, p)) << int{other};
    EXPECT_EQ(p, NatProto::kCount) << int{other};
  }
}

TEST(SnatPool, RangeIsValidated) {
  EXPECT_THROW(SnatPool(kSnatIp, 0, 100, ConnTimeouts{}), std::invalid_argument);
  EXPECT_THROW(SnatPool(kSnatIp, 2000, 1999, ConnTimeouts{}), std::invalid_argument);
  SnatPool one(kSnatIp, 65535, 65535, ConnTimeouts{});
  EXPECT_EQ(one.slot_count(), 3u);
  SnatPool all(kSnatIp, 1, 65535, ConnTimeouts{});
  EXPECT_EQ(all.slot_count(), 3u * 65535);
  EXPECT_EQ(all.snat_ip(), kSnatIp);
  EXPECT_EQ(all.port_min(), 1);
  EXPECT_EQ(all.port_max(), 65535);
  EXPECT_EQ(all.exhausted(), 0u);
  EXPECT_EQ(all.expired(), 0u);
}

TEST(SnatPool, OutboundCreatesThenFinds) {
  SnatPool pool(kSnatIp, 20000, 20999, Short());
  std::map<std::pair<uint32_t, uint16_t>, uint16_t> port_of;
  std::set<uint16_t> used;
  for (uint32_t i = 0; i < 300; ++i) {
    const uint32_t ip = kVm1 + i % 7;
    const uint16_t port = static_cast<uint16_t>(30000 + i);
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(NatProto::kUdp, ip, port, 0, 1000, out), Result::kCreated) << i;
    EXPECT_GE(out, 20000);
    EXPECT_LE(out, 20999);
    EXPECT_TRUE(used.insert(out).second) << "port " << out << " given twice";
    port_of[{ip, port}] = out;
  }
  for (const auto& [ep, out] : port_of) {
    uint16_t again = 0;
    EXPECT_EQ(pool.outbound(NatProto::kUdp, ep.first, ep.second, 0, 2000, again), Result::kFound);
    EXPECT_EQ(again, out);
    uint16_t found = 0;
    EXPECT_TRUE(pool.find_outbound(NatProto::kUdp, ep.first, ep.second, found));
    EXPECT_EQ(found, out);
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(pool.inbound(NatProto::kUdp, out, 0, 2000, false, ip, port));
    EXPECT_EQ(ip, ep.first);
    EXPECT_EQ(port, ep.second);
    // Another protocol's table knows nothing of it.
    EXPECT_FALSE(pool.find_outbound(NatProto::kTcp, ep.first, ep.second, found));
  }
  EXPECT_EQ(Live(pool, 2000, NatProto::kUdp), 300u);
  EXPECT_EQ(Live(pool, 2000, NatProto::kTcp), 0u);
  EXPECT_EQ(pool.exhausted(), 0u);
}

TEST(SnatPool, InboundOutsideTheRangeOrUnusedIsUnknown) {
  SnatPool pool(kSnatIp, 5000, 5009, Short());
  uint32_t ip = 1;
  uint16_t port = 1;
  for (uint16_t p : {uint16_t{0}, uint16_t{4999}, uint16_t{5000}, uint16_t{5009}, uint16_t{5010},
                     uint16_t{65535}}) {
    EXPECT_FALSE(pool.inbound(NatProto::kTcp, p, kSyn | kAck, 0, true, ip, port)) << p;
  }
  EXPECT_EQ(ip, 1u);
  EXPECT_EQ(port, 1);
  // The lookup of a refreshed unknown port created nothing.
  EXPECT_EQ(Live(pool, 0, NatProto::kTcp), 0u);
  EXPECT_TRUE(Sessions(pool, 0).empty());
}

TEST(SnatPool, FindOutboundDoesNotCreate) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  uint16_t out = 7;
  EXPECT_FALSE(pool.find_outbound(NatProto::kTcp, kVm1, 40000, out));
  EXPECT_FALSE(pool.find_outbound(NatProto::kUdp, kVm1, 40000, out));
  EXPECT_FALSE(pool.find_outbound(NatProto::kIcmp, kVm1, 40000, out));
  EXPECT_EQ(out, 7);
  EXPECT_TRUE(Sessions(pool, 0).empty());
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 0, out), Result::kCreated);
  uint16_t found = 0;
  EXPECT_TRUE(pool.find_outbound(NatProto::kTcp, kVm1, 40000, found));
  EXPECT_EQ(found, out);
  // Not for another port or address of the VM.
  EXPECT_FALSE(pool.find_outbound(NatProto::kTcp, kVm1, 40001, found));
  EXPECT_FALSE(pool.find_outbound(NatProto::kTcp, kVm2, 40000, found));
  // And it does not refresh: the session still ages from its creation.
  EXPECT_TRUE(pool.find_outbound(NatProto::kTcp, kVm1, 40000, found));
  EXPECT_EQ(Only(pool, 4000).idle_ms, 4000u);
}

// One outside port per protocol: TCP 5000, UDP 5000 and ICMP id 5000 are three sessions.
TEST(SnatPool, ProtocolsHaveIndependentPorts) {
  SnatPool pool(kSnatIp, 5000, 5000, Short());
  uint16_t tcp = 0, udp = 0, icmp = 0;
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 1111, kSyn, 0, tcp), Result::kCreated);
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm2, 2222, 0, 0, udp), Result::kCreated);
  ASSERT_EQ(pool.outbound(NatProto::kIcmp, kVm1 + 7, 3333, 0, 0, icmp), Result::kCreated);
  EXPECT_EQ(tcp, 5000);
  EXPECT_EQ(udp, 5000);
  EXPECT_EQ(icmp, 5000);
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 5000, kSyn | kAck, 1, true, ip, port));
  EXPECT_EQ(ip, kVm1);
  EXPECT_EQ(port, 1111);
  ASSERT_TRUE(pool.inbound(NatProto::kUdp, 5000, 0, 1, true, ip, port));
  EXPECT_EQ(ip, kVm2);
  EXPECT_EQ(port, 2222);
  ASSERT_TRUE(pool.inbound(NatProto::kIcmp, 5000, 0, 1, true, ip, port));
  EXPECT_EQ(ip, kVm1 + 7);
  EXPECT_EQ(port, 3333);
  // The UDP reply did not touch the TCP session's state.
  for (const Session& s : Sessions(pool, 1)) {
    EXPECT_EQ(s.state, s.proto == NatProto::kTcp ? "syn_recv" : "replied");
  }
  // The same VM endpoint in another protocol is another session (and here: no port left).
  uint16_t out = 0;
  EXPECT_EQ(pool.outbound(NatProto::kUdp, kVm1, 1111, 0, 2, out), Result::kExhausted);
  EXPECT_EQ(pool.exhausted(), 1u);
  uint64_t live[kNatProtoCount];
  pool.count_live(2, live);
  EXPECT_EQ(live[0], 1u);
  EXPECT_EQ(live[1], 1u);
  EXPECT_EQ(live[2], 1u);
}

TEST(SnatPool, ExhaustionIsCounted) {
  SnatPool pool(kSnatIp, 40000, 40003, Short());
  std::set<uint16_t> ports;
  std::vector<std::pair<uint32_t, uint16_t>> owners;
  uint64_t refused = 0;
  uint16_t next = 1000;
  while (ports.size() < 4 && next < 2000) {
    uint16_t out = 0;
    const Result r = pool.outbound(NatProto::kUdp, kVm1, next, 0, 0, out);
    if (r == Result::kExhausted) {
      ++refused;  // all 16 candidates of this endpoint happened to be taken
    } else {
      ASSERT_EQ(r, Result::kCreated);
      EXPECT_TRUE(ports.insert(out).second);
      owners.push_back({kVm1, next});
    }
    ++next;
  }
  ASSERT_EQ(ports.size(), 4u);
  EXPECT_EQ(*ports.begin(), 40000);
  EXPECT_EQ(*ports.rbegin(), 40003);
  EXPECT_EQ(pool.exhausted(), refused);
  // Full: every new endpoint is refused and counted, each once.
  for (uint16_t i = 0; i < 20; ++i) {
    uint16_t out = 0;
    EXPECT_EQ(pool.outbound(NatProto::kUdp, kVm2, static_cast<uint16_t>(50000 + i), 0, 1, out),
              Result::kExhausted);
  }
  EXPECT_EQ(pool.exhausted(), refused + 20);
  // Existing sessions go on, uncounted; another protocol still has all its ports.
  for (const auto& [ip, port] : owners) {
    uint16_t out = 0;
    EXPECT_EQ(pool.outbound(NatProto::kUdp, ip, port, 0, 2, out), Result::kFound);
  }
  uint16_t out = 0;
  EXPECT_EQ(pool.outbound(NatProto::kTcp, kVm2, 50000, kSyn, 2, out), Result::kCreated);
  EXPECT_EQ(pool.exhausted(), refused + 20);
  EXPECT_EQ(Live(pool, 2, NatProto::kUdp), 4u);
}

// --- States and ageing -----------------------------------------------------------------------

// Drives one TCP session (VM 10.0.0.5:40000) through `outbound`/`inbound` flag sequences at
// time `t`, returning its outside port.
struct TcpSession {
  SnatPool& pool;
  uint16_t port = 0;
  void Out(uint8_t flags, uint32_t t) {
    uint16_t p = 0;
    ASSERT_NE(pool.outbound(NatProto::kTcp, kVm1, 40000, flags, t, p), Result::kExhausted);
    if (port != 0) {
      ASSERT_EQ(p, port);
    }
    port = p;
  }
  void In(uint8_t flags, uint32_t t) {
    uint32_t ip = 0;
    uint16_t p = 0;
    ASSERT_TRUE(pool.inbound(NatProto::kTcp, port, flags, t, true, ip, p));
    ASSERT_EQ(ip, kVm1);
    ASSERT_EQ(p, 40000);
  }
};

// The session exists until `timeout_s` seconds of idleness have passed (inclusive), then the
// sweep frees it.
void ExpectAgesOutAfter(SnatPool& pool, uint32_t last_ms, uint32_t timeout_s,
                        const std::string& state) {
  const uint32_t limit = last_ms + timeout_s * 1000;
  const Session at_limit = Only(pool, limit);
  EXPECT_EQ(at_limit.state, state);
  EXPECT_EQ(at_limit.idle_ms, timeout_s * 1000) << state;
  EXPECT_EQ(Only(pool, limit - 1000).expires_in_ms, 1000u) << state;
  EXPECT_EQ(Live(pool, limit, at_limit.proto), 1u) << state;
  EXPECT_EQ(Live(pool, limit + 1, at_limit.proto), 0u) << state;
  EXPECT_EQ(Only(pool, limit + 1).expires_in_ms, 0u) << state;
  const uint64_t expired_before = pool.expired();
  EXPECT_EQ(pool.sweep(limit, pool.slot_count()), 0u) << state;
  EXPECT_EQ(pool.sweep(limit + 1, pool.slot_count()), 1u) << state;
  EXPECT_EQ(pool.expired(), expired_before + 1) << state;
  EXPECT_TRUE(Sessions(pool, limit + 1).empty()) << state;
  uint32_t ip = 0;
  uint16_t port = 0;
  EXPECT_FALSE(pool.inbound(at_limit.proto, at_limit.outside_port, 0, limit + 2, true, ip, port))
      << state;
}

TEST(SnatPoolAgeing, TcpSynSent) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  EXPECT_EQ(Only(pool, 1000).state, "syn_sent");
  ExpectAgesOutAfter(pool, 1000, 5, "syn_sent");
}

TEST(SnatPoolAgeing, TcpSynRecv) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  s.In(kSyn | kAck, 1500);
  ExpectAgesOutAfter(pool, 1500, 6, "syn_recv");
}

TEST(SnatPoolAgeing, TcpEstablished) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  s.In(kSyn | kAck, 1100);
  s.Out(kAck, 1200);
  s.Out(kAck, 2000);  // data
  s.In(kAck, 2500);
  ExpectAgesOutAfter(pool, 2500, 100, "established");
}

TEST(SnatPoolAgeing, TcpFinWaitEitherSide) {
  for (bool vm_closes : {true, false}) {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kSyn, 1000);
    s.In(kSyn | kAck, 1100);
    s.Out(kAck, 1200);
    if (vm_closes) {
      s.Out(kFin | kAck, 3000);
    } else {
      s.In(kFin | kAck, 3000);
    }
    ExpectAgesOutAfter(pool, 3000, 7, "fin_wait");
  }
}

TEST(SnatPoolAgeing, TcpTimeWait) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  s.In(kSyn | kAck, 1100);
  s.Out(kAck, 1200);
  s.Out(kFin | kAck, 3000);
  s.In(kFin | kAck, 3100);
  s.Out(kAck, 3200);
  ExpectAgesOutAfter(pool, 3200, 8, "time_wait");
}

TEST(SnatPoolAgeing, TcpRstEitherSide) {
  for (bool vm_resets : {true, false}) {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kSyn, 1000);
    s.In(kSyn | kAck, 1100);
    s.Out(kAck, 1200);
    if (vm_resets) {
      s.Out(kRst, 4000);
    } else {
      s.In(kRst | kAck, 4000);
    }
    ExpectAgesOutAfter(pool, 4000, 2, "close");
  }
}

// A session created by a packet other than a SYN: the connection predates the session.
TEST(SnatPoolAgeing, TcpMidStreamStartsEstablishedAndRstStartsClosed) {
  {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kAck, 1000);
    ExpectAgesOutAfter(pool, 1000, 100, "established");
  }
  {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kRst | kAck, 1000);
    ExpectAgesOutAfter(pool, 1000, 2, "close");
  }
  {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kSyn | kAck, 1000);
    EXPECT_EQ(Only(pool, 1000).state, "established");
  }
}

// An ACK from the VM before any reply does not make a connection established.
TEST(SnatPoolAgeing, TcpAckWithoutReplyStaysSynSent) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  s.Out(kAck, 1100);
  EXPECT_EQ(Only(pool, 1100).state, "syn_sent");
  s.Out(kSyn, 1200);  // a retransmitted SYN
  ExpectAgesOutAfter(pool, 1200, 5, "syn_sent");
}

TEST(SnatPoolAgeing, UdpNewAndReplied) {
  {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0xFF, 1000, out), Result::kCreated);
    EXPECT_EQ(Only(pool, 1000).state, "new");  // TCP flags mean nothing to UDP
    ExpectAgesOutAfter(pool, 1000, 3, "new");
  }
  {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0, 1000, out), Result::kCreated);
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(pool.inbound(NatProto::kUdp, out, kRst | kFin, 1500, true, ip, port));
    ExpectAgesOutAfter(pool, 1500, 9, "replied");
  }
}

TEST(SnatPoolAgeing, IcmpOneTimeout) {
  for (bool replied : {false, true}) {
    SnatPool pool(kSnatIp, 1, 65535, Short());
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(NatProto::kIcmp, kVm1, 0x1234, 0, 1000, out), Result::kCreated);
    uint32_t last = 1000;
    if (replied) {
      uint32_t ip = 0;
      uint16_t id = 0;
      ASSERT_TRUE(pool.inbound(NatProto::kIcmp, out, 0, 1700, true, ip, id));
      EXPECT_EQ(id, 0x1234);
      last = 1700;
    }
    ExpectAgesOutAfter(pool, last, 4, replied ? "replied" : "new");
  }
}

// An ICMP error about a session (refresh=false) neither stamps it nor changes its state.
TEST(SnatPoolAgeing, InboundWithoutRefreshLeavesTheSessionAlone) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, s.port, kRst, 4000, false, ip, port));
  EXPECT_EQ(ip, kVm1);
  EXPECT_EQ(port, 40000);
  const Session v = Only(pool, 5000);
  EXPECT_EQ(v.state, "syn_sent");
  EXPECT_EQ(v.idle_ms, 4000u);
  EXPECT_EQ(v.expires_in_ms, 1000u);
}

// The clock is a wrapping 32-bit millisecond counter.
TEST(SnatPoolAgeing, WrappingClock) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  const uint32_t t0 = UINT32_MAX - 1000;
  uint16_t out = 0;
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0, t0, out), Result::kCreated);
  const uint32_t later = t0 + 2500;  // wrapped past 0
  ASSERT_LT(later, t0);
  const Session v = Only(pool, later);
  EXPECT_EQ(v.idle_ms, 2500u);
  EXPECT_EQ(v.expires_in_ms, 500u);
  EXPECT_EQ(Live(pool, later, NatProto::kUdp), 1u);
  EXPECT_EQ(pool.sweep(later, pool.slot_count()), 0u);
  // Refreshed after the wrap: ages from there.
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(pool.inbound(NatProto::kUdp, out, 0, later, true, ip, port));
  EXPECT_EQ(pool.sweep(later + 9000, pool.slot_count()), 0u);
  EXPECT_EQ(pool.sweep(later + 9001, pool.slot_count()), 1u);

  // Created just before the wrap, expiring just after it.
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, UINT32_MAX, out), Result::kCreated);
  EXPECT_EQ(pool.sweep(4999, pool.slot_count()), 0u);  // idle 5000 ms: not yet
  EXPECT_EQ(Live(pool, 4999, NatProto::kTcp), 1u);
  EXPECT_EQ(pool.sweep(5000, pool.slot_count()), 1u);
}

// Until swept, an expired session still translates replies; a new endpoint may take its port.
TEST(SnatPoolAgeing, ExpiredSlotIsReclaimedByANewEndpoint) {
  SnatPool pool(kSnatIp, 6000, 6000, Short());
  uint16_t out = 0;
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 0, out), Result::kCreated);
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 6000, kSyn | kAck, 100, true, ip, port));
  ASSERT_NE(pool.outbound(NatProto::kTcp, kVm1, 40000, kAck | kFin, 200, out), Result::kExhausted);
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 6000, kFin | kAck, 300, true, ip, port));
  EXPECT_EQ(Only(pool, 300).state, "time_wait");
  // Live: another endpoint is refused.
  EXPECT_EQ(pool.outbound(NatProto::kTcp, kVm2, 41000, kSyn, 8300, out), Result::kExhausted);
  EXPECT_EQ(pool.exhausted(), 1u);
  // Expired (time_wait 8 s), not swept: still answers for the old endpoint.
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 6000, kAck, 8301, false, ip, port));
  EXPECT_EQ(ip, kVm1);
  EXPECT_EQ(port, 40000);
  // A new endpoint takes it over, with a fresh state and clock.
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm2, 41000, kSyn, 8301, out), Result::kCreated);
  EXPECT_EQ(out, 6000);
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 6000, 0, 8301, false, ip, port));
  EXPECT_EQ(ip, kVm2);
  EXPECT_EQ(port, 41000);
  const Session v = Only(pool, 8301);
  EXPECT_EQ(v.state, "syn_sent");
  EXPECT_EQ(v.idle_ms, 0u);
  EXPECT_EQ(v.inside_ip, kVm2);
  uint16_t found = 0;
  EXPECT_FALSE(pool.find_outbound(NatProto::kTcp, kVm1, 40000, found));
  // The old endpoint is now the one refused; the sweep has nothing to free.
  EXPECT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 8302, out), Result::kExhausted);
  EXPECT_EQ(pool.exhausted(), 2u);
  EXPECT_EQ(pool.sweep(8302, pool.slot_count()), 0u);
  EXPECT_EQ(pool.expired(), 0u);
}

// Workers and the control thread read their millisecond clocks at different instants (a
// worker once per burst, the sweep once per tick), so a session may carry a stamp a little
// newer than the `now_ms` it is judged with. That is an idle time of 0 (as ConnTable's age_of
// takes it), not of ~49 days: the session is live.
TEST(SnatPoolAgeing, ClockSkewBetweenWorkersSweepKeepsAFreshSession) {
  SnatPool pool(kSnatIp, 6000, 6000, Short());
  uint16_t out = 0;
  // Worker A stamps the session at 1000; the sweep read its clock at 999.
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0, 1000, out), Result::kCreated);
  EXPECT_EQ(Live(pool, 999, NatProto::kUdp), 1u);
  EXPECT_EQ(pool.sweep(999, pool.slot_count()), 0u);
  EXPECT_EQ(pool.expired(), 0u);
  uint32_t ip = 0;
  uint16_t port = 0;
  EXPECT_TRUE(pool.inbound(NatProto::kUdp, 6000, 0, 1001, true, ip, port));
}

TEST(SnatPoolAgeing, ClockSkewBetweenWorkersNoReclaimOfALiveSession) {
  SnatPool pool(kSnatIp, 6000, 6000, Short());
  uint16_t out = 0;
  // Worker A creates the session at 1000; worker B, whose burst clock says 999, sees a new
  // endpoint: the only port is live, B must be refused rather than take it over.
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 1000, out), Result::kCreated);
  EXPECT_EQ(pool.outbound(NatProto::kTcp, kVm2, 41000, kSyn, 999, out), Result::kExhausted);
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(pool.inbound(NatProto::kTcp, 6000, 0, 1000, false, ip, port));
  EXPECT_EQ(ip, kVm1);
  EXPECT_EQ(port, 40000);
}

TEST(SnatPoolAgeing, ClockSkewBetweenWorkersDumpShowsZeroIdle) {
  SnatPool pool(kSnatIp, 6000, 6000, Short());
  uint16_t out = 0;
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0, 1000, out), Result::kCreated);
  const Session v = Only(pool, 999);
  EXPECT_EQ(v.idle_ms, 0u);
  EXPECT_EQ(v.expires_in_ms, 3000u);
}

// A SYN on a closed (RST) or time_wait session: the port is being reused, start over.
TEST(SnatPoolAgeing, FreshSynRestartsAClosedSession) {
  for (bool by_rst : {true, false}) {
    SnatPool pool(kSnatIp, 1024, 65535, Short());
    TcpSession s{pool};
    s.Out(kSyn, 1000);
    s.In(kSyn | kAck, 1100);
    s.Out(kAck, 1200);
    if (by_rst) {
      s.In(kRst, 1300);
      EXPECT_EQ(Only(pool, 1300).state, "close");
    } else {
      s.Out(kFin | kAck, 1300);
      s.In(kFin | kAck, 1300);
      EXPECT_EQ(Only(pool, 1300).state, "time_wait");
    }
    const uint16_t port = s.port;
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 2000, out), Result::kFound);
    EXPECT_EQ(out, port);
    EXPECT_EQ(Only(pool, 2000).state, "syn_sent");
    // It goes through the handshake again.
    s.In(kSyn | kAck, 2100);
    EXPECT_EQ(Only(pool, 2100).state, "syn_recv");
    s.Out(kAck, 2200);
    EXPECT_EQ(Only(pool, 2200).state, "established");
  }
}

TEST(SnatPoolAgeing, OnlyAFreshSynRestarts) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  TcpSession s{pool};
  s.Out(kSyn, 1000);
  s.In(kSyn | kAck, 1100);
  s.Out(kAck, 1200);
  s.Out(kFin | kAck, 1300);
  // One FIN only: a SYN does not restart a closing connection.
  s.Out(kSyn, 1400);
  EXPECT_EQ(Only(pool, 1400).state, "fin_wait");
  s.In(kRst, 1500);
  // SYN+ACK is not a fresh SYN.
  s.Out(kSyn | kAck, 1600);
  EXPECT_EQ(Only(pool, 1600).state, "close");
}

TEST(SnatPool, ForEachAndCountLive) {
  SnatPool pool(kSnatIp, 1024, 65535, Short());
  uint16_t out = 0;
  ASSERT_EQ(pool.outbound(NatProto::kTcp, kVm1, 40000, kSyn, 0, out), Result::kCreated);
  const uint16_t tcp_port = out;
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm1, 53000, 0, 0, out), Result::kCreated);
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm2, 53000, 0, 0, out), Result::kCreated);
  ASSERT_EQ(pool.outbound(NatProto::kIcmp, kVm2, 7, 0, 0, out), Result::kCreated);
  const auto all = Sessions(pool, 1000);
  ASSERT_EQ(all.size(), 4u);
  std::multiset<std::tuple<int, uint32_t, uint16_t, std::string>> seen;
  for (const Session& v : all) {
    seen.insert({static_cast<int>(v.proto), v.inside_ip, v.inside_port, v.state});
    EXPECT_EQ(v.idle_ms, 1000u);
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(pool.inbound(v.proto, v.outside_port, 0, 1000, false, ip, port));
    EXPECT_EQ(ip, v.inside_ip);
    EXPECT_EQ(port, v.inside_port);
  }
  const std::multiset<std::tuple<int, uint32_t, uint16_t, std::string>> want = {
      {0, kVm1, 40000, "syn_sent"},
      {1, kVm1, 53000, "new"},
      {1, kVm2, 53000, "new"},
      {2, kVm2, 7, "new"}};
  EXPECT_EQ(seen, want);
  uint64_t live[kNatProtoCount];
  pool.count_live(1000, live);
  EXPECT_EQ(live[0], 1u);
  EXPECT_EQ(live[1], 2u);
  EXPECT_EQ(live[2], 1u);
  // After 3 s the UDP sessions (udp_new) have expired, after 4 s the ICMP one, after 5 s the TCP
  // one; for_each still lists them (expires in 0) until swept.
  pool.count_live(3001, live);
  EXPECT_EQ(live[0], 1u);
  EXPECT_EQ(live[1], 0u);
  EXPECT_EQ(live[2], 1u);
  pool.count_live(5001, live);
  EXPECT_EQ(live[0] + live[1] + live[2], 0u);
  for (const Session& v : Sessions(pool, 5001)) EXPECT_EQ(v.expires_in_ms, 0u);
  EXPECT_EQ(Sessions(pool, 5001).size(), 4u);
  // The callback stops the walk.
  int calls = 0;
  pool.for_each(1000, [&](const SnatSessionView&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  // Sweep at 3001 frees the two UDP sessions only.
  EXPECT_EQ(pool.sweep(3001, pool.slot_count()), 2u);
  EXPECT_EQ(pool.expired(), 2u);
  EXPECT_TRUE(pool.find_outbound(NatProto::kTcp, kVm1, 40000, out));
  EXPECT_EQ(out, tcp_port);
  EXPECT_FALSE(pool.find_outbound(NatProto::kUdp, kVm1, 53000, out));
}

// The sweep visits at most max_slots slots per call and goes on where it stopped.
TEST(SnatPool, SweepIsIncremental) {
  SnatPool pool(kSnatIp, 7000, 7009, Short());  // 30 slots
  ASSERT_EQ(pool.slot_count(), 30u);
  for (uint16_t i = 0; i < 6; ++i) {
    uint16_t out = 0;
    ASSERT_EQ(pool.outbound(i % 2 == 0 ? NatProto::kUdp : NatProto::kIcmp, kVm1,
                            static_cast<uint16_t>(100 + i), 0, 0, out),
              Result::kCreated);
  }
  uint32_t freed = 0;
  for (int call = 0; call < 30; ++call) {
    const uint32_t n = pool.sweep(60000, 1);
    EXPECT_LE(n, 1u);
    freed += n;
  }
  EXPECT_EQ(freed, 6u);
  EXPECT_EQ(pool.expired(), 6u);
  EXPECT_TRUE(Sessions(pool, 60000).empty());
  // max_slots larger than the table: one pass, no double counting.
  uint16_t out = 0;
  ASSERT_EQ(pool.outbound(NatProto::kUdp, kVm2, 1, 0, 0, out), Result::kCreated);
  EXPECT_EQ(pool.sweep(60000, 1000), 1u);
  EXPECT_EQ(pool.sweep(60000, 1000), 0u);
  EXPECT_EQ(pool.expired(), 7u);
}

// --- Concurrency -----------------------------------------------------------------------------

struct Grant {
  NatProto proto;
  uint32_t ip;
  uint16_t port;
  uint16_t outside;
};

// Several workers ask for ports of overlapping endpoint sets at once. Nothing expires, so a port
// once given never changes owner: every port a worker was given must map back (inbound) to the
// endpoint it was given for, at once and at the end, and no port may have been given to two
// endpoints.
void Hammer(uint16_t port_min, uint16_t port_max, uint32_t endpoints, int threads, int rounds,
            bool with_sweeper) {
  // Workers stamp sessions at kNow; the checks look at kLater, well within every default
  // timeout. (One clock for all workers: a worker whose clock lags another's is
  // ClockSkewBetweenWorkers* below.)
  constexpr uint32_t kNow = 1000, kLater = 5000;
  SnatPool pool(kSnatIp, port_min, port_max, ConnTimeouts{});
  std::vector<std::vector<Grant>> grants(threads);
  std::vector<uint64_t> refused(threads, 0);
  std::vector<uint64_t> wrong(threads, 0);
  std::atomic<bool> go{false};
  std::atomic<int> running{threads};
  std::atomic<uint64_t> swept{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      const uint32_t stride = 1 + 2 * static_cast<uint32_t>(t);  // odd: visits every endpoint
      for (int r = 0; r < rounds; ++r) {
        for (uint32_t k = 0; k < endpoints; ++k) {
          const uint32_t e = (k * stride + static_cast<uint32_t>(t) * 17) % endpoints;
          const NatProto p = static_cast<NatProto>(e % 3);
          const uint32_t ip = kVm1 + e % 13;
          const uint16_t port = static_cast<uint16_t>(10000 + e);
          uint16_t out = 0;
          const Result res = pool.outbound(p, ip, port, kSyn, kNow, out);
          if (res == Result::kExhausted) {
            ++refused[t];
            continue;
          }
          if (out < port_min || out > port_max) ++wrong[t];
          uint32_t back_ip = 0;
          uint16_t back_port = 0;
          if (!pool.inbound(p, out, kAck, kNow, false, back_ip, back_port) || back_ip != ip ||
              back_port != port) {
            ++wrong[t];
          }
          grants[t].push_back({p, ip, port, out});
        }
      }
      running.fetch_sub(1);
    });
  }
  std::thread sweeper;
  if (with_sweeper) {
    sweeper = std::thread([&] {
      while (!go.load()) std::this_thread::yield();
      // Nothing is expired at this time: the sweep must free nothing, while racing.
      while (running.load() > 0) swept += pool.sweep(kLater, 4096);
    });
  }
  go = true;
  for (auto& w : workers) w.join();
  if (sweeper.joinable()) sweeper.join();

  EXPECT_EQ(swept.load(), 0u);
  uint64_t total_refused = 0;
  std::map<std::pair<int, uint16_t>, std::pair<uint32_t, uint16_t>> owner;  // (proto, port)
  uint64_t conflicts = 0;
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(wrong[t], 0u) << "thread " << t;
    total_refused += refused[t];
    for (const Grant& g : grants[t]) {
      auto [it, fresh] =
          owner.emplace(std::pair{static_cast<int>(g.proto), g.outside}, std::pair{g.ip, g.port});
      if (!fresh && it->second != std::pair{g.ip, g.port}) ++conflicts;
    }
  }
  EXPECT_EQ(conflicts, 0u);
  EXPECT_EQ(pool.exhausted(), total_refused);
  // Every port handed out still belongs to its endpoint, and the table holds exactly those.
  for (const auto& [key, ep] : owner) {
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(
        pool.inbound(static_cast<NatProto>(key.first), key.second, 0, 1000, false, ip, port));
    EXPECT_EQ(ip, ep.first);
    EXPECT_EQ(port, ep.second);
  }
  uint64_t live[kNatProtoCount];
  pool.count_live(kLater, live);
  EXPECT_EQ(live[0] + live[1] + live[2], owner.size());
  // Each endpoint that got a port finds one of its own.
  std::set<std::tuple<int, uint32_t, uint16_t>> endpoints_seen;
  for (const auto& [key, ep] : owner) endpoints_seen.insert({key.first, ep.first, ep.second});
  for (const auto& [p, ip, port] : endpoints_seen) {
    uint16_t out = 0;
    ASSERT_TRUE(pool.find_outbound(static_cast<NatProto>(p), ip, port, out));
    auto it = owner.find({p, out});
    ASSERT_NE(it, owner.end());
    EXPECT_EQ(it->second, (std::pair<uint32_t, uint16_t>{ip, port}));
  }
}

TEST(SnatPoolConcurrency, ManyEndpointsPlentyOfPorts) {
  Hammer(1024, 1024 + 4095, 3000, 8, 3, false);
}

TEST(SnatPoolConcurrency, WithAConcurrentSweep) {
  Hammer(1024, 1024 + 4095, 3000, 6, 3, true);
}

// Far more endpoints than ports: constant competition for the same slots.
TEST(SnatPoolConcurrency, TinyRangeUnderContention) {
  Hammer(30000, 30015, 200, 8, 20, false);
}

}  // namespace
}  // namespace dvr::dp
