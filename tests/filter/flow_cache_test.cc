// The per-worker exact-match verdict cache (dataplane/filter/flow_cache.h): hits and misses by
// key, generation (compared by its low 16 bits) and revalidation window (on a 48-bit wrapping
// tick clock), in-place refresh, the two-way sets and their replacement (the key's own entry,
// else the first one that cannot hit any more, else the one filled longest ago), sizing,
// clear(), the hash, and randomized comparisons against a reference model. No EAL: the cache is
// plain memory, and time is only ever the `now_tick` each call is given.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "filter/flow_cache.h"

namespace dvr::dp {
namespace {

constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr uint16_t kNoAcl = FlowVerdict::kNoAcl;
constexpr uint32_t kLongWindow = 1u << 20;  // revalidation window for tests not about it

// The tick clock is 48 bits (tick_of() of a 64-bit TSC): callers pass ticks 0 .. kTickMax, and
// after kTickMax comes 0. k2p32 is where the clock used to wrap when it had 32 bits.
constexpr uint64_t kTickMax = (uint64_t{1} << 48) - 1;
constexpr uint64_t k2p32 = uint64_t{1} << 32;
// A tick as the clock shows it: `t` modulo 2^48.
constexpr uint64_t wrap(uint64_t t) {
  return t & kTickMax;
}
// Generations that differ by a multiple of this compare equal (entries keep the low 16 bits).
constexpr uint64_t kGenAlias = uint64_t{1} << 16;

FlowCacheKey make_key(uint32_t n) {
  FlowCacheKey k;
  k.src_ip = 0x0a000000u | n;
  k.dst_ip = 0x0a010001u;
  k.src_port = 40000;
  k.dst_port = 443;
  k.rx_port = 1;
  k.out_port = 2;
  k.protocol = 6;
  k.routed = 1;
  return k;
}

FlowCacheKey random_key(std::mt19937_64& rng) {
  FlowCacheKey k;
  k.src_ip = static_cast<uint32_t>(rng());
  k.dst_ip = static_cast<uint32_t>(rng());
  k.src_port = static_cast<uint16_t>(rng());
  k.dst_port = static_cast<uint16_t>(rng());
  k.rx_port = static_cast<uint16_t>(rng());
  k.out_port = static_cast<uint16_t>(rng());
  k.protocol = static_cast<uint8_t>(rng());
  k.routed = static_cast<uint8_t>(rng() & 1);
  return k;
}

std::string str(const FlowCacheKey& k) {
  return std::to_string(k.src_ip) + ":" + std::to_string(k.src_port) + " -> " +
         std::to_string(k.dst_ip) + ":" + std::to_string(k.dst_port) + " proto " +
         std::to_string(k.protocol) + " rx " + std::to_string(k.rx_port) + " out " +
         std::to_string(k.out_port) + " routed " + std::to_string(k.routed);
}

FlowVerdict verdict(uint16_t egress, uint16_t ingress) {
  FlowVerdict v;
  v.acl_egress_slot = egress;
  v.acl_ingress_slot = ingress;
  return v;
}

// The cache with the key's own hash, as the filter engine calls it.
const FlowVerdict* find(const FlowCache& c, const FlowCacheKey& k, uint64_t gen, uint64_t tick) {
  return c.lookup(k, FlowCache::hash(k), gen, tick);
}

bool hits(const FlowCache& c, const FlowCacheKey& k, uint64_t gen, uint64_t tick) {
  return find(c, k, gen, tick) != nullptr;
}

void put(FlowCache& c, const FlowCacheKey& k, uint64_t gen, uint64_t tick,
         const FlowVerdict& v = verdict(1, 2)) {
  c.insert(k, FlowCache::hash(k), gen, tick, v);
}

// A hit whose verdict is exactly `want`.
::testing::AssertionResult HitsWith(const FlowCache& c, const FlowCacheKey& k, uint64_t gen,
                                    uint64_t tick, const FlowVerdict& want) {
  const FlowVerdict* v = find(c, k, gen, tick);
  if (v == nullptr) return ::testing::AssertionFailure() << "miss for " << str(k);
  if (v->acl_egress_slot != want.acl_egress_slot || v->acl_ingress_slot != want.acl_ingress_slot)
    return ::testing::AssertionFailure()
           << "verdict " << v->acl_egress_slot << "/" << v->acl_ingress_slot << ", want "
           << want.acl_egress_slot << "/" << want.acl_ingress_slot;
  return ::testing::AssertionSuccess();
}

// The single-field changes of a key, each producing a key that differs in exactly that field.
struct FieldChange {
  const char* name;
  std::function<void(FlowCacheKey&)> change;
};

const std::vector<FieldChange>& field_changes() {
  static const std::vector<FieldChange> kChanges = {
      {"src_ip", [](FlowCacheKey& k) { k.src_ip ^= 1; }},
      {"src_ip high bit", [](FlowCacheKey& k) { k.src_ip ^= 0x80000000u; }},
      {"dst_ip", [](FlowCacheKey& k) { k.dst_ip ^= 1; }},
      {"dst_ip high bit", [](FlowCacheKey& k) { k.dst_ip ^= 0x80000000u; }},
      {"src_port", [](FlowCacheKey& k) { k.src_port ^= 1; }},
      {"dst_port", [](FlowCacheKey& k) { k.dst_port ^= 0x8000; }},
      {"rx_port", [](FlowCacheKey& k) { k.rx_port ^= 1; }},
      {"out_port", [](FlowCacheKey& k) { k.out_port ^= 1; }},
      {"protocol", [](FlowCacheKey& k) { k.protocol ^= 0x10; }},
      {"routed", [](FlowCacheKey& k) { k.routed ^= 1; }},
  };
  return kChanges;
}

// Distinct keys whose hashes select set `set` of a cache with `sets` sets (a power of two). The
// search is bounded (a hash whose low bits never vary must fail the test, not hang it): callers
// check they got `count` keys.
std::vector<FlowCacheKey> keys_in_set(uint32_t sets, uint32_t set, size_t count) {
  std::vector<FlowCacheKey> out;
  for (uint32_t n = 1; out.size() < count && n < 100000; ++n) {
    FlowCacheKey k = make_key(n);
    if ((FlowCache::hash(k) & (sets - 1)) == set) out.push_back(k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hits and misses, verdicts.

// Nothing is cached before the first insert; in particular the all-zero key under generation 0
// at tick 0 must not match an empty entry (whose fields are all zero).
TEST(FlowCacheBasic, EmptyCacheMisses) {
  FlowCache c(64, 100);
  EXPECT_FALSE(hits(c, make_key(1), 0, 0));
  EXPECT_FALSE(hits(c, make_key(1), 7, 12345));
  const FlowCacheKey zero{};
  EXPECT_FALSE(hits(c, zero, 0, 0));
  EXPECT_FALSE(hits(c, zero, 0, 1));
  EXPECT_FALSE(hits(c, zero, kGenAlias, 0));  // an empty entry's generation bits are 0 too
  EXPECT_FALSE(hits(c, zero, 0, kTickMax));
  for (uint32_t h : {0u, 1u, 31u, kU32Max}) EXPECT_EQ(c.lookup(zero, h, 0, 0), nullptr) << h;
}

// The basic contract: after insert, the same key, generation and tick hit, and the verdict comes
// back exactly as stored, kNoAcl included.
TEST(FlowCacheBasic, HitReturnsInsertedVerdict) {
  FlowCache c(64, 100);
  const std::array<FlowVerdict, 5> verdicts = {verdict(3, 7), verdict(kNoAcl, kNoAcl),
                                               verdict(kNoAcl, 0), verdict(0, kNoAcl),
                                               verdict(kNoAcl - 1, 12)};
  for (uint32_t i = 0; i < verdicts.size(); ++i) put(c, make_key(i + 1), 5, 1000, verdicts[i]);
  for (uint32_t i = 0; i < verdicts.size(); ++i)
    EXPECT_TRUE(HitsWith(c, make_key(i + 1), 5, 1000, verdicts[i])) << i;
  EXPECT_FALSE(hits(c, make_key(static_cast<uint32_t>(verdicts.size()) + 1), 5, 1000));
}

// The all-zero key is a valid key once inserted (the "used" mark is internal, not a key value).
TEST(FlowCacheBasic, ZeroKeyCanBeCached) {
  FlowCache c(2, 100);
  const FlowCacheKey zero{};
  put(c, zero, 0, 0, verdict(9, 8));
  EXPECT_TRUE(HitsWith(c, zero, 0, 0, verdict(9, 8)));
  EXPECT_FALSE(hits(c, make_key(1), 0, 0));
}

// Every field of the key takes part in the match: a key differing in any one field misses,
// while the original still hits; and each variant, inserted, gets its own verdict.
TEST(FlowCacheBasic, EveryKeyFieldMatters) {
  FlowCache c(1u << 12, 100);
  const FlowCacheKey base = make_key(42);
  put(c, base, 1, 10, verdict(1, 1));
  for (const FieldChange& f : field_changes()) {
    FlowCacheKey k = base;
    f.change(k);
    EXPECT_FALSE(hits(c, k, 1, 10)) << f.name;
    // Same set as the original, so only the key comparison can tell them apart.
    EXPECT_EQ(c.lookup(k, FlowCache::hash(base), 1, 10), nullptr) << f.name;
    EXPECT_TRUE(HitsWith(c, base, 1, 10, verdict(1, 1))) << f.name;
  }
  uint16_t n = 100;
  for (const FieldChange& f : field_changes()) {
    FlowCacheKey k = base;
    f.change(k);
    put(c, k, 1, 10, verdict(n, n));
    EXPECT_TRUE(HitsWith(c, k, 1, 10, verdict(n, n))) << f.name;
    EXPECT_TRUE(HitsWith(c, base, 1, 10, verdict(1, 1))) << f.name;
    ++n;
  }
}

// ---------------------------------------------------------------------------------------------
// Generations.

// An entry is valid only for the generation it was filled under, compared by its low 16 bits:
// any generation differing in one of those bits misses (neighbours, wrapping neighbours, each
// single low bit, +256, +32768), for generations small and large.
TEST(FlowCacheGeneration, OnlyTheFillGenerationHits) {
  for (uint64_t gen : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, uint64_t{0xffff},
                       uint64_t{0x10000}, uint64_t{0x7fffffff}, uint64_t{0x80000000},
                       uint64_t{kU32Max}, k2p32, kTickMax, uint64_t{1} << 63, kU64Max}) {
    FlowCache c(64, 100);
    const FlowCacheKey k = make_key(1);
    put(c, k, gen, 50, verdict(4, 5));
    EXPECT_TRUE(HitsWith(c, k, gen, 50, verdict(4, 5))) << gen;
    for (int bit = 0; bit < 16; ++bit)
      EXPECT_FALSE(hits(c, k, gen ^ (uint64_t{1} << bit), 50)) << gen << " bit " << bit;
    for (uint64_t d : {1u, 2u, 255u, 256u, 257u, 4096u, 32767u, 32768u, 32769u, 65535u}) {
      EXPECT_FALSE(hits(c, k, gen + d, 50)) << gen << " + " << d;
      EXPECT_FALSE(hits(c, k, gen - d, 50)) << gen << " - " << d;
    }
  }
}

// The documented aliasing: generations G and G + 65536·k are the same to the cache (a stale
// entry would need 65,536 configuration versions within one revalidation interval). So is any
// generation differing from G only above bit 15, and it works both ways round.
TEST(FlowCacheGeneration, GenerationsAliasModulo65536) {
  for (uint64_t gen : {uint64_t{0}, uint64_t{1}, uint64_t{0xffff}, uint64_t{0x12345},
                       uint64_t{kU32Max}, kTickMax, kU64Max}) {
    FlowCache c(64, 100);
    const FlowCacheKey k = make_key(1);
    put(c, k, gen, 50, verdict(4, 5));
    for (uint64_t m : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{0x100}, uint64_t{0xffff},
                       uint64_t{0x10000}, k2p32, uint64_t{1} << 47}) {
      EXPECT_TRUE(HitsWith(c, k, gen + m * kGenAlias, 50, verdict(4, 5))) << gen << " + " << m;
      EXPECT_TRUE(HitsWith(c, k, gen - m * kGenAlias, 50, verdict(4, 5))) << gen << " - " << m;
    }
    for (int bit = 16; bit < 64; ++bit)
      EXPECT_TRUE(hits(c, k, gen ^ (uint64_t{1} << bit), 50)) << gen << " bit " << bit;
    // The window still applies to an aliasing generation.
    EXPECT_TRUE(hits(c, k, gen + kGenAlias, 149)) << gen;
    EXPECT_FALSE(hits(c, k, gen + kGenAlias, 150)) << gen;
  }
  // Filled under G + 65536, the entry hits under G.
  FlowCache c(64, 100);
  const FlowCacheKey k = make_key(1);
  put(c, k, 7 + kGenAlias, 50, verdict(1, 1));
  EXPECT_TRUE(HitsWith(c, k, 7, 50, verdict(1, 1)));
  EXPECT_FALSE(hits(c, k, 8, 50));
}

// An entry of an aliasing generation is live for inserts too: it is refreshed in place by its own
// key, and a new key in the set takes the empty way rather than evicting it.
TEST(FlowCacheGeneration, AliasingGenerationIsLiveForReplacement) {
  constexpr uint64_t kG = 0x10005;
  FlowCache c(2, kLongWindow);  // one set
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  put(c, a, kG, 10, verdict(1, 1));
  put(c, b, kG + kGenAlias, 20, verdict(2, 2));
  EXPECT_TRUE(HitsWith(c, a, kG + kGenAlias, 20, verdict(1, 1)));
  EXPECT_TRUE(HitsWith(c, b, kG, 20, verdict(2, 2)));
  // Both live under G - 65536 as well: the oldest fill (a) goes, b stays.
  put(c, x, kG - kGenAlias, 30, verdict(3, 3));
  EXPECT_FALSE(hits(c, a, kG, 30));
  EXPECT_TRUE(HitsWith(c, b, kG, 30, verdict(2, 2)));
  EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  // Refilling b under G + 2·65536 refreshes it in place (x, in the other way, survives).
  put(c, b, kG + 2 * kGenAlias, 40, verdict(4, 4));
  EXPECT_TRUE(HitsWith(c, b, kG, 40, verdict(4, 4)));
  EXPECT_TRUE(HitsWith(c, x, kG, 40, verdict(3, 3)));
}

// A newer generation doesn't invalidate the entry for lookups still under its own generation
// (the cache stores, it doesn't track "current"); refilling under the new generation replaces
// it, so the old generation then misses.
TEST(FlowCacheGeneration, RefillUnderNewGenerationReplacesOld) {
  FlowCache c(64, 100);
  const FlowCacheKey k = make_key(1);
  put(c, k, 1, 10, verdict(1, 1));
  EXPECT_FALSE(hits(c, k, 2, 11));
  EXPECT_TRUE(hits(c, k, 1, 11));
  put(c, k, 2, 12, verdict(2, 2));
  EXPECT_TRUE(HitsWith(c, k, 2, 12, verdict(2, 2)));
  EXPECT_FALSE(hits(c, k, 1, 12));
}

// ---------------------------------------------------------------------------------------------
// The revalidation window and the tick clock.

// An entry filled at T hits for ticks T .. T+R-1 and misses from T+R on.
TEST(FlowCacheWindow, HitsForExactlyRevalidateTicks) {
  constexpr uint32_t kR = 100;
  FlowCache c(64, kR);
  EXPECT_EQ(c.revalidate_ticks(), kR);
  const FlowCacheKey k = make_key(1);
  const uint64_t t = 5000;
  put(c, k, 3, t);
  EXPECT_TRUE(hits(c, k, 3, t));
  EXPECT_TRUE(hits(c, k, 3, t + 1));
  EXPECT_TRUE(hits(c, k, 3, t + kR / 2));
  EXPECT_TRUE(hits(c, k, 3, t + kR - 1));
  EXPECT_FALSE(hits(c, k, 3, t + kR));
  EXPECT_FALSE(hits(c, k, 3, t + kR + 1));
  EXPECT_FALSE(hits(c, k, 3, t + 10 * kR));
  EXPECT_FALSE(hits(c, k, 3, t + 0x80000000u));
  // A tick before the fill is not "within the window" either.
  EXPECT_FALSE(hits(c, k, 3, t - 1));
}

// The smallest window: only the fill tick itself hits.
TEST(FlowCacheWindow, WindowOfOneTick) {
  FlowCache c(64, 1);
  const FlowCacheKey k = make_key(1);
  put(c, k, 0, 77);
  EXPECT_TRUE(hits(c, k, 0, 77));
  EXPECT_FALSE(hits(c, k, 0, 78));
  EXPECT_FALSE(hits(c, k, 0, 76));
}

// The clock no longer wraps at 2^32: an entry left alone for 2^32 ticks (or 2^32 plus less than
// the window, or any multiple of 2^32 below 2^48) misses, wherever it was filled, while 2^32 is
// an ordinary tick: fills just before it hit just after it, and fills after it keep their
// high bits.
TEST(FlowCacheWindow, NoWrapAt32Bits) {
  constexpr uint32_t kR = 100;
  const FlowCacheKey k = make_key(1);
  for (uint64_t t :
       {uint64_t{0}, uint64_t{5000}, k2p32 - 5, k2p32 - 1, k2p32, k2p32 + 3, 3 * k2p32 - kR / 2,
        (uint64_t{1} << 40) + 7, kTickMax - k2p32 - 2 * kR, kTickMax - kR / 2}) {
    FlowCache c(64, kR);
    put(c, k, 9, t, verdict(6, 7));
    for (uint64_t age : {uint64_t{0}, uint64_t{1}, uint64_t{kR / 2}, uint64_t{kR - 1}})
      EXPECT_TRUE(HitsWith(c, k, 9, wrap(t + age), verdict(6, 7))) << t << " + " << age;
    for (uint64_t age :
         {uint64_t{kR}, k2p32 - 1, k2p32, k2p32 + 1, k2p32 + 5, k2p32 + kR - 1, k2p32 + kR,
          2 * k2p32, 2 * k2p32 + 3, 0xffff * k2p32 + 1, uint64_t{1} << 47}) {
      EXPECT_FALSE(hits(c, k, 9, wrap(t + age))) << t << " + " << age;
    }
  }
}

// Ages are computed modulo 2^48: the window works across the clock's wrap, for fills at every
// tick near its end (2^48 - 1).
TEST(FlowCacheWindow, WorksAcrossTickWrap) {
  constexpr uint32_t kR = 100;
  const FlowCacheKey k = make_key(1);
  for (uint64_t back = 0; back <= kR + 1; ++back) {
    const uint64_t t = kTickMax - back;  // T+R wraps past zero for every back < R
    FlowCache c(64, kR);
    put(c, k, 9, t);
    EXPECT_TRUE(hits(c, k, 9, t)) << t;
    EXPECT_TRUE(hits(c, k, 9, wrap(t + 1))) << t;
    EXPECT_TRUE(hits(c, k, 9, wrap(t + kR - 1))) << t;
    EXPECT_FALSE(hits(c, k, 9, wrap(t + kR))) << t;
    EXPECT_FALSE(hits(c, k, 9, wrap(t + kR + 1))) << t;
    EXPECT_FALSE(hits(c, k, 9, t - 1)) << t;
    EXPECT_FALSE(hits(c, k, 9, wrap(t + k2p32))) << t;
  }
  {  // Filled 5 ticks before the wrap, looked up 3 ticks after it (age 8).
    FlowCache c(64, kR);
    put(c, k, 9, kTickMax - 4, verdict(3, 4));  // 2^48 - 5
    EXPECT_TRUE(HitsWith(c, k, 9, 3, verdict(3, 4)));
    EXPECT_TRUE(hits(c, k, 9, kR - 6));  // age R - 1
    EXPECT_FALSE(hits(c, k, 9, kR - 5));
    EXPECT_FALSE(hits(c, k, 9, k2p32 + 3));
  }
  // Fill just after the wrap, look up at tick 0 + R - 1.
  FlowCache c(64, kR);
  put(c, k, 9, 0);
  EXPECT_TRUE(hits(c, k, 9, kR - 1));
  EXPECT_FALSE(hits(c, k, 9, kR));
  EXPECT_FALSE(hits(c, k, 9, kTickMax));  // age 2^48 - 1
  EXPECT_FALSE(hits(c, k, 9, kU32Max));
  EXPECT_FALSE(hits(c, k, 9, k2p32));
}

// The largest window (2^32 - 1 ticks): everything up to age 2^32 - 2 hits; ages 2^32 - 1 and
// 2^32 (where a 32-bit clock would have come round again) and beyond miss, as does the tick
// just before the fill (age 2^48 - 1).
TEST(FlowCacheWindow, LargestWindow) {
  for (uint64_t t : {uint64_t{10}, k2p32 - 3, kTickMax - 5}) {
    FlowCache c(64, kU32Max);
    EXPECT_EQ(c.revalidate_ticks(), kU32Max);
    const FlowCacheKey k = make_key(1);
    put(c, k, 0, t);
    EXPECT_TRUE(hits(c, k, 0, t)) << t;
    EXPECT_TRUE(hits(c, k, 0, wrap(t + 0x80000000u))) << t;
    EXPECT_TRUE(hits(c, k, 0, wrap(t + kU32Max - 1))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t + kU32Max))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t + k2p32))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t + k2p32 + 1))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t + 2 * k2p32 + 1))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t - 1))) << t;
    EXPECT_FALSE(hits(c, k, 0, wrap(t - 2))) << t;
  }
}

// tick_of() is TSC / 2^16, all 48 bits of it (nothing is truncated).
TEST(FlowCacheWindow, TickOfIsTscShifted) {
  EXPECT_EQ(FlowCache::tick_of(0), 0u);
  EXPECT_EQ(FlowCache::tick_of(0xffff), 0u);
  EXPECT_EQ(FlowCache::tick_of(0x10000), 1u);
  EXPECT_EQ(FlowCache::tick_of(0x1ffff), 1u);
  EXPECT_EQ(FlowCache::tick_of(0x123456789abcULL), 0x12345678u);
  EXPECT_EQ(FlowCache::tick_of(0x0000ffffffff0000ULL), kU32Max);
  EXPECT_EQ(FlowCache::tick_of(0x0001000000000000ULL), k2p32);
  EXPECT_EQ(FlowCache::tick_of(0x0001000000010000ULL), k2p32 + 1);
  EXPECT_EQ(FlowCache::tick_of((5ULL << 48) | (7ULL << 16) | 3), (5ULL << 32) | 7);
  EXPECT_EQ(FlowCache::tick_of(0xfedcba9876543210ULL), 0xfedcba987654ULL);
  EXPECT_EQ(FlowCache::tick_of(kU64Max), kTickMax);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t tsc = rng();
    EXPECT_EQ(FlowCache::tick_of(tsc), tsc / 65536) << tsc;
    EXPECT_LE(FlowCache::tick_of(tsc), kTickMax) << tsc;
  }
}

// The clock as the filter engine reads it (tick_of(TSC)) works across the TSC's own wrap, and a
// TSC 2^48 cycles on (2^32 ticks) is out of the window.
TEST(FlowCacheWindow, TickOfClockAcrossTscWrap) {
  constexpr uint32_t kR = 100;
  FlowCache c(64, kR);
  const FlowCacheKey k = make_key(1);
  put(c, k, 2, FlowCache::tick_of(kU64Max - 4 * 65536));  // 5 ticks before the wrap
  EXPECT_TRUE(hits(c, k, 2, FlowCache::tick_of(3 * 65536 + 100)));
  EXPECT_TRUE(hits(c, k, 2, FlowCache::tick_of(uint64_t{kR - 6} << 16)));
  EXPECT_FALSE(hits(c, k, 2, FlowCache::tick_of(uint64_t{kR - 5} << 16)));

  const uint64_t tsc = 0x0000123456789abcULL;
  put(c, k, 2, FlowCache::tick_of(tsc));
  EXPECT_TRUE(hits(c, k, 2, FlowCache::tick_of(tsc + (uint64_t{kR - 1} << 16))));
  EXPECT_FALSE(hits(c, k, 2, FlowCache::tick_of(tsc + (uint64_t{kR} << 16))));
  EXPECT_FALSE(hits(c, k, 2, FlowCache::tick_of(tsc + (uint64_t{1} << 48))));
  EXPECT_FALSE(hits(c, k, 2, FlowCache::tick_of(tsc + (uint64_t{1} << 48) + 65536)));
}

// ---------------------------------------------------------------------------------------------
// Refresh in place.

// Re-inserting a key overwrites its own entry: new verdict, generation and fill tick; the old
// generation no longer hits (no second copy was made), and the set's other entry survives,
// though under the new generation it is dead (the key's own entry goes first).
TEST(FlowCacheRefresh, ReinsertRefreshesInPlace) {
  constexpr uint32_t kR = 100;
  FlowCache c(2, kR);  // one set: every key shares it
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  put(c, a, 1, 0, verdict(1, 1));
  put(c, b, 1, 10, verdict(2, 2));
  put(c, a, 2, 20, verdict(3, kNoAcl));
  EXPECT_TRUE(HitsWith(c, a, 2, 20, verdict(3, kNoAcl)));
  EXPECT_FALSE(hits(c, a, 1, 20));                    // the old copy is gone
  EXPECT_TRUE(HitsWith(c, b, 1, 20, verdict(2, 2)));  // the other way wasn't evicted
  // The fill tick moved to 20: hits until 20+R-1, where the original (0) would have expired.
  EXPECT_TRUE(hits(c, a, 2, 20 + kR - 1));
  EXPECT_FALSE(hits(c, a, 2, 20 + kR));
  // ... and a third key under generation 2 evicts b (generation 1: it cannot hit under 2).
  put(c, x, 2, 30);
  EXPECT_TRUE(hits(c, a, 2, 30));
  EXPECT_FALSE(hits(c, b, 1, 30));
  EXPECT_TRUE(hits(c, x, 2, 30));
}

// The same when the key sits in the second way (behind another key in the first): refreshed
// there, not copied into the first way.
TEST(FlowCacheRefresh, ReinsertOfSecondWayRefreshesInPlace) {
  FlowCache c(2, 100);
  const FlowCacheKey a = make_key(1), b = make_key(2);
  put(c, a, 1, 0, verdict(1, 1));
  put(c, b, 1, 1, verdict(2, 2));
  put(c, b, 1, 2, verdict(5, 5));
  put(c, b, 4, 3, verdict(6, 6));
  EXPECT_TRUE(HitsWith(c, a, 1, 3, verdict(1, 1)));
  EXPECT_TRUE(HitsWith(c, b, 4, 3, verdict(6, 6)));
  EXPECT_FALSE(hits(c, b, 1, 3));
}

// An expired entry is refreshed by re-inserting it, and hits again.
TEST(FlowCacheRefresh, ReinsertRevivesExpiredEntry) {
  FlowCache c(2, 10);
  const FlowCacheKey a = make_key(1), b = make_key(2);
  put(c, a, 1, 0, verdict(1, 1));
  put(c, b, 1, 5, verdict(2, 2));
  EXPECT_FALSE(hits(c, a, 1, 10));
  put(c, a, 1, 10, verdict(7, 7));
  EXPECT_TRUE(HitsWith(c, a, 1, 19, verdict(7, 7)));
  EXPECT_TRUE(HitsWith(c, b, 1, 14, verdict(2, 2)));
}

// ---------------------------------------------------------------------------------------------
// Two-way sets and replacement.

// An empty way is used before a live entry is evicted, whatever the ticks.
TEST(FlowCacheSets, EmptyWayIsUsedBeforeEvicting) {
  FlowCache c(2, kLongWindow);
  const FlowCacheKey a = make_key(1), b = make_key(2);
  put(c, a, 1, 500, verdict(1, 1));
  put(c, b, 1, 500, verdict(2, 2));  // same tick
  EXPECT_TRUE(HitsWith(c, a, 1, 500, verdict(1, 1)));
  EXPECT_TRUE(HitsWith(c, b, 1, 500, verdict(2, 2)));

  // Also when the empty ways' zero fields look "older" or "newer" than the filled one, and for
  // a generation whose low 16 bits are those of an empty entry.
  for (uint64_t tick :
       {uint64_t{0}, uint64_t{1}, uint64_t{0x80000000u}, uint64_t{kU32Max}, k2p32, kTickMax}) {
    for (uint64_t gen : {uint64_t{0}, uint64_t{1}, kGenAlias}) {
      FlowCache d(2, kLongWindow);
      put(d, a, gen, tick, verdict(1, 1));
      put(d, b, gen, wrap(tick + 1), verdict(2, 2));
      EXPECT_TRUE(HitsWith(d, a, gen, wrap(tick + 1), verdict(1, 1))) << tick << " gen " << gen;
      EXPECT_TRUE(HitsWith(d, b, gen, wrap(tick + 1), verdict(2, 2))) << tick << " gen " << gen;
    }
  }
}

// A third key in a full set evicts the entry filled longest ago, whichever way it sits in, and
// the most recently filled one survives.
TEST(FlowCacheSets, ThirdKeyEvictsOldestFill) {
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  {  // the oldest is in the first way
    FlowCache c(2, kLongWindow);
    put(c, a, 1, 10, verdict(1, 1));
    put(c, b, 1, 20, verdict(2, 2));
    put(c, x, 1, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, 1, 30));
    EXPECT_TRUE(HitsWith(c, b, 1, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, 1, 30, verdict(3, 3)));
  }
  {  // the oldest is in the second way (a refreshed after b)
    FlowCache c(2, kLongWindow);
    put(c, a, 1, 10, verdict(1, 1));
    put(c, b, 1, 20, verdict(2, 2));
    put(c, a, 1, 25, verdict(1, 1));
    put(c, x, 1, 30, verdict(3, 3));
    EXPECT_TRUE(HitsWith(c, a, 1, 30, verdict(1, 1)));
    EXPECT_FALSE(hits(c, b, 1, 30));
    EXPECT_TRUE(HitsWith(c, x, 1, 30, verdict(3, 3)));
  }
}

// "Longest ago" is by wrapping age: a fill just before the tick wrap is older than one after it,
// Between two live entries filled at the same tick, the first way's goes.
TEST(FlowCacheSets, TieEvictsTheFirstWay) {
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3), y = make_key(4);
  FlowCache c(2, kLongWindow);
  put(c, a, 1, 10, verdict(1, 1));
  put(c, b, 1, 10, verdict(2, 2));
  put(c, x, 1, 10, verdict(3, 3));  // replaces a, in way 0
  EXPECT_FALSE(hits(c, a, 1, 10));
  EXPECT_TRUE(HitsWith(c, b, 1, 10, verdict(2, 2)));
  EXPECT_TRUE(HitsWith(c, x, 1, 10, verdict(3, 3)));
  // Way 0 (x) and way 1 (b) again tie at a later tick: x goes.
  put(c, y, 1, 50, verdict(4, 4));
  EXPECT_FALSE(hits(c, x, 1, 50));
  EXPECT_TRUE(HitsWith(c, b, 1, 50, verdict(2, 2)));
  EXPECT_TRUE(HitsWith(c, y, 1, 50, verdict(4, 4)));
}

// "Longest ago" is by age modulo 2^48: a fill just before the clock's wrap is older than one
// after it, though its tick is numerically larger.
TEST(FlowCacheSets, OldestFillAcrossTickWrap) {
  FlowCache c(2, kLongWindow);
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  put(c, a, 1, kTickMax - 5);
  put(c, b, 1, 3);
  put(c, x, 1, 10);
  EXPECT_FALSE(hits(c, a, 1, 10));
  EXPECT_TRUE(hits(c, b, 1, 10));
  EXPECT_TRUE(hits(c, x, 1, 10));
  // And with the older entry in the second way: b (way 1) was filled at 2^48 - 6, after a's
  // first fill at 2^48 - 21, but a was refilled at tick 2 (after the wrap).
  FlowCache d(2, kLongWindow);
  put(d, a, 1, kTickMax - 20);
  put(d, b, 1, kTickMax - 5);
  put(d, a, 1, 2);
  put(d, x, 1, 10);
  EXPECT_TRUE(hits(d, a, 1, 10));
  EXPECT_FALSE(hits(d, b, 1, 10));
  EXPECT_TRUE(hits(d, x, 1, 10));
  // 2^32 is an ordinary tick: a fill just before it is the older one.
  FlowCache e(2, kLongWindow);
  put(e, a, 1, k2p32 - 5);
  put(e, b, 1, k2p32 + 3);
  put(e, x, 1, k2p32 + 10);
  EXPECT_FALSE(hits(e, a, 1, k2p32 + 10));
  EXPECT_TRUE(hits(e, b, 1, k2p32 + 10));
  EXPECT_TRUE(hits(e, x, 1, k2p32 + 10));
}

// An entry of another generation cannot hit any more, so it goes before an older live one,
// whichever way it sits in.
TEST(FlowCacheSets, OtherGenerationGoesBeforeOlderLiveEntry) {
  constexpr uint64_t kG = 1000;
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  {  // A (G, tick 10) in way 0, B (G - 1, tick 20) in way 1: C (G, tick 30) evicts B.
    FlowCache c(2, kLongWindow);
    put(c, a, kG, 10, verdict(1, 1));
    put(c, b, kG, 15, verdict(2, 2));
    put(c, b, kG - 1, 20, verdict(2, 2));  // refreshed in place, in way 1
    ASSERT_TRUE(hits(c, a, kG, 20));
    ASSERT_TRUE(hits(c, b, kG - 1, 20));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_TRUE(HitsWith(c, a, kG, 30, verdict(1, 1)));
    EXPECT_FALSE(hits(c, b, kG - 1, 30));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
  {  // A (G - 1, tick 25) in way 0, B (G, tick 20) in way 1: C (G, tick 30) evicts A.
    FlowCache c(2, kLongWindow);
    put(c, a, kG, 10, verdict(1, 1));
    put(c, b, kG, 20, verdict(2, 2));
    put(c, a, kG - 1, 25, verdict(1, 1));  // refreshed in place, in way 0
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG - 1, 30));
    EXPECT_TRUE(HitsWith(c, b, kG, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
  {  // Differing above bit 15 only is the same generation: then the oldest (A) goes.
    FlowCache c(2, kLongWindow);
    put(c, a, kG, 10, verdict(1, 1));
    put(c, b, kG, 15, verdict(2, 2));
    put(c, b, kG + kGenAlias, 20, verdict(2, 2));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG, 30));
    EXPECT_TRUE(HitsWith(c, b, kG, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
}

// An entry past its window cannot hit any more and goes first: A (tick 10) has expired by tick
// 30 with a 15-tick window, B (tick 20) has not, so C (tick 30) evicts A, in either way.
TEST(FlowCacheSets, ExpiredEntryGoesFirst) {
  constexpr uint64_t kG = 7;
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3), y = make_key(4);
  {
    FlowCache c(2, 15);
    put(c, a, kG, 10, verdict(1, 1));
    put(c, b, kG, 20, verdict(2, 2));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG, 24));  // would still be in its window there
    EXPECT_TRUE(HitsWith(c, b, kG, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
  {
    FlowCache c(2, 15);
    put(c, y, kG, 5, verdict(4, 4));
    put(c, a, kG, 10, verdict(1, 1));  // way 1
    put(c, y, kG, 20, verdict(4, 4));  // way 0, refreshed
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG, 24));
    EXPECT_TRUE(HitsWith(c, y, kG, 30, verdict(4, 4)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
}

// When neither entry can hit any more, the first way's goes, even if it was filled last.
// (Lookups before the latest insert are legal: ages are just tick differences.)
TEST(FlowCacheSets, FirstDeadEntryGoesWhenBothAreDead) {
  constexpr uint64_t kG = 1000;
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  {  // way 0: generation G - 1 (filled at 25); way 1: expired (filled at 10, window 15)
    FlowCache c(2, 15);
    put(c, a, kG, 9, verdict(1, 1));
    put(c, b, kG, 10, verdict(2, 2));
    put(c, a, kG - 1, 25, verdict(1, 1));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG - 1, 30));  // in its window under its generation, but evicted
    EXPECT_TRUE(HitsWith(c, b, kG, 24, verdict(2, 2)));  // still there
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
  {  // way 0: generation G - 1 (filled at 20); way 1: generation G - 2 (filled at 10)
    FlowCache c(2, kLongWindow);
    put(c, a, kG, 5, verdict(1, 1));
    put(c, b, kG, 6, verdict(2, 2));
    put(c, b, kG - 2, 10, verdict(2, 2));
    put(c, a, kG - 1, 20, verdict(1, 1));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG - 1, 30));
    EXPECT_TRUE(HitsWith(c, b, kG - 2, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
  {  // way 0: expired (filled at 10, window 15); way 1: generation G - 1 (filled at 25)
    FlowCache c(2, 15);
    put(c, a, kG, 10, verdict(1, 1));
    put(c, b, kG, 12, verdict(2, 2));
    put(c, b, kG - 1, 25, verdict(2, 2));
    put(c, x, kG, 30, verdict(3, 3));
    EXPECT_FALSE(hits(c, a, kG, 24));  // in its window there, but evicted
    EXPECT_TRUE(HitsWith(c, b, kG - 1, 30, verdict(2, 2)));
    EXPECT_TRUE(HitsWith(c, x, kG, 30, verdict(3, 3)));
  }
}

// The first way that cannot hit is taken even when the second is empty: a key filled under a
// new generation replaces the first way's entry of the old one (harmless: under the new
// generation that entry could not hit), and the next key takes the empty way.
TEST(FlowCacheSets, NewGenerationTakesFirstDeadWay) {
  FlowCache c(2, kLongWindow);
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  put(c, a, 1, 10, verdict(1, 1));
  put(c, b, 2, 20, verdict(2, 2));
  EXPECT_FALSE(hits(c, a, 1, 20));
  EXPECT_TRUE(HitsWith(c, b, 2, 20, verdict(2, 2)));
  put(c, x, 2, 30, verdict(3, 3));
  EXPECT_TRUE(HitsWith(c, b, 2, 30, verdict(2, 2)));
  EXPECT_TRUE(HitsWith(c, x, 2, 30, verdict(3, 3)));
}

// Replacement is by fill time, not by use: a hit on the older entry does not save it.
TEST(FlowCacheSets, LookupsDoNotAffectReplacement) {
  FlowCache c(2, kLongWindow);
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  put(c, a, 1, 10);
  put(c, b, 1, 20);
  for (uint32_t t = 21; t < 30; ++t) ASSERT_TRUE(hits(c, a, 1, t));
  put(c, x, 1, 30);
  EXPECT_FALSE(hits(c, a, 1, 30));
  EXPECT_TRUE(hits(c, b, 1, 30));
  EXPECT_TRUE(hits(c, x, 1, 30));
}

// A stream of distinct keys through one set: after each fill, exactly the last two hit.
TEST(FlowCacheSets, StreamKeepsLastTwo) {
  FlowCache c(2, kLongWindow);
  constexpr uint32_t kKeys = 20;
  for (uint32_t i = 0; i < kKeys; ++i) {
    const uint32_t now = 100 + 10 * i;
    put(c, make_key(i), 1, now, verdict(static_cast<uint16_t>(i), 0));
    for (uint32_t j = 0; j <= i; ++j) {
      const bool want = j + 2 > i;
      EXPECT_EQ(hits(c, make_key(j), 1, now), want) << "after " << i << ", key " << j;
      if (want) {
        EXPECT_TRUE(HitsWith(c, make_key(j), 1, now, verdict(static_cast<uint16_t>(j), 0)));
      }
    }
  }
}

// Sets are independent: filling one set past capacity doesn't touch another; the set is chosen
// by the low bits of the hash passed in.
TEST(FlowCacheSets, SetsAreIndependent) {
  FlowCache c(4, kLongWindow);  // two sets
  ASSERT_EQ(c.entries(), 4u);
  const std::vector<FlowCacheKey> s0 = keys_in_set(2, 0, 3);
  const std::vector<FlowCacheKey> s1 = keys_in_set(2, 1, 2);
  ASSERT_EQ(s0.size(), 3u);
  ASSERT_EQ(s1.size(), 2u);
  put(c, s1[0], 1, 1, verdict(10, 10));
  put(c, s1[1], 1, 2, verdict(11, 11));
  put(c, s0[0], 1, 3, verdict(0, 0));
  put(c, s0[1], 1, 4, verdict(1, 1));
  put(c, s0[2], 1, 5, verdict(2, 2));  // evicts s0[0], not the older s1 entries
  EXPECT_FALSE(hits(c, s0[0], 1, 5));
  EXPECT_TRUE(HitsWith(c, s0[1], 1, 5, verdict(1, 1)));
  EXPECT_TRUE(HitsWith(c, s0[2], 1, 5, verdict(2, 2)));
  EXPECT_TRUE(HitsWith(c, s1[0], 1, 5, verdict(10, 10)));
  EXPECT_TRUE(HitsWith(c, s1[1], 1, 5, verdict(11, 11)));
}

// The hash passed in picks the set (its low bits only); a lookup with a hash selecting another
// set misses, one with the same low bits hits.
TEST(FlowCacheSets, SetChosenByLowHashBits) {
  FlowCache c(4, kLongWindow);  // two sets: bit 0 of the hash
  const FlowCacheKey k = make_key(1);
  c.insert(k, 0x10u, 1, 0, verdict(1, 2));
  EXPECT_NE(c.lookup(k, 0x10u, 1, 0), nullptr);
  EXPECT_NE(c.lookup(k, 0xfffffffeu, 1, 0), nullptr);
  EXPECT_EQ(c.lookup(k, 0x11u, 1, 0), nullptr);
  EXPECT_EQ(c.lookup(k, 1u, 1, 0), nullptr);
  // Forced collisions in a large cache behave like the small one: two stay, a third evicts.
  FlowCache big(1u << 16, kLongWindow);
  const FlowCacheKey a = make_key(1), b = make_key(2), x = make_key(3);
  big.insert(a, 7, 1, 1, verdict(1, 1));
  big.insert(b, 7, 1, 2, verdict(2, 2));
  EXPECT_NE(big.lookup(a, 7, 1, 2), nullptr);
  EXPECT_NE(big.lookup(b, 7, 1, 2), nullptr);
  big.insert(x, 7, 1, 3, verdict(3, 3));
  EXPECT_EQ(big.lookup(a, 7, 1, 3), nullptr);
  EXPECT_NE(big.lookup(b, 7, 1, 3), nullptr);
  EXPECT_NE(big.lookup(x, 7, 1, 3), nullptr);
}

// prefetch() of any hash is harmless and changes nothing (it only touches the set's line).
TEST(FlowCacheSets, PrefetchChangesNothing) {
  FlowCache c(4, kLongWindow);
  const FlowCacheKey k = make_key(1);
  put(c, k, 1, 0, verdict(1, 2));
  for (uint32_t h : {0u, 1u, 2u, 3u, 0x12345678u, kU32Max}) c.prefetch(h);
  c.prefetch(FlowCache::hash(k));
  EXPECT_TRUE(HitsWith(c, k, 1, 0, verdict(1, 2)));
  EXPECT_FALSE(hits(c, make_key(2), 1, 0));
}

// ---------------------------------------------------------------------------------------------
// Sizing and clear().

// entries() is the requested size rounded up to a power of two, at least 2.
TEST(FlowCacheSizing, RoundsUpToPowerOfTwoAtLeastTwo) {
  const std::vector<std::pair<uint32_t, uint32_t>> cases = {
      {1, 2},         {2, 2},
      {3, 4},         {4, 4},
      {5, 8},         {7, 8},
      {8, 8},         {9, 16},
      {1000, 1024},   {1024, 1024},
      {1025, 2048},   {65535, 65536},
      {65536, 65536}, {(1u << 20) - 1, 1u << 20}};
  for (const auto& [asked, got] : cases) {
    FlowCache c(asked, 3);
    EXPECT_EQ(c.entries(), got) << asked;
    EXPECT_EQ(c.revalidate_ticks(), 3u);
  }
}

// The rounded-up capacity is really there: a 3-entry request gives two sets, and keys can fill
// both ways of both.
TEST(FlowCacheSizing, RoundedCapacityIsUsable) {
  FlowCache c(3, kLongWindow);
  ASSERT_EQ(c.entries(), 4u);
  const std::vector<FlowCacheKey> s0 = keys_in_set(2, 0, 2);
  const std::vector<FlowCacheKey> s1 = keys_in_set(2, 1, 2);
  ASSERT_EQ(s0.size(), 2u);
  ASSERT_EQ(s1.size(), 2u);
  for (const auto& k : s0) put(c, k, 1, 1);
  for (const auto& k : s1) put(c, k, 1, 1);
  for (const auto& k : s0) EXPECT_TRUE(hits(c, k, 1, 1));
  for (const auto& k : s1) EXPECT_TRUE(hits(c, k, 1, 1));
}

// Out-of-range sizes and a zero revalidation interval are rejected.
TEST(FlowCacheSizing, RejectsBadArguments) {
  EXPECT_THROW(FlowCache(0, 10), std::invalid_argument);
  EXPECT_THROW(FlowCache((1u << 24) + 1, 10), std::invalid_argument);
  EXPECT_THROW(FlowCache(1u << 25, 10), std::invalid_argument);
  EXPECT_THROW(FlowCache(kU32Max, 10), std::invalid_argument);
  EXPECT_THROW(FlowCache(64, 0), std::invalid_argument);
  EXPECT_THROW(FlowCache(0, 0), std::invalid_argument);
  EXPECT_NO_THROW(FlowCache(1, 1));
  EXPECT_NO_THROW(FlowCache(64, kU32Max));
}

// clear() forgets every entry, and the cache is fully usable afterwards (both ways free).
TEST(FlowCacheClear, ForgetsEverything) {
  FlowCache c(256, kLongWindow);
  std::mt19937_64 rng(11);
  std::vector<FlowCacheKey> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(random_key(rng));
  for (const auto& k : keys) put(c, k, 3, 40);
  size_t before = 0;
  for (const auto& k : keys) before += hits(c, k, 3, 40);
  ASSERT_GT(before, 100u);  // the test means something only if plenty were cached
  c.clear();
  for (const auto& k : keys) EXPECT_FALSE(hits(c, k, 3, 40)) << str(k);
  EXPECT_FALSE(hits(c, FlowCacheKey{}, 0, 0));

  FlowCache one(2, kLongWindow);
  put(one, make_key(1), 1, 100);
  put(one, make_key(2), 1, 200);
  one.clear();
  EXPECT_FALSE(hits(one, make_key(1), 1, 200));
  EXPECT_FALSE(hits(one, make_key(2), 1, 200));
  // Both ways are empty again: two new keys, filled at an "older" tick, both stay.
  put(one, make_key(3), 1, 5, verdict(3, 3));
  put(one, make_key(4), 1, 5, verdict(4, 4));
  EXPECT_TRUE(HitsWith(one, make_key(3), 1, 5, verdict(3, 3)));
  EXPECT_TRUE(HitsWith(one, make_key(4), 1, 5, verdict(4, 4)));
}

// ---------------------------------------------------------------------------------------------
// The hash.

// Deterministic: equal keys (copies, separately built) hash equal.
TEST(FlowCacheHash, Deterministic) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    const FlowCacheKey k = random_key(rng);
    FlowCacheKey copy;
    copy.src_ip = k.src_ip;
    copy.dst_ip = k.dst_ip;
    copy.src_port = k.src_port;
    copy.dst_port = k.dst_port;
    copy.rx_port = k.rx_port;
    copy.out_port = k.out_port;
    copy.protocol = k.protocol;
    copy.routed = k.routed;
    ASSERT_TRUE(copy == k);
    EXPECT_EQ(FlowCache::hash(k), FlowCache::hash(copy));
    EXPECT_EQ(FlowCache::hash(k), FlowCache::hash(k));
  }
  EXPECT_EQ(FlowCache::hash(FlowCacheKey{}), FlowCache::hash(FlowCacheKey{}));
}

// Keys differing in one field hash differently. (A CRC detects every error burst of up to 32
// bits, and each field is at most 32 contiguous bits, so this holds for every key, not just
// most.)
TEST(FlowCacheHash, SingleFieldChangesChangeTheHash) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 2000; ++i) {
    const FlowCacheKey base = random_key(rng);
    const uint32_t h = FlowCache::hash(base);
    for (const FieldChange& f : field_changes()) {
      FlowCacheKey k = base;
      f.change(k);
      EXPECT_NE(FlowCache::hash(k), h) << f.name << " of " << str(base);
    }
    // Random new values of each field, too.
    const std::array<std::function<void(FlowCacheKey&)>, 8> randomize = {
        [&](FlowCacheKey& k) { k.src_ip = static_cast<uint32_t>(rng()); },
        [&](FlowCacheKey& k) { k.dst_ip = static_cast<uint32_t>(rng()); },
        [&](FlowCacheKey& k) { k.src_port = static_cast<uint16_t>(rng()); },
        [&](FlowCacheKey& k) { k.dst_port = static_cast<uint16_t>(rng()); },
        [&](FlowCacheKey& k) { k.rx_port = static_cast<uint16_t>(rng()); },
        [&](FlowCacheKey& k) { k.out_port = static_cast<uint16_t>(rng()); },
        [&](FlowCacheKey& k) { k.protocol = static_cast<uint8_t>(rng()); },
        [&](FlowCacheKey& k) { k.routed = static_cast<uint8_t>(k.routed ^ 1); },
    };
    for (size_t f = 0; f < randomize.size(); ++f) {
      FlowCacheKey k = base;
      randomize[f](k);
      if (k == base) continue;
      EXPECT_NE(FlowCache::hash(k), h) << "field " << f << " of " << str(base);
    }
  }
}

// Few full 32-bit collisions among random keys (5000 keys: ~0.003 pairs expected).
TEST(FlowCacheHash, FewCollisionsAmongRandomKeys) {
  std::mt19937_64 rng(3);
  std::set<std::string> seen_keys;
  std::map<uint32_t, int> count;
  int keys = 0;
  while (keys < 5000) {
    const FlowCacheKey k = random_key(rng);
    if (!seen_keys.insert(str(k)).second) continue;
    ++count[FlowCache::hash(k)];
    ++keys;
  }
  int collisions = 0;
  for (const auto& [h, n] : count) collisions += n - 1;
  EXPECT_LE(collisions, 1);
}

// The low bits (the set index) spread keys: 1000 keys in a 65536-entry cache (32768 two-way
// sets) nearly all stay, for random keys and for structured ones (one field counting up, as
// real traffic looks: many ports, many addresses of one subnet).
TEST(FlowCacheHash, LowBitsSpreadKeys) {
  constexpr int kKeys = 1000;
  std::mt19937_64 rng(4);
  const FlowCacheKey base = make_key(0);
  const std::vector<std::pair<const char*, std::function<FlowCacheKey(int)>>> families = {
      {"random", [&](int) { return random_key(rng); }},
      {"src_port",
       [&](int i) {
         FlowCacheKey k = base;
         k.src_port = static_cast<uint16_t>(32768 + i);
         return k;
       }},
      {"dst_ip",
       [&](int i) {
         FlowCacheKey k = base;
         k.dst_ip = 0x0a000000u + static_cast<uint32_t>(i);
         return k;
       }},
      {"src_ip and dst_port",
       [&](int i) {
         FlowCacheKey k = base;
         k.src_ip = 0xc0a80000u + static_cast<uint32_t>(i / 10);
         k.dst_port = static_cast<uint16_t>(8000 + i % 10);
         return k;
       }},
      {"rx_port and out_port",
       [&](int i) {
         FlowCacheKey k = base;
         k.rx_port = static_cast<uint16_t>(i / 32);
         k.out_port = static_cast<uint16_t>(i % 32);
         return k;
       }},
  };
  for (const auto& [name, make] : families) {
    FlowCache c(65536, kLongWindow);
    std::vector<FlowCacheKey> keys;
    std::set<std::string> distinct;
    while (keys.size() < kKeys) {
      FlowCacheKey k = make(static_cast<int>(keys.size()));
      if (distinct.insert(str(k)).second) keys.push_back(k);
    }
    for (const auto& k : keys) put(c, k, 1, 1);
    int hit = 0;
    for (const auto& k : keys) hit += hits(c, k, 1, 1);
    EXPECT_GE(hit, 990) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Randomized comparisons with a reference model.

// A reference model of the cache, written from its contract: per set, two ways, each empty or
// holding (key, generation, fill tick, verdict). An entry can hit under generation g at tick t
// if its generation equals g modulo 65536 and t - fill, modulo 2^48, is below the window. An
// insert writes to the key's own entry if it has one; else to the first way whose entry cannot
// hit under the insert's generation and tick (empty ones included); else to the way filled
// longest ago (by age modulo 2^48; on a tie, way 0). Exact for any ticks below 2^48.
class Model {
 public:
  Model(uint32_t sets, uint32_t window) : sets_(sets), window_(window), table_(sets) {}

  void insert(const FlowCacheKey& k, uint64_t gen, uint64_t tick, const FlowVerdict& v) {
    Set& set = table_[FlowCache::hash(k) & (sets_ - 1)];
    Slot* victim = nullptr;
    for (Slot& s : set) {
      if (s.used && s.key == k) {
        victim = &s;
        break;
      }
    }
    if (victim == nullptr) {
      for (Slot& s : set) {
        if (!can_hit(s, gen, tick)) {
          victim = &s;
          break;
        }
      }
    }
    if (victim == nullptr)
      victim = age(set[1].tick, tick) > age(set[0].tick, tick) ? &set[1] : &set[0];
    *victim = Slot{true, k, gen, tick, v};
  }

  const FlowVerdict* lookup(const FlowCacheKey& k, uint64_t gen, uint64_t tick) const {
    for (const Slot& s : table_[FlowCache::hash(k) & (sets_ - 1)])
      if (s.used && s.key == k && can_hit(s, gen, tick)) return &s.verdict;
    return nullptr;
  }

 private:
  struct Slot {
    bool used = false;
    FlowCacheKey key;
    uint64_t gen = 0;
    uint64_t tick = 0;
    FlowVerdict verdict;
  };
  using Set = std::array<Slot, 2>;

  static uint64_t age(uint64_t fill, uint64_t now) {
    return (now + (kTickMax + 1) - fill) % (kTickMax + 1);
  }
  bool can_hit(const Slot& s, uint64_t gen, uint64_t tick) const {
    return s.used && (s.gen - gen) % kGenAlias == 0 && age(s.tick, tick) < window_;
  }

  uint32_t sets_;
  uint64_t window_;
  std::vector<Set> table_;
};

struct ModelRun {
  uint32_t entries;
  uint32_t window;
  uint64_t max_step;  // inserts advance the clock by 0 .. max_step ticks (0: ties)
  size_t pool_size;
  int ops;
  uint64_t seed;
  uint64_t start_tick;
  std::vector<uint64_t> generations;  // drawn at random for each operation
};

// Runs random inserts / lookups over a pool of keys against the cache and the model, with a
// clock that advances on inserts from `start_tick` (wrapping at 2^48), generations drawn from a
// small set (including ones that alias modulo 65536, so matches, mismatches and aliases all
// happen), and lookups mostly at the latest tick, sometimes later (often beyond the window)
// or earlier. Returns (hits, misses) seen, to check the test had both.
std::pair<int, int> run_model(const ModelRun& r) {
  std::mt19937_64 rng(r.seed);
  FlowCache c(r.entries, r.window);
  Model model(c.entries() / 2, r.window);
  std::vector<FlowCacheKey> pool;
  std::set<std::string> distinct;
  while (pool.size() < r.pool_size) {
    FlowCacheKey k = random_key(rng);
    if (distinct.insert(str(k)).second) pool.push_back(k);
  }
  const uint64_t spread = 2 * uint64_t{r.window};
  uint64_t now = r.start_tick;
  int hit = 0, miss = 0;
  for (int op = 0; op < r.ops; ++op) {
    const FlowCacheKey& k = pool[rng() % pool.size()];
    const uint64_t gen = r.generations[rng() % r.generations.size()];
    if (rng() % 2 == 0) {
      now = wrap(now + rng() % (r.max_step + 1));
      const FlowVerdict v = verdict(static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()));
      c.insert(k, FlowCache::hash(k), gen, now, v);
      model.insert(k, gen, now, v);
    } else {
      uint64_t t = now;
      switch (rng() % 8) {
        case 0:
        case 1:
          t = wrap(now + rng() % spread);
          break;
        case 2:
          t = wrap(now - rng() % spread);
          break;
        default:
          break;
      }
      const FlowVerdict* want = model.lookup(k, gen, t);
      const FlowVerdict* got = c.lookup(k, FlowCache::hash(k), gen, t);
      if (want == nullptr) {
        EXPECT_EQ(got, nullptr) << "op " << op << " key " << str(k) << " gen " << gen << " tick "
                                << t;
        ++miss;
      } else {
        EXPECT_TRUE(got != nullptr && got->acl_egress_slot == want->acl_egress_slot &&
                    got->acl_ingress_slot == want->acl_ingress_slot)
            << "op " << op << " key " << str(k) << " gen " << gen << " tick " << t;
        ++hit;
      }
      if (::testing::Test::HasFailure()) break;  // one divergence is enough to report
    }
  }
  return {hit, miss};
}

// Generations for the model runs: three classes modulo 65536 (G, G + 1, G + 256), each with
// members differing above bit 15.
std::vector<uint64_t> model_generations(uint64_t g) {
  return {g,
          g + 1,
          g + 256,
          g + kGenAlias,
          g + 1 + k2p32,
          g + 256 + (uint64_t{1} << 48),
          g - 3 * kGenAlias};
}

// A big cache, few keys (set conflicts, let alone evictions, are unlikely): lookups match
// "present, same generation, within the window" exactly, across the clock's wrap. (The model
// also replays evictions, so even an unlucky set conflict would not make it inexact.)
TEST(FlowCacheModel, BigCacheMatchesModel) {
  const auto [hit, miss] =
      run_model({1u << 16, 4096, 16, 300, 20000, 20, kTickMax - 40000, model_generations(100)});
  EXPECT_GT(hit, 500);
  EXPECT_GT(miss, 500);
}

// A small cache under heavy conflict (40 keys in 8 sets): replacement matches the model too,
// across the clock's wrap and across 2^32 (nothing special any more).
TEST(FlowCacheModel, SmallCacheWithEvictionsMatchesModel) {
  for (uint64_t seed : {30u, 31u, 32u}) {
    for (uint64_t start : {kTickMax - 50000, k2p32 - 50000}) {
      const auto [hit, miss] =
          run_model({16, 256, 32, 40, 20000, seed, start, model_generations(kU64Max - 100)});
      EXPECT_GT(hit, 300) << seed << " " << start;  // ~550-700 with these seeds
      EXPECT_GT(miss, 500) << seed << " " << start;
    }
  }
}

// One set only, a handful of keys: the tightest case for the replacement rule. Small steps
// make ties (two fills at one tick) common.
TEST(FlowCacheModel, SingleSetMatchesModel) {
  for (uint64_t max_step : {uint64_t{2}, uint64_t{100}}) {
    const auto [hit, miss] = run_model(
        {2, 1000, max_step, 4, 20000, 40 + max_step, kTickMax - 30000, model_generations(5)});
    EXPECT_GT(hit, 500) << max_step;
    EXPECT_GT(miss, 500) << max_step;
  }
}

// The largest window and huge clock steps: entries live for up to 2^32 - 2 ticks, lookups land
// up to 2^33 ticks away, so ages at and beyond 2^32 (where a 32-bit clock came round again)
// are common, and the clock wraps at 2^48 during the run.
TEST(FlowCacheModel, LargestWindowWithHugeStepsMatchesModel) {
  for (uint64_t seed : {50u, 51u}) {
    const auto [hit, miss] = run_model({16, kU32Max, uint64_t{1} << 29, 12, 20000, seed,
                                        kTickMax - (uint64_t{1} << 40), model_generations(77)});
    EXPECT_GT(hit, 500) << seed;
    EXPECT_GT(miss, 500) << seed;
  }
}

// Insertion under thrashing: every candidate is admitted while at least half of the lookups
// hit; once a window of lookups hits less than that, one candidate in kSparseInsert; and
// every candidate again after a window that hits well.
TEST(FlowCacheInsertPolicy, SparseWhileThrashingAndDenseAgainAfterwards) {
  FlowCache cache(1024, 100);
  const auto admitted_of = [&](int candidates) {
    int n = 0;
    for (int i = 0; i < candidates; ++i) n += cache.admit() ? 1 : 0;
    return n;
  };
  EXPECT_FALSE(cache.thrashing());
  EXPECT_EQ(admitted_of(1000), 1000);
  // A window that hits exactly half is not thrashing.
  cache.account(FlowCache::kWindow / 2, FlowCache::kWindow / 4);
  cache.account(FlowCache::kWindow / 2, FlowCache::kWindow / 4);
  EXPECT_FALSE(cache.thrashing());
  // One below half: thrashing, decided only when the window is complete.
  cache.account(FlowCache::kWindow - 1, FlowCache::kWindow / 2 - 1);
  EXPECT_FALSE(cache.thrashing());
  cache.account(1, 0);
  EXPECT_TRUE(cache.thrashing());
  EXPECT_EQ(admitted_of(16 * FlowCache::kSparseInsert), 16);
  // A good window ends it.
  cache.account(FlowCache::kWindow, FlowCache::kWindow);
  EXPECT_FALSE(cache.thrashing());
  EXPECT_EQ(admitted_of(100), 100);
}

}  // namespace
}  // namespace dvr::dp
