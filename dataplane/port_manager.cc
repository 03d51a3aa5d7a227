#include "port_manager.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "counters.h"
#include "errors.h"

namespace dvr::dp {

namespace {

std::string rte_error(int rc) {
  return std::strerror(rc < 0 ? -rc : rc);
}

// The device behind a port, so that it can be detached even after the ethdev is gone.
rte_device* device_of(uint16_t port_id) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0) return nullptr;
  return info.device;
}

void detach(uint16_t port_id) {
  rte_device* dev = device_of(port_id);
  rte_eth_dev_stop(port_id);
  // Removing the device makes the driver close its ethdev ports as well.
  if (dev == nullptr || rte_dev_remove(dev) != 0) rte_eth_dev_close(port_id);
}

}  // namespace

PortManager::PortManager(rte_mempool* pool, unsigned workers, uint16_t rx_desc, uint16_t tx_desc)
    : pool_(pool), workers_(workers), rx_desc_(rx_desc), tx_desc_(tx_desc) {}

const PortRecord* PortManager::find(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? nullptr : &it->second;
}

uint64_t PortManager::mbufs_committed() const {
  uint64_t n = 0;
  for (const auto& [name, rec] : ports_) {
    n += uint64_t{rec.rx_queues} * rec.rx_desc + uint64_t{rec.tx_queues} * rec.tx_desc;
  }
  return n;
}

const PortRecord& PortManager::create(const PortSpec& spec) {
  if (std::string err = validate_port_spec(spec); !err.empty()) {
    throw DataplaneError(ErrorKind::kInvalidArgument, err);
  }
  if (ports_.contains(spec.name)) {
    throw DataplaneError(ErrorKind::kAlreadyExists, "port '" + spec.name + "' already exists");
  }
  // Two ports on one kernel interface would silently share it (net_tap even turns it into a
  // multi-queue tap), and removing one would take the interface down under the other.
  if (auto it = spec.args.find("iface");
      it != spec.args.end() && (spec.type == PortType::kTap || spec.type == PortType::kAfPacket)) {
    for (const auto& [name, rec] : ports_) {
      auto other = rec.spec.args.find("iface");
      if (rec.spec.type == spec.type && other != rec.spec.args.end() &&
          other->second == it->second) {
        throw DataplaneError(ErrorKind::kConflict, "port '" + spec.name + "': interface " +
                                                       it->second + " is already used by port '" +
                                                       name + "'");
      }
    }
  }
  const DeviceArgs da = device_args(spec, workers_);
  uint16_t existing = 0;
  if (rte_eth_dev_get_port_by_name(da.device_name.c_str(), &existing) == 0) {
    throw DataplaneError(ErrorKind::kConflict,
                         "device " + da.device_name + " is already in use by another port");
  }
  // Refuse before probing when the rings alone would exhaust the mbuf pool: a port that cannot
  // be filled silently loses packets (rx_nombuf) instead of failing loudly here.
  const uint64_t need = uint64_t{workers_} * (rx_desc_ + tx_desc_);
  const uint64_t pool_size = pool_->size;
  if (mbufs_committed() + need > pool_size) {
    throw DataplaneError(ErrorKind::kResourceExhausted,
                         "port '" + spec.name + "' needs up to " + std::to_string(need) +
                             " mbufs for its rings but only " +
                             std::to_string(pool_size - std::min(pool_size, mbufs_committed())) +
                             " of " + std::to_string(pool_size) +
                             " are uncommitted; start dvrd with a larger --mbufs");
  }

  if (int rc = rte_dev_probe(da.devargs.c_str()); rc != 0) {
    throw DataplaneError(ErrorKind::kInvalidArgument,
                         "port '" + spec.name + "': the driver rejected '" + da.devargs + "' (" +
                             rte_error(rc) + "; dvrd's log has the driver's reason)");
  }
  PortRecord rec;
  rec.spec = spec;
  rec.device_name = da.device_name;
  if (rte_eth_dev_get_port_by_name(da.device_name.c_str(), &rec.port_id) != 0) {
    throw DataplaneError(ErrorKind::kInternal, "port '" + spec.name + "': device " +
                                                   da.device_name +
                                                   " was probed but has no ethdev port");
  }
  if (rec.port_id >= kMaxPorts) {
    detach(rec.port_id);
    throw DataplaneError(
        ErrorKind::kResourceExhausted,
        "port '" + spec.name + "': no free port slot (limit " + std::to_string(kMaxPorts) + ")");
  }
  try {
    configure(rec);
  } catch (...) {
    if (rec.tx_handoff != nullptr) rte_ring_free(rec.tx_handoff);
    detach(rec.port_id);
    throw;
  }
  return ports_.emplace(spec.name, std::move(rec)).first->second;
}

void PortManager::configure(PortRecord& rec) {
  const uint16_t pid = rec.port_id;
  const std::string who = "port '" + rec.spec.name + "': ";
  auto fail = [&](const char* what, int rc) {
    throw DataplaneError(ErrorKind::kInternal, who + what + " failed: " + rte_error(rc));
  };

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(pid, &info); rc != 0) fail("reading device info", rc);
  rec.driver = info.driver_name != nullptr ? info.driver_name : "";
  const auto want = static_cast<uint16_t>(std::max(1u, workers_));
  rec.rx_queues = std::max<uint16_t>(1, std::min(want, info.max_rx_queues));
  rec.tx_queues = std::max<uint16_t>(1, std::min(want, info.max_tx_queues));

  rte_eth_conf conf{};
  if (rec.rx_queues > 1) {
    const uint64_t hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    if (hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = hf;
    }
  }
  if (int rc = rte_eth_dev_configure(pid, rec.rx_queues, rec.tx_queues, &conf); rc != 0) {
    fail("configure", rc);
  }
  rec.rx_desc = rx_desc_;
  rec.tx_desc = tx_desc_;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rec.rx_desc, &rec.tx_desc); rc != 0) {
    fail("sizing the descriptor rings", rc);
  }
  const int socket = rte_eth_dev_socket_id(pid);
  for (uint16_t q = 0; q < rec.rx_queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(pid, q, rec.rx_desc, socket, nullptr, pool_); rc != 0) {
      fail("rx queue setup", rc);
    }
  }
  for (uint16_t q = 0; q < rec.tx_queues; ++q) {
    if (int rc = rte_eth_tx_queue_setup(pid, q, rec.tx_desc, socket, nullptr); rc != 0) {
      fail("tx queue setup", rc);
    }
  }
  if (rec.tx_queues < workers_) {
    const std::string ring_name = "dvr_txh_" + std::to_string(pid);
    rec.tx_handoff = rte_ring_create(ring_name.c_str(), 1024, socket, RING_F_SC_DEQ);
    if (rec.tx_handoff == nullptr) fail("creating the tx hand-off ring", rte_errno);
  }
  // Virtual devices without a MAC filter answer ENOTSUP; that is fine.
  if (int rc = rte_eth_promiscuous_enable(pid); rc != 0 && rc != -ENOTSUP) {
    fail("enabling promiscuous mode", rc);
  }
  if (int rc = rte_eth_dev_start(pid); rc != 0) fail("start", rc);
}

void PortManager::destroy(const std::string& name) {
  auto it = ports_.find(name);
  if (it == ports_.end()) {
    throw DataplaneError(ErrorKind::kNotFound, "no port named '" + name + "'");
  }
  PortRecord& rec = it->second;
  if (rec.tx_handoff != nullptr) {
    void* pkt = nullptr;
    while (rte_ring_dequeue(rec.tx_handoff, &pkt) == 0)
      rte_pktmbuf_free(static_cast<rte_mbuf*>(pkt));
    rte_ring_free(rec.tx_handoff);
  }
  detach(rec.port_id);
  ports_.erase(it);
}

PortStatus PortManager::status(const PortRecord& rec) const {
  PortStatus st;
  st.record = rec;
  rte_ether_addr mac{};
  if (rte_eth_macaddr_get(rec.port_id, &mac) == 0) {
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof(buf), &mac);
    st.mac = buf;
  }
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(rec.port_id, &link) == 0) {
    st.link = link.link_status == RTE_ETH_LINK_UP ? LinkState::kUp : LinkState::kDown;
  }
  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(rec.port_id, &mtu) == 0) st.mtu = mtu;
  return st;
}

HwStats PortManager::hw_stats(uint16_t port_id) const {
  HwStats hs;
  rte_eth_stats s{};
  if (rte_eth_stats_get(port_id, &s) == 0) {
    hs.rx_missed = s.imissed;
    hs.rx_errors = s.ierrors;
    hs.tx_errors = s.oerrors;
    hs.rx_nombuf = s.rx_nombuf;
  }
  return hs;
}

}  // namespace dvr::dp
