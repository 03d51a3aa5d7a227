// The connection-tracking table: keys and directions, the TCP state machine, timeouts on a
// wrapping clock, capacity and reclaiming, sweep and dumps, and a multi-threaded stress test of
// the lock-free insert / lookup / remove protocol. No EAL: the table is plain memory.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "filter/conn_table.h"

namespace dvr::dp {
namespace {

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kGre = 47;
constexpr uint8_t kSynAck = kTcpSyn | kTcpAck, kFinAck = kTcpFin | kTcpAck;

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

FlowKey flow(uint8_t proto, uint32_t sip, uint16_t sport, uint32_t dip, uint16_t dport,
             uint16_t zone = 1) {
  FlowKey k;
  k.src_ip = sip;
  k.dst_ip = dip;
  k.src_port = sport;
  k.dst_port = dport;
  k.protocol = proto;
  k.zone = zone;
  return k;
}

// The key of the packets going the other way. (ICMP too: the caller keys an echo request as
// id -> 0x0800 and its reply as 0x0800 -> id.)
FlowKey reversed(const FlowKey& k) {
  FlowKey r = k;
  r.src_ip = k.dst_ip;
  r.dst_ip = k.src_ip;
  r.src_port = k.dst_port;
  r.dst_port = k.src_port;
  return r;
}

std::string str(const FlowKey& k) {
  return std::to_string(k.protocol) + " zone " + std::to_string(k.zone) + " " +
         std::to_string(k.src_ip) + ":" + std::to_string(k.src_port) + " -> " +
         std::to_string(k.dst_ip) + ":" + std::to_string(k.dst_port);
}

bool same(const FlowKey& a, const FlowKey& b) {
  return str(a) == str(b);
}

// A table with the helpers every test wants.
struct Table {
  explicit Table(uint32_t capacity, const ConnTimeouts& t = {}) : ct(capacity, t) {}

  uint32_t insert(const FlowKey& k, uint32_t now, uint8_t flags = 0, bool ingress = false,
                  uint32_t policy = 0) {
    return ct.insert(k, ct.hash(k), flags, ingress, policy, now);
  }
  ConnTable::Hit lookup(const FlowKey& k, uint32_t now) { return ct.lookup(k, ct.hash(k), now); }
  uint32_t slot(const FlowKey& k, uint32_t now) { return lookup(k, now).slot; }

  std::vector<ConnView> dump(uint32_t now) const {
    std::vector<ConnView> v;
    ct.for_each(now, [&](const ConnView& c) {
      v.push_back(c);
      return true;
    });
    return v;
  }

  ConnTable ct;
};

// ---------------------------------------------------------------------------------------------
// Keys and directions
// ---------------------------------------------------------------------------------------------

TEST(ConnTable, InsertThenLookupInBothDirections) {
  Table t(64);
  // The originator is the "low" endpoint in one connection and the "high" one in the other.
  const FlowKey a = flow(kTcp, ip(10, 0, 0, 1), 40000, ip(10, 0, 0, 9), 80);
  const FlowKey b = flow(kTcp, ip(10, 0, 0, 9), 5000, ip(10, 0, 0, 1), 22);
  EXPECT_EQ(t.slot(a, 0), ConnTable::kNone);

  const uint32_t sa = t.insert(a, 0, kTcpSyn);
  const uint32_t sb = t.insert(b, 0, kTcpSyn);
  ASSERT_NE(sa, ConnTable::kNone);
  ASSERT_NE(sb, ConnTable::kNone);
  EXPECT_NE(sa, sb);

  for (const auto& [key, slot] : {std::pair{a, sa}, std::pair{b, sb}}) {
    SCOPED_TRACE(str(key));
    const ConnTable::Hit fwd = t.lookup(key, 1);
    EXPECT_EQ(fwd.slot, slot);
    EXPECT_FALSE(fwd.reply);
    const ConnTable::Hit rev = t.lookup(reversed(key), 1);
    EXPECT_EQ(rev.slot, slot);
    EXPECT_TRUE(rev.reply);
    EXPECT_TRUE(same(t.ct.orig_key(slot), key)) << str(t.ct.orig_key(slot));
    EXPECT_EQ(t.ct.state(slot), ConnState::kTcpSynSent);
  }
}

TEST(ConnTable, PortsBelongToTheirAddress) {
  Table t(64);
  const FlowKey k = flow(kUdp, ip(10, 0, 0, 1), 1000, ip(10, 0, 0, 2), 2000);
  ASSERT_NE(t.insert(k, 0), ConnTable::kNone);
  // Same addresses and ports, paired differently: other connections.
  EXPECT_EQ(t.slot(flow(kUdp, ip(10, 0, 0, 1), 2000, ip(10, 0, 0, 2), 1000), 0), ConnTable::kNone);
  EXPECT_EQ(t.slot(flow(kUdp, ip(10, 0, 0, 2), 1000, ip(10, 0, 0, 1), 2000), 0), ConnTable::kNone);
  EXPECT_EQ(t.slot(flow(kUdp, ip(10, 0, 0, 1), 1000, ip(10, 0, 0, 2), 2001), 0), ConnTable::kNone);
}

TEST(ConnTable, SameAddressBothEndsIsNeverAReply) {
  Table t(64);
  const FlowKey k = flow(kUdp, ip(127, 0, 0, 1), 53, ip(127, 0, 0, 1), 53);
  const uint32_t s = t.insert(k, 0);
  ASSERT_NE(s, ConnTable::kNone);
  const ConnTable::Hit h = t.lookup(k, 0);
  EXPECT_EQ(h.slot, s);
  EXPECT_FALSE(h.reply);
}

TEST(ConnTable, ZoneAndProtocolIsolateEntries) {
  Table t(64);
  const FlowKey tcp1 = flow(kTcp, ip(10, 0, 0, 1), 1234, ip(10, 0, 0, 2), 80, /*zone=*/1);
  FlowKey tcp2 = tcp1;
  tcp2.zone = 2;
  FlowKey udp1 = tcp1;
  udp1.protocol = kUdp;

  const uint32_t s1 = t.insert(tcp1, 0, kTcpSyn);
  ASSERT_NE(s1, ConnTable::kNone);
  EXPECT_EQ(t.slot(tcp2, 0), ConnTable::kNone);
  EXPECT_EQ(t.slot(reversed(tcp2), 0), ConnTable::kNone);
  EXPECT_EQ(t.slot(udp1, 0), ConnTable::kNone);

  const uint32_t s2 = t.insert(tcp2, 0, kTcpSyn);
  const uint32_t s3 = t.insert(udp1, 0);
  ASSERT_NE(s2, ConnTable::kNone);
  ASSERT_NE(s3, ConnTable::kNone);
  EXPECT_EQ(std::set<uint32_t>({s1, s2, s3}).size(), 3u);
  EXPECT_EQ(t.slot(tcp1, 0), s1);
  EXPECT_EQ(t.slot(tcp2, 0), s2);
  EXPECT_EQ(t.slot(udp1, 0), s3);
  EXPECT_EQ(t.ct.orig_key(s2).zone, 2);
  EXPECT_EQ(t.ct.orig_key(s3).protocol, kUdp);
  EXPECT_EQ(t.ct.state(s3), ConnState::kNew);
}

TEST(ConnTable, IcmpEchoRequestAndReplyShareAnEntry) {
  Table t(64);
  // Request 10.0.0.9 -> 10.0.0.1, identifier 0x1234, keyed (id -> 0x0800); the reply is keyed
  // (0x0800 -> id), as filter_engine.cc does.
  const FlowKey req = flow(kIcmp, ip(10, 0, 0, 9), 0x1234, ip(10, 0, 0, 1), 0x0800);
  const FlowKey rep = flow(kIcmp, ip(10, 0, 0, 1), 0x0800, ip(10, 0, 0, 9), 0x1234);
  EXPECT_EQ(t.ct.hash(req), t.ct.hash(rep));

  const uint32_t s = t.insert(req, 0);
  ASSERT_NE(s, ConnTable::kNone);
  const ConnTable::Hit h = t.lookup(rep, 1);
  EXPECT_EQ(h.slot, s);
  EXPECT_TRUE(h.reply);
  EXPECT_FALSE(t.lookup(req, 1).reply);
  EXPECT_TRUE(same(t.ct.orig_key(s), req)) << str(t.ct.orig_key(s));

  // Another identifier is another conversation; so is a reply keyed like a request.
  EXPECT_EQ(t.slot(flow(kIcmp, ip(10, 0, 0, 1), 0x0800, ip(10, 0, 0, 9), 0x1235), 1),
            ConnTable::kNone);
  EXPECT_EQ(t.slot(flow(kIcmp, ip(10, 0, 0, 1), 0x1234, ip(10, 0, 0, 9), 0x0800), 1),
            ConnTable::kNone);

  EXPECT_EQ(t.ct.track(s, true, 0, 2), ConnTable::Update::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kReplied);
}

TEST(ConnTable, HashIsDirectionIndependent) {
  Table t(64);
  std::mt19937 rng(7);
  std::set<uint64_t> hashes;
  for (int i = 0; i < 2000; ++i) {
    const uint8_t proto = (i % 3 == 0) ? kTcp : (i % 3 == 1) ? kUdp : kIcmp;
    const FlowKey k = flow(proto, rng(), static_cast<uint16_t>(rng()), rng(),
                           static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng() % 8));
    ASSERT_EQ(t.ct.hash(k), t.ct.hash(reversed(k))) << str(k);
    hashes.insert(t.ct.hash(k));
  }
  EXPECT_EQ(hashes.size(), 2000u);  // 64-bit hashes of 2000 random keys: no collision
  // Both halves vary: neither the zone nor the protocol is ignored.
  const FlowKey k = flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  FlowKey z = k;
  z.zone = 9;
  FlowKey p = k;
  p.protocol = kUdp;
  EXPECT_NE(t.ct.hash(k), t.ct.hash(z));
  EXPECT_NE(t.ct.hash(k), t.ct.hash(p));
}

// ---------------------------------------------------------------------------------------------
// The TCP state machine
// ---------------------------------------------------------------------------------------------

TEST(ConnTable, TcpHandshakeAndTeardownReachTimeWait) {
  Table t(64);
  const FlowKey k = flow(kTcp, ip(10, 0, 0, 1), 40000, ip(10, 0, 0, 2), 443);
  const uint32_t s = t.insert(k, 0, kTcpSyn);
  ASSERT_NE(s, ConnTable::kNone);
  using U = ConnTable::Update;
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpSynSent);
  EXPECT_EQ(t.ct.track(s, false, kTcpSyn, 1), U::kOk);  // retransmitted SYN
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpSynSent);
  EXPECT_EQ(t.ct.track(s, true, kTcpAck, 1), U::kOk);  // not a SYN+ACK
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpSynSent);
  EXPECT_EQ(t.ct.track(s, true, kSynAck, 2), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpSynRecv);
  EXPECT_EQ(t.ct.track(s, true, kSynAck, 2), U::kOk);  // retransmitted SYN+ACK
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpSynRecv);
  EXPECT_EQ(t.ct.track(s, false, kTcpAck, 3), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpEstablished);
  EXPECT_EQ(t.ct.track(s, true, kTcpAck, 4), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpEstablished);
  EXPECT_EQ(t.ct.track(s, true, kFinAck, 5), U::kOk);  // the server closes first
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpFinWait);
  EXPECT_EQ(t.ct.track(s, true, kFinAck, 6), U::kOk);  // its FIN again: same side
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpFinWait);
  EXPECT_EQ(t.ct.track(s, false, kTcpAck, 6), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpFinWait);
  EXPECT_EQ(t.ct.track(s, false, kFinAck, 7), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
  EXPECT_EQ(t.ct.track(s, false, kTcpAck, 8), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
  // The client reuses the port: a fresh SYN restarts the connection, state unchanged.
  EXPECT_EQ(t.ct.track(s, false, kTcpSyn, 9), U::kRestart);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
  // SYN+ACK is not a fresh SYN.
  EXPECT_EQ(t.ct.track(s, true, kSynAck, 9), U::kOk);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
}

TEST(ConnTable, TcpOriginatorClosingFirstAlsoReachesTimeWait) {
  Table t(64);
  const uint32_t s = t.insert(flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2), 0, kTcpAck);
  ASSERT_NE(s, ConnTable::kNone);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpEstablished);
  t.ct.track(s, false, kFinAck, 1);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpFinWait);
  t.ct.track(s, false, kFinAck, 2);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpFinWait);
  t.ct.track(s, true, kFinAck, 3);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
}

TEST(ConnTable, TcpRstClosesFromAnyStateAndSynRestarts) {
  using U = ConnTable::Update;
  const ConnState before[] = {ConnState::kTcpSynSent, ConnState::kTcpSynRecv,
                              ConnState::kTcpEstablished, ConnState::kTcpFinWait,
                              ConnState::kTcpTimeWait};
  for (const ConnState target : before) {
    for (const bool rst_reply : {false, true}) {
      SCOPED_TRACE(std::string(conn_state_name(target)) + (rst_reply ? " reply" : " orig"));
      Table t(64);
      const uint32_t s = t.insert(flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2), 0, kTcpSyn);
      ASSERT_NE(s, ConnTable::kNone);
      // Walk to `target`.
      const struct {
        bool reply;
        uint8_t flags;
      } steps[] = {{true, kSynAck}, {false, kTcpAck}, {false, kFinAck}, {true, kFinAck}};
      for (const auto& step : steps) {
        if (t.ct.state(s) == target) break;
        t.ct.track(s, step.reply, step.flags, 1);
      }
      ASSERT_EQ(t.ct.state(s), target);
      EXPECT_EQ(t.ct.track(s, rst_reply, kTcpRst | kTcpAck, 2), U::kOk);
      EXPECT_EQ(t.ct.state(s), ConnState::kTcpClose);
      EXPECT_EQ(t.ct.track(s, !rst_reply, kTcpRst, 3), U::kOk);
      EXPECT_EQ(t.ct.state(s), ConnState::kTcpClose);
      EXPECT_EQ(t.ct.track(s, false, kTcpAck, 3), U::kOk);
      EXPECT_EQ(t.ct.state(s), ConnState::kTcpClose);
      EXPECT_EQ(t.ct.track(s, true, kTcpSyn, 4), U::kRestart);  // a SYN from either side
      EXPECT_EQ(t.ct.track(s, false, kTcpSyn, 4), U::kRestart);
      EXPECT_EQ(t.ct.state(s), ConnState::kTcpClose);
    }
  }
}

TEST(ConnTable, TcpInitialStateFromTheFirstPacket) {
  Table t(64);
  uint16_t port = 1000;
  auto first = [&](uint8_t flags) {
    const uint32_t s = t.insert(flow(kTcp, ip(10, 0, 0, 1), port++, ip(10, 0, 0, 2), 80), 0, flags);
    EXPECT_NE(s, ConnTable::kNone);
    return t.ct.state(s);
  };
  EXPECT_EQ(first(kTcpSyn), ConnState::kTcpSynSent);
  EXPECT_EQ(first(kTcpAck), ConnState::kTcpEstablished);  // mid-stream pickup
  EXPECT_EQ(first(kSynAck), ConnState::kTcpEstablished);
  EXPECT_EQ(first(kFinAck), ConnState::kTcpEstablished);
  EXPECT_EQ(first(0), ConnState::kTcpEstablished);
  EXPECT_EQ(first(kTcpRst), ConnState::kTcpClose);
  EXPECT_EQ(first(kTcpRst | kTcpAck), ConnState::kTcpClose);

  // A mid-stream pickup then follows the teardown as usual.
  const uint32_t s = t.insert(flow(kTcp, ip(10, 0, 0, 3), 1, ip(10, 0, 0, 4), 2), 0, kTcpAck);
  t.ct.track(s, true, kFinAck, 1);
  t.ct.track(s, false, kFinAck, 2);
  EXPECT_EQ(t.ct.state(s), ConnState::kTcpTimeWait);
}

TEST(ConnTable, NonTcpIsNewUntilAReply) {
  Table t(64);
  for (const uint8_t proto : {kUdp, kIcmp, kGre}) {
    SCOPED_TRACE(int{proto});
    const FlowKey k = flow(proto, ip(10, 0, 0, 1), proto == kGre ? 0 : 7, ip(10, 0, 0, 2),
                           proto == kUdp ? 53 : 0);
    // TCP flags mean nothing to other protocols.
    const uint32_t s = t.insert(k, 0, kTcpRst);
    ASSERT_NE(s, ConnTable::kNone);
    EXPECT_EQ(t.ct.state(s), ConnState::kNew);
    EXPECT_EQ(t.ct.track(s, false, kTcpSyn, 1), ConnTable::Update::kOk);
    EXPECT_EQ(t.ct.state(s), ConnState::kNew);
    EXPECT_EQ(t.ct.track(s, true, kTcpRst, 2), ConnTable::Update::kOk);
    EXPECT_EQ(t.ct.state(s), ConnState::kReplied);
    EXPECT_EQ(t.ct.track(s, false, kTcpSyn, 3), ConnTable::Update::kOk);
    EXPECT_EQ(t.ct.state(s), ConnState::kReplied);
  }
}

TEST(ConnTable, StateNames) {
  EXPECT_STREQ(conn_state_name(ConnState::kNew), "new");
  EXPECT_STREQ(conn_state_name(ConnState::kReplied), "replied");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpSynSent), "syn_sent");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpSynRecv), "syn_recv");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpEstablished), "established");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpFinWait), "fin_wait");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpTimeWait), "time_wait");
  EXPECT_STREQ(conn_state_name(ConnState::kTcpClose), "close");
}

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

// Distinct values, so that a wrong lookup shows.
ConnTimeouts distinct_timeouts() {
  ConnTimeouts t;
  t.tcp_syn_sent = 11;
  t.tcp_syn_recv = 12;
  t.tcp_established = 13;
  t.tcp_fin_wait = 14;
  t.tcp_time_wait = 15;
  t.tcp_close = 16;
  t.udp_new = 17;
  t.udp_replied = 18;
  t.icmp = 19;
  t.other_new = 20;
  t.other_replied = 21;
  return t;
}

TEST(ConnTable, TimeoutForEachProtocolAndState) {
  const ConnTimeouts t = distinct_timeouts();
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpSynSent), 11u);
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpSynRecv), 12u);
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpEstablished), 13u);
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpFinWait), 14u);
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpTimeWait), 15u);
  EXPECT_EQ(t.for_state(kTcp, ConnState::kTcpClose), 16u);
  EXPECT_EQ(t.for_state(kUdp, ConnState::kNew), 17u);
  EXPECT_EQ(t.for_state(kUdp, ConnState::kReplied), 18u);
  EXPECT_EQ(t.for_state(kIcmp, ConnState::kNew), 19u);
  EXPECT_EQ(t.for_state(kIcmp, ConnState::kReplied), 19u);
  EXPECT_EQ(t.for_state(kGre, ConnState::kNew), 20u);
  EXPECT_EQ(t.for_state(kGre, ConnState::kReplied), 21u);
  EXPECT_EQ(t.for_state(0, ConnState::kReplied), 21u);

  const ConnTimeouts d;  // the defaults
  EXPECT_EQ(d.for_state(kTcp, ConnState::kTcpEstablished), 7200u);
  EXPECT_EQ(d.for_state(kUdp, ConnState::kNew), 30u);
  EXPECT_EQ(d.for_state(kUdp, ConnState::kReplied), 180u);
}

// Inserts `k` at `t0` with `flags`, brings it to its state with `steps`, and checks that it is
// live exactly until its state's timeout has passed.
void expect_expires_after(const ConnTimeouts& timeouts, const FlowKey& k, uint8_t flags,
                          bool reply_step, uint8_t step_flags, ConnState state,
                          uint32_t timeout_s) {
  SCOPED_TRACE(conn_state_name(state));
  Table t(64, timeouts);
  const uint32_t t0 = 1'000'000;
  const uint32_t s = t.insert(k, t0, flags);
  ASSERT_NE(s, ConnTable::kNone);
  if (step_flags != 0 || reply_step) t.ct.track(s, reply_step, step_flags, t0);
  ASSERT_EQ(t.ct.state(s), state);
  EXPECT_EQ(t.ct.count_live(t0 + timeout_s * 1000), 1u);
  EXPECT_EQ(t.ct.count_live(t0 + timeout_s * 1000 + 1), 0u);
  EXPECT_EQ(t.slot(k, t0 + timeout_s * 1000), s);
  EXPECT_EQ(t.slot(reversed(k), t0 + timeout_s * 1000 + 1), ConnTable::kNone);
  // The lookup removed it.
  EXPECT_FALSE(t.ct.remove(s));
  EXPECT_EQ(t.slot(k, t0), ConnTable::kNone);
  EXPECT_TRUE(t.dump(t0).empty());
}

TEST(ConnTable, EntryExpiresExactlyAfterItsStatesTimeout) {
  const ConnTimeouts to = distinct_timeouts();
  const FlowKey tcp = flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const FlowKey udp = flow(kUdp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const FlowKey icmp = flow(kIcmp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 0);
  const FlowKey gre = flow(kGre, ip(10, 0, 0, 1), 0, ip(10, 0, 0, 2), 0);
  expect_expires_after(to, tcp, kTcpSyn, false, 0, ConnState::kTcpSynSent, 11);
  expect_expires_after(to, tcp, kTcpSyn, true, kSynAck, ConnState::kTcpSynRecv, 12);
  expect_expires_after(to, tcp, kTcpAck, false, 0, ConnState::kTcpEstablished, 13);
  expect_expires_after(to, tcp, kTcpAck, true, kFinAck, ConnState::kTcpFinWait, 14);
  expect_expires_after(to, tcp, kTcpRst, false, 0, ConnState::kTcpClose, 16);
  expect_expires_after(to, udp, 0, false, 0, ConnState::kNew, 17);
  expect_expires_after(to, udp, 0, true, 0, ConnState::kReplied, 18);
  expect_expires_after(to, icmp, 0, true, 0, ConnState::kReplied, 19);
  expect_expires_after(to, gre, 0, false, 0, ConnState::kNew, 20);
  expect_expires_after(to, gre, 0, true, 0, ConnState::kReplied, 21);
}

TEST(ConnTable, TrafficRefreshesAndUdpRepliesLiveLonger) {
  Table t(64);  // default timeouts: UDP 30 s new, 180 s replied
  const FlowKey k = flow(kUdp, ip(10, 0, 0, 1), 5353, ip(10, 0, 0, 2), 53);
  const uint32_t s = t.insert(k, 0);
  ASSERT_NE(s, ConnTable::kNone);
  t.ct.track(s, false, 0, 20'000);  // refreshes, still new
  EXPECT_EQ(t.ct.count_live(50'000), 1u);
  EXPECT_EQ(t.ct.count_live(50'001), 0u);
  t.ct.track(s, true, 0, 50'000);  // a reply: replied, 180 s from now
  EXPECT_EQ(t.ct.state(s), ConnState::kReplied);
  EXPECT_EQ(t.slot(k, 80'001), s);  // past the 30 s of a new entry
  EXPECT_EQ(t.slot(k, 230'000), s);
  EXPECT_EQ(t.slot(k, 230'001), ConnTable::kNone);
}

TEST(ConnTable, ClockWrapsAround) {
  Table t(64);
  const FlowKey k = flow(kUdp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const uint32_t t0 = 0xFFFF'F000u;  // 4.096 s before the wrap
  const uint32_t s = t.insert(k, t0);
  ASSERT_NE(s, ConnTable::kNone);
  EXPECT_EQ(t.ct.count_live(t0 + 30'000), 1u);  // 0x00006530
  EXPECT_EQ(t.ct.count_live(t0 + 30'001), 0u);
  EXPECT_EQ(t.slot(k, 0x0000'6000u), s);  // 28.672 s after t0
  // Refreshed after the wrap: the age counts from there.
  t.ct.track(s, false, 0, 0x0000'1000u);
  EXPECT_EQ(t.ct.count_live(0x0000'1000u + 30'000), 1u);
  EXPECT_EQ(t.ct.count_live(0x0000'1000u + 30'001), 0u);
  const std::vector<ConnView> v = t.dump(0x0000'1000u + 1'000);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].age_ms, 0x2000u + 1'000);
  EXPECT_EQ(v[0].idle_ms, 1'000u);
  EXPECT_EQ(v[0].expires_in_ms, 29'000u);
}

TEST(ConnTable, TimestampSlightlyAheadOfTheReaderIsNotAnAge) {
  // Workers read the clock at different instants: another worker may have refreshed the entry
  // with a `now` a little later than this worker's. That is an age of 0, not of 2^32 - 1 ms.
  Table t(64);
  const FlowKey k = flow(kUdp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const uint32_t s = t.insert(k, 1'000);
  t.ct.track(s, false, 0, 5'000);
  EXPECT_EQ(t.slot(k, 4'999), s);
  EXPECT_EQ(t.ct.count_live(4'990), 1u);
  EXPECT_EQ(t.ct.sweep(4'990, t.ct.slot_count()), 0u);
}

// ---------------------------------------------------------------------------------------------
// Capacity, slots and removal
// ---------------------------------------------------------------------------------------------

TEST(ConnTable, ConstructorValidatesCapacity) {
  EXPECT_THROW(ConnTable(0, {}), std::invalid_argument);
  EXPECT_THROW(ConnTable((1u << 24) + 1, {}), std::invalid_argument);
  EXPECT_THROW(ConnTable(UINT32_MAX, {}), std::invalid_argument);
  EXPECT_EQ(ConnTable(1, {}).slot_count(), 16u);
  EXPECT_EQ(ConnTable(8, {}).slot_count(), 16u);
  EXPECT_EQ(ConnTable(9, {}).slot_count(), 32u);
  EXPECT_EQ(ConnTable(1000, {}).slot_count(), 2048u);
  EXPECT_EQ(ConnTable(1024, {}).slot_count(), 2048u);
  EXPECT_EQ(ConnTable(1000, {}).capacity(), 1000u);
  ConnTimeouts to;
  to.udp_new = 5;
  EXPECT_EQ(ConnTable(1, to).timeouts().udp_new, 5u);
}

// The i-th of a family of distinct UDP connections (many sources, a few servers).
FlowKey nth_flow(uint32_t i) {
  return flow(kUdp, ip(10, 1, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)),
              static_cast<uint16_t>(10000 + i % 7), ip(192, 168, 0, static_cast<uint8_t>(i % 5)),
              static_cast<uint16_t>(53 + i % 3), static_cast<uint16_t>(1 + i % 2));
}

// Random connections (distinct: the source address is the index's bijective scramble).
FlowKey random_flow(uint32_t i, std::mt19937& rng) {
  const uint8_t proto = (rng() & 1) ? kTcp : kUdp;
  return flow(proto, i * 2'654'435'761u, static_cast<uint16_t>(rng()), rng(),
              static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng() % 16));
}

TEST(ConnTable, HoldsItsCapacityThenFillsUpThenReclaimsExpiredEntries) {
  struct Case {
    uint32_t capacity;
    bool random;
  };
  // Structured keys (sequential addresses and ports) and random ones. At 64K random keys, a
  // table that put every key in its first bucket while it has room would overflow at about 35%
  // of its slots; choosing the emptier of the two holds past 70%.
  for (const Case c :
       {Case{1, false}, Case{100, false}, Case{4096, false}, Case{100, true}, Case{65536, true}}) {
    SCOPED_TRACE(std::to_string(c.capacity) + (c.random ? " random" : " structured"));
    Table t(c.capacity);
    std::mt19937 rng(c.capacity);
    std::vector<FlowKey> keys;
    auto key = [&](uint32_t i) -> const FlowKey& {
      while (keys.size() <= i) {
        const auto n = static_cast<uint32_t>(keys.size());
        keys.push_back(c.random ? random_flow(n, rng) : nth_flow(n));
      }
      return keys[i];
    };
    const uint32_t capacity = c.capacity;
    std::vector<uint32_t> slots;
    std::set<uint32_t> distinct;
    for (uint32_t i = 0; i < capacity; ++i) {
      const uint32_t s = t.insert(key(i), 0);
      ASSERT_NE(s, ConnTable::kNone) << "insert " << i << " of " << capacity;
      ASSERT_LT(s, t.ct.slot_count());
      slots.push_back(s);
      distinct.insert(s);
    }
    EXPECT_EQ(distinct.size(), capacity);

    // Past capacity: inserts succeed until the key's two buckets are full.
    uint32_t i = capacity;
    uint32_t full = ConnTable::kNone;
    for (; i <= t.ct.slot_count(); ++i) {
      const uint32_t s = t.insert(key(i), 1'000);
      if (s == ConnTable::kNone) {
        full = i;
        break;
      }
      slots.push_back(s);
      distinct.insert(s);
    }
    ASSERT_NE(full, ConnTable::kNone) << "the table never filled up";
    EXPECT_EQ(distinct.size(), slots.size());
    if (capacity == 1) {
      EXPECT_EQ(full, 16u);  // two buckets: every key may use every slot
    }
    EXPECT_EQ(t.ct.count_live(1'000), slots.size());
    for (uint32_t j = 0; j < slots.size(); ++j) {
      ASSERT_EQ(t.slot(key(j), 2'000), slots[j]) << j;
      ASSERT_EQ(t.slot(reversed(key(j)), 2'000), slots[j]) << j;
    }
    EXPECT_EQ(t.insert(key(full), 2'000), ConnTable::kNone);

    // Once the entries have expired, the same insert reclaims one of them, with no sweep in
    // between. (UDP: 30 s; TCP, established from a flagless first packet: 2 hours.)
    const uint32_t later = 7'201'001;
    EXPECT_EQ(t.ct.count_live(later), 0u);
    const uint32_t s = t.insert(key(full), later);
    ASSERT_NE(s, ConnTable::kNone);
    EXPECT_EQ(t.slot(key(full), later), s);
    EXPECT_EQ(t.ct.count_live(later), 1u);
    EXPECT_TRUE(same(t.ct.orig_key(s), key(full)));
    // The reclaimed entry is gone, the others are still there (expired, until swept).
    uint32_t listed = 0;
    t.ct.for_each(later, [&](const ConnView&) { return ++listed, true; });
    EXPECT_EQ(listed, slots.size());
    EXPECT_EQ(t.ct.sweep(later, t.ct.slot_count()), slots.size() - 1);
  }
}

// A worker removes the entry it found, never the connection that took its slot since.
TEST(ConnTable, RemoveByHitSparesAConnectionThatReusedTheSlot) {
  Table t(64);
  const FlowKey k = flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  ASSERT_NE(t.insert(k, 0, kTcpSyn), ConnTable::kNone);
  const ConnTable::Hit stale = t.lookup(k, 0);
  ASSERT_NE(stale.slot, ConnTable::kNone);
  // Somebody else removes it and the same key comes back into the same slot.
  EXPECT_TRUE(t.ct.remove(stale.slot));
  ASSERT_EQ(t.insert(k, 1, kTcpSyn), stale.slot);
  EXPECT_FALSE(t.ct.remove(stale));  // the stale hit no longer names the entry there
  EXPECT_EQ(t.slot(k, 1), stale.slot);
  const ConnTable::Hit fresh = t.lookup(k, 1);
  EXPECT_NE(fresh.generation, stale.generation);
  EXPECT_TRUE(t.ct.remove(fresh));
  EXPECT_FALSE(t.ct.remove(fresh));
  EXPECT_EQ(t.slot(k, 1), ConnTable::kNone);
}

TEST(ConnTable, RemoveAndReinsertReuseTheSlot) {
  Table t(64);
  const FlowKey k = flow(kTcp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const uint32_t s = t.insert(k, 0, kTcpSyn);
  ASSERT_NE(s, ConnTable::kNone);
  EXPECT_TRUE(t.ct.remove(s));
  EXPECT_FALSE(t.ct.remove(s));  // already gone
  EXPECT_EQ(t.slot(k, 0), ConnTable::kNone);
  EXPECT_EQ(t.ct.count_live(0), 0u);

  const uint32_t s2 = t.insert(k, 1, kTcpAck);
  EXPECT_EQ(s2, s);  // the emptiest bucket's first empty slot: the same one
  EXPECT_EQ(t.slot(k, 1), s2);
  EXPECT_EQ(t.ct.state(s2), ConnState::kTcpEstablished);  // a new entry, not the old one
  EXPECT_TRUE(t.ct.remove(s2));
  EXPECT_FALSE(t.ct.remove(s2));

  // A never-used slot.
  EXPECT_FALSE(t.ct.remove((s + 1) % t.ct.slot_count()));

  // Restart: the caller removes and reinserts.
  const uint32_t s3 = t.insert(k, 2, kTcpRst);
  ASSERT_EQ(t.ct.track(s3, false, kTcpSyn, 3), ConnTable::Update::kRestart);
  EXPECT_TRUE(t.ct.remove(s3));
  const uint32_t s4 = t.insert(k, 3, kTcpSyn);
  EXPECT_EQ(t.ct.state(s4), ConnState::kTcpSynSent);
  EXPECT_EQ(t.slot(k, 3), s4);
  EXPECT_EQ(t.ct.count_live(3), 1u);
}

TEST(ConnTable, LookupSkipsAnExpiredDuplicate) {
  // Two workers inserted the same connection; the older copy expires first.
  Table t(64);
  const FlowKey k = flow(kUdp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2);
  const uint32_t old_slot = t.insert(k, 0);
  const uint32_t new_slot = t.insert(reversed(k), 20'000);
  ASSERT_NE(old_slot, ConnTable::kNone);
  ASSERT_NE(new_slot, ConnTable::kNone);
  ASSERT_NE(old_slot, new_slot);
  const ConnTable::Hit h = t.lookup(k, 40'000);
  EXPECT_EQ(h.slot, new_slot);
  EXPECT_TRUE(h.reply);                 // the second copy was created by the other direction
  EXPECT_FALSE(t.ct.remove(old_slot));  // the lookup removed the expired one
}

// ---------------------------------------------------------------------------------------------
// Sweep and dumps
// ---------------------------------------------------------------------------------------------

TEST(ConnTable, SweepRemovesOnlyExpiredEntriesAndResumes) {
  Table t(64);  // 128 slots
  const uint32_t n = t.ct.slot_count();
  ASSERT_EQ(n, 128u);
  std::vector<bool> expiring(n, false);
  uint32_t expired = 0, live = 0;
  for (uint32_t i = 0; i < 30; ++i) {
    const FlowKey k = nth_flow(i);
    const uint32_t s = t.insert(k, 0);
    ASSERT_NE(s, ConnTable::kNone);
    if (i % 3 == 0) {
      t.ct.track(s, true, 0, 0);  // replied: 180 s
      ++live;
    } else if (i % 3 == 1) {
      t.ct.track(s, false, 0, 40'000);  // refreshed
      ++live;
    } else {
      expiring[s] = true;  // new, 30 s
      ++expired;
    }
  }
  const uint32_t now = 60'000;
  EXPECT_EQ(t.ct.count_live(now), live);
  std::vector<ConnView> before = t.dump(now);
  EXPECT_EQ(before.size(), 30u);  // expired entries are listed until swept...
  uint32_t zero = 0;
  for (const ConnView& v : before) zero += v.expires_in_ms == 0;
  EXPECT_EQ(zero, expired);  // ...with expires_in_ms 0

  // Half a pass, one slot per call: exactly the expired entries of the first half.
  uint32_t removed = 0, expected_first_half = 0;
  for (uint32_t i = 0; i < n / 2; ++i) {
    const uint32_t r = t.ct.sweep(now, 1);
    EXPECT_LE(r, 1u);
    removed += r;
    expected_first_half += expiring[i];
  }
  EXPECT_EQ(removed, expected_first_half);
  // The second half, in one call: the rest.
  EXPECT_EQ(t.ct.sweep(now, n / 2), expired - expected_first_half);
  EXPECT_EQ(t.ct.sweep(now, 1000), 0u);  // nothing left
  EXPECT_EQ(t.ct.count_live(now), live);
  EXPECT_EQ(t.dump(now).size(), live);
  EXPECT_EQ(t.ct.sweep(now, 0), 0u);
  // Much later everything goes, in one pass.
  EXPECT_EQ(t.ct.sweep(now + 200'000, n), live);
  EXPECT_EQ(t.ct.count_live(now), 0u);
}

TEST(ConnTable, ForEachReportsTheOriginatingDirection) {
  Table t(64);
  // The originator is the high endpoint: the normalized key has it second.
  const FlowKey tcp = flow(kTcp, ip(10, 0, 0, 9), 50000, ip(10, 0, 0, 1), 22, 3);
  const FlowKey icmp = flow(kIcmp, ip(10, 0, 0, 9), 77, ip(10, 0, 0, 1), 0, 4);
  const uint32_t st = t.insert(tcp, 1'000, kTcpSyn, /*ingress=*/true, /*policy=*/7);
  const uint32_t si = t.insert(icmp, 2'000, 0, /*ingress=*/false, /*policy=*/9);
  ASSERT_NE(st, ConnTable::kNone);
  ASSERT_NE(si, ConnTable::kNone);
  t.ct.track(st, true, kSynAck, 3'000);  // the reply direction
  t.ct.track(st, false, kTcpAck, 4'000);

  EXPECT_TRUE(t.ct.created_at_ingress(st));
  EXPECT_FALSE(t.ct.created_at_ingress(si));
  EXPECT_TRUE(same(t.ct.orig_key(st), tcp));
  EXPECT_TRUE(same(t.ct.orig_key(si), icmp));

  const std::vector<ConnView> views = t.dump(10'000);
  ASSERT_EQ(views.size(), 2u);
  int seen = 0;
  for (const ConnView& v : views) {
    if (v.orig.protocol == kTcp) {
      ++seen;
      EXPECT_TRUE(same(v.orig, tcp)) << str(v.orig);
      EXPECT_EQ(v.state, ConnState::kTcpEstablished);
      EXPECT_TRUE(v.created_at_ingress);
      EXPECT_EQ(v.policy, 7u);
      EXPECT_EQ(v.age_ms, 9'000u);
      EXPECT_EQ(v.idle_ms, 6'000u);
      EXPECT_EQ(v.expires_in_ms, 7200'000u - 6'000u);
    } else {
      ++seen;
      EXPECT_TRUE(same(v.orig, icmp)) << str(v.orig);
      EXPECT_EQ(v.state, ConnState::kNew);
      EXPECT_FALSE(v.created_at_ingress);
      EXPECT_EQ(v.policy, 9u);
      EXPECT_EQ(v.age_ms, 8'000u);
      EXPECT_EQ(v.idle_ms, 8'000u);
      EXPECT_EQ(v.expires_in_ms, 30'000u - 8'000u);
    }
  }
  EXPECT_EQ(seen, 2);

  // Stops when told to.
  int calls = 0;
  t.ct.for_each(10'000, [&](const ConnView&) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ConnTable, ConfirmPolicyIsACompareAndSwap) {
  Table t(64);
  const uint32_t s = t.insert(flow(kUdp, ip(10, 0, 0, 1), 1, ip(10, 0, 0, 2), 2), 0, 0, false, 5);
  ASSERT_NE(s, ConnTable::kNone);
  EXPECT_EQ(t.ct.policy(s), 5u);
  EXPECT_FALSE(t.ct.confirm_policy(s, 4, 9));  // somebody else's view of it
  EXPECT_EQ(t.ct.policy(s), 5u);
  EXPECT_TRUE(t.ct.confirm_policy(s, 5, 9));
  EXPECT_EQ(t.ct.policy(s), 9u);
  EXPECT_FALSE(t.ct.confirm_policy(s, 5, 10));  // the second confirmer lost
  EXPECT_EQ(t.ct.policy(s), 9u);
  const std::vector<ConnView> v = t.dump(0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].policy, 9u);
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

// Keys of the stress test are a function of an id, recoverable from the key's source address,
// so that any mix of two entries (a torn read) shows. Odd ids have the source as the high
// endpoint, so the originator flag is exercised both ways.
FlowKey stress_key(uint32_t id) {
  const uint32_t src = (id & 1 ? 0xD000'0000u : 0x0A00'0000u) | (id & 0x00FF'FFFF);
  return flow(kUdp, src, static_cast<uint16_t>(1024 + id % 50'000),
              0xC0A8'0000u | (id * 2'654'435'761u >> 20), static_cast<uint16_t>(id * 7 + 1),
              static_cast<uint16_t>(1 + id % 3));
}
uint32_t stress_id(const FlowKey& k) {
  return k.src_ip & 0x00FF'FFFF;
}

TEST(ConnTable, ConcurrentInsertLookupRemoveAndSweep) {
  // Small table: the workers' keys share buckets, so lookups scan slots that other threads are
  // removing and refilling.
  Table t(512);  // 1024 slots, 128 buckets
  constexpr int kWorkers = 4;
  constexpr uint32_t kOwned = 48;      // per worker, only that worker inserts / removes them
  constexpr uint32_t kShared = 64;     // every worker inserts / removes them
  constexpr uint32_t kIters = 60'000;  // per worker
  constexpr uint32_t kNow = 10'000'000;
  constexpr uint32_t kStale = kNow - 100'000;  // inserted at kStale: expired at kNow
  constexpr uint32_t kSharedBase = 100'000, kStaleBase = 200'000;

  // The hashes the workers use. They keep every entry in the same signature (so a lookup reads
  // and compares the key of every valid slot of its two buckets, racing with the threads that
  // remove and refill them: the seqlock's job), and they keep the shared keys in buckets of
  // their own (0..15; the others in 16..127), using the documented mapping (bucket 1 from the
  // low 32 bits, bucket 2 from the high 32). The shared keys are where slots go stale under a
  // thread's feet: it looks a key up, somebody else removes it and the slot is refilled, then
  // the thread's track() or remove() lands on the newcomer (the API names entries by slot
  // alone). Among shared keys that is harmless; an owned key in such a slot would vanish.
  auto hash_in = [&](const FlowKey& k, uint32_t first, uint32_t count) {
    const uint64_t h = t.ct.hash(k);
    const uint64_t lo = first + (h & 0xFFFF) % count;
    const uint64_t hi = first + (h >> 32 & 0xFFFF) % count;
    return hi << 32 | lo;
  };
  auto hash_of = [&](const FlowKey& k) { return hash_in(k, 16, 112); };
  auto shared_hash = [&](const FlowKey& k) { return hash_in(k, 0, 16); };
  ASSERT_EQ(t.ct.slot_count(), 128u * 8);

  std::atomic<bool> go{false};
  std::atomic<int> running{kWorkers};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> owned_hits{0}, shared_hits{0}, stale_inserts{0}, swept{0}, dumped{0};
  std::vector<std::string> first_failure(kWorkers + 1);
  struct Owned {
    bool present = false;
    uint32_t slot = ConnTable::kNone;
  };
  std::vector<std::vector<Owned>> owned(kWorkers, std::vector<Owned>(kOwned));

  auto fail = [&](int who, const std::string& what) {
    if (failures.fetch_add(1) == 0 || first_failure[who].empty()) first_failure[who] = what;
  };

  auto worker = [&](int w) {
    std::mt19937 rng(1234 + w);
    std::vector<Owned>& mine = owned[w];
    uint32_t stale_next = kStaleBase + static_cast<uint32_t>(w) * 1'000'000;
    while (!go.load()) {
    }
    for (uint32_t it = 0; it < kIters && failures.load(std::memory_order_relaxed) == 0; ++it) {
      const uint32_t op = rng() % 8;
      if (op <= 3) {
        // An owned key: its presence is known exactly, and only this thread changes it.
        const uint32_t i = rng() % kOwned;
        const FlowKey k = stress_key(static_cast<uint32_t>(w) * 1000 + i);
        const bool rev = rng() & 1;
        const FlowKey probe = rev ? reversed(k) : k;
        const ConnTable::Hit h = t.ct.lookup(probe, hash_of(probe), kNow);
        if (mine[i].present) {
          if (h.slot != mine[i].slot || h.reply != rev) {
            fail(w, "owned key " + str(k) + ": lookup gave slot " + std::to_string(h.slot) +
                        ", inserted at " + std::to_string(mine[i].slot));
            continue;
          }
          if (!same(t.ct.orig_key(h.slot), k)) {
            fail(w, "owned key " + str(k) + ": slot holds " + str(t.ct.orig_key(h.slot)));
            continue;
          }
          ++owned_hits;
          if (op == 0) {
            t.ct.track(h.slot, rev, 0, kNow);
          } else if (op == 1) {
            if (!t.ct.remove(h.slot)) fail(w, "owned key " + str(k) + ": remove failed");
            mine[i] = Owned{};
          }
        } else {
          if (h.slot != ConnTable::kNone) {
            fail(w, "removed owned key " + str(k) + " found at slot " + std::to_string(h.slot) +
                        " holding " + str(t.ct.orig_key(h.slot)));
            continue;
          }
          const uint32_t s = t.ct.insert(k, hash_of(k), 0, w & 1, it, kNow);
          if (s == ConnTable::kNone) {
            fail(w, "owned key " + str(k) + ": table full");
            continue;
          }
          mine[i] = Owned{true, s};
        }
      } else if (op <= 5) {
        // A shared key: look it up, then remove what was found or insert it.
        const FlowKey k = stress_key(kSharedBase + rng() % kShared);
        const ConnTable::Hit h = t.ct.lookup(k, shared_hash(k), kNow);
        if (h.slot != ConnTable::kNone) {
          ++shared_hits;
          if (op == 4) t.ct.track(h.slot, h.reply, 0, kNow);
          if (op == 5) t.ct.remove(h.slot);
        } else {
          t.ct.insert(k, shared_hash(k), 0, false, 0, kNow);
        }
      } else if (op == 6) {
        // An entry that is expired for everybody at kNow: lookups drop it, inserts reclaim it,
        // the sweeper removes it.
        const FlowKey k = stress_key(stale_next++);
        if (t.ct.insert(k, hash_of(k), 0, false, 0, kStale) != ConnTable::kNone) {
          ++stale_inserts;
        }
      } else {
        const FlowKey k = stress_key(stale_next - 1 - rng() % 4);
        const ConnTable::Hit h = t.ct.lookup(k, hash_of(k), kNow);
        if (h.slot != ConnTable::kNone) fail(w, "expired key " + str(k) + " found");
      }
    }
    running.fetch_sub(1);
  };

  auto sweeper = [&] {
    while (!go.load()) {
    }
    for (uint32_t round = 0; round < 1'000'000 && running.load() > 0; ++round) {
      swept += t.ct.sweep(kNow, 64);
      if (round % 16 == 0) {
        // Every copy for_each hands out is one whole entry of the stress test.
        t.ct.for_each(kNow, [&](const ConnView& v) {
          ++dumped;
          if (!same(v.orig, stress_key(stress_id(v.orig)))) {
            fail(kWorkers, "for_each gave a torn entry: " + str(v.orig));
          }
          return true;
        });
      }
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) threads.emplace_back(worker, w);
  threads.emplace_back(sweeper);
  go.store(true);
  for (auto& th : threads) th.join();

  for (int who = 0; who <= kWorkers; ++who) {
    EXPECT_TRUE(first_failure[who].empty()) << "thread " << who << ": " << first_failure[who];
  }
  EXPECT_EQ(failures.load(), 0u);

  // Every owned key that was inserted and not removed is still there, in its slot.
  uint32_t present = 0;
  for (int w = 0; w < kWorkers; ++w) {
    for (uint32_t i = 0; i < kOwned; ++i) {
      const FlowKey k = stress_key(static_cast<uint32_t>(w) * 1000 + i);
      const ConnTable::Hit h = t.ct.lookup(k, hash_of(k), kNow);
      if (owned[w][i].present) {
        ++present;
        EXPECT_EQ(h.slot, owned[w][i].slot) << str(k);
        EXPECT_FALSE(h.reply);
        if (h.slot != ConnTable::kNone) {
          EXPECT_TRUE(same(t.ct.orig_key(h.slot), k));
        }
      } else {
        EXPECT_EQ(h.slot, ConnTable::kNone) << str(k);
      }
    }
  }
  EXPECT_GT(present, 0u);
  EXPECT_GE(t.ct.count_live(kNow), present);
  // After a full sweep only live entries remain, and each is whole.
  t.ct.sweep(kNow, t.ct.slot_count());
  uint32_t listed = 0;
  t.ct.for_each(kNow, [&](const ConnView& v) {
    ++listed;
    EXPECT_TRUE(same(v.orig, stress_key(stress_id(v.orig)))) << str(v.orig);
    EXPECT_GT(v.expires_in_ms, 0u);
    return true;
  });
  EXPECT_EQ(listed, t.ct.count_live(kNow));
  // The test did what it meant to (no timing: these hold for any interleaving).
  EXPECT_GT(owned_hits.load(), 0u);
  EXPECT_GT(stale_inserts.load(), 0u);
}

TEST(ConnTable, ConcurrentInsertsIntoOneBucketPair) {
  // Every key gets the same hash: one pair of buckets (16 slots), one signature. Four threads
  // each insert, check and remove 4 keys at a time, so the 16 slots are claimed, filled and
  // emptied as fast as the threads go and every lookup compares keys in slots being rewritten.
  // The keys overlap: the address half of each (normalized key word 0) is shared with keys of
  // other threads, and so is the port half (word 1), so a key read half from one entry and half
  // from the next could match one of them.
  Table t(64);
  constexpr int kThreads = 4;
  constexpr uint32_t kKeys = 4;  // per thread: 16 in all, the two buckets' slots
  constexpr uint32_t kRounds = 50'000;
  constexpr uint64_t kHash = uint64_t{1} << 32;  // buckets 0 and 1
  auto key = [](int thread, uint32_t j) {
    const auto a = static_cast<uint8_t>((static_cast<uint32_t>(thread) + j) % 4);
    return flow(kUdp, ip(10, 0, a, 1), static_cast<uint16_t>(1000 + j), ip(10, 9, a, 1),
                static_cast<uint16_t>(2000 + j));
  };
  std::atomic<bool> go{false};
  std::atomic<uint64_t> failures{0}, retries{0};
  std::vector<std::string> first_failure(kThreads);
  auto fail = [&](int who, const std::string& what) {
    if (failures.fetch_add(1) == 0 || first_failure[who].empty()) first_failure[who] = what;
  };

  auto worker = [&](int w) {
    while (!go.load()) {
    }
    uint32_t slot[kKeys];
    for (uint32_t round = 0; round < kRounds && failures.load() == 0; ++round) {
      const uint32_t now = round;
      for (uint32_t j = 0; j < kKeys; ++j) {
        // The others hold at most 12 slots, but the free ones move while this insert scans:
        // a miss is possible and transient.
        slot[j] = ConnTable::kNone;
        for (uint32_t attempt = 0; attempt < 1'000'000 && slot[j] == ConnTable::kNone; ++attempt) {
          slot[j] = t.ct.insert(key(w, j), kHash, 0, false, j, now);
          if (slot[j] == ConnTable::kNone) {
            ++retries;
            std::this_thread::yield();
          }
        }
        if (slot[j] == ConnTable::kNone) {
          fail(w, "insert of " + str(key(w, j)) + " never found a free slot");
          return;
        }
      }
      for (uint32_t j = 0; j < kKeys; ++j) {
        const FlowKey k = key(w, j);
        const ConnTable::Hit fwd = t.ct.lookup(k, kHash, now);
        const ConnTable::Hit rev = t.ct.lookup(reversed(k), kHash, now);
        if (fwd.slot != slot[j] || fwd.reply || rev.slot != slot[j] || !rev.reply) {
          fail(w, str(k) + " inserted at slot " + std::to_string(slot[j]) + ", found at " +
                      std::to_string(fwd.slot) + " / " + std::to_string(rev.slot));
        } else if (!same(t.ct.orig_key(slot[j]), k)) {
          fail(w, str(k) + ": slot " + std::to_string(slot[j]) + " holds " +
                      str(t.ct.orig_key(slot[j])));
        } else if (t.ct.policy(slot[j]) != j) {
          fail(w, str(k) + ": policy " + std::to_string(t.ct.policy(slot[j])));
        }
      }
      for (uint32_t j = 0; j < kKeys; ++j) {
        if (!t.ct.remove(slot[j])) fail(w, str(key(w, j)) + ": remove failed");
      }
      for (uint32_t j = 0; j < kKeys; ++j) {
        const FlowKey k = key(w, j);
        const ConnTable::Hit h = t.ct.lookup(k, kHash, now);
        if (h.slot != ConnTable::kNone) {
          fail(w, "removed " + str(k) + " found at slot " + std::to_string(h.slot));
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) threads.emplace_back(worker, w);
  go.store(true);
  for (auto& th : threads) th.join();
  for (int w = 0; w < kThreads; ++w) {
    EXPECT_TRUE(first_failure[w].empty()) << "thread " << w << ": " << first_failure[w];
  }
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(t.ct.count_live(0), 0u);
}

}  // namespace
}  // namespace dvr::dp
