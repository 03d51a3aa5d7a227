// A poll-mode worker: rx burst from each of its (port, queue) pairs, the pipeline, buffered tx.
#pragma once

#include <atomic>
#include <cstdint>

#include "config_publisher.h"
#include "idle_backoff.h"
#include "pipeline.h"
#include "worker_context.h"

namespace dvr::dp {

class Worker {
 public:
  Worker(uint16_t id, unsigned lcore, const ConfigPublisher& publisher, WorkerCounters& counters,
         ExceptionQueue& exceptions, const IdleBackoffConfig& backoff, uint32_t flow_cache_entries);

  // The lcore entry point; returns when stop() is called.
  int run();
  void stop() { stop_.store(true, std::memory_order_relaxed); }

  uint16_t id() const { return id_; }
  unsigned lcore() const { return lcore_; }
  const Pipeline& pipeline() const { return pipeline_; }

  // One loop iteration without RCU bookkeeping or back-off; returns packets received. Lets
  // pipeline tests drive a worker from the test thread.
  uint32_t poll_once();

  // Runs a burst that did not come from a driver through the pipeline, as if received on
  // `rx_port`, then flushes the tx buffers. For in-process benchmarks (no rx I/O); the caller
  // is the only thread using this worker.
  void process_burst(uint16_t rx_port, rte_mbuf** pkts, uint16_t n);

 private:
  // Runs the packets queued by WorkerContext::loopback (hairpinned NAT traffic).
  void run_loopback();

  uint16_t id_;
  unsigned lcore_;
  const ConfigPublisher& publisher_;
  WorkerCounters& counters_;
  WorkerContext ctx_;
  Pipeline pipeline_;
  IdleBackoff backoff_;
  std::atomic<bool> stop_{false};
};

}  // namespace dvr::dp
