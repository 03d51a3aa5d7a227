// The exception path: one bounded single-producer/single-consumer queue per worker carries
// packets (and, later, events) from that worker to the control thread. A worker never blocks on
// it: when it is full the packet is dropped and counted (DropReason::kPuntQueueFull).
#pragma once

#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>

#include "drop_reason.h"

struct rte_mbuf;

namespace dvr::dp {

struct PuntItem {
  rte_mbuf* pkt;
  uint16_t port;
  PuntReason reason;
};

// Capacity is fixed at construction (on the control thread); push/pop never allocate.
using ExceptionQueue = boost::lockfree::spsc_queue<PuntItem>;

// The other direction: frames the control thread originates (underlay ARP requests), sent by
// worker 0 from its own tx queues. The destination port travels in the mbuf's `port` field.
using ControlTxQueue = boost::lockfree::spsc_queue<rte_mbuf*>;

}  // namespace dvr::dp
