// Idle back-off for poll-mode workers, after OVS-DPDK's pmd-sleep-max: once a worker has seen
// `empty_polls_before_sleep` consecutive empty polls it sleeps, starting at 1 us and doubling on
// every further empty poll up to `max_sleep_us`. The first packet resets it.
//
// Wake-up latency is bounded by max_sleep_us plus the kernel's timer slack (50 us by default for
// normal threads): a packet that arrives while the worker sleeps waits at most that long.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dvr::dp {

struct IdleBackoffConfig {
  bool enabled = false;
  uint32_t empty_polls_before_sleep = 1000;
  uint32_t max_sleep_us = 250;
};

class IdleBackoff {
 public:
  explicit IdleBackoff(const IdleBackoffConfig& cfg) : cfg_(cfg) {}

  // Called after every poll; returns how many microseconds to sleep now (0: keep polling).
  uint32_t after_poll(bool got_packets) {
    if (got_packets) {
      empty_polls_ = 0;
      sleep_us_ = 0;
      return 0;
    }
    if (!cfg_.enabled || cfg_.max_sleep_us == 0) return 0;
    if (empty_polls_ < cfg_.empty_polls_before_sleep) {
      ++empty_polls_;
      return 0;
    }
    // Compare before doubling so that a huge maximum cannot wrap the sleep around to 0.
    sleep_us_ = sleep_us_ == 0                       ? 1
                : sleep_us_ >= cfg_.max_sleep_us / 2 ? cfg_.max_sleep_us
                                                     : sleep_us_ * 2;
    return sleep_us_;
  }

 private:
  IdleBackoffConfig cfg_;
  uint32_t empty_polls_ = 0;
  uint32_t sleep_us_ = 0;
};

}  // namespace dvr::dp
