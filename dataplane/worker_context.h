// Everything a stage may touch while it handles a burst on one worker: the published
// configuration, the worker's own counters, its tx buffers and its exception queue.
#pragma once

#include <cstdint>

#include "counters.h"
#include "exception_queue.h"
#include "forwarding_config.h"

struct rte_mbuf;

namespace dvr::dp {

inline constexpr uint16_t kTxBufferSize = 64;

class WorkerContext {
 public:
  WorkerContext(uint16_t worker_id, WorkerCounters& counters, ExceptionQueue& exceptions)
      : worker_id_(worker_id), counters_(counters), exceptions_(exceptions) {}

  uint16_t worker_id() const { return worker_id_; }
  const ForwardingConfig& config() const { return *config_; }
  void set_config(const ForwardingConfig* cfg) { config_ = cfg; }
  WorkerCounters& counters() { return counters_; }

  // Frees the packet and counts it against `port` under `reason`.
  void drop(rte_mbuf* pkt, uint16_t port, DropReason reason);
  // Queues the packet for transmission on `port`; sent at the next flush (or when the buffer for
  // that port fills up).
  void transmit(rte_mbuf* pkt, uint16_t port);
  // Hands the packet to the control thread.
  void punt(rte_mbuf* pkt, uint16_t port, PuntReason reason);

  // Sends every buffered packet. Called once per loop iteration, before the quiescent report, so
  // no packet is held across a configuration change.
  void flush();
  // Worker 0 only: moves packets other workers handed off for ports with too few tx queues.
  void drain_tx_handoffs();

 private:
  struct TxBuffer {
    uint16_t count = 0;
    rte_mbuf* pkts[kTxBufferSize];
  };

  void flush_port(uint16_t port);

  uint16_t worker_id_;
  WorkerCounters& counters_;
  ExceptionQueue& exceptions_;
  const ForwardingConfig* config_ = nullptr;
  uint32_t dirty_ports_ = 0;  // bit p: tx_[p] holds packets
  static_assert(kMaxPorts <= 32, "dirty_ports_ is a 32-bit mask");
  TxBuffer tx_[kMaxPorts];
};

}  // namespace dvr::dp
