// The underlay's pure parts (control/underlay/): the neighbour table's state machine with a fake
// clock, the choice of underlay next hop, and the VXLAN outer header template together with the
// arithmetic a worker uses to complete it. No EAL, no DPDK.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "neighbor_table.h"
#include "net_addr.h"
#include "outer_header.h"

namespace dvr {
namespace {

using State = NeighborTable::State;

uint32_t Ip(const char* s) {
  const auto ip = parse_ipv4(s);
  EXPECT_TRUE(ip.has_value()) << s;
  return ip.value_or(0);
}

Ipv4Prefix Prefix(const char* s) {
  const auto p = parse_ipv4_prefix(s, /*strict=*/true);
  EXPECT_TRUE(p.has_value()) << s;
  return p.value_or(Ipv4Prefix{});
}

constexpr std::array<uint8_t, 6> kMacA{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
constexpr std::array<uint8_t, 6> kMacB{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

// --- NeighborTable ---------------------------------------------------------------------------

// Short timers so that the arithmetic in the expectations is easy to follow.
constexpr NeighborTimers kTimers{/*reachable_ms=*/10000, /*probe_interval_ms=*/1000,
                                 /*max_probes=*/3};

class NeighborTableTest : public ::testing::Test {
 protected:
  NeighborTableTest() : table_(kTimers) {}

  // tick() at `now`; `lost` says whether it reported a lost MAC.
  std::vector<uint32_t> Tick(uint64_t now, bool* lost = nullptr) {
    bool changed = false;
    auto ask = table_.tick(now, changed);
    if (lost != nullptr) *lost = changed;
    return ask;
  }
  const NeighborTable::Entry& At(uint32_t ip) {
    const NeighborTable::Entry* e = table_.find(ip);
    EXPECT_NE(e, nullptr) << format_ipv4(ip);
    static const NeighborTable::Entry kMissing;
    return e != nullptr ? *e : kMissing;
  }

  NeighborTable table_;
  const uint32_t a_ = Ip("192.0.2.1");
  const uint32_t b_ = Ip("192.0.2.2");
  const uint32_t c_ = Ip("192.0.2.3");
  using Ips = std::vector<uint32_t>;
};

TEST_F(NeighborTableTest, DefaultTimers) {
  const NeighborTimers t;
  EXPECT_EQ(t.reachable_ms, 30000u);
  EXPECT_EQ(t.probe_interval_ms, 1000u);
  EXPECT_EQ(t.max_probes, 3u);
}

TEST_F(NeighborTableTest, EmptyTableAsksNothing) {
  bool lost = true;
  EXPECT_TRUE(Tick(0, &lost).empty());
  EXPECT_FALSE(lost);
  EXPECT_TRUE(table_.entries().empty());
  EXPECT_EQ(table_.find(a_), nullptr);
}

TEST_F(NeighborTableTest, NewEntryStartsIncompleteAndIsAskedAtTheFirstTick) {
  table_.set_wanted({a_});
  const auto& e = At(a_);
  EXPECT_EQ(e.state, State::kIncomplete);
  EXPECT_FALSE(e.has_mac);
  EXPECT_EQ(e.probes, 0u);
  // The first tick asks at once, whatever the clock says.
  bool lost = true;
  EXPECT_EQ(Tick(123456, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(At(a_).state, State::kIncomplete);
  EXPECT_EQ(At(a_).probes, 1u);
  EXPECT_EQ(At(a_).next_probe_ms, 123456u + 1000u);
}

TEST_F(NeighborTableTest, IncompleteIsAskedEveryProbeIntervalForever) {
  table_.set_wanted({a_});
  EXPECT_EQ(Tick(5000), Ips{a_});
  EXPECT_TRUE(Tick(5000).empty());  // the same instant again: already asked
  EXPECT_TRUE(Tick(5999).empty());
  EXPECT_EQ(Tick(6000), Ips{a_});
  EXPECT_TRUE(Tick(6999).empty());
  // A late tick asks, and the next request is one interval after it (not after the schedule).
  EXPECT_EQ(Tick(7500), Ips{a_});
  EXPECT_TRUE(Tick(8499).empty());
  EXPECT_EQ(Tick(8500), Ips{a_});
  // An incomplete entry has no MAC to lose: however many requests go unanswered, it is asked
  // again and `changed` is never set for it.
  for (uint64_t t = 9500; t < 30000; t += 1000) {
    bool lost = true;
    EXPECT_EQ(Tick(t, &lost), Ips{a_}) << t;
    EXPECT_FALSE(lost) << t;
    EXPECT_EQ(At(a_).state, State::kIncomplete) << t;
    EXPECT_FALSE(At(a_).has_mac) << t;
  }
}

TEST_F(NeighborTableTest, ReplyMakesReachableAndReportsANewMac) {
  table_.set_wanted({a_});
  EXPECT_EQ(Tick(1000), Ips{a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 1200));
  const auto& e = At(a_);
  EXPECT_EQ(e.state, State::kReachable);
  EXPECT_TRUE(e.has_mac);
  EXPECT_EQ(e.mac, kMacA);
  EXPECT_EQ(e.confirmed_ms, 1200u);
  EXPECT_EQ(e.probes, 0u);
  EXPECT_EQ(e.next_probe_ms, 1200u + 10000u);
}

TEST_F(NeighborTableTest, ReplyBeforeAnyRequestIsAccepted) {
  // The entry is wanted: a reply (e.g. to a request sent before a restart) is not unsolicited.
  table_.set_wanted({a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 0));
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_TRUE(Tick(9999).empty());
}

TEST_F(NeighborTableTest, ChangedOnlyWhenTheMacIsNewOrDifferent) {
  table_.set_wanted({a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 100));
  // The same MAC again: a refresh, not a change; it restarts the reachable period.
  EXPECT_FALSE(table_.on_reply(a_, kMacA, 2000));
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_EQ(At(a_).confirmed_ms, 2000u);
  EXPECT_EQ(At(a_).next_probe_ms, 12000u);
  EXPECT_TRUE(Tick(11999).empty());
  // The neighbour moved (or was replaced): a different MAC is a change.
  EXPECT_TRUE(table_.on_reply(a_, kMacB, 3000));
  EXPECT_EQ(At(a_).mac, kMacB);
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_FALSE(table_.on_reply(a_, kMacB, 3001));
  // Back to the first MAC: a change again.
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 3002));
  EXPECT_EQ(At(a_).mac, kMacA);
}

TEST_F(NeighborTableTest, ReachableTurnsStaleAfterReachableMsAndKeepsItsMacWhileProbed) {
  table_.set_wanted({a_});
  EXPECT_EQ(Tick(0), Ips{a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 500));
  // Nothing to ask during the reachable period.
  for (uint64_t t = 500; t < 10500; t += 500) EXPECT_TRUE(Tick(t).empty()) << t;
  EXPECT_TRUE(Tick(10499).empty());
  EXPECT_EQ(At(a_).state, State::kReachable);
  // reachable_ms after the reply: stale, re-confirmed, MAC kept.
  bool lost = true;
  EXPECT_EQ(Tick(10500, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(At(a_).state, State::kStale);
  EXPECT_TRUE(At(a_).has_mac);
  EXPECT_EQ(At(a_).mac, kMacA);
  EXPECT_EQ(At(a_).probes, 1u);
  // Probed every interval, still with its MAC, up to max_probes requests.
  EXPECT_TRUE(Tick(11499).empty());
  EXPECT_EQ(Tick(11500, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(At(a_).state, State::kStale);
  EXPECT_TRUE(At(a_).has_mac);
  EXPECT_EQ(At(a_).probes, 2u);
  EXPECT_TRUE(Tick(12499).empty());
  EXPECT_EQ(Tick(12500, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(At(a_).state, State::kStale);
  EXPECT_TRUE(At(a_).has_mac);
  EXPECT_EQ(At(a_).mac, kMacA);
  EXPECT_EQ(At(a_).probes, 3u);
}

TEST_F(NeighborTableTest, StaleAnsweredBecomesReachableWithoutAChange) {
  table_.set_wanted({a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 0));
  EXPECT_EQ(Tick(10000), Ips{a_});
  EXPECT_EQ(Tick(11000), Ips{a_});
  ASSERT_EQ(At(a_).state, State::kStale);
  // The same MAC: reachable again, nothing changed for the dataplane.
  EXPECT_FALSE(table_.on_reply(a_, kMacA, 11500));
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_EQ(At(a_).probes, 0u);
  EXPECT_EQ(At(a_).confirmed_ms, 11500u);
  // A full reachable period again, counted from this reply.
  EXPECT_TRUE(Tick(12000).empty());
  EXPECT_TRUE(Tick(21499).empty());
  EXPECT_EQ(Tick(21500), Ips{a_});
  EXPECT_EQ(At(a_).state, State::kStale);
  // Then three unanswered probes are allowed again (the counter restarted).
  EXPECT_EQ(Tick(22500), Ips{a_});
  EXPECT_EQ(Tick(23500), Ips{a_});
  bool lost = true;
  EXPECT_EQ(Tick(23500 + 999, &lost), Ips{});
  EXPECT_FALSE(lost);
  EXPECT_TRUE(At(a_).has_mac);
}

TEST_F(NeighborTableTest, StaleAnsweredWithAnotherMacIsAChange) {
  table_.set_wanted({a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 0));
  EXPECT_EQ(Tick(10000), Ips{a_});
  ASSERT_EQ(At(a_).state, State::kStale);
  EXPECT_TRUE(table_.on_reply(a_, kMacB, 10100));
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_EQ(At(a_).mac, kMacB);
}

TEST_F(NeighborTableTest, MacDroppedAfterMaxProbesUnanswered) {
  table_.set_wanted({a_});
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 0));
  bool lost = true;
  // max_probes (3) re-confirmations at 10000, 11000, 12000, none answered...
  for (uint64_t t : {10000u, 11000u, 12000u}) {
    EXPECT_EQ(Tick(t, &lost), Ips{a_}) << t;
    EXPECT_FALSE(lost) << t;
    EXPECT_TRUE(At(a_).has_mac) << t;
  }
  EXPECT_TRUE(Tick(12999, &lost).empty());
  EXPECT_FALSE(lost);
  EXPECT_TRUE(At(a_).has_mac);
  // ... so at the next due tick the MAC is dropped, `changed` is set, and it is asked again.
  EXPECT_EQ(Tick(13000, &lost), Ips{a_});
  EXPECT_TRUE(lost);
  EXPECT_EQ(At(a_).state, State::kIncomplete);
  EXPECT_FALSE(At(a_).has_mac);
  EXPECT_EQ(At(a_).probes, 1u);
  // From here on it is an ordinary incomplete entry: asked every interval, nothing more lost.
  EXPECT_TRUE(Tick(13999, &lost).empty());
  EXPECT_EQ(Tick(14000, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(Tick(15000, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(Tick(16000, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(Tick(17000, &lost), Ips{a_});
  EXPECT_FALSE(lost);
  EXPECT_EQ(At(a_).state, State::kIncomplete);
  // A reply after the loss is a change even with the MAC the entry had before.
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 17500));
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_TRUE(At(a_).has_mac);
  EXPECT_EQ(At(a_).mac, kMacA);
}

TEST_F(NeighborTableTest, MaxProbesIsHonoured) {
  for (uint32_t max_probes : {1u, 2u, 5u}) {
    NeighborTable t({/*reachable_ms=*/100, /*probe_interval_ms=*/10, max_probes});
    t.set_wanted({a_});
    EXPECT_TRUE(t.on_reply(a_, kMacA, 0));
    bool lost = false;
    for (uint32_t i = 0; i < max_probes; ++i) {
      EXPECT_EQ(t.tick(100 + 10 * i, lost), Ips{a_}) << max_probes << " " << i;
      EXPECT_FALSE(lost) << max_probes << " " << i;
      EXPECT_TRUE(t.find(a_)->has_mac) << max_probes << " " << i;
    }
    EXPECT_EQ(t.tick(100 + 10 * max_probes, lost), Ips{a_}) << max_probes;
    EXPECT_TRUE(lost) << max_probes;
    EXPECT_FALSE(t.find(a_)->has_mac) << max_probes;
    EXPECT_EQ(t.find(a_)->state, State::kIncomplete) << max_probes;
  }
}

TEST_F(NeighborTableTest, TickSetsButNeverClearsChanged) {
  table_.set_wanted({a_});
  bool changed = true;
  EXPECT_EQ(table_.tick(0, changed), Ips{a_});
  EXPECT_TRUE(changed);  // left as the caller had it: tick() only reports losses
}

TEST_F(NeighborTableTest, RepliesFromUnwantedAddressesAreIgnored) {
  table_.set_wanted({a_});
  EXPECT_FALSE(table_.on_reply(b_, kMacB, 100));
  EXPECT_EQ(table_.find(b_), nullptr);
  EXPECT_EQ(table_.entries().size(), 1u);
  EXPECT_EQ(At(a_).state, State::kIncomplete);
  EXPECT_FALSE(At(a_).has_mac);
  // Nor does it confuse a later tick.
  EXPECT_EQ(Tick(200), Ips{a_});
  // An empty table learns nothing either.
  NeighborTable empty(kTimers);
  EXPECT_FALSE(empty.on_reply(a_, kMacA, 0));
  EXPECT_TRUE(empty.entries().empty());
}

TEST_F(NeighborTableTest, SetWantedForgetsOthersAndKeepsKnownOnes) {
  table_.set_wanted({a_, b_});
  EXPECT_EQ(Tick(0), (Ips{a_, b_}));
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 100));
  EXPECT_TRUE(table_.on_reply(b_, kMacB, 100));

  table_.set_wanted({a_, c_});
  EXPECT_EQ(table_.entries().size(), 2u);
  EXPECT_EQ(table_.find(b_), nullptr);
  // a keeps everything it knew.
  EXPECT_EQ(At(a_).state, State::kReachable);
  EXPECT_TRUE(At(a_).has_mac);
  EXPECT_EQ(At(a_).mac, kMacA);
  EXPECT_EQ(At(a_).confirmed_ms, 100u);
  // c is new: incomplete, asked at the next tick (a is not due).
  EXPECT_EQ(At(c_).state, State::kIncomplete);
  EXPECT_FALSE(At(c_).has_mac);
  EXPECT_EQ(Tick(200), Ips{c_});
  // A reply from the forgotten b is now unsolicited.
  EXPECT_FALSE(table_.on_reply(b_, kMacB, 300));
  EXPECT_EQ(table_.find(b_), nullptr);
  // Setting the same set again changes nothing.
  const auto before = table_.entries();
  table_.set_wanted({a_, c_});
  ASSERT_EQ(table_.entries().size(), before.size());
  EXPECT_EQ(At(c_).probes, before.at(c_).probes);
  EXPECT_EQ(At(c_).next_probe_ms, before.at(c_).next_probe_ms);
  // b wanted again starts from scratch (its old MAC was forgotten).
  table_.set_wanted({a_, b_, c_});
  EXPECT_EQ(At(b_).state, State::kIncomplete);
  EXPECT_FALSE(At(b_).has_mac);
  EXPECT_TRUE(table_.on_reply(b_, kMacB, 400));
  // The empty set forgets everything.
  table_.set_wanted({});
  EXPECT_TRUE(table_.entries().empty());
  EXPECT_TRUE(Tick(100000).empty());
}

TEST_F(NeighborTableTest, EntriesAreIndependent) {
  table_.set_wanted({a_, b_});
  EXPECT_EQ(Tick(0), (Ips{a_, b_}));
  EXPECT_TRUE(table_.on_reply(a_, kMacA, 500));
  // b stays incomplete and is asked every interval while a is reachable.
  EXPECT_EQ(Tick(1000), Ips{b_});
  EXPECT_EQ(Tick(2000), Ips{b_});
  EXPECT_TRUE(table_.on_reply(b_, kMacB, 2500));
  EXPECT_TRUE(Tick(10000).empty());
  EXPECT_EQ(Tick(10500), Ips{a_});
  EXPECT_EQ(Tick(11500), Ips{a_});
  EXPECT_EQ(Tick(12500), (Ips{a_, b_}));
  // a loses its MAC at 13500 (probes 10500, 11500, 12500); b is only stale.
  bool lost = false;
  EXPECT_EQ(Tick(13500, &lost), (Ips{a_, b_}));
  EXPECT_TRUE(lost);
  EXPECT_FALSE(At(a_).has_mac);
  EXPECT_TRUE(At(b_).has_mac);
  EXPECT_EQ(At(b_).state, State::kStale);
}

TEST_F(NeighborTableTest, StateNames) {
  EXPECT_STREQ(NeighborTable::state_name(State::kIncomplete), "incomplete");
  EXPECT_STREQ(NeighborTable::state_name(State::kReachable), "reachable");
  EXPECT_STREQ(NeighborTable::state_name(State::kStale), "stale");
}

// --- underlay_next_hop -----------------------------------------------------------------------

TEST(UnderlayNextHopTest, OnLinkIsReachedDirectly) {
  const Ipv4Prefix onlink = Prefix("192.0.2.0/24");
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.20"), onlink, {}), Ip("192.0.2.20"));
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.0"), onlink, {}), Ip("192.0.2.0"));
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.255"), onlink, {}), Ip("192.0.2.255"));
  // Even when a route would also match: the subnet is on the wire.
  const std::vector<UnderlayRouteEntry> routes{{Prefix("0.0.0.0/0"), Ip("192.0.2.1")},
                                               {Prefix("192.0.2.20/32"), Ip("192.0.2.1")}};
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.20"), onlink, routes), Ip("192.0.2.20"));
}

TEST(UnderlayNextHopTest, LongestPrefixWinsWhateverTheOrder) {
  const Ipv4Prefix onlink = Prefix("192.0.2.0/24");
  std::vector<UnderlayRouteEntry> routes{{Prefix("198.51.0.0/16"), Ip("192.0.2.16")},
                                         {Prefix("198.51.100.0/24"), Ip("192.0.2.24")},
                                         {Prefix("198.0.0.0/8"), Ip("192.0.2.8")},
                                         {Prefix("198.51.100.128/25"), Ip("192.0.2.25")}};
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(underlay_next_hop(Ip("198.51.100.200"), onlink, routes), Ip("192.0.2.25"));
    EXPECT_EQ(underlay_next_hop(Ip("198.51.100.127"), onlink, routes), Ip("192.0.2.24"));
    EXPECT_EQ(underlay_next_hop(Ip("198.51.101.1"), onlink, routes), Ip("192.0.2.16"));
    EXPECT_EQ(underlay_next_hop(Ip("198.52.0.1"), onlink, routes), Ip("192.0.2.8"));
    EXPECT_EQ(underlay_next_hop(Ip("199.0.0.1"), onlink, routes), std::nullopt);
    std::reverse(routes.begin(), routes.end());
  }
}

TEST(UnderlayNextHopTest, DefaultRouteCatchesTheRest) {
  const Ipv4Prefix onlink = Prefix("192.0.2.0/24");
  const std::vector<UnderlayRouteEntry> routes{{Prefix("0.0.0.0/0"), Ip("192.0.2.1")},
                                               {Prefix("203.0.113.0/24"), Ip("192.0.2.2")}};
  EXPECT_EQ(underlay_next_hop(Ip("198.51.100.7"), onlink, routes), Ip("192.0.2.1"));
  EXPECT_EQ(underlay_next_hop(Ip("255.255.255.254"), onlink, routes), Ip("192.0.2.1"));
  EXPECT_EQ(underlay_next_hop(Ip("0.0.0.1"), onlink, routes), Ip("192.0.2.1"));
  EXPECT_EQ(underlay_next_hop(Ip("203.0.113.9"), onlink, routes), Ip("192.0.2.2"));
}

TEST(UnderlayNextHopTest, NothingMatches) {
  const Ipv4Prefix onlink = Prefix("192.0.2.0/24");
  EXPECT_EQ(underlay_next_hop(Ip("198.51.100.7"), onlink, {}), std::nullopt);
  const std::vector<UnderlayRouteEntry> routes{{Prefix("203.0.113.0/24"), Ip("192.0.2.2")},
                                               {Prefix("198.51.100.8/29"), Ip("192.0.2.3")}};
  EXPECT_EQ(underlay_next_hop(Ip("198.51.100.7"), onlink, routes), std::nullopt);
  EXPECT_EQ(underlay_next_hop(Ip("192.0.3.1"), onlink, routes), std::nullopt);
  // A /32 on-link subnet holds only itself.
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.11"), Prefix("192.0.2.10/32"), {}), std::nullopt);
  EXPECT_EQ(underlay_next_hop(Ip("192.0.2.10"), Prefix("192.0.2.10/32"), {}), Ip("192.0.2.10"));
}

// --- make_outer_header -----------------------------------------------------------------------

const Mac kSrcMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
const Mac kDstMac{0x0a, 0x66, 0x77, 0x88, 0x99, 0xaa};

// The bytes the template must hold, written out field by field from RFC 791/768/7348.
std::array<uint8_t, 50> ExpectedTemplate(const Mac& src, const Mac& dst, uint32_t sip, uint32_t dip,
                                         uint16_t port) {
  std::array<uint8_t, 50> b{};
  for (int i = 0; i < 6; ++i) {
    b[i] = dst[i];
    b[6 + i] = src[i];
  }
  b[12] = 0x08;  // IPv4
  b[13] = 0x00;
  b[14] = 0x45;       // version 4, IHL 5
  b[15] = 0x00;       // DSCP/ECN
  b[16] = b[17] = 0;  // total length: the worker's
  b[18] = b[19] = 0;  // identification
  b[20] = 0x40;       // DF, fragment offset 0
  b[21] = 0x00;       //
  b[22] = 64;         // TTL
  b[23] = 17;         // UDP
  b[24] = b[25] = 0;  // checksum: the worker's
  for (int i = 0; i < 4; ++i) {
    b[26 + i] = static_cast<uint8_t>(sip >> (24 - 8 * i));
    b[30 + i] = static_cast<uint8_t>(dip >> (24 - 8 * i));
  }
  b[34] = b[35] = 0;  // UDP source port: the worker's
  b[36] = static_cast<uint8_t>(port >> 8);
  b[37] = static_cast<uint8_t>(port);
  // 38..41: UDP length (the worker's) and checksum (0)
  b[42] = 0x08;  // VXLAN flags: I
  // 43..45 reserved, 46..48 VNI (the worker's), 49 reserved
  return b;
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x ", p[i]);
    s += buf;
  }
  return s;
}

TEST(OuterHeaderTest, LayoutConstants) {
  EXPECT_EQ(dp::kVxlanOverhead, 50);
  EXPECT_EQ(dp::kOuterIpOffset, 14);
  EXPECT_EQ(dp::kOuterUdpOffset, 34);
  EXPECT_EQ(dp::kVxlanHeaderOffset, 42);
  EXPECT_EQ(dp::kVxlanFlagVniValid, 0x08);
  EXPECT_FALSE(dp::OuterHeader{}.resolved);
}

TEST(OuterHeaderTest, EveryByteOfTheTemplate) {
  struct Case {
    Mac src, dst;
    const char* sip;
    const char* dip;
    uint16_t port;
  };
  const Case cases[] = {
      {kSrcMac, kDstMac, "192.0.2.10", "198.51.100.20", 4789},
      {kDstMac, kSrcMac, "10.1.2.3", "172.16.254.1", 8472},
      {{0x02, 0xff, 0xff, 0xff, 0xff, 0xfe},
       {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff},
       "255.255.255.254",
       "254.253.252.251",
       65535},
      {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, "0.0.0.1", "1.0.0.0", 1},
  };
  for (const Case& c : cases) {
    const dp::OuterHeader h = make_outer_header(c.src, c.dst, Ip(c.sip), Ip(c.dip), c.port);
    const auto want = ExpectedTemplate(c.src, c.dst, Ip(c.sip), Ip(c.dip), c.port);
    EXPECT_TRUE(h.resolved) << c.sip;
    EXPECT_EQ(Hex(h.bytes, 50), Hex(want.data(), 50)) << c.sip << " -> " << c.dip;
  }
}

TEST(OuterHeaderTest, FieldsByName) {
  const dp::OuterHeader h =
      make_outer_header(kSrcMac, kDstMac, Ip("192.0.2.10"), Ip("198.51.100.20"), 4789);
  const uint8_t* b = h.bytes;
  EXPECT_EQ(Mac(std::to_array({b[0], b[1], b[2], b[3], b[4], b[5]})), kDstMac);
  EXPECT_EQ(Mac(std::to_array({b[6], b[7], b[8], b[9], b[10], b[11]})), kSrcMac);
  const uint8_t* ip = b + dp::kOuterIpOffset;
  EXPECT_EQ(ip[0] >> 4, 4);
  EXPECT_EQ(ip[0] & 0x0f, 5);
  EXPECT_EQ(ip[6] & 0x40, 0x40) << "DF";
  EXPECT_EQ(ip[6] & 0x80, 0) << "reserved flag";
  EXPECT_EQ(ip[6] & 0x20, 0) << "MF";
  EXPECT_EQ(ip[8], 64);
  EXPECT_EQ(ip[9], 17);
  EXPECT_EQ(uint32_t{ip[12]} << 24 | uint32_t{ip[13]} << 16 | uint32_t{ip[14]} << 8 | ip[15],
            Ip("192.0.2.10"));
  EXPECT_EQ(uint32_t{ip[16]} << 24 | uint32_t{ip[17]} << 16 | uint32_t{ip[18]} << 8 | ip[19],
            Ip("198.51.100.20"));
  const uint8_t* udp = b + dp::kOuterUdpOffset;
  EXPECT_EQ(uint16_t(udp[2] << 8 | udp[3]), 4789);
  EXPECT_EQ(b[dp::kVxlanHeaderOffset], 0x08);
}

// --- Completing the template as vxlan_encap.cc does ------------------------------------------

uint16_t Be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// RFC 1071: the folded one's complement sum of the IPv4 header's 16-bit words.
uint16_t FoldedSum(const uint8_t* ip, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i += 2) sum += Be16(ip + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

struct Completion {
  std::array<uint8_t, 50> bytes;
  bool first_add_carried = false;    // ip_sum + length needed folding
  bool second_fold_carried = false;  // the first fold carried again
};

// What a worker does with the template for an inner frame of `inner` bytes (our own rendering of
// the arithmetic in dataplane/overlay/vxlan_encap.cc).
Completion Complete(const dp::OuterHeader& h, uint32_t inner, uint16_t src_port, uint32_t vni) {
  Completion c;
  std::copy(std::begin(h.bytes), std::end(h.bytes), c.bytes.begin());
  uint8_t* ip = c.bytes.data() + 14;
  const uint32_t total = inner + 50 - 14;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  uint32_t s = h.ip_sum + total;
  c.first_add_carried = (s >> 16) != 0;
  s = (s >> 16) + (s & 0xffff);
  c.second_fold_carried = (s >> 16) != 0;
  s = (s >> 16) + (s & 0xffff);
  const uint16_t check = static_cast<uint16_t>(~s & 0xffff);
  ip[10] = static_cast<uint8_t>(check >> 8);
  ip[11] = static_cast<uint8_t>(check);
  uint8_t* udp = c.bytes.data() + 34;
  udp[0] = static_cast<uint8_t>(src_port >> 8);
  udp[1] = static_cast<uint8_t>(src_port);
  udp[4] = static_cast<uint8_t>((total - 20) >> 8);
  udp[5] = static_cast<uint8_t>(total - 20);
  uint8_t* vx = c.bytes.data() + 42;
  vx[4] = static_cast<uint8_t>(vni >> 16);
  vx[5] = static_cast<uint8_t>(vni >> 8);
  vx[6] = static_cast<uint8_t>(vni);
  return c;
}

TEST(OuterHeaderTest, IpSumIsTheTemplatesHeaderSum) {
  const dp::OuterHeader h =
      make_outer_header(kSrcMac, kDstMac, Ip("192.0.2.10"), Ip("198.51.100.20"), 4789);
  // Whatever partial folding the template keeps, it must be the same one's complement value as the
  // header it describes (length and checksum still zero) and leave room to add a length.
  uint64_t s = h.ip_sum;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  EXPECT_EQ(s, FoldedSum(h.bytes + 14, 20));
  EXPECT_LT(h.ip_sum, 0xffff0000u);
}

TEST(OuterHeaderTest, CompletedHeaderChecksumVerifies) {
  struct Path {
    const char* sip;
    const char* dip;
  };
  // Ordinary addresses, all-ones ones whose words push the sum over 0xffff more than once, and
  // one whose template sum is 0x1f000 (0xc511 for the fixed words + 0xffff + 0x2aef + 0x0001), so
  // that adding a length of 4096 and more carries out of 16 bits, and the first fold of
  // 0x1ffff and up carries again.
  const Path paths[] = {{"192.0.2.10", "198.51.100.20"},
                        {"10.0.0.1", "10.0.0.2"},
                        {"255.255.255.254", "255.255.255.253"},
                        {"254.255.0.255", "191.255.255.255"},
                        {"1.0.0.0", "0.0.0.1"},
                        {"255.255.42.239", "0.0.0.1"}};
  int first_carries = 0, second_carries = 0, checked = 0;
  bool unfolded = false;
  for (const Path& p : paths) {
    const dp::OuterHeader h = make_outer_header(kSrcMac, kDstMac, Ip(p.sip), Ip(p.dip), 4789);
    unfolded |= h.ip_sum > 0xffff;
    // Every frame a worker can build: from a bare Ethernet header up to a 65535-byte IPv4 packet
    // (jumbo frames of 9000 included).
    for (uint32_t inner = 14; inner <= 65535 - 36; ++inner) {
      const Completion c = Complete(h, inner, 0xc123, 0xabcdef);
      const uint8_t* ip = c.bytes.data() + 14;
      ASSERT_EQ(FoldedSum(ip, 20), 0xffff)
          << p.sip << " -> " << p.dip << " inner " << inner << ": " << Hex(ip, 20);
      // The same checksum as one computed from scratch over the finished header.
      std::array<uint8_t, 20> zeroed;
      std::copy(ip, ip + 20, zeroed.begin());
      zeroed[10] = zeroed[11] = 0;
      ASSERT_EQ(Be16(ip + 10), static_cast<uint16_t>(~FoldedSum(zeroed.data(), 20)))
          << p.sip << " inner " << inner;
      ASSERT_EQ(Be16(ip + 2), inner + 36);
      ASSERT_EQ(Be16(c.bytes.data() + 38), inner + 16);
      if (inner >= 64 && inner <= 9000) {
        first_carries += c.first_add_carried;
        second_carries += c.second_fold_carried;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * (65535 - 36 - 14 + 1));
  // Lengths from 64 to 9000 did exercise the carries (the second fold only matters when the
  // template's sum is kept unfolded, as underlay_state.h says it is).
  EXPECT_GT(first_carries, 0);
  if (unfolded) {
    EXPECT_GT(second_carries, 0);
  }
}

TEST(OuterHeaderTest, CompletedHeaderFieldsAroundTheTemplate) {
  const dp::OuterHeader h =
      make_outer_header(kSrcMac, kDstMac, Ip("192.0.2.10"), Ip("198.51.100.20"), 4789);
  const Completion c = Complete(h, 1514, 0xc001, 0x123456);
  const auto want = ExpectedTemplate(kSrcMac, kDstMac, Ip("192.0.2.10"), Ip("198.51.100.20"), 4789);
  // Only the worker's fields differ from the template.
  const std::set<size_t> workers_fields{16, 17, 24, 25, 34, 35, 38, 39, 46, 47, 48};
  for (size_t i = 0; i < 50; ++i) {
    if (!workers_fields.contains(i)) {
      EXPECT_EQ(c.bytes[i], want[i]) << "byte " << i;
    }
  }
  EXPECT_EQ(Be16(c.bytes.data() + 16), 1550);
  EXPECT_EQ(Be16(c.bytes.data() + 34), 0xc001);
  EXPECT_EQ(Be16(c.bytes.data() + 38), 1530);
  EXPECT_EQ(Be16(c.bytes.data() + 40), 0);  // no UDP checksum
  EXPECT_EQ(c.bytes[46], 0x12);
  EXPECT_EQ(c.bytes[47], 0x34);
  EXPECT_EQ(c.bytes[48], 0x56);
  EXPECT_EQ(c.bytes[49], 0);
}

}  // namespace
}  // namespace dvr
