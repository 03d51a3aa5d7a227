// Everything a stage may touch while it handles a burst on one worker: the published
// configuration, the worker's own counters, its tx buffers and its exception queue.
#pragma once

#include <cstdint>
#include <memory>

#include "counters.h"
#include "exception_queue.h"
#include "filter/flow_cache.h"
#include "forwarding_config.h"

struct rte_mbuf;

namespace dvr::dp {

inline constexpr uint16_t kTxBufferSize = 64;

class WorkerContext {
 public:
  // `flow_cache_entries`: the size of the worker's filter verdict cache, 0 for none.
  WorkerContext(uint16_t worker_id, WorkerCounters& counters, ExceptionQueue& exceptions,
                uint32_t flow_cache_entries);

  uint16_t worker_id() const { return worker_id_; }
  const ForwardingConfig& config() const { return *config_; }
  // Tenant state of the current version; nullptr until the control plane configured any.
  const L3State* l3() const { return config_->l3; }
  void set_config(const ForwardingConfig* cfg) { config_ = cfg; }
  WorkerCounters& counters() { return counters_; }
  // The worker's filter verdict cache; nullptr when turned off.
  FlowCache* flow_cache() { return flow_cache_.get(); }

  // Frees the packet and counts it against `port` under `reason`.
  void drop(rte_mbuf* pkt, uint16_t port, DropReason reason);
  // Frees the packet and counts it against both `port` and the router that handled it (only
  // `port` when `router` is kNoIndex).
  void drop_routed(rte_mbuf* pkt, uint16_t port, uint16_t router, DropReason reason);
  // Counts a drop without freeing: the packet was recycled (e.g. into an ICMP error).
  void count_drop(uint16_t port, uint16_t router, DropReason reason);
  // ICMP error budget of this worker (token bucket): true if one more error may be sent now.
  bool take_icmp_error_token();

  // Queues the packet for transmission on `port`; sent at the next flush (or when the buffer for
  // that port fills up). Inline: every forwarded packet comes through here.
  void transmit(rte_mbuf* pkt, uint16_t port) {
    if (port >= kMaxPorts || !config_->ports[port].present) {
      drop_removed_port(pkt);
      return;
    }
    TxBuffer& buf = tx_[port];
    if (buf.count == kTxBufferSize) flush_port(port);
    buf.pkts[buf.count++] = pkt;
    dirty_ports_ |= 1u << port;
  }
  // Queues the packet to go through the pipeline again, as if received on `port` (an external
  // port): traffic to a floating IP or SNAT address this host serves turns around here instead
  // of leaving. Runs at the end of the worker's poll; dropped when the queue is full (counted
  // against `router` too, unless it is kNoIndex).
  void loopback(rte_mbuf* pkt, uint16_t port, uint16_t router);
  // Moves the queued loop-back packets of one port into `pkts` (at most kBurstSize); returns how
  // many, and that port in `port`.
  uint16_t take_loopback(rte_mbuf** pkts, uint16_t& port);
  // Hands the packet to the control thread.
  void punt(rte_mbuf* pkt, uint16_t port, PuntReason reason);

  // Sends every buffered packet. Called once per loop iteration, before the quiescent report, so
  // no packet is held across a configuration change.
  void flush();
  // Worker 0 only: moves packets other workers handed off for ports with too few tx queues.
  void drain_tx_handoffs();
  // Worker 0 only: sends what the control thread queued (underlay ARP requests).
  void drain_control_tx();

 private:
  struct TxBuffer {
    uint16_t count = 0;
    rte_mbuf* pkts[kTxBufferSize];
  };

  void flush_port(uint16_t port);
  void drop_removed_port(rte_mbuf* pkt);

  uint16_t worker_id_;
  WorkerCounters& counters_;
  // ICMP errors: at most kIcmpErrorsPerSecond per worker on average, bursts of kIcmpErrorBurst.
  static constexpr uint32_t kIcmpErrorsPerSecond = 1000;
  static constexpr uint32_t kIcmpErrorBurst = 100;
  uint64_t icmp_tsc_per_token_;
  uint64_t icmp_last_refill_ = 0;
  uint32_t icmp_tokens_ = kIcmpErrorBurst;
  ExceptionQueue& exceptions_;
  const ForwardingConfig* config_ = nullptr;
  std::unique_ptr<FlowCache> flow_cache_;
  static constexpr uint16_t kLoopbackSize = 64;
  uint16_t loopback_count_ = 0;
  rte_mbuf* loopback_pkts_[kLoopbackSize];
  uint16_t loopback_port_[kLoopbackSize];
  uint32_t dirty_ports_ = 0;  // bit p: tx_[p] holds packets
  static_assert(kMaxPorts <= 32, "dirty_ports_ is a 32-bit mask");
  TxBuffer tx_[kMaxPorts];
};

}  // namespace dvr::dp
