// Lookup cost per address, in TSC cycles, for compact tables of several sizes and a 1M-route
// LpmTable, with uniformly random destinations and with a working set of 1,024 destinations.
// Not a test (no assertions, timing depends on the machine): run by hand,
//   build/tests/route_table/route_table_bench [--huge]
// --huge lets EAL use hugepages (needs them configured); otherwise --no-huge, whose 4 KiB
// pages add TLB misses to the LpmTable's random lookups.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "route_table/router_routes.h"

namespace {

using dvr::dp::NextHopId;
using dvr::dp::RoutePrefix;
using dvr::dp::RouterRoutes;
using Route = RouterRoutes::Route;

std::vector<Route> random_routes(std::mt19937& rng, size_t n) {
  std::unordered_set<uint64_t> seen;
  std::vector<Route> out;
  while (out.size() < n) {
    const unsigned k = rng() % 100;
    const uint8_t depth = static_cast<uint8_t>(k < 85   ? 24
                                               : k < 95 ? 16 + rng() % 8
                                                        : 25 + rng() % 8);
    const uint32_t addr = static_cast<uint32_t>(rng()) & dvr::dp::prefix_mask(depth);
    if (seen.insert((uint64_t{addr} << 8) | depth).second) {
      out.push_back({{addr, depth}, static_cast<NextHopId>(rng() % 1000)});
    }
  }
  return out;
}

double cycles_per_lookup(const RouterRoutes& rr, const std::vector<uint32_t>& dst) {
  constexpr unsigned kBurst = 32;
  NextHopId out[kBurst];
  uint64_t sink = 0;
  const size_t rounds = 4'000'000 / dst.size() + 1;
  const uint64_t t0 = rte_rdtsc_precise();
  for (size_t r = 0; r < rounds; ++r) {
    for (size_t i = 0; i + kBurst <= dst.size(); i += kBurst) {
      rr.table()->lookup_bulk(&dst[i], out, kBurst);
      sink += out[0];
    }
  }
  const uint64_t t1 = rte_rdtsc_precise();
  if (sink == 42) std::puts("");  // keep the lookups
  return double(t1 - t0) / double(rounds * (dst.size() / kBurst * kBurst));
}

}  // namespace

int main(int argc, char** argv) {
  const bool huge = argc > 1 && std::strcmp(argv[1], "--huge") == 0;
  const std::string prefix = "--file-prefix=dvr_route_bench_" + std::to_string(::getpid());
  std::vector<std::string> args = {
      "route_table_bench", "-m",  "512",  "--no-pci",
      "--lcores",          "0@0", prefix, "--log-level=lib.eal:warning",
      "--no-telemetry"};
  if (!huge) args.push_back("--no-huge");
  std::vector<char*> argv_eal;
  for (auto& a : args) argv_eal.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv_eal.size()), argv_eal.data()) < 0) return 1;

  std::mt19937 rng(7);
  std::vector<uint32_t> uniform(1 << 16);
  for (auto& a : uniform) a = static_cast<uint32_t>(rng());
  std::printf("%-28s %8s %18s %18s\n", "table", "kind", "uniform dst", "1024 hot dst");
  for (const size_t n :
       {size_t{10}, size_t{20}, size_t{4096}, size_t{100'000}, size_t{1'000'000}}) {
    RouterRoutes rr("bench", dvr::dp::RouteTableOptions{});
    const std::vector<Route> routes = random_routes(rng, n);
    rr.apply({}, routes);
    rr.release_retired();
    std::vector<uint32_t> hot(1024);  // destinations inside the routes
    for (auto& a : hot) {
      const RoutePrefix p = routes[rng() % routes.size()].first;
      a = p.addr + static_cast<uint32_t>(rng() % (dvr::dp::prefix_end(p.addr, p.depth) - p.addr));
    }
    std::printf("%-28s %8s %12.1f cyc/ip %12.1f cyc/ip\n", (std::to_string(n) + " routes").c_str(),
                rr.table()->kind(), cycles_per_lookup(rr, uniform), cycles_per_lookup(rr, hot));
  }
  rte_eal_cleanup();
  return 0;
}
