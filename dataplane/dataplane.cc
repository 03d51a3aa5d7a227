#include "dataplane.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "errors.h"

namespace dvr::dp {

namespace {

// Frames the control thread may have queued for worker 0 at once (ARP requests: a handful).
constexpr size_t kControlTxQueueSize = 256;

int worker_main(void* arg) {
  return static_cast<Worker*>(arg)->run();
}

// Stage cycles are sampled (one burst in kStageTimingPeriod); scale them to every packet.
uint64_t estimated_stage_cycles(const StageCounters& s) {
  const uint64_t timed = s.timed_packets.get();
  if (timed == 0) return 0;
  return static_cast<uint64_t>(static_cast<double>(s.cycles.get()) *
                               static_cast<double>(s.packets.get()) / static_cast<double>(timed));
}

}  // namespace

unsigned eal_worker_lcore_count() {
  unsigned n = 0;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    ++n;
  }
  return n;
}

Dataplane::Dataplane(const DataplaneOptions& opts)
    : opts_(opts), publisher_(std::max(1u, eal_worker_lcore_count())) {
  const unsigned nworkers = eal_worker_lcore_count();
  if (nworkers == 0) {
    throw DataplaneError(ErrorKind::kInvalidArgument,
                         "dvrd needs at least one worker lcore besides the main lcore "
                         "(e.g. EAL option -l 0,1)");
  }
  pool_ = rte_pktmbuf_pool_create("dvr_mbufs", opts.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    throw DataplaneError(ErrorKind::kResourceExhausted,
                         "cannot create a pool of " + std::to_string(opts.mbufs) +
                             " mbufs: " + rte_strerror(rte_errno) +
                             " (lower --mbufs or give EAL more memory with -m)");
  }
  try {
    conntrack_ = std::make_unique<ConnTable>(opts.conntrack_capacity, opts.conntrack_timeouts);
  } catch (const std::exception& e) {
    rte_mempool_free(pool_);
    throw DataplaneError(ErrorKind::kResourceExhausted,
                         "cannot create a conntrack table for " +
                             std::to_string(opts.conntrack_capacity) + " connections: " + e.what() +
                             " (lower --conntrack-size)");
  }
  ports_ = std::make_unique<PortManager>(pool_, nworkers, opts.rx_desc, opts.tx_desc);
  control_tx_ = std::make_unique<ControlTxQueue>(kControlTxQueueSize);
  unsigned lcore = 0;
  uint16_t id = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    counters_.push_back(std::make_unique<WorkerCounters>());
    exceptions_.push_back(std::make_unique<ExceptionQueue>(opts.exception_queue_size));
    workers_.push_back(std::make_unique<Worker>(id, lcore, publisher_, *counters_.back(),
                                                *exceptions_.back(), opts.backoff,
                                                opts.flow_cache_entries));
    ++id;
  }
  publish();
}

Dataplane::~Dataplane() {
  stop_workers();
  // Remove every port from the configuration first, then the devices.
  std::vector<std::string> names;
  for (const auto& [name, rec] : ports_->ports()) names.push_back(name);
  for (const auto& name : names) {
    try {
      remove_port(name);
    } catch (...) {
      // Shutting down: nothing better to do than to go on with the next port.
    }
  }
  drain_exceptions();
  rte_mbuf* m = nullptr;
  while (control_tx_->pop(m)) rte_pktmbuf_free(m);
  l3_.reset();
  underlay_.reset();
  ext_neighbors_.reset();
  publish();  // the last version held the tenant state; release it while the EAL is up
  workers_.clear();
  ports_.reset();
  rte_mempool_free(pool_);
}

void Dataplane::start_workers() {
  if (running_) return;
  for (auto& w : workers_) {
    if (int rc = rte_eal_remote_launch(worker_main, w.get(), w->lcore()); rc != 0) {
      throw DataplaneError(ErrorKind::kInternal,
                           "cannot launch worker on lcore " + std::to_string(w->lcore()));
    }
  }
  running_ = true;
}

void Dataplane::stop_workers() {
  if (!running_) return;
  for (auto& w : workers_) w->stop();
  rte_eal_mp_wait_lcore();
  running_ = false;
}

void Dataplane::publish(const std::string& leaving) {
  auto next = std::make_unique<ForwardingConfig>();
  next->rx_by_worker.resize(workers_.size());
  std::map<std::string, PortRecord> recs = ports_->ports();
  recs.erase(leaving);
  for (const auto& [name, rec] : recs) {
    PortRuntime& rt = next->ports[rec.port_id];
    rt.present = true;
    rt.tx_queues = rec.tx_queues;
    rt.tx_handoff = rec.tx_handoff;
    rt.xconnect_configured = !rec.spec.xconnect.empty();
    if (auto peer = recs.find(rec.spec.xconnect); peer != recs.end()) {
      rt.xconnect = peer->second.port_id;
    }
    // Queue q of every port goes to worker q; RSS spreads the flows over the queues.
    for (uint16_t q = 0; q < rec.rx_queues; ++q) {
      next->rx_by_worker[q % workers_.size()].push_back(RxQueueRef{rec.port_id, q});
    }
  }
  next->l3_owner = l3_;
  next->l3 = l3_.get();
  next->underlay_owner = underlay_;
  next->underlay = underlay_.get();
  next->ext_neighbors_owner = ext_neighbors_;
  next->ext_neighbors = ext_neighbors_.get();
  next->control_tx = control_tx_.get();
  next->conntrack = conntrack_.get();
  next->tsc_per_ms = std::max<uint64_t>(1, rte_get_tsc_hz() / 1000);
  publisher_.publish(std::move(next));
}

void Dataplane::set_l3(std::shared_ptr<const L3State> l3) {
  l3_ = std::move(l3);
  publish();
}

void Dataplane::set_underlay(std::shared_ptr<const UnderlayState> underlay) {
  underlay_ = std::move(underlay);
  publish();
}

void Dataplane::set_external_neighbors(std::shared_ptr<const ExternalNeighbors> neighbors) {
  ext_neighbors_ = std::move(neighbors);
  publish();
}

rte_mbuf* Dataplane::alloc_mbuf() {
  return rte_pktmbuf_alloc(pool_);
}

bool Dataplane::send_from_control(uint16_t port, rte_mbuf* m) {
  m->port = port;
  if (!control_tx_->push(m)) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void Dataplane::reset_router_counters(uint16_t router) {
  for (auto& c : counters_) {
    RouterCounters& rc = c->routers[router];
    rc.routed.reset();
    for (Counter& d : rc.drops) d.reset();
  }
}

Dataplane::RouterCountersSnapshot Dataplane::router_counters(uint16_t router) const {
  RouterCountersSnapshot s;
  for (const auto& c : counters_) {
    const RouterCounters& rc = c->routers[router];
    s.routed += rc.routed.get();
    for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += rc.drops[r].get();
  }
  return s;
}

PortStatus Dataplane::add_port(const PortSpec& spec) {
  const PortRecord& rec = ports_->create(spec);
  // The port id may have belonged to a removed port: start its counters from zero. No worker
  // writes them, because no published configuration contains the id.
  for (auto& c : counters_) c->ports[rec.port_id].reset();
  publish();
  return ports_->status(rec);
}

void Dataplane::remove_port(const std::string& name) {
  const PortRecord* rec = ports_->find(name);
  if (rec == nullptr) throw DataplaneError(ErrorKind::kNotFound, "no port named '" + name + "'");
  // Unpublish first: once publish() returns no worker polls or transmits on the port, and no
  // packet for it sits in a tx buffer (workers flush before their quiescent report).
  publish(name);
  ports_->destroy(name);
}

std::vector<PortStatus> Dataplane::list_ports() const {
  std::vector<PortStatus> out;
  for (const auto& [name, rec] : ports_->ports()) out.push_back(ports_->status(rec));
  return out;
}

std::vector<PortStatsSnapshot> Dataplane::port_stats() const {
  std::vector<PortStatsSnapshot> out;
  for (const auto& [name, rec] : ports_->ports()) {
    PortStatsSnapshot s;
    s.name = name;
    for (const auto& c : counters_) {
      const PortCounters& pc = c->ports[rec.port_id];
      s.rx_packets += pc.rx_packets.get();
      s.rx_bytes += pc.rx_bytes.get();
      s.tx_packets += pc.tx_packets.get();
      s.tx_bytes += pc.tx_bytes.get();
      for (size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += pc.drops[r].get();
    }
    s.hw = ports_->hw_stats(rec.port_id);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<WorkerSnapshot> Dataplane::worker_stats() const {
  std::vector<WorkerSnapshot> out;
  const ForwardingConfig& cfg = publisher_.current();
  for (size_t i = 0; i < workers_.size(); ++i) {
    const WorkerCounters& c = *counters_[i];
    const Worker& w = *workers_[i];
    WorkerSnapshot s;
    s.id = w.id();
    s.lcore = w.lcore();
    s.busy_cycles = c.busy_cycles.get();
    s.idle_cycles = c.idle_cycles.get();
    s.polls = c.polls.get();
    s.empty_polls = c.empty_polls.get();
    s.sleeps = c.sleeps.get();
    s.punted = c.punted.get();
    s.punt_queue_full = c.punt_queue_full.get();
    s.arp_replies = c.arp_replies.get();
    s.echo_replies = c.echo_replies.get();
    s.icmp_errors_sent = c.icmp_errors_sent.get();
    s.icmp_errors_rate_limited = c.icmp_errors_rate_limited.get();
    s.conntrack_created = c.conntrack_created.get();
    s.conntrack_revoked = c.conntrack_revoked.get();
    s.flow_cache_hits = c.flow_cache_hits.get();
    s.flow_cache_misses = c.flow_cache_misses.get();
    s.vxlan_encapsulated = c.vxlan_encapsulated.get();
    s.vxlan_decapsulated = c.vxlan_decapsulated.get();
    s.flood_copies = c.flood_copies.get();
    s.nat_inbound = c.nat_inbound.get();
    s.nat_outbound = c.nat_outbound.get();
    s.snat_sessions_created = c.snat_sessions_created.get();
    s.snat_redirected = c.snat_redirected.get();
    s.nat_hairpinned = c.nat_hairpinned.get();
    s.rx_queues = i < cfg.rx_by_worker.size() ? cfg.rx_by_worker[i].size() : 0;
    s.config_generation = c.config_generation.load(std::memory_order_relaxed);
    for (size_t st = 0; st < w.pipeline().size(); ++st) {
      s.stages.push_back({w.pipeline().stage_name(st), c.stages[st].packets.get(),
                          estimated_stage_cycles(c.stages[st])});
    }
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t Dataplane::tsc_hz() const {
  return rte_get_tsc_hz();
}

uint32_t Dataplane::conntrack_now_ms() const {
  return static_cast<uint32_t>(rte_rdtsc() / std::max<uint64_t>(1, rte_get_tsc_hz() / 1000));
}

void Dataplane::housekeeping() {
  constexpr uint32_t kSweepsPerPass = 500;  // 2 ms ticks: a pass per second
  const uint32_t slice = std::max<uint32_t>(64, conntrack_->slot_count() / kSweepsPerPass);
  conntrack_expired_ += conntrack_->sweep(conntrack_now_ms(), slice);
}

size_t Dataplane::drain_exceptions(const PuntInspector& inspect) {
  size_t n = 0;
  PuntItem item{};
  for (auto& q : exceptions_) {
    while (q->pop(item)) {
      ++punts_received_[static_cast<size_t>(item.reason)];
      if (inspect) inspect(item);
      rte_pktmbuf_free(item.pkt);
      ++n;
    }
  }
  return n;
}

}  // namespace dvr::dp
