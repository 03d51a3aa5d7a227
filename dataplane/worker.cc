#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

namespace dvr::dp {

Worker::Worker(uint16_t id, unsigned lcore, const ConfigPublisher& publisher,
               WorkerCounters& counters, ExceptionQueue& exceptions,
               const IdleBackoffConfig& backoff, uint32_t flow_cache_entries)
    : id_(id),
      lcore_(lcore),
      publisher_(publisher),
      counters_(counters),
      ctx_(id, counters, exceptions, flow_cache_entries),
      pipeline_(Pipeline::standard()),
      backoff_(backoff) {}

uint32_t Worker::poll_once() {
  const ForwardingConfig* cfg = publisher_.acquire();
  ctx_.set_config(cfg);
  counters_.config_generation.store(cfg->generation, std::memory_order_relaxed);

  uint32_t received = 0;
  if (id_ < cfg->rx_by_worker.size()) {
    Batch batch;
    for (const RxQueueRef& q : cfg->rx_by_worker[id_]) {
      const uint16_t n = rte_eth_rx_burst(q.port, q.queue, batch.pkts, kBurstSize);
      if (n == 0) continue;
      received += n;
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(batch.pkts[i]);
      PortCounters& pc = counters_.ports[q.port];
      pc.rx_packets.add(n);
      pc.rx_bytes.add(bytes);
      batch.rx_port = q.port;
      batch.count = n;
      pipeline_.run(batch, ctx_);
    }
  }
  run_loopback();
  if (id_ == 0) {
    ctx_.drain_tx_handoffs();
    ctx_.drain_control_tx();
  }
  ctx_.flush();
  return received;
}

void Worker::process_burst(uint16_t rx_port, rte_mbuf** pkts, uint16_t n) {
  ctx_.set_config(publisher_.acquire());
  Batch batch;
  batch.rx_port = rx_port;
  batch.count = n;
  for (uint16_t i = 0; i < n; ++i) batch.pkts[i] = pkts[i];
  pipeline_.run(batch, ctx_);
  run_loopback();
  ctx_.flush();
}

void Worker::run_loopback() {
  // Once per poll: what the loop-back itself sends back waits for the next poll, so a
  // misconfiguration cannot keep a worker here.
  Batch batch;
  for (int round = 0; round < 2; ++round) {
    batch.count = ctx_.take_loopback(batch.pkts, batch.rx_port);
    if (batch.count == 0) return;
    pipeline_.run(batch, ctx_);
  }
}

int Worker::run() {
  rte_rcu_qsbr* qsbr = publisher_.qsbr();
  rte_rcu_qsbr_thread_register(qsbr, id_);
  rte_rcu_qsbr_thread_online(qsbr, id_);

  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    const uint32_t received = poll_once();
    // Nothing from the old configuration is held past this point (tx buffers were flushed).
    rte_rcu_qsbr_quiescent(qsbr, id_);

    const uint64_t end = rte_rdtsc();
    counters_.polls.inc();
    if (received > 0) {
      counters_.busy_cycles.add(end - start);
    } else {
      counters_.empty_polls.inc();
      counters_.idle_cycles.add(end - start);
    }
    if (const uint32_t sleep_us = backoff_.after_poll(received > 0); sleep_us > 0) {
      // Offline while asleep, so a configuration change never waits for a sleeping worker.
      rte_rcu_qsbr_thread_offline(qsbr, id_);
      rte_delay_us_sleep(sleep_us);
      rte_rcu_qsbr_thread_online(qsbr, id_);
      counters_.sleeps.inc();
      counters_.idle_cycles.add(rte_rdtsc() - end);
    }
  }

  rte_rcu_qsbr_thread_offline(qsbr, id_);
  rte_rcu_qsbr_thread_unregister(qsbr, id_);
  return 0;
}

}  // namespace dvr::dp
