// The immutable configuration version that workers read.
//
// The control thread builds a new ForwardingConfig for every change, publishes it with one atomic
// pointer store, and frees the old one only after every worker has passed a quiescent state
// (config_publisher.h). Workers therefore never see a half-applied change and never wait.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "counters.h"
#include "exception_queue.h"
#include "l3_state.h"
#include "nat/external_neighbors.h"
#include "overlay/underlay_state.h"

struct rte_ring;

namespace dvr::dp {

class ConnTable;

inline constexpr uint16_t kNoPort = UINT16_MAX;

struct PortRuntime {
  bool present = false;
  uint16_t tx_queues = 0;          // worker w transmits on queue w when w < tx_queues ...
  rte_ring* tx_handoff = nullptr;  // ... and otherwise through this ring to worker 0
  uint16_t xconnect = kNoPort;     // L2 patch target, kNoPort for the routing pipeline
  bool xconnect_configured = false;
};

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
};

struct ForwardingConfig {
  uint64_t generation = 0;
  std::array<PortRuntime, kMaxPorts> ports{};
  std::vector<std::vector<RxQueueRef>> rx_by_worker;  // [worker] -> queues it polls
  // Tenant forwarding state; may be shared by consecutive versions. Workers use the raw pointer.
  std::shared_ptr<const L3State> l3_owner;
  const L3State* l3 = nullptr;
  // The underlay paths to remote hosts; republished on its own when underlay neighbours change.
  std::shared_ptr<const UnderlayState> underlay_owner;
  const UnderlayState* underlay = nullptr;
  // MACs of external neighbours; republished on its own when ARP resolves or ages one.
  std::shared_ptr<const ExternalNeighbors> ext_neighbors_owner;
  const ExternalNeighbors* ext_neighbors = nullptr;
  // The connection-tracking table of security groups; lives as long as the dataplane.
  ConnTable* conntrack = nullptr;
  uint64_t tsc_per_ms = 1;  // for conntrack's millisecond clock
  // Frames from the control thread, drained by worker 0; lives as long as the dataplane.
  ControlTxQueue* control_tx = nullptr;
};

}  // namespace dvr::dp
