// The memory requirements: 1,000 routers with 20 routes each far below 512 MiB, and one
// router holding 1,000,000 routes with lookups that agree with the reference.
#include <gtest/gtest.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <unordered_set>
#include <vector>

#include "route_table/lpm_table.h"
#include "test_util.h"

namespace dvr::dp::test {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

size_t heap_in_use() {
  return mallinfo2().uordblks;
}  // 0 under ASan, which replaces malloc

// A typical small tenant router: three connected /24s, a default route and 16 static routes
// between /16 and /32, all distinct.
std::vector<Route> small_router_routes(std::mt19937& rng) {
  std::set<RouteSet::Key> seen;
  std::vector<Route> out;
  const auto add = [&](RoutePrefix p) {
    p = RouteSet::normalize(p);
    if (seen.insert(RouteSet::key(p)).second) {
      out.push_back({p, static_cast<NextHopId>(rng() % (kMaxNextHop + 1))});
    }
  };
  add({0, 0});
  while (out.size() < 4) add({ip("10.0.0.0") | static_cast<uint32_t>(rng() & 0x00FFFF00), 24});
  while (out.size() < 20) {
    add({static_cast<uint32_t>(rng()), static_cast<uint8_t>(16 + rng() % 17)});
  }
  return out;
}

TEST(Memory, ThousandSmallRoutersStayFarBelow512MiB) {
  std::mt19937 rng(42);
  const size_t heap_before = heap_in_use();
  std::vector<std::unique_ptr<RouterRoutes>> routers;
  size_t table_bytes = 0;
  for (int r = 0; r < 1000; ++r) {
    auto rr = std::make_unique<RouterRoutes>("router-" + std::to_string(r), RouteTableOptions{});
    rr->apply({}, small_router_routes(rng));
    rr->release_retired();
    ASSERT_STREQ(rr->table()->kind(), "compact");
    ASSERT_EQ(rr->table()->route_count(), 20u);
    table_bytes += rr->table()->memory_bytes();
    routers.push_back(std::move(rr));
  }
  const size_t heap_bytes = heap_in_use() - heap_before;
  std::printf(
      "[          ] 1000 routers x 20 routes: read-side tables %zu bytes (%.1f KiB, %zu per "
      "router); control-side heap incl. route maps %zu bytes (0 = not measurable here)\n",
      table_bytes, table_bytes / 1024.0, table_bytes / 1000, heap_bytes);
  EXPECT_LT(table_bytes, 512 * kMiB);
  EXPECT_LT(table_bytes + heap_bytes, 512 * kMiB);
  // Spot-check that the tables answer correctly.
  for (int r = 0; r < 1000; r += 97) {
    std::vector<Route> routes = routers[r]->routes();
    EXPECT_TRUE(matches_reference(*routers[r], probes_for(routes, rng, 200)));
  }
}

TEST(Memory, OneMillionRoutesInOneRouter) {
  constexpr size_t kRoutes = 1'000'000;
  std::mt19937 rng(1234);
  // 85% /24, 10% /16-/23, 5% /25-/32, uniformly spread, all distinct.
  std::unordered_set<uint64_t> seen;
  std::vector<Route> routes;
  routes.reserve(kRoutes);
  while (routes.size() < kRoutes) {
    const unsigned k = rng() % 100;
    const uint8_t depth = static_cast<uint8_t>(k < 85   ? 24
                                               : k < 95 ? 16 + rng() % 8
                                                        : 25 + rng() % 8);
    const uint32_t addr = static_cast<uint32_t>(rng()) & prefix_mask(depth);
    if (seen.insert((uint64_t{addr} << 8) | depth).second) {
      routes.push_back({{addr, depth}, static_cast<NextHopId>(rng() % (kMaxNextHop + 1))});
    }
  }
  seen.clear();

  RouterRoutes rr("big", RouteTableOptions{});
  const size_t heap_before = heap_in_use();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(rr.apply({}, routes));
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rr.release_retired();
  const size_t heap_bytes = heap_in_use() - heap_before;
  ASSERT_STREQ(rr.table()->kind(), "lpm");
  EXPECT_EQ(rr.route_count(), kRoutes);
  EXPECT_EQ(rr.table()->route_count(), kRoutes);

  // 100k probes: half uniformly random, half inside random routes; plus the boundaries of 2000.
  std::vector<uint32_t> probes;
  for (int i = 0; i < 50'000; ++i) probes.push_back(static_cast<uint32_t>(rng()));
  for (int i = 0; i < 50'000; ++i) {
    const RoutePrefix p = routes[rng() % routes.size()].first;
    probes.push_back(p.addr +
                     static_cast<uint32_t>(rng() % (prefix_end(p.addr, p.depth) - p.addr)));
  }
  std::vector<Route> sample(routes.begin(), routes.begin() + 2000);
  for (const uint32_t a : probes_for(sample, rng, 0)) probes.push_back(a);
  EXPECT_TRUE(matches_reference(rr, probes));

  const auto& lpm = dynamic_cast<const LpmTable&>(*rr.table());
  LpmTable::Stats s = lpm.stats();
  std::printf(
      "[          ] 1M routes: built in %.2f s; read-side table %zu bytes (%.1f MiB): tbl24 "
      "64 MiB + %zu tbl8 groups allocated (%zu in use) x 1 KiB\n",
      build_s, lpm.memory_bytes(), lpm.memory_bytes() / double(kMiB), s.groups_capacity,
      s.groups_in_use);
  std::printf("[          ] control-side route map: %zu bytes (0 = not measurable here)\n",
              heap_bytes);
  EXPECT_LT(lpm.memory_bytes(), 256 * kMiB);

  // In place at scale: 5,000 deletes and 5,000 new routes in one batch.
  std::vector<RoutePrefix> dels;
  for (size_t i = 0; i < 5000; ++i) dels.push_back(routes[i * 199].first);
  std::vector<Route> adds;
  while (adds.size() < 5000) {
    const uint8_t depth = static_cast<uint8_t>(20 + rng() % 13);
    adds.push_back({RouteSet::normalize({static_cast<uint32_t>(rng()), depth}), 7});
  }
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_FALSE(rr.apply(dels, adds));
  const double update_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  rr.release_retired();
  std::printf("[          ] 10,000 in-place changes in %.3f s\n", update_s);
  EXPECT_EQ(rr.table()->route_count(), rr.route_count());
  EXPECT_GT(rr.route_count(), kRoutes - 5000);
  std::vector<uint32_t> probes2(probes.begin(), probes.begin() + 20'000);
  for (const uint32_t a : probes_for(adds, rng, 0)) probes2.push_back(a);
  std::vector<Route> deleted;
  for (const RoutePrefix& p : dels) deleted.push_back({p, 0});
  for (const uint32_t a : probes_for(deleted, rng, 0)) probes2.push_back(a);
  EXPECT_TRUE(matches_reference(rr, probes2));
}

}  // namespace
}  // namespace dvr::dp::test
