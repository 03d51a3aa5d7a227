// In-place updates of a large router's table while a reader looks up: the reader must never see
// a wrong answer, and tbl8 groups must be reused only after the reader has been quiescent.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "route_table/lpm_table.h"
#include "test_util.h"

namespace dvr::dp::test {
namespace {

// A QSBR variable for `threads` readers, as ConfigPublisher creates one for the workers.
class Qsbr {
 public:
  explicit Qsbr(unsigned threads) {
    const size_t size = rte_rcu_qsbr_get_memsize(threads);
    v_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("test_qsbr", size, RTE_CACHE_LINE_SIZE));
    if (v_ == nullptr || rte_rcu_qsbr_init(v_, threads) != 0) {
      ADD_FAILURE() << "cannot create the QSBR variable";
    }
  }
  ~Qsbr() { rte_free(v_); }
  Qsbr(const Qsbr&) = delete;
  Qsbr& operator=(const Qsbr&) = delete;
  rte_rcu_qsbr* get() const { return v_; }

 private:
  rte_rcu_qsbr* v_ = nullptr;
};

RouteTableOptions lpm_options(rte_rcu_qsbr* qsbr) {
  RouteTableOptions o;
  o.compact_max_routes = 0;  // always an LpmTable, updated in place
  o.qsbr = qsbr;
  return o;
}

const LpmTable& lpm_of(const RouterRoutes& rr) {
  const auto* t = dynamic_cast<const LpmTable*>(rr.table());
  if (t == nullptr) throw std::runtime_error("not an LpmTable");
  return *t;
}

TEST(Concurrency, ReaderNeverSeesAWrongAnswerDuringInPlaceUpdates) {
  Qsbr qsbr(1);
  RouterRoutes rr("concurrent", lpm_options(qsbr.get()));

  // Fixed routes, whose answers never change, and probes inside them that no churn route
  // covers more specifically.
  std::vector<Route> fixed;
  std::vector<uint32_t> probes;
  for (uint32_t k = 0; k < 20; ++k) {
    const uint32_t net = ip("10.0.0.0") | (k << 16);
    fixed.push_back({{net | 0x0100, 24}, 100 + k});  // whole block; churn /28 at .240 inside
    for (uint32_t o = 0; o < 240; o += 7) probes.push_back(net | 0x0100 | o);
    fixed.push_back({{net | 0x0240, 26}, 200 + k});  // split block; churn /27, /30 beside it
    for (uint32_t o = 64; o < 128; o += 3) probes.push_back(net | 0x0200 | o);
    fixed.push_back({{net | 0x0307, 32}, 300 + k});  // host route
    probes.push_back(net | 0x0307);
  }
  fixed.push_back({pfx("10.100.0.0/16"), 400});  // churn /24 and /28 inside, not probed
  for (uint32_t o = 0; o < 0x10000; o += 97) {
    const uint32_t a = ip("10.100.0.0") | o;
    if ((a & 0xFFFFFF00) == ip("10.100.7.0") || (a & 0xFFFFFFF0) == ip("10.100.9.16")) continue;
    probes.push_back(a);
  }
  fixed.push_back({pfx("192.0.2.0/24"), 500});  // far from any churn
  for (uint32_t o = 0; o < 256; o += 5) probes.push_back(ip("192.0.2.0") | o);
  EXPECT_TRUE(rr.apply({}, fixed));
  rr.release_retired();

  std::vector<NextHopId> expected;
  for (const uint32_t a : probes) expected.push_back(rr.lookup_slow(a));
  ASSERT_EQ(std::count(expected.begin(), expected.end(), kNoRoute), 0);

  // Churn: prefixes that split and merge the fixed routes' blocks, cover them from above, or
  // live elsewhere; rarely the default route (which rewrites most of tbl24).
  std::vector<RoutePrefix> churn;
  for (uint32_t k = 0; k < 20; ++k) {
    const uint32_t net = ip("10.0.0.0") | (k << 16);
    churn.push_back({net | 0x01F0, 28});
    churn.push_back({net | 0x0200, 27});
    churn.push_back({net | 0x02C0, 30});
    churn.push_back({net, 16});
  }
  churn.push_back(pfx("10.0.0.0/8"));
  churn.push_back(pfx("10.0.0.0/12"));
  churn.push_back(pfx("10.100.7.0/24"));
  churn.push_back(pfx("10.100.9.16/28"));
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    const uint8_t depth = static_cast<uint8_t>(16 + rng() % 17);
    churn.push_back(
        RouteSet::normalize({ip("172.16.0.0") | static_cast<uint32_t>(rng() & 0x000FFFFF), depth}));
  }

  const RouteTable* table = rr.table();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<uint64_t> wrong{0};
  std::thread reader([&] {
    rte_rcu_qsbr_thread_register(qsbr.get(), 0);
    rte_rcu_qsbr_thread_online(qsbr.get(), 0);
    NextHopId out[32];
    uint64_t n_lookups = 0;
    uint64_t n_wrong = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < probes.size(); i += 32) {
        const unsigned n = static_cast<unsigned>(std::min<size_t>(32, probes.size() - i));
        table->lookup_bulk(&probes[i], out, n);
        for (unsigned j = 0; j < n; ++j) n_wrong += out[j] != expected[i + j];
        n_lookups += n;
        rte_rcu_qsbr_quiescent(qsbr.get(), 0);  // like a worker after each burst
      }
    }
    rte_rcu_qsbr_thread_offline(qsbr.get(), 0);
    rte_rcu_qsbr_thread_unregister(qsbr.get(), 0);
    lookups = n_lookups;
    wrong = n_wrong;
  });

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::set<RouteSet::Key> present;
  size_t batches = 0;
  size_t pointer_changes = 0;
  for (; batches < 20000 && std::chrono::steady_clock::now() < deadline; ++batches) {
    std::vector<RoutePrefix> dels;
    std::vector<Route> adds;
    const unsigned ops = 1 + rng() % 4;
    for (unsigned i = 0; i < ops; ++i) {
      RoutePrefix p = churn[rng() % churn.size()];
      if (batches % 997 == 500) p = {0, 0};  // the default route, now and then
      if (present.count(RouteSet::key(p)) != 0) {
        dels.push_back(p);
      } else {
        adds.push_back({p, 1 + rng() % 1000});
      }
    }
    pointer_changes += rr.apply(dels, adds);
    for (const RoutePrefix& p : dels) present.erase(RouteSet::key(p));
    for (const auto& [p, hop] : adds) present.insert(RouteSet::key(p));
    if (batches % 64 == 0) rr.release_retired();
  }
  stop = true;
  reader.join();
  rr.release_retired();

  const LpmTable::Stats stats = lpm_of(rr).stats();
  std::printf(
      "[          ] %zu update batches, %llu lookups by the reader, %llu tbl8 groups "
      "retired, %zu in use\n",
      batches, static_cast<unsigned long long>(lookups.load()),
      static_cast<unsigned long long>(stats.groups_retired), stats.groups_in_use);
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(pointer_changes, 0u);
  EXPECT_EQ(rr.table(), table);
  EXPECT_GT(batches, 100u);
  EXPECT_GT(stats.groups_retired, 100u);  // the churn really split and merged blocks
  EXPECT_EQ(rr.route_count(), fixed.size() + present.size());
  EXPECT_TRUE(matches_reference(rr, probes_for(fixed, rng, 10000)));
}

TEST(Concurrency, RetiredGroupsWaitForQuiescentReaders) {
  Qsbr qsbr(1);
  // This thread plays an online reader that has not yet reported a quiescent state.
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr.get(), 0), 0);
  rte_rcu_qsbr_thread_online(qsbr.get(), 0);

  RouterRoutes rr("rcu", lpm_options(qsbr.get()));
  rr.apply({}, {{pfx("10.0.0.0/24"), 1}});
  rr.release_retired();
  const LpmTable& lpm = lpm_of(rr);
  EXPECT_EQ(lpm.stats().groups_in_use, 0u);

  rr.apply({}, {{pfx("10.0.0.128/25"), 2}});  // splits the /24: one group
  EXPECT_EQ(lpm.stats().groups_in_use, 1u);
  EXPECT_EQ(lpm.stats().groups_pending, 0u);
  EXPECT_EQ(lookup_one(rr, ip("10.0.0.200")), 2u);

  rr.apply({pfx("10.0.0.128/25")}, {});  // uniform again: the group is unreferenced
  EXPECT_EQ(lookup_one(rr, ip("10.0.0.200")), 1u);
  LpmTable::Stats s = lpm.stats();
  EXPECT_EQ(s.groups_in_use, 0u);
  EXPECT_EQ(s.groups_pending, 1u);  // a reader might still hold it
  EXPECT_EQ(s.groups_retired, 1u);
  const size_t free_before = s.groups_free;

  rr.apply({}, {{pfx("10.0.1.128/25"), 3}});  // needs a group: not the pending one
  rr.release_retired();
  s = lpm.stats();
  EXPECT_EQ(s.groups_in_use, 1u);
  EXPECT_EQ(s.groups_pending, 1u);
  EXPECT_EQ(s.groups_free, free_before - 1);

  rte_rcu_qsbr_quiescent(qsbr.get(), 0);
  rr.release_retired();
  s = lpm.stats();
  EXPECT_EQ(s.groups_pending, 0u);
  EXPECT_EQ(s.groups_free, free_before);
  EXPECT_EQ(s.groups_in_use + s.groups_free, s.groups_capacity);
  EXPECT_EQ(lookup_one(rr, ip("10.0.1.200")), 3u);
  EXPECT_EQ(lookup_one(rr, ip("10.0.1.100")), kNoRoute);

  rte_rcu_qsbr_thread_offline(qsbr.get(), 0);
  rte_rcu_qsbr_thread_unregister(qsbr.get(), 0);
}

TEST(Concurrency, WithoutQsbrGroupsAreReusedAtOnce) {
  RouterRoutes rr("no-rcu", lpm_options(nullptr));
  rr.apply({}, {{pfx("10.0.0.0/25"), 1}});
  rr.apply({pfx("10.0.0.0/25")}, {});
  const LpmTable::Stats s = lpm_of(rr).stats();
  EXPECT_EQ(s.groups_retired, 1u);
  EXPECT_EQ(s.groups_pending, 0u);
  EXPECT_EQ(s.groups_free, s.groups_capacity);
}

}  // namespace
}  // namespace dvr::dp::test
