// Counters written by exactly one worker and read by the control thread.
//
// Each worker owns its counter block, aligned to cache lines so that workers never share a line.
// A single writer needs no atomic read-modify-write: a relaxed load + store compiles to a plain
// add on x86, and the relaxed atomics keep the cross-thread read well defined.
#pragma once

#include <atomic>
#include <cstdint>

#include "drop_reason.h"

namespace dvr::dp {

inline constexpr uint16_t kMaxPorts = 32;  // RTE_MAX_ETHPORTS in Debian's DPDK build
inline constexpr size_t kMaxStages = 16;
inline constexpr uint32_t kStageTimingPeriod = 8;

class Counter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  // Only while no worker writes this counter (the port is not in any published configuration).
  void reset() { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct alignas(64) PortCounters {
  Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
  Counter drops[kDropReasonCount];

  void reset() {
    for (Counter* c : {&rx_packets, &rx_bytes, &tx_packets, &tx_bytes}) c->reset();
    for (Counter& c : drops) c.reset();
  }
};

struct RouterCounters {
  Counter routed;  // packets forwarded by the router
  Counter drops[kDropReasonCount];
};

inline constexpr uint16_t kMaxRouterCounters = 4096;  // = kMaxRouters (l3_state.h)

struct StageCounters {
  Counter packets;
  // Cycles are measured on one burst in kStageTimingPeriod (timing every burst would cost a
  // cycle per packet per stage); timed_packets are the packets of those bursts.
  Counter cycles, timed_packets;
};

struct alignas(64) WorkerCounters {
  Counter busy_cycles, idle_cycles, polls, empty_polls, sleeps;
  Counter punted, punt_queue_full;
  Counter arp_replies, echo_replies, icmp_errors_sent, icmp_errors_rate_limited;
  Counter conntrack_created, conntrack_revoked;
  // Packets the filters judged from the worker's verdict cache / judged in full.
  Counter flow_cache_hits, flow_cache_misses;
  // The overlay: frames encapsulated to / decapsulated from other hosts, extra flood copies.
  Counter vxlan_encapsulated, vxlan_decapsulated, flood_copies;
  // North-south: translated towards / away from VMs, SNAT sessions created, packets sent to the
  // router's SNAT host, packets looped back to this host's own external addresses.
  Counter nat_inbound, nat_outbound, snat_sessions_created, snat_redirected, nat_hairpinned;
  std::atomic<uint64_t> config_generation{0};
  StageCounters stages[kMaxStages];
  PortCounters ports[kMaxPorts];
  RouterCounters routers[kMaxRouterCounters];
};

}  // namespace dvr::dp
