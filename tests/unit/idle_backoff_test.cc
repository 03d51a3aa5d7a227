// Idle back-off policy for poll-mode workers (dataplane/idle_backoff.h).

#include "idle_backoff.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace dvr::dp {
namespace {

IdleBackoffConfig enabled(uint32_t before_sleep, uint32_t max_sleep_us) {
  IdleBackoffConfig c;
  c.enabled = true;
  c.empty_polls_before_sleep = before_sleep;
  c.max_sleep_us = max_sleep_us;
  return c;
}

// The sleeps returned by `n` consecutive empty polls.
std::vector<uint32_t> empty_polls(IdleBackoff& b, size_t n) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(b.after_poll(false));
  return out;
}

TEST(IdleBackoff, DefaultConfigIsDisabled) {
  const IdleBackoffConfig c;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.empty_polls_before_sleep, 1000u);
  EXPECT_EQ(c.max_sleep_us, 250u);
}

TEST(IdleBackoff, DisabledNeverSleeps) {
  IdleBackoffConfig c = enabled(0, 250);
  c.enabled = false;
  IdleBackoff b(c);
  for (size_t i = 0; i < 100000; ++i) ASSERT_EQ(b.after_poll(false), 0u) << "poll " << i;
  EXPECT_EQ(b.after_poll(true), 0u);
}

TEST(IdleBackoff, SleepsOnlyAfterTheConfiguredEmptyPolls) {
  IdleBackoff b(enabled(5, 250));
  // The first five empty polls only count; the sixth is the first to sleep.
  EXPECT_EQ(empty_polls(b, 6), (std::vector<uint32_t>{0, 0, 0, 0, 0, 1}));
}

TEST(IdleBackoff, ZeroEmptyPollsBeforeSleepSleepsOnTheFirstEmptyPoll) {
  IdleBackoff b(enabled(0, 250));
  EXPECT_EQ(b.after_poll(false), 1u);
  EXPECT_EQ(b.after_poll(false), 2u);
}

TEST(IdleBackoff, SleepDoublesAndCapsAtMax) {
  IdleBackoff b(enabled(2, 250));
  EXPECT_EQ(empty_polls(b, 14),
            (std::vector<uint32_t>{0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 250, 250, 250, 250}));
}

TEST(IdleBackoff, CapThatIsAPowerOfTwo) {
  IdleBackoff b(enabled(0, 8));
  EXPECT_EQ(empty_polls(b, 7), (std::vector<uint32_t>{1, 2, 4, 8, 8, 8, 8}));
}

TEST(IdleBackoff, CapOfOneMicrosecond) {
  IdleBackoff b(enabled(1, 1));
  EXPECT_EQ(empty_polls(b, 5), (std::vector<uint32_t>{0, 1, 1, 1, 1}));
}

TEST(IdleBackoff, StaysAtTheCapForALongIdlePeriod) {
  IdleBackoff b(enabled(3, 100));
  const std::vector<uint32_t> s = empty_polls(b, 10000);
  for (size_t i = 20; i < s.size(); ++i) ASSERT_EQ(s[i], 100u) << "poll " << i;
}

TEST(IdleBackoff, PacketsResetBothCounters) {
  IdleBackoff b(enabled(3, 250));
  EXPECT_EQ(empty_polls(b, 7), (std::vector<uint32_t>{0, 0, 0, 1, 2, 4, 8}));
  EXPECT_EQ(b.after_poll(true), 0u);
  // Counting starts over: three free empty polls, then 1 us again (not 16).
  EXPECT_EQ(empty_polls(b, 5), (std::vector<uint32_t>{0, 0, 0, 1, 2}));
}

TEST(IdleBackoff, PacketsPartWayThroughTheCountResetIt) {
  IdleBackoff b(enabled(3, 250));
  EXPECT_EQ(empty_polls(b, 2), (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(b.after_poll(true), 0u);
  EXPECT_EQ(empty_polls(b, 4), (std::vector<uint32_t>{0, 0, 0, 1}));
}

TEST(IdleBackoff, BusyPollsNeverSleep) {
  IdleBackoff b(enabled(0, 250));
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(b.after_poll(true), 0u);
  // Alternating: every empty poll after a busy one starts from 1 us.
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(b.after_poll(false), 1u);
    ASSERT_EQ(b.after_poll(true), 0u);
  }
}

TEST(IdleBackoff, MaxSleepZeroNeverSleeps) {
  IdleBackoff b(enabled(0, 0));
  for (size_t i = 0; i < 10000; ++i) ASSERT_EQ(b.after_poll(false), 0u) << "poll " << i;
}

// With max_sleep_us above 2^31 a naive doubling would overflow uint32_t: after 2147483648 the next
// sleep would be (2^31 * 2) mod 2^32 = 0 and the sequence would restart at 1 instead of staying at
// the cap.
TEST(IdleBackoff, HugeMaxSleepDoesNotWrapToZero) {
  IdleBackoff b(enabled(0, UINT32_MAX));
  const std::vector<uint32_t> s = empty_polls(b, 40);
  for (size_t i = 1; i < s.size(); ++i) {
    ASSERT_GE(s[i], s[i - 1]) << "poll " << i;
  }
  EXPECT_EQ(s.back(), UINT32_MAX);
}

TEST(IdleBackoff, ConfigIsCopied) {
  IdleBackoffConfig c = enabled(0, 4);
  IdleBackoff b(c);
  c.enabled = false;
  c.max_sleep_us = 1000;
  EXPECT_EQ(empty_polls(b, 4), (std::vector<uint32_t>{1, 2, 4, 4}));
}

}  // namespace
}  // namespace dvr::dp
