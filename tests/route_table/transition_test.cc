// Switching representation: compact -> lpm above compact_max_routes, lpm -> compact below half
// of it (hysteresis), with the table pointer changing exactly when the representation does (or,
// for compact tables, on every change).
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "test_util.h"

namespace dvr::dp::test {
namespace {

std::vector<Route> distinct_routes(std::mt19937& rng, size_t n) {
  std::set<RouteSet::Key> seen;
  std::vector<Route> out;
  while (out.size() < n) {
    for (const auto& [p, hop] : overlapping_routes(rng, 1, 500)) {
      const RoutePrefix norm = RouteSet::normalize(p);
      if (seen.insert(RouteSet::key(norm)).second) out.push_back({norm, hop});
    }
  }
  return out;
}

class Transitions : public ::testing::Test {
 protected:
  Transitions()
      : rr_("transitions", [] {
          RouteTableOptions o;
          o.compact_max_routes = 64;
          return o;
        }()) {}

  // Applies one batch; checks the pointer change, the kind, the counts and the lookups.
  void step(const std::vector<RoutePrefix>& dels, const std::vector<Route>& adds,
            bool pointer_changes, const char* kind, size_t count) {
    const RouteTable* before = rr_.table();
    EXPECT_EQ(rr_.apply(dels, adds), pointer_changes);
    EXPECT_EQ(rr_.table() != before, pointer_changes);
    rr_.release_retired();
    EXPECT_STREQ(rr_.table()->kind(), kind);
    EXPECT_EQ(rr_.route_count(), count);
    EXPECT_EQ(rr_.table()->route_count(), count);
    EXPECT_TRUE(matches_reference(rr_, probes_for(pool_, rng_, 500)));
  }

  std::mt19937 rng_{99};
  std::vector<Route> pool_ = distinct_routes(rng_, 200);
  RouterRoutes rr_;
};

TEST_F(Transitions, GrowAndShrinkAcrossTheThreshold) {
  step({}, {pool_.begin(), pool_.begin() + 64}, true, "compact", 64);           // at the limit
  step({}, {pool_[64]}, true, "lpm", 65);                                       // above: lpm
  for (size_t i = 65; i < 100; ++i) step({}, {pool_[i]}, false, "lpm", i + 1);  // in place
  // Shrink: lpm stays down to 32 routes (half the limit) ...
  for (size_t i = 99; i >= 32; --i) step({pool_[i].first}, {}, false, "lpm", i);
  // ... and goes compact below that.
  step({pool_[31].first}, {}, true, "compact", 31);
  // Hysteresis the other way: compact until above 64 again (each change a new compact table).
  for (size_t i = 31; i < 64; ++i) step({}, {pool_[i]}, true, "compact", i + 1);
  step({}, {pool_[64]}, true, "lpm", 65);
  // One batch from lpm straight to a handful of routes, and one straight to 150.
  std::vector<RoutePrefix> dels;
  for (size_t i = 5; i < 65; ++i) dels.push_back(pool_[i].first);
  step(dels, {}, true, "compact", 5);
  step({}, {pool_.begin() + 5, pool_.begin() + 155}, true, "lpm", 155);
  // A batch that deletes and adds across the boundary in one go.
  dels.clear();
  for (size_t i = 0; i < 150; ++i) dels.push_back(pool_[i].first);
  step(dels, {pool_.begin() + 155, pool_.begin() + 200}, false, "lpm", 50);
  step({}, {}, false, "lpm", 50);
}

}  // namespace
}  // namespace dvr::dp::test
