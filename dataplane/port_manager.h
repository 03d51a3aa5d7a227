// Creates, configures, starts, stops and removes DPDK ports at runtime (control thread only).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "port_spec.h"

struct rte_mempool;
struct rte_ring;

namespace dvr::dp {

enum class LinkState { kUnknown, kUp, kDown };

struct PortRecord {
  PortSpec spec;
  uint16_t port_id = 0;
  std::string device_name;
  std::string driver;
  uint16_t rx_queues = 0;
  uint16_t tx_queues = 0;
  uint16_t rx_desc = 0;
  uint16_t tx_desc = 0;
  rte_ring* tx_handoff = nullptr;  // when tx_queues < workers
};

struct PortStatus {
  PortRecord record;
  std::string mac;
  LinkState link = LinkState::kUnknown;
  uint32_t mtu = 0;
};

struct HwStats {
  uint64_t rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_nombuf = 0;
};

class PortManager {
 public:
  PortManager(rte_mempool* pool, unsigned workers, uint16_t rx_desc, uint16_t tx_desc);

  // Probes the device and brings it up; it does not poll it yet (the caller publishes a new
  // configuration). Throws DataplaneError.
  const PortRecord& create(const PortSpec& spec);
  // Stops and removes the device. The caller must already have published a configuration without
  // it and waited for the workers (so nothing touches the port any more).
  void destroy(const std::string& name);

  const PortRecord* find(const std::string& name) const;
  const std::map<std::string, PortRecord>& ports() const { return ports_; }
  PortStatus status(const PortRecord& rec) const;
  HwStats hw_stats(uint16_t port_id) const;

  // Mbufs that the rx/tx rings of all ports may hold at once.
  uint64_t mbufs_committed() const;

 private:
  void configure(PortRecord& rec);

  rte_mempool* pool_;
  unsigned workers_;
  uint16_t rx_desc_;
  uint16_t tx_desc_;
  std::map<std::string, PortRecord> ports_;
};

}  // namespace dvr::dp
