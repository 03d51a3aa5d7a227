// Helpers shared by the route table tests: prefix parsing, random route sets, probe addresses,
// and the comparison of a table against the reference lookup.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "route_table/router_routes.h"

namespace dvr::dp::test {

using Route = RouterRoutes::Route;

inline uint32_t ip(const char* s) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) ADD_FAILURE() << "bad address " << s;
  return (a << 24) | (b << 16) | (c << 8) | d;
}

inline RoutePrefix pfx(const char* s) {
  const std::string str(s);
  const size_t slash = str.find('/');
  return {ip(str.substr(0, slash).c_str()),
          static_cast<uint8_t>(std::stoul(str.substr(slash + 1)))};
}

inline std::string fmt(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." +
         std::to_string((a >> 8) & 0xFF) + "." + std::to_string(a & 0xFF);
}

// Routes of every depth 0..32 that overlap a lot: addresses are a few random bases with some of
// their low bits flipped, so prefixes nest and share boundaries.
inline std::vector<Route> overlapping_routes(std::mt19937& rng, size_t n, NextHopId max_hop) {
  std::vector<uint32_t> bases(6);
  for (auto& b : bases) b = static_cast<uint32_t>(rng());
  std::vector<Route> out;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t depth = static_cast<uint8_t>(rng() % 33);
    const unsigned flip_bits = rng() % 33;  // how many low bits may differ from the base
    const uint32_t flip = flip_bits == 32 ? static_cast<uint32_t>(rng())
                                          : static_cast<uint32_t>(rng()) & ((1u << flip_bits) - 1);
    const uint32_t addr = bases[rng() % bases.size()] ^ flip;
    out.push_back({{addr, depth}, static_cast<NextHopId>(rng() % (max_hop + 1))});
  }
  return out;
}

// Addresses worth probing for a set of routes: 0, the top address, every route's first and last
// address and their neighbours, and `random` uniformly random addresses.
inline std::vector<uint32_t> probes_for(const std::vector<Route>& routes, std::mt19937& rng,
                                        size_t random) {
  std::vector<uint32_t> out = {0, 1, UINT32_MAX, UINT32_MAX - 1};
  for (const auto& [p, hop] : routes) {
    const uint32_t first = p.addr & prefix_mask(p.depth);
    const uint32_t last = static_cast<uint32_t>(prefix_end(first, p.depth) - 1);
    for (const uint32_t a : {first - 1, first, first + 1, last - 1, last, last + 1}) {
      out.push_back(a);
    }
  }
  for (size_t i = 0; i < random; ++i) out.push_back(static_cast<uint32_t>(rng()));
  return out;
}

// Looks every probe up through rr.table() (in bursts of 1..40, to cover both the interleaved
// and the single-lane paths) and compares with the reference lookup.
inline ::testing::AssertionResult matches_reference(const RouterRoutes& rr,
                                                    const std::vector<uint32_t>& probes) {
  std::vector<NextHopId> got(probes.size(), 0xDEADBEEF);
  size_t i = 0;
  unsigned burst = 1;
  while (i < probes.size()) {
    const unsigned n = static_cast<unsigned>(std::min<size_t>(burst, probes.size() - i));
    rr.table()->lookup_bulk(&probes[i], &got[i], n);
    i += n;
    burst = burst % 40 + 1;
  }
  size_t wrong = 0;
  std::string first;
  for (size_t k = 0; k < probes.size(); ++k) {
    const NextHopId want = rr.lookup_slow(probes[k]);
    if (got[k] == want) continue;
    if (wrong++ == 0) {
      first =
          fmt(probes[k]) + " -> " + std::to_string(got[k]) + ", expected " + std::to_string(want);
    }
  }
  if (wrong == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << wrong << " of " << probes.size() << " lookups wrong ("
                                       << rr.table()->kind() << "), first: " << first;
}

inline NextHopId lookup_one(const RouterRoutes& rr, uint32_t addr) {
  NextHopId hop = 0xDEADBEEF;
  rr.table()->lookup_bulk(&addr, &hop, 1);
  return hop;
}

}  // namespace dvr::dp::test
