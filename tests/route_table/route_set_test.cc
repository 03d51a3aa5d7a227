// RouteSet: the reference lookup, the flattened ranges and the uncovered parts of a prefix,
// each checked against a brute-force scan of the routes.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "route_table/route_set.h"
#include "test_util.h"

namespace dvr::dp::test {
namespace {

// The final routes after adding `routes` in order (a later add of a prefix replaces it).
struct Brute {
  std::vector<Route> routes;
  void add(RoutePrefix p, NextHopId hop) {
    p = RouteSet::normalize(p);
    for (auto& r : routes) {
      if (r.first == p) {
        r.second = hop;
        return;
      }
    }
    routes.push_back({p, hop});
  }
  NextHopId lookup(uint32_t a) const {
    int best = -1;
    NextHopId hop = kNoRoute;
    for (const auto& [p, h] : routes) {
      if ((a & prefix_mask(p.depth)) == p.addr && p.depth > best) {
        best = p.depth;
        hop = h;
      }
    }
    return hop;
  }
  bool longer_route_covers(RoutePrefix p, uint32_t a) const {
    for (const auto& [q, h] : routes) {
      if (q.depth > p.depth && (a & prefix_mask(q.depth)) == q.addr) return true;
    }
    return false;
  }
};

struct Fixture {
  RouteSet set;
  Brute brute;
  std::vector<Route> added;
};

Fixture random_set(unsigned seed, size_t n) {
  std::mt19937 rng(seed);
  Fixture f;
  f.added = overlapping_routes(rng, n, 50);
  for (const auto& [p, hop] : f.added) {
    f.set.set(RouteSet::normalize(p), hop);
    f.brute.add(p, hop);
  }
  return f;
}

TEST(RouteSet, LookupMatchesBruteForce) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Fixture f = random_set(seed, 150);
    ASSERT_EQ(f.set.size(), f.brute.routes.size());
    std::mt19937 rng(seed + 1000);
    size_t wrong = 0;
    for (const uint32_t a : probes_for(f.added, rng, 500)) {
      wrong += f.set.lookup(a) != f.brute.lookup(a);
    }
    EXPECT_EQ(wrong, 0u) << "seed " << seed;
  }
}

TEST(RouteSet, FlattenedRangesAgreeWithLookup) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Fixture f = random_set(seed, 150);
    const std::vector<HopRange> ranges = f.set.flatten();
    ASSERT_FALSE(ranges.empty());
    EXPECT_EQ(ranges[0].start, 0u);
    EXPECT_LE(ranges.size(), 2 * f.set.size() + 1);
    size_t wrong = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
      const uint32_t last = i + 1 < ranges.size() ? ranges[i + 1].start - 1 : UINT32_MAX;
      if (i > 0) {
        EXPECT_LT(ranges[i - 1].start, ranges[i].start);
        EXPECT_NE(ranges[i - 1].hop, ranges[i].hop) << "unmerged neighbours at " << i;
      }
      wrong += f.brute.lookup(ranges[i].start) != ranges[i].hop;
      wrong += f.brute.lookup(last) != ranges[i].hop;
    }
    EXPECT_EQ(wrong, 0u) << "seed " << seed;
  }
}

TEST(RouteSet, FlattenEdgeCases) {
  RouteSet empty;
  const auto none = empty.flatten();
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].start, 0u);
  EXPECT_EQ(none[0].hop, kNoRoute);

  RouteSet s;
  s.set({0, 0}, 1);                     // default
  s.set(pfx("255.255.255.255/32"), 2);  // the very last address
  s.set(pfx("0.0.0.0/32"), 3);          // the very first
  s.set(pfx("10.0.0.0/8"), 1);          // same hop as its parent: merges away
  const auto r = s.flatten();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].start, 0u);
  EXPECT_EQ(r[0].hop, 3u);
  EXPECT_EQ(r[1].start, 1u);
  EXPECT_EQ(r[1].hop, 1u);
  EXPECT_EQ(r[2].start, UINT32_MAX);
  EXPECT_EQ(r[2].hop, 2u);
}

TEST(RouteSet, UncoveredIsThePrefixMinusLongerRoutes) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Fixture f = random_set(seed, 120);
    std::mt19937 rng(seed + 2000);
    std::vector<RoutePrefix> prefixes;
    for (const auto& [p, h] : f.added) prefixes.push_back(RouteSet::normalize(p));
    prefixes.push_back({0, 0});
    for (const auto& [p, h] : overlapping_routes(rng, 30, 1)) {
      prefixes.push_back(RouteSet::normalize(p));
    }
    size_t wrong = 0;
    for (const RoutePrefix& p : prefixes) {
      const std::vector<AddrRange> ranges = f.set.uncovered(p);
      const uint64_t end = prefix_end(p.addr, p.depth);
      std::vector<uint32_t> samples = {p.addr, static_cast<uint32_t>(end - 1)};
      for (size_t i = 0; i < ranges.size(); ++i) {
        EXPECT_LE(ranges[i].first, ranges[i].last);
        EXPECT_GE(ranges[i].first, p.addr);
        EXPECT_LT(ranges[i].last, end);
        if (i > 0) {
          EXPECT_LT(uint64_t{ranges[i - 1].last} + 1, ranges[i].first);  // a child between
        }
        for (const uint32_t a :
             {ranges[i].first - 1, ranges[i].first, ranges[i].last, ranges[i].last + 1}) {
          if (a >= p.addr && a < end) samples.push_back(a);
        }
      }
      for (int i = 0; i < 50; ++i) {
        samples.push_back(p.addr + static_cast<uint32_t>(rng() % (end - p.addr)));
      }
      for (const uint32_t a : samples) {
        bool inside = false;
        for (const AddrRange& r : ranges) inside |= a >= r.first && a <= r.last;
        wrong += inside == f.brute.longer_route_covers(p, a);
      }
    }
    EXPECT_EQ(wrong, 0u) << "seed " << seed;
  }
}

TEST(RouteSet, CoveringHopAndNormalize) {
  RouteSet s;
  s.set(pfx("10.0.0.0/8"), 1);
  s.set(pfx("10.1.0.0/16"), 2);
  s.set(pfx("10.1.2.0/24"), 3);
  EXPECT_EQ(s.covering_hop(pfx("10.1.2.0/24")), 2u);
  EXPECT_EQ(s.covering_hop(pfx("10.1.2.128/25")), 3u);
  EXPECT_EQ(s.covering_hop(pfx("10.1.0.0/16")), 1u);
  EXPECT_EQ(s.covering_hop(pfx("10.0.0.0/8")), kNoRoute);
  EXPECT_EQ(s.covering_hop(pfx("11.0.0.0/8")), kNoRoute);
  const RoutePrefix n = RouteSet::normalize(pfx("10.1.2.3/16"));
  EXPECT_EQ(n.addr, ip("10.1.0.0"));
  EXPECT_EQ(n.depth, 16);
  EXPECT_EQ(RouteSet::normalize(pfx("1.2.3.4/0")).addr, 0u);
  EXPECT_EQ(RouteSet::normalize(pfx("1.2.3.4/32")).addr, ip("1.2.3.4"));
  EXPECT_THROW(RouteSet::normalize({0, 33}), std::invalid_argument);
  EXPECT_TRUE(s.erase(pfx("10.1.0.0/16")));
  EXPECT_FALSE(s.erase(pfx("10.1.0.0/16")));
  EXPECT_EQ(s.lookup(ip("10.1.9.9")), 1u);
  EXPECT_EQ(s.lookup(ip("10.1.2.9")), 3u);
}

}  // namespace
}  // namespace dvr::dp::test
