// RouterRoutes in each representation against the reference lookup: random overlapping route
// sets, replacement, deletes that uncover shorter prefixes, edge addresses, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "route_table/compact_table.h"
#include "test_util.h"

namespace dvr::dp::test {
namespace {

enum class Mode { kCompact, kLpm };

RouteTableOptions options_for(Mode m) {
  RouteTableOptions o;
  o.compact_max_routes = m == Mode::kCompact ? SIZE_MAX : 0;  // force one representation
  return o;
}

class RouterRoutesTest : public ::testing::TestWithParam<Mode> {
 protected:
  const char* expected_kind() const { return GetParam() == Mode::kCompact ? "compact" : "lpm"; }
};

TEST_P(RouterRoutesTest, ExplicitLongestPrefixMatch) {
  RouterRoutes rr("explicit", options_for(GetParam()));
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.3")), kNoRoute);
  rr.apply({}, {{pfx("10.0.0.0/8"), 1},
                {pfx("10.1.0.0/16"), 2},
                {pfx("10.1.2.0/24"), 3},
                {pfx("10.1.2.3/32"), 4},
                {pfx("10.1.2.128/25"), 5}});
  rr.release_retired();
  EXPECT_STREQ(rr.table()->kind(), expected_kind());
  EXPECT_EQ(rr.table()->route_count(), 5u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.3")), 4u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.2")), 3u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.4")), 3u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.127")), 3u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.128")), 5u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.255")), 5u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.3.0")), 2u);
  EXPECT_EQ(lookup_one(rr, ip("10.2.0.0")), 1u);
  EXPECT_EQ(lookup_one(rr, ip("9.255.255.255")), kNoRoute);
  EXPECT_EQ(lookup_one(rr, ip("11.0.0.0")), kNoRoute);

  // Deletes uncover the next shorter prefix.
  rr.apply({pfx("10.1.2.0/24")}, {});
  rr.release_retired();
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.2")), 2u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.3")), 4u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.200")), 5u);
  rr.apply({pfx("10.1.0.0/16"), pfx("10.1.2.128/25")}, {});
  rr.release_retired();
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.2")), 1u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.200")), 1u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.3")), 4u);

  // Next-hop replacement, default route, host routes at both ends of the address space.
  rr.apply({}, {{pfx("10.0.0.0/8"), 7},
                {pfx("0.0.0.0/0"), 9},
                {pfx("0.0.0.0/32"), 10},
                {pfx("255.255.255.255/32"), 11}});
  rr.release_retired();
  EXPECT_EQ(lookup_one(rr, ip("10.1.2.2")), 7u);
  EXPECT_EQ(lookup_one(rr, ip("11.0.0.0")), 9u);
  EXPECT_EQ(lookup_one(rr, 0), 10u);
  EXPECT_EQ(lookup_one(rr, 1), 9u);
  EXPECT_EQ(lookup_one(rr, UINT32_MAX), 11u);
  EXPECT_EQ(lookup_one(rr, UINT32_MAX - 1), 9u);
  EXPECT_EQ(rr.route_count(), 5u);
  EXPECT_EQ(rr.table()->route_count(), 5u);
  rr.apply({pfx("0.0.0.0/0")}, {});
  rr.release_retired();
  EXPECT_EQ(lookup_one(rr, ip("11.0.0.0")), kNoRoute);
  EXPECT_EQ(lookup_one(rr, ip("10.200.0.1")), 7u);
}

TEST_P(RouterRoutesTest, RandomRouteSetsMatchReference) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    RouterRoutes rr("random", options_for(GetParam()));
    std::vector<Route> all;
    for (int batch = 0; batch < 3; ++batch) {
      const std::vector<Route> adds = overlapping_routes(rng, 150, 1000);
      rr.apply({}, adds);
      rr.release_retired();
      all.insert(all.end(), adds.begin(), adds.end());
      ASSERT_STREQ(rr.table()->kind(), expected_kind());
      EXPECT_EQ(rr.table()->route_count(), rr.route_count());
      ASSERT_TRUE(matches_reference(rr, probes_for(all, rng, 3000)));
    }
    const size_t count = rr.route_count();

    // Replace the next hop of a third of the routes (counts stay).
    std::vector<Route> replace;
    const std::vector<Route> current = rr.routes();
    for (size_t i = 0; i < current.size(); i += 3) {
      replace.push_back({current[i].first, current[i].second + 1});
    }
    rr.apply({}, replace);
    rr.release_retired();
    EXPECT_EQ(rr.route_count(), count);
    EXPECT_EQ(rr.routes()[0].second, current[0].second + 1);
    ASSERT_TRUE(matches_reference(rr, probes_for(all, rng, 3000)));

    // Delete half of the routes plus some that do not exist; delete-and-add one in the batch.
    std::vector<RoutePrefix> dels;
    for (size_t i = 0; i < current.size(); i += 2) dels.push_back(current[i].first);
    const size_t deleted = dels.size();
    std::set<RouteSet::Key> present;
    for (const auto& [p, h] : current) present.insert(RouteSet::key(p));
    for (const auto& [p, h] : overlapping_routes(rng, 20, 1)) {
      if (present.count(RouteSet::key(RouteSet::normalize(p))) == 0) dels.push_back(p);
    }
    dels.push_back(current[1].first);  // also re-added below with a new next hop
    rr.apply(dels, {{current[1].first, 4242}});
    rr.release_retired();
    EXPECT_EQ(rr.route_count(), count - deleted);
    EXPECT_EQ(rr.table()->route_count(), count - deleted);
    const std::vector<Route> after = rr.routes();
    EXPECT_NE(std::find(after.begin(), after.end(), Route{current[1].first, 4242}), after.end());
    ASSERT_TRUE(matches_reference(rr, probes_for(all, rng, 3000)));

    // Delete everything.
    std::vector<RoutePrefix> rest;
    for (const auto& [p, h] : rr.routes()) rest.push_back(p);
    rr.apply(rest, {});
    rr.release_retired();
    EXPECT_EQ(rr.route_count(), 0u);
    std::vector<uint32_t> probes = probes_for(all, rng, 1000);
    ASSERT_TRUE(matches_reference(rr, probes));
    EXPECT_EQ(lookup_one(rr, probes.back()), kNoRoute);
  }
}

TEST_P(RouterRoutesTest, HostBitsAreIgnoredAndMissingDeletesAreNoOps) {
  RouterRoutes rr("norm", options_for(GetParam()));
  EXPECT_TRUE(rr.apply({}, {{pfx("10.1.2.3/8"), 1}}));  // the empty table is always compact
  rr.release_retired();
  ASSERT_EQ(rr.routes().size(), 1u);
  EXPECT_EQ(rr.routes()[0].first, pfx("10.0.0.0/8"));
  EXPECT_EQ(lookup_one(rr, ip("10.255.0.1")), 1u);

  // Deleting a prefix that is not there (or adding one unchanged) is ignored: no error, no new
  // table, nothing changes.
  const RouteTable* before = rr.table();
  EXPECT_FALSE(rr.apply({pfx("10.0.0.0/9"), pfx("11.0.0.0/8")}, {{pfx("10.9.9.9/8"), 1}}));
  EXPECT_EQ(rr.table(), before);
  EXPECT_EQ(rr.route_count(), 1u);
  // Deleting with host bits set deletes the normalized prefix.
  rr.apply({pfx("10.200.1.1/8")}, {});
  rr.release_retired();
  EXPECT_EQ(rr.route_count(), 0u);
  EXPECT_EQ(lookup_one(rr, ip("10.255.0.1")), kNoRoute);
}

TEST_P(RouterRoutesTest, BadInputIsRejectedWithoutChanges) {
  RouterRoutes rr("bad", options_for(GetParam()));
  rr.apply({}, {{pfx("10.0.0.0/8"), 1}, {pfx("10.1.0.0/16"), 2}});
  rr.release_retired();
  const RouteTable* before = rr.table();
  ASSERT_STREQ(before->kind(), expected_kind());

  EXPECT_THROW(rr.apply({}, {{pfx("10.2.0.0/16"), 3}, {{ip("10.3.0.0"), 33}, 3}}),
               std::invalid_argument);
  EXPECT_THROW(rr.apply({{ip("10.1.0.0"), 33}}, {{pfx("10.2.0.0/16"), 3}}), std::invalid_argument);
  EXPECT_THROW(rr.apply({pfx("10.1.0.0/16")}, {{pfx("10.2.0.0/16"), kMaxNextHop + 1}}),
               std::invalid_argument);
  EXPECT_THROW(rr.apply({}, {{pfx("10.2.0.0/16"), kNoRoute}}), std::invalid_argument);
  try {
    rr.apply({}, {{pfx("10.2.0.0/16"), 1u << 24}});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("16777216"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rr.table(), before);
  EXPECT_EQ(rr.route_count(), 2u);
  EXPECT_EQ(lookup_one(rr, ip("10.1.0.1")), 2u);
  EXPECT_EQ(lookup_one(rr, ip("10.2.0.1")), 1u);

  // The largest next hop is fine.
  rr.apply({}, {{pfx("10.2.0.0/16"), kMaxNextHop}});
  rr.release_retired();
  EXPECT_EQ(lookup_one(rr, ip("10.2.0.1")), kMaxNextHop);
}

INSTANTIATE_TEST_SUITE_P(Representations, RouterRoutesTest,
                         ::testing::Values(Mode::kCompact, Mode::kLpm),
                         [](const ::testing::TestParamInfo<Mode>& param) {
                           return std::string(param.param == Mode::kCompact ? "Compact" : "Lpm");
                         });

TEST(CompactTable, RejectsMalformedRanges) {
  EXPECT_THROW(CompactTable({}, 0), std::invalid_argument);
  EXPECT_THROW(CompactTable({{5, 1}}, 1), std::invalid_argument);
  EXPECT_THROW(CompactTable({{0, 1}, {7, 2}, {7, 3}}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace dvr::dp::test
