#include "worker_context.h"

#include "batch.h"

#include <algorithm>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

namespace dvr::dp {

namespace {

// How long a cached verdict stands before the flow's next packet takes the full filter path
// again (refreshing its conntrack entries): far below the shortest conntrack timeout (1 s), and
// long enough that a busy flow pays for the full path about once per 100 ms.
constexpr uint64_t kFlowCacheRevalidateMs = 100;

}  // namespace

WorkerContext::WorkerContext(uint16_t worker_id, WorkerCounters& counters,
                             ExceptionQueue& exceptions, uint32_t flow_cache_entries)
    : worker_id_(worker_id),
      counters_(counters),
      icmp_tsc_per_token_(std::max<uint64_t>(1, rte_get_tsc_hz() / kIcmpErrorsPerSecond)),
      exceptions_(exceptions) {
  if (flow_cache_entries > 0) {
    const uint64_t ticks = FlowCache::tick_of(rte_get_tsc_hz() * kFlowCacheRevalidateMs / 1000);
    flow_cache_ = std::make_unique<FlowCache>(
        flow_cache_entries, static_cast<uint32_t>(std::clamp<uint64_t>(ticks, 1, UINT32_MAX)));
  }
}

void WorkerContext::drop(rte_mbuf* pkt, uint16_t port, DropReason reason) {
  counters_.ports[port].drops[static_cast<size_t>(reason)].inc();
  rte_pktmbuf_free(pkt);
}

void WorkerContext::drop_routed(rte_mbuf* pkt, uint16_t port, uint16_t router, DropReason reason) {
  count_drop(port, router, reason);
  rte_pktmbuf_free(pkt);
}

void WorkerContext::count_drop(uint16_t port, uint16_t router, DropReason reason) {
  counters_.ports[port].drops[static_cast<size_t>(reason)].inc();
  if (router < kMaxRouterCounters)
    counters_.routers[router].drops[static_cast<size_t>(reason)].inc();
}

bool WorkerContext::take_icmp_error_token() {
  const uint64_t now = rte_rdtsc();
  const uint64_t earned = (now - icmp_last_refill_) / icmp_tsc_per_token_;
  if (earned > 0) {
    icmp_tokens_ =
        static_cast<uint32_t>(std::min<uint64_t>(kIcmpErrorBurst, icmp_tokens_ + earned));
    icmp_last_refill_ = now;
  }
  if (icmp_tokens_ == 0) {
    counters_.icmp_errors_rate_limited.inc();
    return false;
  }
  --icmp_tokens_;
  return true;
}

void WorkerContext::punt(rte_mbuf* pkt, uint16_t port, PuntReason reason) {
  if (!exceptions_.push(PuntItem{pkt, port, reason})) {
    counters_.punt_queue_full.inc();
    drop(pkt, port, DropReason::kPuntQueueFull);
    return;
  }
  counters_.punted.inc();
}

void WorkerContext::loopback(rte_mbuf* pkt, uint16_t port, uint16_t router) {
  if (loopback_count_ == kLoopbackSize) {
    drop_routed(pkt, port, router, DropReason::kHairpinQueueFull);
    return;
  }
  loopback_pkts_[loopback_count_] = pkt;
  loopback_port_[loopback_count_++] = port;
  counters_.nat_hairpinned.inc();
}

uint16_t WorkerContext::take_loopback(rte_mbuf** pkts, uint16_t& port) {
  if (loopback_count_ == 0) return 0;
  port = loopback_port_[0];
  uint16_t n = 0, rest = 0;
  for (uint16_t i = 0; i < loopback_count_; ++i) {
    if (loopback_port_[i] == port && n < kBurstSize) {
      pkts[n++] = loopback_pkts_[i];
    } else {
      loopback_pkts_[rest] = loopback_pkts_[i];
      loopback_port_[rest++] = loopback_port_[i];
    }
  }
  loopback_count_ = rest;
  return n;
}

void WorkerContext::drop_removed_port(rte_mbuf* pkt) {
  drop(pkt, pkt->port, DropReason::kPortRemoved);
}

void WorkerContext::flush() {
  while (dirty_ports_ != 0) {
    const auto port = static_cast<uint16_t>(__builtin_ctz(dirty_ports_));
    flush_port(port);
  }
}

void WorkerContext::flush_port(uint16_t port) {
  TxBuffer& buf = tx_[port];
  dirty_ports_ &= ~(1u << port);
  const uint16_t n = buf.count;
  buf.count = 0;
  if (n == 0) return;
  const PortRuntime& rt = config_->ports[port];
  PortCounters& pc = counters_.ports[port];

  if (worker_id_ >= rt.tx_queues) {
    // This worker has no tx queue on the port: hand the burst to worker 0, which owns queue 0.
    const unsigned queued =
        rte_ring_mp_enqueue_burst(rt.tx_handoff, reinterpret_cast<void**>(buf.pkts), n, nullptr);
    for (uint16_t i = queued; i < n; ++i) drop(buf.pkts[i], port, DropReason::kTxHandoffFull);
    return;
  }

  // Byte counts must be read before the driver owns the mbufs.
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(buf.pkts[i]);
  const uint16_t sent = rte_eth_tx_burst(port, worker_id_, buf.pkts, n);
  for (uint16_t i = sent; i < n; ++i) {
    bytes -= rte_pktmbuf_pkt_len(buf.pkts[i]);
    drop(buf.pkts[i], port, DropReason::kTxQueueFull);
  }
  pc.tx_packets.add(sent);
  pc.tx_bytes.add(bytes);
}

void WorkerContext::drain_tx_handoffs() {
  for (uint16_t port = 0; port < kMaxPorts; ++port) {
    rte_ring* ring = config_->ports[port].tx_handoff;
    if (ring == nullptr) continue;
    rte_mbuf* pkts[kTxBufferSize];
    const unsigned n =
        rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), kTxBufferSize, nullptr);
    for (unsigned i = 0; i < n; ++i) transmit(pkts[i], port);
  }
}

}  // namespace dvr::dp

namespace dvr::dp {

void WorkerContext::drain_control_tx() {
  ControlTxQueue* q = config_->control_tx;
  if (q == nullptr) return;
  rte_mbuf* m = nullptr;
  while (q->pop(m)) transmit(m, m->port);
}

}  // namespace dvr::dp
