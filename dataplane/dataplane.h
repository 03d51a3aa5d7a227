// The dataplane as the control thread sees it: ports, workers, configuration versions, counters
// and the exception path. Constructed after rte_eal_init(); every method runs on the control
// thread.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config_publisher.h"
#include "counters.h"
#include "exception_queue.h"
#include "filter/conn_table.h"
#include "idle_backoff.h"
#include "port_manager.h"
#include "worker.h"

struct rte_mempool;

namespace dvr::dp {

struct DataplaneOptions {
  uint32_t mbufs = 32767;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint32_t exception_queue_size = 1024;
  IdleBackoffConfig backoff;
  // Connection tracking for security groups: the table's size and idle timeouts.
  uint32_t conntrack_capacity = 262144;
  ConnTimeouts conntrack_timeouts;
  // Entries of each worker's filter verdict cache (filter/flow_cache.h); 0 turns it off.
  uint32_t flow_cache_entries = 16384;
};

struct PortStatsSnapshot {
  std::string name;
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::array<uint64_t, kDropReasonCount> drops{};
  HwStats hw;
};

struct StageSnapshot {
  std::string name;
  uint64_t packets = 0, cycles = 0;
};

struct WorkerSnapshot {
  uint16_t id = 0;
  unsigned lcore = 0;
  uint64_t busy_cycles = 0, idle_cycles = 0, polls = 0, empty_polls = 0, sleeps = 0;
  uint64_t punted = 0, punt_queue_full = 0, rx_queues = 0, config_generation = 0;
  uint64_t arp_replies = 0, echo_replies = 0, icmp_errors_sent = 0, icmp_errors_rate_limited = 0;
  uint64_t conntrack_created = 0, conntrack_revoked = 0;
  uint64_t flow_cache_hits = 0, flow_cache_misses = 0;
  uint64_t vxlan_encapsulated = 0, vxlan_decapsulated = 0, flood_copies = 0;
  uint64_t nat_inbound = 0, nat_outbound = 0, snat_sessions_created = 0, snat_redirected = 0,
           nat_hairpinned = 0;
  std::vector<StageSnapshot> stages;
};

class Dataplane {
 public:
  // Creates the mbuf pool and one worker per EAL worker lcore. Throws DataplaneError.
  explicit Dataplane(const DataplaneOptions& opts);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  void start_workers();
  void stop_workers();  // idempotent

  // Ports. Both publish a new configuration before returning. Throw DataplaneError.
  PortStatus add_port(const PortSpec& spec);
  void remove_port(const std::string& name);
  std::vector<PortStatus> list_ports() const;

  // Publishes a new version with this tenant state (and the current ports); returns once no
  // worker can still read the previous state.
  void set_l3(std::shared_ptr<const L3State> l3);
  const L3State* l3() const { return l3_.get(); }
  // Publishes a new version with these underlay paths (and the current tenant state).
  void set_underlay(std::shared_ptr<const UnderlayState> underlay);
  const UnderlayState* underlay() const { return underlay_.get(); }
  // Publishes a new version with these external neighbour MACs.
  void set_external_neighbors(std::shared_ptr<const ExternalNeighbors> neighbors);
  // A buffer for a frame the control thread builds; nullptr when the pool is empty.
  rte_mbuf* alloc_mbuf();
  // Queues a frame the control thread built for transmission on `port` by worker 0. False (and
  // the frame freed) when the queue is full.
  bool send_from_control(uint16_t port, rte_mbuf* m);
  // For route tables that are updated in place (DIR-24-8 groups reclaimed after RCU quiescence).
  rte_rcu_qsbr* qsbr() const { return publisher_.qsbr(); }
  // Zeroes a router index's counters before the index is given to a new router.
  void reset_router_counters(uint16_t router);
  struct RouterCountersSnapshot {
    uint64_t routed = 0;
    std::array<uint64_t, kDropReasonCount> drops{};
  };
  RouterCountersSnapshot router_counters(uint16_t router) const;

  std::vector<PortStatsSnapshot> port_stats() const;
  std::vector<WorkerSnapshot> worker_stats() const;
  const std::array<uint64_t, kPuntReasonCount>& punts_received() const { return punts_received_; }
  uint64_t config_generation() const { return publisher_.current().generation; }
  uint64_t tsc_hz() const;
  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }

  // Connection tracking (security groups). The table is shared with the workers: the control
  // thread only sweeps, walks and counts it.
  ConnTable& conntrack() { return *conntrack_; }
  const ConnTable& conntrack() const { return *conntrack_; }
  // The conntrack clock (milliseconds from the TSC, wrapping), as the workers read it.
  uint32_t conntrack_now_ms() const;
  uint64_t conntrack_expired() const { return conntrack_expired_; }
  // Periodic work of the control thread: sweeps a slice of the conntrack table (a full pass
  // about every second at the control thread's 2 ms tick).
  void housekeeping();

  // Pops everything the workers punted, counts it in punts_received(), shows it to `inspect`
  // (when given) and frees it.
  using PuntInspector = std::function<void(const PuntItem&)>;
  size_t drain_exceptions(const PuntInspector& inspect = {});

  // For pipeline tests that drive workers from the test thread instead of lcores.
  Worker& worker(unsigned i) { return *workers_[i]; }

 private:
  // Publishes the configuration for the current ports, less `leaving` (a port being removed).
  void publish(const std::string& leaving = {});

  DataplaneOptions opts_;
  rte_mempool* pool_ = nullptr;
  ConfigPublisher publisher_;
  std::vector<std::unique_ptr<WorkerCounters>> counters_;
  std::vector<std::unique_ptr<ExceptionQueue>> exceptions_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<PortManager> ports_;
  std::shared_ptr<const L3State> l3_;
  std::shared_ptr<const UnderlayState> underlay_;
  std::shared_ptr<const ExternalNeighbors> ext_neighbors_;
  std::unique_ptr<ControlTxQueue> control_tx_;
  std::unique_ptr<ConnTable> conntrack_;
  uint64_t conntrack_expired_ = 0;
  std::array<uint64_t, kPuntReasonCount> punts_received_{};
  bool running_ = false;
};

// The number of EAL worker lcores (all lcores but the main one).
unsigned eal_worker_lcore_count();

}  // namespace dvr::dp
